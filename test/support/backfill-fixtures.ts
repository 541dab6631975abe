/**
 * Helpers for the backfill rule and demo-case tests: hand-built legacy and unified rows, the three
 * steps in order, and the unified rows read back in a stable order (names sorted bytewise, so the
 * order is the same on every server whatever its collation).
 */
import {
  type BackfillRequest,
  type BackfillResult,
  backfillCompanies,
  backfillPersonnelAffiliations,
  backfillProjectRelationships,
} from '../../lib/core/backfill/index.ts';
import { DEMO_COLUMNS, DEMO_PRIMARY_KEYS, type DemoTable } from '../../lib/core/demo/generate.ts';
import { ROLE_MAPPINGS, type RoleMapping } from '../../lib/core/mapping/roles.ts';
import { requireSchemas } from '../../lib/core/schema/introspect.ts';
import { LEGACY_TABLES } from '../../lib/core/schema/legacy.sql.ts';
import { CLIENT_PROFILE_FIELDS, UNIFIED_TABLES } from '../../lib/core/schema/unified.sql.ts';
import { type SqlClient, type SqlSession, sqlParam } from '../../lib/core/sql/types.ts';

export type Row = Record<string, string | number | boolean | null>;

/** Rows per table; personnel_entity_relationships rows give their title as `title`. */
export type Fixture = Partial<Record<DemoTable, Row[]>>;

const ALL_TABLES: readonly DemoTable[] = [...LEGACY_TABLES, ...UNIFIED_TABLES];

/** NOT NULL columns with a default: jsonb_populate_recordset would give NULL where a row leaves them out. */
const NOT_NULL_DEFAULTS: Readonly<Record<string, boolean>> = {
  is_confidential: false,
  is_primary: false,
  is_mpr_client: false,
  is_internal: false,
  is_active: true,
};

/** Empties every legacy and unified table and restarts their ids at 1. */
export async function resetTables(sql: SqlSession): Promise<void> {
  await sql.query(`TRUNCATE ${ALL_TABLES.join(', ')} RESTART IDENTITY CASCADE`);
}

/** Inserts the fixture's rows (legacy first, then unified) and moves each serial past the ids used. */
export async function seed(sql: SqlSession, fixture: Fixture): Promise<void> {
  const { personnelTitleColumn } = await requireSchemas(sql);
  for (const table of ALL_TABLES) {
    const given = fixture[table];
    if (!given || given.length === 0) continue;
    const defaults = Object.entries(NOT_NULL_DEFAULTS).filter(([column]) =>
      DEMO_COLUMNS[table].includes(column),
    );
    const rows = given.map((row) => {
      const complete: Row = { ...Object.fromEntries(defaults), ...row };
      if (table !== 'personnel_entity_relationships') return complete;
      const { title = null, ...rest } = complete;
      return { ...rest, [personnelTitleColumn]: title };
    });
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const list = columns.map((c) => `"${c}"`).join(', ');
    await sql.query(
      `INSERT INTO ${table} (${list})
       SELECT ${list} FROM jsonb_populate_recordset(NULL::${table}, :rows::jsonb)`,
      { rows: sqlParam.json(rows) },
    );
    if (table !== 'client_profiles') {
      const pk = DEMO_PRIMARY_KEYS[table];
      await sql.query(
        `SELECT setval(pg_get_serial_sequence('${table}', '${pk}'), greatest(max(${pk}), 0) + 1, false) FROM ${table}`,
      );
    }
  }
}

export interface StepResults {
  companies: BackfillResult;
  personnel: BackfillResult;
  projects: BackfillResult;
}

/** Companies, then personnel, then projects, each to the end, with one request for all three. */
export async function runAllSteps(sql: SqlClient, request: BackfillRequest = {}): Promise<StepResults> {
  const companies = await backfillCompanies(sql, request);
  const personnel = await backfillPersonnelAffiliations(sql, request);
  const projects = await backfillProjectRelationships(sql, request);
  for (const result of [companies, personnel, projects])
    if (!result.done) throw new Error(`the ${result.step} step did not finish in one call`);
  return { companies, personnel, projects };
}

/** The role mapping of a legacy company table. */
export function roleOfTable(table: string): RoleMapping {
  const role = ROLE_MAPPINGS.find((r) => r.legacyTable === table);
  if (!role) throw new Error(`no role maps legacy table ${table}`);
  return role;
}

/** Company fields R3 sets, by name (bytewise order). */
export async function companyRows(sql: SqlSession): Promise<Row[]> {
  const { rows } = await sql.query<Row>(
    `SELECT company_name, company_type, notes, is_mpr_client, is_internal
       FROM companies ORDER BY company_name COLLATE "C"`,
  );
  return rows;
}

/** Every role assignment with its company's name and its role's code. */
export async function assignmentRows(sql: SqlSession): Promise<Row[]> {
  const { rows } = await sql.query<Row>(
    `SELECT c.company_name, r.role_code, a.context_type, a.context_id, a.is_primary, a.is_confidential, a.notes
       FROM company_role_assignments a
       JOIN companies c ON c.company_id = a.company_id
       JOIN company_roles r ON r.role_id = a.role_id
      ORDER BY a.context_type COLLATE "C", r.role_code COLLATE "C", a.context_id, c.company_name COLLATE "C"`,
  );
  return rows;
}

/** Every affiliation with its company's name. */
export async function affiliationRows(sql: SqlSession): Promise<Row[]> {
  const { rows } = await sql.query<Row>(
    `SELECT f.person_id, c.company_name, f.title, f.notes, f.is_primary
       FROM person_company_affiliations f JOIN companies c ON c.company_id = f.company_id
      ORDER BY f.person_id, c.company_name COLLATE "C", f.title COLLATE "C" NULLS FIRST`,
  );
  return rows;
}

/** The client-profile CRM fields, as the backfill copies them. */
export const CLIENT_PROFILE_COLUMNS = CLIENT_PROFILE_FIELDS;

/** Every client profile with its company's name. */
export async function clientProfileRows(sql: SqlSession): Promise<Row[]> {
  const { rows } = await sql.query<Row>(
    `SELECT c.company_name, ${CLIENT_PROFILE_COLUMNS.map((f) => `p.${f}`).join(', ')}
       FROM client_profiles p JOIN companies c ON c.company_id = p.company_id
      ORDER BY c.company_name COLLATE "C"`,
  );
  return rows;
}

/** One md5 per legacy table over its rows as JSON in primary-key order. */
export async function legacyTableHashes(sql: SqlSession): Promise<Record<string, string>> {
  const { rows } = await sql.query<{ t: string; h: string }>(
    LEGACY_TABLES.map(
      (table) =>
        `SELECT '${table}' AS t,
                md5(coalesce(string_agg(row_to_json(x)::text, '|' ORDER BY x.${DEMO_PRIMARY_KEYS[table]}), '')) AS h
           FROM ${table} x`,
    ).join('\nUNION ALL\n'),
  );
  return Object.fromEntries(rows.map((r) => [r.t, r.h]));
}
