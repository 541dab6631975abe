import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type DuplicateCompany,
  keepApart,
  listDuplicates,
  rankSurvivors,
  suggestSurvivor,
} from '../../../lib/core/remedies/duplicates.ts';
import { RemedyRefusedError } from '../../../lib/core/remedies/errors.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { DISTINCT_PAIRS_EXIST_SQL, DISTINCT_PAIRS_TABLE } from '../../../lib/core/schema/migration.sql.ts';
import type { SqlClient, SqlSession } from '../../../lib/core/sql/types.ts';
import type { ValidationReport } from '../../../lib/core/validation/report-schema.ts';
import { validate } from '../../../lib/core/validation/validate.ts';
import { type Fixture, resetTables, seed } from '../../support/backfill-fixtures.ts';
import {
  openPgliteDatabase,
  openServerDatabase,
  realDatabases,
  serverUrl,
  type TestDatabase,
} from '../../support/databases.ts';
import { projectAssignment, recordAssignment, roleRows } from '../../support/validation-fixtures.ts';

/**
 * `duplicates list` and `duplicates keep-apart` on hand-built companies: the groups with their details
 * and survivor, the pairs recorded as distinct and how validation (V5) reports them, the refusals, and
 * validation on a database that never had the keep-apart table.
 */

const NOW = () => new Date('2026-11-25T07:00:00.000Z');

/**
 * x-energy: 1 (2 legacy records, 1 project), 2 (1 record, 1 affiliation, client profile; created
 * first), 3 (nothing). holtec international: 4 and 5. NuScale alone: no group.
 */
const COMPANIES: Fixture = {
  company_roles: roleRows(),
  personnel: [{ personnel_id: 1, full_name: 'Ada Byron' }],
  companies: [
    { company_id: 1, company_name: 'X-energy', created_date: '2024-03-01 10:00:00' },
    { company_id: 2, company_name: 'X-Energy', created_date: '2024-01-15 09:30:00' },
    { company_id: 3, company_name: '  x-ENERGY', created_date: '2024-01-15 09:30:00' },
    { company_id: 4, company_name: 'Holtec International', created_date: '2024-02-01 00:00:00' },
    { company_id: 5, company_name: 'holtec  international', created_date: '2024-02-01 00:00:00' },
    { company_id: 10, company_name: 'NuScale Power', created_date: '2024-02-01 00:00:00' },
  ],
  company_role_assignments: [
    recordAssignment(1, 1, 'vendor', 1),
    projectAssignment(2, 1, 'vendor', 1),
    recordAssignment(3, 1, 'developer', 1),
    recordAssignment(4, 2, 'client', 1),
    recordAssignment(5, 10, 'vendor', 2),
  ],
  person_company_affiliations: [{ affiliation_id: 1, person_id: 1, company_id: 2, title: 'CEO' }],
  client_profiles: [{ company_id: 2, client_status: 'Active' }],
};

function validateNow(sql: SqlClient): Promise<ValidationReport> {
  return validate(sql, { runId: 'run-dups', stage: 'test', now: NOW });
}

const groupOf = (report: { duplicateNameGroups: ValidationReport['duplicateNameGroups'] }, name: string) =>
  report.duplicateNameGroups.find((g) => g.normalizedName === name);

const issueCounts = (report: ValidationReport) =>
  Object.fromEntries(
    report.issues.filter((i) => i.code.startsWith('duplicate-names')).map((i) => [i.code, i.count]),
  );

