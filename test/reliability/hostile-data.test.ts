import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_COMPANY_NAME_BYTES, ROLE_MAPPINGS } from '../../lib/core/mapping/roles.ts';
import { renderValidationHtml } from '../../lib/core/reports/render-validation.ts';
import { applySchemas } from '../../lib/core/schema/apply.ts';
import { requireSchemas } from '../../lib/core/schema/introspect.ts';
import { LEGACY_TABLES } from '../../lib/core/schema/legacy.sql.ts';
import { type SqlClient, sqlParam } from '../../lib/core/sql/types.ts';
import { validate } from '../../lib/core/validation/validate.ts';
import {
  type Fixture,
  type Row,
  resetTables,
  runAllSteps,
  type StepResults,
} from '../support/backfill-fixtures.ts';
import { legacyChecksums, lostUnifiedRows, unifiedChecksums, unifiedRowKeys } from '../support/checksums.ts';
import { realDatabases, type TestDatabase } from '../support/databases.ts';

/**
 * The hostile-input corpus, part 3: legacy rows no application should have written — blank, huge,
 * unicode, control-character and SQL-metacharacter names, NULLs in every nullable column, keys at the
 * int4 limits, duplicates, orphans of every kind — planted into the legacy tables, then the three
 * backfill steps and the validation. Each case ends as it should: migrated exactly, or reported as a data
 * issue (unmigratable, orphan, duplicate) with nothing half-written; the legacy tables never change, a
 * second run changes nothing, and no unified row present before goes missing.
 */

const INT_MIN = -2_147_483_648;
const INT_MAX = 2_147_483_647;

/** A name that does not compress: the unique index on company_name sees all of its bytes. */
const hugeName = randomBytes(6_000).toString('base64');
/** Exactly the longest name migrated, in four-byte characters. */
const longestName = '☢️'.repeat(MAX_COMPANY_NAME_BYTES / 6);

interface Expected {
  /** Company names after the run, exactly (bytewise order). */
  companies?: string[];
  /** Validation issue codes, exactly (sorted). */
  issues: string[];
  /** Summed over the three steps. */
  unmigratable?: number;
  orphans?: number;
  /** Affiliations and project assignments the run creates. */
  affiliations?: number;
  projectAssignments?: number;
}

interface DataCase {
  name: string;
  fixture: Fixture;
  expected: Expected;
  /** Extra checks on the validation report (e.g. how the HTML shows a name). */
  report?: (html: string) => void;
}

const project = (id: number, name = `Project ${id}`) => ({ project_id: id, project_name: name });
const person = (id: number, name = `Person ${id}`) => ({ personnel_id: id, full_name: name });

const NULLABLE_COMPANY_ROWS: Fixture = {
  technology_vendors: [
    {
      vendor_id: 1,
      vendor_name: 'Null Vendor',
      notes: null,
      created_by: null,
      modified_by: null,
      modified_date: null,
    },
  ],
  owners_developers: [
    {
      owner_id: 1,
      company_name: 'Null Owner',
      company_type: null,
      target_customers: null,
      engagement_level: null,
      notes: null,
      last_contact_date: null,
      last_contact_type: null,
      relationship_strength: null,
      relationship_notes: null,
      client_priority: null,
      client_status: null,
    },
  ],
  clients: [
    {
      client_id: 1,
      client_name: 'Null Client',
      client_type: null,
      notes: null,
      mpr_primary_poc: null,
      mpr_secondary_poc: null,
      last_contact_date: null,
      last_contact_type: null,
      last_contact_by: null,
      last_contact_notes: null,
      next_planned_contact_date: null,
      next_planned_contact_type: null,
      next_planned_contact_assigned_to: null,
      relationship_strength: null,
      relationship_notes: null,
      client_priority: null,
      client_status: null,
    },
  ],
  operators: [{ operator_id: 1, company_name: 'Null Operator', notes: null }],
  constructors: [{ constructor_id: 1, company_name: 'Null Constructor', notes: null }],
  offtakers: [{ offtaker_id: 1, organization_name: 'Null Offtaker', sector: null, notes: null }],
};

/** One orphan case per project-link table: the link names a company record that does not exist. */
const MISSING_COMPANY_OF_PROJECT_LINK: DataCase[] = ROLE_MAPPINGS.map((role) => ({
  name: `a ${role.projectLinkTable} row whose ${role.projectLinkEntityColumn} does not exist`,
  fixture: {
    projects: [project(1)],
    [role.projectLinkTable]: [{ relationship_id: 1, project_id: 1, [role.projectLinkEntityColumn]: 999 }],
  },
  expected: {
    companies: [],
    issues: ['legacy-orphans', 'uncovered-project-links'],
    orphans: 1,
    projectAssignments: 0,
  },
}));

