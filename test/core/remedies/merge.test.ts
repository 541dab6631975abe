import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureJournal, JOURNAL_TABLE, RUNS_TABLE } from '../../../lib/core/journal/schema.ts';
import { UndoBlockedError, undoRun } from '../../../lib/core/journal/undo.ts';
import { keepApart } from '../../../lib/core/remedies/duplicates.ts';
import { RemedyRefusedError } from '../../../lib/core/remedies/errors.ts';
import { fieldConflicts, mergeCompanies, newMergeRunId } from '../../../lib/core/remedies/merge.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { DISTINCT_PAIRS_EXIST_SQL, DISTINCT_PAIRS_TABLE } from '../../../lib/core/schema/migration.sql.ts';
import type { SqlClient, SqlSession } from '../../../lib/core/sql/types.ts';
import { type Fixture, resetTables, seed } from '../../support/backfill-fixtures.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';
import { unifiedStateHash } from '../../support/unified-state.ts';
import {
  assignment,
  projectAssignment,
  recordAssignment,
  roleRows,
} from '../../support/validation-fixtures.ts';

/**
 * `duplicates merge` on hand-built companies: what moves, what collapses (confidential when either is,
 * NULL context ids and NULL titles equal), the client profile and company fields, the dry run, the
 * refusals, and the undo that restores the exact earlier rows (ids and audit times included).
 */

/**
 * Company 1 “X-energy” survives, 2 “X-Energy” is merged into it. Of 2's assignments, 11 and 14 move;
 * 12 (confidential) collapses into 2, which becomes confidential; 13 collapses into 3 (already
 * confidential); 15 (global, NULL context) collapses into 4. Of 2's affiliations, 13 and 14 move; 11
 * (same person and title, other start date) and 12 (NULL title) collapse. 2's profile moves; 2 is an MPR
 * client, 1 becomes one. 3 is a third “x-energy”, 4 another name, 5 and 6 a pair kept apart.
 */
const FIXTURE: Fixture = {
  company_roles: roleRows(),
  personnel: [
    { personnel_id: 1, full_name: 'Ada Byron' },
    { personnel_id: 2, full_name: 'Grace Hopper' },
    { personnel_id: 3, full_name: 'Alan Turing' },
  ],
  companies: [
    {
      company_id: 1,
      company_name: 'X-energy',
      company_type: 'Vendor',
      website: 'x-energy.com',
      notes: 'survivor notes',
      created_date: '2024-03-01 10:00:00',
    },
    {
      company_id: 2,
      company_name: 'X-Energy',
      company_type: 'Client',
      sector: 'Nuclear',
      is_mpr_client: true,
      notes: 'merged notes, confidential',
      created_date: '2024-01-15 09:30:00',
      modified_date: '2024-06-01 08:00:00.123456',
    },
    { company_id: 3, company_name: '  x-ENERGY', created_date: '2024-01-15 09:30:00' },
    { company_id: 4, company_name: 'NuScale Power', created_date: '2024-02-01 00:00:00' },
    { company_id: 5, company_name: 'Holtec International', created_date: '2024-02-01 00:00:00' },
    { company_id: 6, company_name: 'holtec  international', created_date: '2024-02-01 00:00:00' },
  ],
  company_role_assignments: [
    recordAssignment(1, 1, 'vendor', 1),
    projectAssignment(2, 1, 'vendor', 10),
    projectAssignment(3, 1, 'developer', 20, { confidential: true }),
    assignment({ id: 4, company: 1, role: 'operator', contextType: 'Global', contextId: null }),
    recordAssignment(11, 2, 'client', 5),
    projectAssignment(12, 2, 'vendor', 10, { confidential: true, notes: 'secret terms' }),
    projectAssignment(13, 2, 'developer', 20),
    projectAssignment(14, 2, 'vendor', 11),
    assignment({ id: 15, company: 2, role: 'operator', contextType: 'Global', contextId: null }),
    recordAssignment(21, 4, 'vendor', 2),
  ],
  person_company_affiliations: [
    { affiliation_id: 1, person_id: 1, company_id: 1, title: 'CEO', start_date: '2020-01-01' },
    { affiliation_id: 2, person_id: 2, company_id: 1, title: null },
    { affiliation_id: 11, person_id: 1, company_id: 2, title: 'CEO', start_date: '2021-01-01' },
    { affiliation_id: 12, person_id: 2, company_id: 2, title: null, start_date: '2019-01-01' },
    { affiliation_id: 13, person_id: 3, company_id: 2, title: 'CTO' },
    { affiliation_id: 14, person_id: 1, company_id: 2, title: 'Chair' },
  ],
  client_profiles: [
    {
      company_id: 2,
      client_status: 'Active',
      client_priority: 'High',
      relationship_notes: 'confidential relationship notes',
      last_contact_date: '2024-05-01',
      created_date: '2024-01-16 11:00:00',
    },
  ],
};