async function pairsOfThisSchema(sql: SqlSession): Promise<number> {
  const { rows } = await sql.query<{ exists: boolean }>(`SELECT ${DISTINCT_PAIRS_EXIST_SQL} AS "exists"`);
  if (!rows[0]?.exists) return 0;
  const counted = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${DISTINCT_PAIRS_TABLE} WHERE data_schema = current_schema()`,
  );
  return counted.rows[0]?.n ?? 0;
}

async function forgetPairs(sql: SqlSession): Promise<void> {
  if ((await pairsOfThisSchema(sql)) > 0) {
    await sql.query(`DELETE FROM ${DISTINCT_PAIRS_TABLE} WHERE data_schema = current_schema()`);
  }
}

describe('survivor suggestion', () => {
  const company = (id: number, extra: Partial<DuplicateCompany> = {}): DuplicateCompany => ({
    companyId: id,
    name: `Company ${id}`,
    roles: [],
    contextTypes: [],
    createdDate: '2024-01-01 00:00:00',
    recordAssignments: 0,
    projectAssignments: 0,
    otherAssignments: 0,
    affiliations: 0,
    clientProfile: false,
    ...extra,
  });

  it('ranks by references, then creation date, then id', () => {
    // Prepare
    const companies = [
      company(1),
      company(2, { createdDate: '2023-06-01 00:00:00' }),
      company(3, { affiliations: 1 }),
      company(4, { createdDate: null }),
      company(5, { clientProfile: true, createdDate: '2025-01-01 00:00:00' }),
    ];

    // Act
    const ranked = rankSurvivors(companies).map((c) => c.companyId);

    // Assess: 3 and 5 have one reference each, 3 was created first; 2 is the oldest of the rest.
    expect(ranked).toEqual([3, 5, 2, 1, 4]);
  });

  it('absorbs no company kept apart from the survivor or from one already absorbed, and none of an acknowledged group', () => {
    // Prepare
    const companies = [company(1, { projectAssignments: 3 }), company(2), company(3), company(4)];
    const pair = (companyA: number, companyB: number) => ({ companyA, companyB, reason: 'distinct' });

    // Act
    const partly = suggestSurvivor(companies, [pair(1, 3), pair(2, 4)]);
    const all = suggestSurvivor(companies.slice(0, 2), [pair(1, 2)]);

    // Assess
    expect(partly).toEqual({
      survivorId: 1,
      absorb: [2],
      keptApart: [3, 4],
      reason: 'most references (3: assignments, affiliations, client profile)',
    });
    expect(all).toBeNull();
  });
});

describe.each(realDatabases)('duplicates list and keep-apart: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
  });

  beforeEach(async () => {
    await resetTables(sql);
    await forgetPairs(sql);
    await seed(sql, COMPANIES);
  });

  afterAll(async () => {
    // The migration's schema outlives this test's schema on a shared server: take our rows back.
    if (sql) await forgetPairs(sql);
    await database?.dispose();
  });

  it('lists each V5 group with roles, contexts, counts, created dates and a survivor suggestion', async () => {
    // Act
    const list = await listDuplicates(sql);

    // Assess
    expect(list).toMatchObject({ schema: database.schema, toReview: 2, acknowledged: 0 });
    expect(list.groups.map((g) => g.normalizedName)).toEqual(['holtec international', 'x-energy']);
    expect(list.groups[1]).toEqual({
      normalizedName: 'x-energy',
      acknowledged: false,
      acknowledgedPairs: [],
      companies: [
        {
          companyId: 1,
          name: 'X-energy',
          roles: ['developer', 'vendor'],
          contextTypes: ['OwnerRecord', 'Project', 'VendorRecord'],
          createdDate: '2024-03-01 10:00:00',
          recordAssignments: 2,
          projectAssignments: 1,
          otherAssignments: 0,
          affiliations: 0,
          clientProfile: false,
        },
        {
          companyId: 2,
          name: 'X-Energy',
          roles: ['client'],
          contextTypes: ['ClientRecord'],
          createdDate: '2024-01-15 09:30:00',
          recordAssignments: 1,
          projectAssignments: 0,
          otherAssignments: 0,
          affiliations: 1,
          clientProfile: true,
        },
        {
          companyId: 3,
          name: '  x-ENERGY',
          roles: [],
          contextTypes: [],
          createdDate: '2024-01-15 09:30:00',
          recordAssignments: 0,
          projectAssignments: 0,
          otherAssignments: 0,
          affiliations: 0,
          clientProfile: false,
        },
      ],
      // 1 and 2 both have three references; 2 was created first.
      suggestion: {
        survivorId: 2,
        absorb: [1, 3],
        keptApart: [],
        reason: 'as many references as another (3); created first (2024-01-15 09:30:00)',
      },
    });
    expect(list.groups[0]?.suggestion).toMatchObject({ survivorId: 4, absorb: [5] });
  });

  it('keep-apart silences exactly that pair: its group of two is acknowledged, a third duplicate or another group still warns', async () => {
    // Prepare
    const before = await validateNow(sql);

    // Act
    const holtec = await keepApart(sql, { companyA: 5, companyB: 4, reason: 'subsidiary and parent' });
    const firstPair = await keepApart(sql, { companyA: 1, companyB: 2, reason: 'two different firms' });
    const partly = await validateNow(sql);
    const list = await listDuplicates(sql);
    await keepApart(sql, { companyA: 1, companyB: 3, reason: 'two different firms' });
    await keepApart(sql, { companyA: 3, companyB: 2, reason: 'two different firms' });
    const all = await validateNow(sql);

    // Assess
    expect(issueCounts(before)).toEqual({ 'duplicate-names': 2 });
    expect(holtec).toMatchObject({
      status: 'recorded',
      companyA: { companyId: 4, name: 'Holtec International' },
      companyB: { companyId: 5, name: 'holtec  international' },
      reason: 'subsidiary and parent',
      groupAcknowledged: true,
      groupSize: 2,
    });
    expect(firstPair).toMatchObject({ status: 'recorded', groupAcknowledged: false, groupSize: 3 });
    expect(issueCounts(partly)).toEqual({ 'duplicate-names': 1, 'duplicate-names-acknowledged': 1 });
    expect(groupOf(partly, 'holtec international')).toMatchObject({
      acknowledged: true,
      acknowledgedPairs: [{ companyA: 4, companyB: 5, reason: 'subsidiary and parent' }],
    });
    expect(groupOf(partly, 'x-energy')).toMatchObject({
      acknowledged: false,
      acknowledgedPairs: [{ companyA: 1, companyB: 2, reason: 'two different firms' }],
    });
    expect(list.groups.map((g) => [g.normalizedName, g.acknowledged, g.suggestion])).toEqual([
      ['holtec international', true, null],
      [
        'x-energy',
        false,
        {
          survivorId: 2,
          absorb: [3],
          keptApart: [1],
          reason: 'as many references as another (3); created first (2024-01-15 09:30:00)',
        },
      ],
    ]);
    expect(issueCounts(all)).toEqual({ 'duplicate-names-acknowledged': 2 });
    expect(all.duplicateNameGroups.every((g) => g.acknowledged)).toBe(true);
  });

  it('keeps validation at a constant number of statements with recorded pairs', async () => {
    // Prepare
    await validateNow(sql); // the indexes exist from here on
    const without = await validateNow(sql);
    await keepApart(sql, { companyA: 4, companyB: 5, reason: 'subsidiary and parent' });

    // Act
    const withPairs = await validateNow(sql);

    // Assess
    expect(without.statements).toBe(9);
    expect(withPairs.statements).toBe(9);
    expect(groupOf(withPairs, 'holtec international')?.acknowledged).toBe(true);
  });

  it('is idempotent, replaces the reason when given another, and writes nothing in a dry run', async () => {
    // Act
    const dryRun = await keepApart(sql, { companyA: 4, companyB: 5, reason: 'parent', dryRun: true });
    const afterDryRun = await pairsOfThisSchema(sql);
    const first = await keepApart(sql, { companyA: 4, companyB: 5, reason: 'parent' });
    const again = await keepApart(sql, { companyA: 5, companyB: 4, reason: '  parent ' });
    const changedDryRun = await keepApart(sql, { companyA: 4, companyB: 5, reason: 'sister', dryRun: true });
    const changed = await keepApart(sql, { companyA: 4, companyB: 5, reason: 'sister company' });
    const report = await validateNow(sql);

    // Assess
    expect(dryRun).toMatchObject({ status: 'recorded', dryRun: true, groupAcknowledged: true });
    expect(afterDryRun).toBe(0);
    expect(first).toMatchObject({ status: 'recorded', dryRun: false, previousReason: null });
    expect(again).toMatchObject({ status: 'unchanged', reason: 'parent', previousReason: 'parent' });
    expect(changedDryRun).toMatchObject({ status: 'updated', previousReason: 'parent' });
    expect(changed).toMatchObject({ status: 'updated', reason: 'sister company', previousReason: 'parent' });
    expect(await pairsOfThisSchema(sql)).toBe(1);
    expect(groupOf(report, 'holtec international')?.acknowledgedPairs).toMatchObject([
      { companyA: 4, companyB: 5, reason: 'sister company' },
    ]);
  });

  it.each([
    [{ companyA: 4, companyB: 99 }, RemedyRefusedError, /unknown company id 99/],
    [{ companyA: 98, companyB: 99 }, RemedyRefusedError, /unknown company ids 98 and 99/],
    [{ companyA: 1, companyB: 4 }, RemedyRefusedError, /do not have near-identical names/],
    [{ companyA: 4, companyB: 4 }, Error, /cannot be kept apart from itself/],
    [{ companyA: 4, companyB: 5, reason: '   ' }, Error, /a reason is required/],
  ])('refuses %j and records nothing', async (input, errorClass, message) => {
    // Act
    const attempt = keepApart(sql, { reason: 'distinct', ...input });

    // Assess
    await expect(attempt).rejects.toThrow(errorClass);
    await expect(attempt).rejects.toThrow(message);
    expect(await pairsOfThisSchema(sql)).toBe(0);
  });
});

describe('a database without the keep-apart table', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openPgliteDatabase();
    await applySchemas(database.client);
    await seed(database.client, COMPANIES);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('validates, lists and dry-runs keep-apart without creating it', async () => {
    // Act
    const report = await validateNow(database.client);
    const list = await listDuplicates(database.client);
    const dryRun = await keepApart(database.client, {
      companyA: 4,
      companyB: 5,
      reason: 'subsidiary and parent',
      dryRun: true,
    });
    const { rows } = await database.client.query<{ exists: boolean }>(
      `SELECT ${DISTINCT_PAIRS_EXIST_SQL} AS "exists", to_regnamespace('company_migration') IS NOT NULL AS schema`,
    );

    // Assess
    expect(issueCounts(report)).toEqual({ 'duplicate-names': 2 });
    expect(list.toReview).toBe(2);
    expect(dryRun).toMatchObject({ status: 'recorded', groupAcknowledged: true });
    expect(rows[0]).toEqual({ exists: false, schema: false });
  });
});

describe('a user who may not read the migration schema', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openPgliteDatabase();
    await applySchemas(database.client);
    await seed(database.client, COMPANIES);
    await keepApart(database.client, { companyA: 4, companyB: 5, reason: 'subsidiary and parent' });
    await database.client.query(`CREATE ROLE validator_without_access`);
    await database.client.query(`GRANT USAGE ON SCHEMA "${database.schema}" TO validator_without_access`);
    await database.client.query(
      `GRANT SELECT ON ALL TABLES IN SCHEMA "${database.schema}" TO validator_without_access`,
    );
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('validates as if no pair were recorded (the groups warn) instead of failing', async () => {
    // Prepare
    const asOwner = await validateNow(database.client);
    await database.client.query('SET ROLE validator_without_access');

    // Act
    let restricted: ValidationReport;
    try {
      restricted = await validate(database.client, {
        runId: 'run-dups',
        stage: 'test',
        now: NOW,
        createIndexes: false,
      });
    } finally {
      await database.client.query('RESET ROLE');
    }

    // Assess
    expect(issueCounts(asOwner)).toEqual({ 'duplicate-names': 1, 'duplicate-names-acknowledged': 1 });
    expect(issueCounts(restricted)).toEqual({ 'duplicate-names': 2 });
  });
});

describe.runIf(serverUrl)('two schemas of one server database', () => {
  const databases: TestDatabase[] = [];

  afterAll(async () => {
    for (const database of databases) {
      await forgetPairs(database.client);
      await database.dispose();
    }
  });

  it('share the migration schema, but a pair recorded in one does not acknowledge the same ids in the other', async () => {
    // Prepare
    for (let i = 0; i < 2; i++) {
      const database = await openServerDatabase();
      databases.push(database);
      await applySchemas(database.client);
      await seed(database.client, COMPANIES);
    }
    const [first, second] = databases as [TestDatabase, TestDatabase];

    // Act
    await keepApart(first.client, { companyA: 4, companyB: 5, reason: 'subsidiary and parent' });
    const acknowledgedHere = await validateNow(first.client);
    const other = await validateNow(second.client);

    // Assess
    expect(groupOf(acknowledgedHere, 'holtec international')?.acknowledged).toBe(true);
    expect(groupOf(other, 'holtec international')).toMatchObject({
      acknowledged: false,
      acknowledgedPairs: [],
    });
  });
});