const DATA_CASES: DataCase[] = [
  {
    name: 'an empty name',
    fixture: {
      technology_vendors: [
        { vendor_id: 1, vendor_name: '' },
        { vendor_id: 2, vendor_name: 'Kept' },
      ],
    },
    expected: { companies: ['Kept'], issues: ['unmigratable-records'], unmigratable: 1 },
  },
  {
    name: 'a whitespace-only name (tab, newline, no-break space, vertical tab)',
    fixture: { clients: [{ client_id: 7, client_name: ' \t\n\u00a0\u000b ' }] },
    expected: { companies: [], issues: ['unmigratable-records'], unmigratable: 1 },
  },
  {
    name: 'a 8 KB name (beyond what the unique index holds) beside a normal one in the same chunk',
    fixture: {
      operators: [
        { operator_id: 1, company_name: hugeName },
        { operator_id: 2, company_name: 'Normal Operator' },
      ],
    },
    expected: { companies: ['Normal Operator'], issues: ['unmigratable-records'], unmigratable: 1 },
  },
  {
    name: `a name of exactly ${MAX_COMPANY_NAME_BYTES} bytes`,
    fixture: { constructors: [{ constructor_id: 1, company_name: longestName }] },
    expected: { companies: [longestName], issues: [] },
  },
  {
    name: 'unicode names (CJK, right-to-left, combining marks, emoji with joiners)',
    fixture: {
      technology_vendors: [
        { vendor_id: 1, vendor_name: '原子力エンジニアリング株式会社' },
        { vendor_id: 2, vendor_name: 'שירותי גרעין בע״מ' },
        { vendor_id: 3, vendor_name: 'Ène\u0301rgie Nucle\u0301aire' },
        { vendor_id: 4, vendor_name: '👩‍🔬 Fusion & Co ☢️' },
      ],
    },
    expected: {
      companies: [
        'Ène\u0301rgie Nucle\u0301aire',
        'שירותי גרעין בע״מ',
        '原子力エンジニアリング株式会社',
        '👩‍🔬 Fusion & Co ☢️',
      ],
      issues: [],
    },
  },
  {
    name: 'control characters inside names (kept as they are; only the ends are trimmed)',
    fixture: {
      owners_developers: [
        { owner_id: 1, company_name: 'Bell\u0007 Atomics' },
        { owner_id: 2, company_name: '\u001b[31mRed\u001b[0m Power' },
        { owner_id: 3, company_name: '\nTwo\nLines\n' },
      ],
    },
    expected: { companies: ['\u001b[31mRed\u001b[0m Power', 'Bell\u0007 Atomics', 'Two\nLines'], issues: [] },
  },
  {
    name: 'SQL metacharacters in names',
    fixture: {
      operators: [
        { operator_id: 1, company_name: "Robert'); DROP TABLE companies; --" },
        { operator_id: 2, company_name: '$1 :name ::text %_\\ "quoted" ; /* c */' },
        { operator_id: 3, company_name: "O'Brien Nuclear" },
      ],
      projects: [project(1, "'; DELETE FROM projects; --")],
      project_operator_relationships: [{ relationship_id: 1, project_id: 1, operator_id: 1 }],
    },
    expected: {
      companies: [
        '$1 :name ::text %_\\ "quoted" ; /* c */',
        "O'Brien Nuclear",
        "Robert'); DROP TABLE companies; --",
      ],
      issues: [],
      projectAssignments: 1,
    },
  },
  {
    name: 'near-identical names with HTML in them (a duplicate group, escaped in the HTML report)',
    fixture: {
      technology_vendors: [{ vendor_id: 1, vendor_name: '<script>alert(1)</script> Reactors' }],
      operators: [{ operator_id: 1, company_name: '<SCRIPT>alert(1)</SCRIPT> reactors' }],
    },
    expected: {
      companies: ['<SCRIPT>alert(1)</SCRIPT> reactors', '<script>alert(1)</script> Reactors'],
      issues: ['duplicate-names'],
    },
    report: (html) => {
      expect(html).not.toMatch(/<script>alert/i);
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Reactors');
    },
  },
  {
    name: 'NULLs in every nullable column of the six company tables',
    fixture: NULLABLE_COMPANY_ROWS,
    expected: {
      companies: [
        'Null Client',
        'Null Constructor',
        'Null Offtaker',
        'Null Operator',
        'Null Owner',
        'Null Vendor',
      ],
      issues: [],
    },
  },
  {
    name: 'NULLs in every nullable column of personnel, projects and the link tables',
    fixture: {
      technology_vendors: [{ vendor_id: 1, vendor_name: 'Linked Vendor' }],
      clients: [{ client_id: 1, client_name: 'Linked Client' }],
      personnel: [
        {
          personnel_id: 1,
          full_name: 'Null Person',
          email: null,
          phone: null,
          role: null,
          personnel_type: null,
          organization_type: null,
          organization_id: null,
          notes: null,
        },
      ],
      projects: [
        { project_id: 1, project_name: 'Null Project', location: null, project_status: null, notes: null },
      ],
      personnel_entity_relationships: [
        {
          relationship_id: 1,
          personnel_id: 1,
          entity_type: 'Vendor',
          entity_id: 1,
          title: null,
          notes: null,
        },
      ],
      project_vendor_relationships: [{ relationship_id: 1, project_id: 1, vendor_id: 1, notes: null }],
      client_project_relationships: [
        { relationship_id: 1, client_id: 1, project_id: 1, relationship_type: null, notes: null },
      ],
    },
    expected: {
      companies: ['Linked Client', 'Linked Vendor'],
      issues: [],
      affiliations: 1,
      projectAssignments: 2,
    },
  },
  {
    name: 'keys at the int4 limits (and zero) in every kind of table',
    fixture: {
      technology_vendors: [
        { vendor_id: INT_MIN, vendor_name: 'Lowest Key Vendor' },
        { vendor_id: 0, vendor_name: 'Zero Key Vendor' },
        { vendor_id: INT_MAX, vendor_name: 'Highest Key Vendor' },
      ],
      personnel: [person(INT_MIN), person(INT_MAX)],
      projects: [project(INT_MIN), project(INT_MAX)],
      personnel_entity_relationships: [
        { relationship_id: INT_MIN, personnel_id: INT_MIN, entity_type: 'Vendor', entity_id: INT_MIN },
        { relationship_id: INT_MAX, personnel_id: INT_MAX, entity_type: 'Vendor', entity_id: INT_MAX },
      ],
      project_vendor_relationships: [
        { relationship_id: INT_MIN, project_id: INT_MAX, vendor_id: INT_MIN },
        { relationship_id: INT_MAX, project_id: INT_MIN, vendor_id: INT_MAX },
      ],
    },
    expected: {
      companies: ['Highest Key Vendor', 'Lowest Key Vendor', 'Zero Key Vendor'],
      issues: [],
      affiliations: 2,
      projectAssignments: 2,
    },
  },
  {
    name: 'duplicate legacy rows in one table (one company, a record assignment each)',
    fixture: {
      technology_vendors: [
        { vendor_id: 1, vendor_name: 'Twin Vendor' },
        { vendor_id: 2, vendor_name: 'Twin Vendor' },
        { vendor_id: 3, vendor_name: ' Twin Vendor ' },
      ],
    },
    expected: { companies: ['Twin Vendor'], issues: [] },
  },
  {
    name: 'one name in several role tables (one company with several roles)',
    fixture: {
      technology_vendors: [{ vendor_id: 1, vendor_name: 'Everything Inc' }],
      operators: [{ operator_id: 1, company_name: 'Everything Inc' }],
      clients: [{ client_id: 1, client_name: 'Everything Inc' }],
    },
    expected: { companies: ['Everything Inc'], issues: [] },
  },
  {
    name: 'the same project link twice (one assignment)',
    fixture: {
      constructors: [{ constructor_id: 1, company_name: 'Builder' }],
      projects: [project(1)],
      project_constructor_relationships: [
        { relationship_id: 1, project_id: 1, constructor_id: 1 },
        { relationship_id: 2, project_id: 1, constructor_id: 1 },
      ],
    },
    expected: { companies: ['Builder'], issues: [], projectAssignments: 1 },
  },
  ...MISSING_COMPANY_OF_PROJECT_LINK,
  {
    name: 'a project link whose project does not exist',
    fixture: {
      technology_vendors: [{ vendor_id: 1, vendor_name: 'Vendor' }],
      project_vendor_relationships: [{ relationship_id: 1, project_id: 404, vendor_id: 1 }],
    },
    expected: {
      companies: ['Vendor'],
      issues: ['legacy-orphans', 'uncovered-project-links'],
      orphans: 1,
      projectAssignments: 0,
    },
  },
  {
    name: 'a personnel link whose person does not exist',
    fixture: {
      technology_vendors: [{ vendor_id: 1, vendor_name: 'Vendor' }],
      personnel_entity_relationships: [
        { relationship_id: 1, personnel_id: 404, entity_type: 'Vendor', entity_id: 1 },
      ],
    },
    expected: {
      companies: ['Vendor'],
      issues: ['legacy-orphans', 'uncovered-personnel-links'],
      orphans: 1,
      affiliations: 0,
    },
  },
  {
    name: 'a personnel link whose company record does not exist',
    fixture: {
      personnel: [person(1)],
      personnel_entity_relationships: [
        { relationship_id: 1, personnel_id: 1, entity_type: 'Operator', entity_id: 404 },
      ],
    },
    expected: {
      companies: [],
      issues: ['legacy-orphans', 'uncovered-personnel-links'],
      orphans: 1,
      affiliations: 0,
    },
  },
  {
    name: 'a personnel link to an entity type nobody knows',
    fixture: {
      personnel: [person(1)],
      personnel_entity_relationships: [
        { relationship_id: 1, personnel_id: 1, entity_type: 'Spaceship', entity_id: 1 },
      ],
    },
    expected: { companies: [], issues: ['out-of-scope-links'], affiliations: 0 },
  },
  {
    name: 'a project link to a company record with a blank name (unmigratable, not an orphan)',
    fixture: {
      clients: [{ client_id: 1, client_name: '   ' }],
      projects: [project(1)],
      client_project_relationships: [{ relationship_id: 1, client_id: 1, project_id: 1 }],
    },
    expected: { companies: [], issues: ['uncovered-project-links', 'unmigratable-records'], unmigratable: 1 },
  },
];