/** The survivor's own profile, for the case where both companies have one. */
const SURVIVOR_PROFILE = {
  company_id: 1,
  client_status: 'Prospect',
  client_priority: 'High',
  relationship_notes: 'other notes',
};

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

describe('merge field conflicts', () => {
  it('reports the fields the merged row would lose, hides free-text notes, and ignores what it does not compare', () => {
    // Prepare
    const survivor = { id: 1, kind: 'Vendor', sector: null, website: 'a.com', notes: 'x', created_date: 'a' };
    const merged = { id: 2, kind: 'Client', sector: 'Nuclear', website: null, notes: 'y', created_date: 'b' };

    // Act
    const conflicts = fieldConflicts(survivor, merged, ['id', 'created_date']);

    // Assess: website is NULL on the merged side, so nothing is lost there.
    expect(conflicts).toEqual([
      { field: 'kind', survivor: 'Vendor', merged: 'Client', valuesHidden: false },
      { field: 'notes', survivor: null, merged: null, valuesHidden: true },
      { field: 'sector', survivor: null, merged: 'Nuclear', valuesHidden: false },
    ]);
  });

  it('names merge runs by UTC time with a random suffix', () => {
    // Act
    const first = newMergeRunId(new Date('2026-11-25T07:15:02Z'));
    const second = newMergeRunId(new Date('2026-11-25T07:15:02Z'));

    // Assess
    expect(first).toMatch(/^merge-20261125-071502-[0-9a-f]{6}$/);
    expect(second).not.toBe(first);
  });
});

describe.each(realDatabases)('duplicates merge: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  /** Every unified row and the journal: what a dry run or a refused merge must leave as it found it. */
  async function everythingHash(): Promise<string> {
    const { rows } = await sql.query<{ h: string }>(
      `SELECT md5(coalesce(string_agg(to_jsonb(j)::text, '|' ORDER BY entry_id), '')) AS h FROM ${JOURNAL_TABLE} j`,
    );
    return `${await unifiedStateHash(sql)}|journal:${rows[0]?.h}`;
  }

  async function ids(table: string, key: string, where: string): Promise<number[]> {
    const { rows } = await sql.query<{ id: number }>(
      `SELECT ${key} AS id FROM ${table} WHERE ${where} ORDER BY ${key}`,
    );
    return rows.map((r) => r.id);
  }

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
    await ensureJournal(sql);
  });

  beforeEach(async () => {
    await resetTables(sql);
    await sql.query(`TRUNCATE ${JOURNAL_TABLE}, ${RUNS_TABLE}`);
    await forgetPairs(sql);
    await seed(sql, FIXTURE);
  });

  afterAll(async () => {
    // The migration's schema outlives this test's schema on a shared server: take our rows back.
    if (sql) await forgetPairs(sql);
    await database?.dispose();
  });

  it('moves every assignment, affiliation and the client profile, collapses identities into the survivor’s rows, and removes the merged company', async () => {
    // Act
    const result = await mergeCompanies(sql, { keepId: 1, mergeId: 2, runId: 'merge-test' });

    // Assess
    expect(result).toMatchObject({
      runId: 'merge-test',
      dryRun: false,
      survivor: { companyId: 1, name: 'X-energy', normalizedName: 'x-energy' },
      merged: { companyId: 2, name: 'X-Energy', normalizedName: 'x-energy' },
      forcedOver: [],
      assignments: { moved: 2, collapsed: 3, madeConfidential: 1 },
      affiliations: { moved: 2, collapsed: 2 },
      clientProfile: { outcome: 'moved', conflicts: [] },
      company: {
        madeMprClient: true,
        conflicts: [
          { field: 'company_type', survivor: 'Vendor', merged: 'Client', valuesHidden: false },
          { field: 'notes', survivor: null, merged: null, valuesHidden: true },
          { field: 'sector', survivor: null, merged: 'Nuclear', valuesHidden: false },
        ],
      },
      rowsWritten: 14,
    });
    // Free text may be confidential: the result (what the CLI prints and reports keep) holds none of it.
    for (const secret of ['merged notes, confidential', 'confidential relationship notes', 'secret terms']) {
      expect(JSON.stringify(result)).not.toContain(secret);
    }
    expect(await ids('companies', 'company_id', 'true')).toEqual([1, 3, 4, 5, 6]);
    expect(await ids('company_role_assignments', 'assignment_id', 'company_id = 1')).toEqual([
      1, 2, 3, 4, 11, 14,
    ]);
    expect(await ids('company_role_assignments', 'assignment_id', 'is_confidential')).toEqual([2, 3]);
    expect(await ids('person_company_affiliations', 'affiliation_id', 'company_id = 1')).toEqual([
      1, 2, 13, 14,
    ]);
    const { rows: profiles } = await sql.query(
      `SELECT company_id, client_status, client_priority, last_contact_date, created_date FROM client_profiles`,
    );
    expect(profiles).toEqual([
      {
        company_id: 1,
        client_status: 'Active',
        client_priority: 'High',
        last_contact_date: '2024-05-01',
        created_date: '2024-01-16 11:00:00',
      },
    ]);
    const { rows: survivor } = await sql.query(
      `SELECT is_mpr_client, company_type, notes FROM companies WHERE company_id = 1`,
    );
    expect(survivor).toEqual([{ is_mpr_client: true, company_type: 'Vendor', notes: 'survivor notes' }]);
    const { rows: journal } = await sql.query<{ table_name: string; op: string; n: number }>(
      `SELECT table_name, op, count(*)::int AS n FROM ${JOURNAL_TABLE} WHERE run_id = 'merge-test'
        GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    expect(journal).toEqual([
      { table_name: 'client_profiles', op: 'delete', n: 1 },
      { table_name: 'client_profiles', op: 'insert', n: 1 },
      { table_name: 'companies', op: 'delete', n: 1 },
      { table_name: 'companies', op: 'update', n: 1 },
      { table_name: 'company_role_assignments', op: 'delete', n: 3 },
      { table_name: 'company_role_assignments', op: 'update', n: 3 },
      { table_name: 'person_company_affiliations', op: 'delete', n: 2 },
      { table_name: 'person_company_affiliations', op: 'update', n: 2 },
    ]);
  });

  it('keeps the survivor’s client profile when both have one, and names the fields that differed', async () => {
    // Prepare
    await seed(sql, { client_profiles: [SURVIVOR_PROFILE] });

    // Act
    const result = await mergeCompanies(sql, { keepId: 1, mergeId: 2 });

    // Assess
    expect(result.runId).toMatch(/^merge-\d{8}-\d{6}-[0-9a-f]{6}$/);
    expect(result.clientProfile).toEqual({
      outcome: 'collapsed',
      conflicts: [
        { field: 'client_status', survivor: 'Prospect', merged: 'Active', valuesHidden: false },
        { field: 'last_contact_date', survivor: null, merged: '2024-05-01', valuesHidden: false },
        { field: 'relationship_notes', survivor: null, merged: null, valuesHidden: true },
      ],
    });
    const { rows } = await sql.query(
      `SELECT company_id, client_status, last_contact_date FROM client_profiles`,
    );
    expect(rows).toEqual([{ company_id: 1, client_status: 'Prospect', last_contact_date: null }]);
  });

  it('a dry run writes nothing (no journal either) and reports exactly what the merge then does', async () => {
    // Prepare
    await seed(sql, { client_profiles: [{ ...SURVIVOR_PROFILE, company_id: 3 }] });
    const before = await everythingHash();

    // Act
    const planned = await mergeCompanies(sql, { keepId: 1, mergeId: 2, dryRun: true });
    const afterDryRun = await everythingHash();
    const plannedOther = await mergeCompanies(sql, { keepId: 3, mergeId: 1, dryRun: true });
    const done = await mergeCompanies(sql, { keepId: 1, mergeId: 2 });
    const doneOther = await mergeCompanies(sql, { keepId: 3, mergeId: 1 });

    // Assess
    expect(afterDryRun).toBe(before);
    expect(planned.runId).toBeNull();
    expect(planned.dryRun).toBe(true);
    const { runId: _a, dryRun: _b, statements: _c, ...live } = done;
    expect(planned).toMatchObject(live);
    // 3 absorbs 1 after 1 absorbed 2: the dry run before the first merge saw 1 as it was then.
    expect(plannedOther.clientProfile.outcome).toBe('survivor');
    expect(doneOther.clientProfile.outcome).toBe('collapsed');
    expect(doneOther.assignments.moved).toBe(6);
  });

  it('its undo restores the exact earlier state, ids and audit times included; a second undo finds nothing left', async () => {
    // Prepare
    await sql.query(`UPDATE company_role_assignments SET modified_date = '2024-07-01 12:00:00.5' WHERE true`);
    const before = await unifiedStateHash(sql);
    const sequenceBefore = await sql.query(`SELECT last_value FROM companies_company_id_seq`);
    const merged = await mergeCompanies(sql, { keepId: 1, mergeId: 2 });
    expect(await unifiedStateHash(sql)).not.toBe(before);
    const runId = merged.runId ?? '';

    // Act
    const planned = await undoRun(sql, { runId, dryRun: true });
    const undone = await undoRun(sql, { runId });
    const again = await undoRun(sql, { runId });

    // Assess
    expect(await unifiedStateHash(sql)).toBe(before);
    expect(undone.status).toBe('undone');
    expect(undone.tables).toEqual({
      person_company_affiliations: { ...zero, restored: 2, reinserted: 2 },
      client_profiles: { ...zero, deleted: 1, reinserted: 1 },
      company_role_assignments: { ...zero, restored: 3, reinserted: 3 },
      companies: { ...zero, restored: 1, reinserted: 1 },
      company_roles: zero,
    });
    expect(planned.tables).toEqual(undone.tables);
    expect(Object.values(again.totals).every((n) => n === 0)).toBe(true);
    expect(await sql.query(`SELECT last_value FROM companies_company_id_seq`)).toEqual(sequenceBefore);
  });

  it('undo keeps a row written since with the key of a row the merge removed, and lists it', async () => {
    // Prepare
    const merged = await mergeCompanies(sql, { keepId: 1, mergeId: 2 });
    await sql.query(
      `INSERT INTO person_company_affiliations (affiliation_id, person_id, company_id, title)
       VALUES (12, 3, 1, 'Advisor')`,
    );

    // Act
    const undone = await undoRun(sql, { runId: merged.runId ?? '' });

    // Assess
    expect(undone.tables.person_company_affiliations).toMatchObject({ keptChanged: 1, reinserted: 1 });
    expect(undone.changedSince.sample).toEqual([
      { table: 'person_company_affiliations', id: 12, runDid: 'delete' },
    ]);
    const { rows } = await sql.query(
      `SELECT affiliation_id, company_id, title FROM person_company_affiliations WHERE affiliation_id IN (11, 12)
        ORDER BY 1`,
    );
    expect(rows).toEqual([
      { affiliation_id: 11, company_id: 2, title: 'CEO' },
      { affiliation_id: 12, company_id: 1, title: 'Advisor' },
    ]);
  });

  it('undo stops with a clear error, writing nothing more, when the merged company’s name was taken since; freed, it finishes', async () => {
    // Prepare
    const before = await unifiedStateHash(sql);
    const merged = await mergeCompanies(sql, { keepId: 1, mergeId: 2 });
    const runId = merged.runId ?? '';
    await sql.query(`INSERT INTO companies (company_id, company_name) VALUES (99, 'X-Energy')`);
    const blockedState = await everythingHash();

    // Act
    const blocked = await undoRun(sql, { runId }).catch((error: unknown) => error);
    const afterBlocked = await everythingHash();
    await sql.query(`DELETE FROM companies WHERE company_id = 99`);
    const undone = await undoRun(sql, { runId });

    // Assess
    expect(blocked).toBeInstanceOf(UndoBlockedError);
    expect(String(blocked)).toMatch(
      /cannot put back companies company_id 2 \(deleted by run merge-[^)]+\): a row written since holds/,
    );
    expect(afterBlocked).toBe(blockedState);
    await expect(undoRun(sql, { runId: 'merge-none' })).rejects.toThrow('not in the journal');
    expect(undone.status).toBe('undone');
    expect(await unifiedStateHash(sql)).toBe(before);
  });

  it.each<[string, Parameters<typeof mergeCompanies>[1], RegExp]>([
    ['an unknown id', { keepId: 1, mergeId: 999 }, /unknown company id 999 \(no such row in companies\)/],
    ['two unknown ids', { keepId: 998, mergeId: 999 }, /unknown company ids 998 and 999/],
    ['keep = merge', { keepId: 2, mergeId: 2 }, /a company cannot absorb itself/],
    ['names that differ', { keepId: 1, mergeId: 4 }, /do not have near-identical names.*--force/],
    [
      'a pair kept apart',
      { keepId: 5, mergeId: 6 },
      /recorded as legitimately distinct \(“subsidiary”\).*--force/,
    ],
  ])('refuses %s and writes nothing', async (_case, input, message) => {
    // Prepare
    await keepApart(sql, { companyA: 5, companyB: 6, reason: 'subsidiary' });
    const before = await everythingHash();

    // Act
    const live = await mergeCompanies(sql, input).catch((error: unknown) => error);
    const dryRun = await mergeCompanies(sql, { ...input, dryRun: true }).catch((error: unknown) => error);

    // Assess
    expect(live).toBeInstanceOf(RemedyRefusedError);
    expect(String(live)).toMatch(message);
    expect(dryRun).toBeInstanceOf(RemedyRefusedError);
    expect(String(dryRun)).toMatch(message);
    expect(await everythingHash()).toBe(before);
  });

  it('merges names that differ and a pair kept apart with force, saying what it forced', async () => {
    // Prepare
    await keepApart(sql, { companyA: 5, companyB: 6, reason: 'subsidiary' });

    // Act
    const differ = await mergeCompanies(sql, { keepId: 1, mergeId: 4, force: true });
    const apart = await mergeCompanies(sql, { keepId: 5, mergeId: 6, force: true });

    // Assess
    expect(differ).toMatchObject({ forcedOver: ['names-differ'], assignments: { moved: 1 } });
    expect(apart).toMatchObject({ forcedOver: ['kept-apart'], keptApartReason: 'subsidiary' });
    expect(await ids('companies', 'company_id', 'true')).toEqual([1, 2, 3, 5]);
  });

  it('refuses a run id already in the journal, and a merged company other tables point at', async () => {
    // Prepare
    await mergeCompanies(sql, { keepId: 5, mergeId: 6, force: true, runId: 'merge-used' });
    await sql.runScript(`
      CREATE TABLE app_company_notes (note_id serial PRIMARY KEY, company_id integer REFERENCES companies (company_id));
      INSERT INTO app_company_notes (company_id) VALUES (2), (2);`);
    const before = await everythingHash();

    try {
      // Act
      const reused = await mergeCompanies(sql, { keepId: 1, mergeId: 3, runId: 'merge-used' }).catch(
        (error: unknown) => error,
      );
      const referenced = await mergeCompanies(sql, { keepId: 1, mergeId: 2 }).catch(
        (error: unknown) => error,
      );

      // Assess
      expect(String(reused)).toMatch(/run id merge-used is already in the journal/);
      expect(String(referenced)).toMatch(
        /rows of other tables point at company 2: app_company_notes\.company_id \(2\)/,
      );
      expect(await everythingHash()).toBe(before);
    } finally {
      await sql.query(`DROP TABLE app_company_notes`);
    }
  });
});

const zero = { deleted: 0, restored: 0, reinserted: 0, keptChanged: 0, keptDependent: 0, gone: 0 };