/** Inserts rows as given: keys at the int4 limits included (no sequence is moved past them). */
async function plant(sql: SqlClient, fixture: Fixture): Promise<void> {
  const { personnelTitleColumn } = await requireSchemas(sql);
  for (const table of LEGACY_TABLES) {
    const given = fixture[table];
    if (!given || given.length === 0) continue;
    const rows = given.map((row): Row => {
      if (table !== 'personnel_entity_relationships') return row;
      const { title = null, ...rest } = row;
      return { ...rest, [personnelTitleColumn]: title };
    });
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const list = columns.map((c) => `"${c}"`).join(', ');
    await sql.query(
      `INSERT INTO ${table} (${list}) SELECT ${list} FROM jsonb_populate_recordset(NULL::${table}, :rows::jsonb)`,
      { rows: sqlParam.json(rows) },
    );
  }
}

const sum = (results: StepResults, pick: (r: StepResults['companies']) => number) =>
  pick(results.companies) + pick(results.personnel) + pick(results.projects);

describe.each(realDatabases)('hostile legacy data: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it.each(DATA_CASES)('$name', async ({ fixture, expected, report }) => {
    // Prepare: the case's rows, and one unified company the application already had.
    await resetTables(sql);
    await plant(sql, fixture);
    await sql.query(
      `INSERT INTO companies (company_name, company_type, is_mpr_client, is_internal) VALUES ('Pre-existing', 'Other', false, false)`,
    );
    const legacyBefore = await legacyChecksums(sql);
    const unifiedKeysBefore = await unifiedRowKeys(sql);

    // Act
    const results = await runAllSteps(sql, { chunkSize: 2 });
    const afterFirstRun = await unifiedChecksums(sql);
    const again = await runAllSteps(sql, { chunkSize: 2 });
    const validation = await validate(sql, { runId: 'run-hostile', stage: 'test' });

    // Assess: nothing lost, nothing half-written, the outcome as expected.
    expect(await legacyChecksums(sql)).toEqual(legacyBefore);
    expect(lostUnifiedRows(unifiedKeysBefore, await unifiedRowKeys(sql))).toEqual([]);
    expect(await unifiedChecksums(sql)).toEqual(afterFirstRun);
    const writes = [again.companies, again.personnel, again.projects].flatMap((r) =>
      Object.entries(r.counts).filter(([key, n]) => /Created|Inserted|Updated/.test(key) && n > 0),
    );
    expect(writes).toEqual([]);
    const { rows } = await sql.query<{ company_name: string }>(
      `SELECT company_name FROM companies WHERE company_name <> 'Pre-existing' ORDER BY company_name COLLATE "C"`,
    );
    if (expected.companies) expect(rows.map((r) => r.company_name)).toEqual(expected.companies);
    expect(validation.issues.map((i) => i.code).sort()).toEqual(expected.issues);
    expect(sum(results, (r) => r.unmigratable.count)).toBe(expected.unmigratable ?? 0);
    expect(sum(results, (r) => r.orphans.count)).toBe(expected.orphans ?? 0);
    expect(validation.unmigratable.count).toBe(expected.unmigratable ?? 0);
    if (expected.affiliations !== undefined)
      expect(results.personnel.counts.affiliationsInserted).toBe(expected.affiliations);
    if (expected.projectAssignments !== undefined)
      expect(results.projects.counts.assignmentsInserted).toBe(expected.projectAssignments);
    // A critical data issue always fails the run's criteria.
    if (validation.issues.some((i) => i.severity === 'critical')) expect(validation.passed).toBe(false);
    report?.(renderValidationHtml(validation));
  });
});
