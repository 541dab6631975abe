import { ROLE_MAPPINGS } from '../core/mapping/roles.ts';
import { applySchemas } from '../core/schema/apply.ts';
import { LEGACY_TABLES } from '../core/schema/legacy.sql.ts';
import { UNIFIED_TABLES } from '../core/schema/unified.sql.ts';
import type { SqlClient, SqlSession } from '../core/sql/types.ts';

/** Sizes at benchmark scale 1 (the issue's figures); --scale multiplies every one. */
export const SCALE_ONE = {
  companyRecords: 100_000,
  personnelLinks: 300_000,
  projectLinks: 1_000_000,
  projects: 20_000,
  people: 50_000,
} as const;

export interface DataSizes {
  companyRecords: number;
  perCompanyTable: number;
  personnelLinks: number;
  projectLinks: number;
  perProjectTable: number;
  projects: number;
  people: number;
}

export function dataSizes(scale: number): DataSizes {
  const at = (n: number) => Math.max(6, Math.round(n * scale));
  const perCompanyTable = Math.ceil(at(SCALE_ONE.companyRecords) / 6);
  const perProjectTable = Math.ceil(at(SCALE_ONE.projectLinks) / 6);
  return {
    companyRecords: perCompanyTable * 6,
    perCompanyTable,
    personnelLinks: at(SCALE_ONE.personnelLinks),
    projectLinks: perProjectTable * 6,
    perProjectTable,
    projects: at(SCALE_ONE.projects),
    people: at(SCALE_ONE.people),
  };
}

const EXTRA_COLUMNS: Record<string, { columns: string; values: (i: string) => string }> = {
  owners_developers: {
    columns: ', company_type',
    values: (i) => `, CASE WHEN ${i} % 3 = 0 THEN NULL ELSE 'Utility' END`,
  },
  clients: {
    columns: ', client_type, relationship_strength, client_priority, client_status, last_contact_date',
    values: (i) =>
      `, CASE WHEN ${i} % 4 = 0 THEN NULL ELSE 'Strategic' END, 'Strong', 'P' || (${i} % 3), 'Active',
         date '2024-01-01' + (${i} % 365)`,
  },
  offtakers: { columns: ', sector', values: (i) => `, CASE WHEN ${i} % 2 = 0 THEN 'Industrial' END` },
};

/**
 * Builds the legacy data set on the server with set-based SQL (generate_series): one statement per
 * table. Names overlap across the six tables (about 1 in 5 records shares its company with another
 * record), some names carry whitespace to trim, one record in 1,000 has a blank name, and one link in
 * 997 points at a project or entity that does not exist: the cases the backfill has to handle.
 */
export async function buildLegacyData(sql: SqlClient, scale: number): Promise<DataSizes> {
  const s = dataSizes(scale);
  await applySchemas(sql);
  await sql.query(`TRUNCATE ${[...LEGACY_TABLES, ...UNIFIED_TABLES].join(', ')} RESTART IDENTITY CASCADE`);
  const distinctNames = Math.max(1, Math.round(s.companyRecords * 0.8));
  for (const [t, role] of ROLE_MAPPINGS.entries()) {
    const extra = EXTRA_COLUMNS[role.legacyTable] ?? { columns: '', values: () => '' };
    await sql.query(
      `INSERT INTO ${role.legacyTable} (${role.nameColumn}, notes${extra.columns})
       SELECT CASE WHEN i % 1000 = 999 THEN '  '
                   WHEN i % 50 = 7 THEN ' Company ' || ((i * 6 + ${t}) % ${distinctNames}) || E'\\u00a0'
                   ELSE 'Company ' || ((i * 6 + ${t}) % ${distinctNames}) END,
              CASE WHEN i % 5 = 0 THEN NULL ELSE 'note ' || (i % 7) END${extra.values('i')}
         FROM generate_series(1, ${s.perCompanyTable}) AS i`,
    );
  }
  await sql.query(
    `INSERT INTO personnel (full_name, email)
     SELECT 'Person ' || i, 'person' || i || '@example.com' FROM generate_series(1, ${s.people}) AS i`,
  );
  await sql.query(
    `INSERT INTO projects (project_name, project_status)
     SELECT 'Project ' || i, 'Active' FROM generate_series(1, ${s.projects}) AS i`,
  );
  // 'Other' is out of scope for the backfill.
  const types = ['Vendor', 'Owner', 'Client', 'Operator', 'Constructor', 'Offtaker', 'Developer', 'Other'];
  // Entity type shifts with the round, so every type occurs; a (person, type, entity) repeat is skipped.
  await sql.query(
    `INSERT INTO personnel_entity_relationships (personnel_id, entity_type, entity_id, relationship_role, notes)
     SELECT CASE WHEN i % 997 = 0 THEN ${s.people} + 1 ELSE 1 + (i % ${s.people}) END,
            (ARRAY[${types.map((x) => `'${x}'`).join(', ')}])[1 + ((i + i / ${s.people}) % ${types.length})],
            1 + ((i * 31) % ${s.perCompanyTable}),
            CASE WHEN i % 5 = 0 THEN NULL ELSE 'Title ' || (i % 4) END,
            CASE WHEN i % 3 = 0 THEN NULL ELSE 'link ' || (i % 9) END
       FROM generate_series(1, ${s.personnelLinks}) AS i
     ON CONFLICT DO NOTHING`,
  );
  for (const role of ROLE_MAPPINGS) {
    await sql.query(
      `INSERT INTO ${role.projectLinkTable} (project_id, ${role.projectLinkEntityColumn}, notes, is_confidential)
       SELECT CASE WHEN i % 997 = 0 THEN ${s.projects} + 1 ELSE 1 + ((i * 17) % ${s.projects}) END,
              1 + ((i * 7) % ${s.perCompanyTable}),
              CASE WHEN i % 4 = 0 THEN NULL ELSE 'pl ' || (i % 5) END,
              i % 11 = 0
         FROM generate_series(1, ${s.perProjectTable}) AS i`,
    );
  }
  await sql.query(`ANALYZE`);
  return s;
}

/** Empties the unified tables (ids restart), so the next method starts from the same state. */
export async function resetUnified(sql: SqlSession): Promise<void> {
  await sql.query(`TRUNCATE ${UNIFIED_TABLES.join(', ')} RESTART IDENTITY CASCADE`);
}

export interface NaturalState {
  [table: string]: { rows: number; md5: string };
}

const NATURAL_KEYS: Record<string, string> = {
  companies: `SELECT concat_ws('|', company_name, company_type, notes, is_mpr_client, is_internal) AS k FROM companies`,
  company_roles: `SELECT concat_ws('|', role_code, role_label, is_active) AS k FROM company_roles`,
  company_role_assignments: `SELECT concat_ws('|', c.company_name, r.role_code, a.context_type, a.context_id, a.is_primary,
                                 a.is_confidential, a.notes) AS k
                               FROM company_role_assignments a JOIN companies c USING (company_id)
                               JOIN company_roles r USING (role_id)`,
  client_profiles: `SELECT concat_ws('|', c.company_name, p.relationship_strength, p.relationship_notes,
                          p.client_priority, p.client_status, p.last_contact_date, p.last_contact_type,
                          p.last_contact_by, p.next_planned_contact_date, p.next_planned_contact_type,
                          p.next_planned_contact_assigned_to) AS k
                      FROM client_profiles p JOIN companies c USING (company_id)`,
  person_company_affiliations: `SELECT concat_ws('|', f.person_id, c.company_name, coalesce(f.title, '<null>'), f.notes,
                                      f.is_primary) AS k
                                  FROM person_company_affiliations f JOIN companies c USING (company_id)`,
};

/**
 * The unified state by natural keys (no surrogate ids): per table, the row count and an md5 over the
 * sorted keys, computed on the server so a million rows never travel to the client.
 */
export async function naturalState(sql: SqlSession): Promise<NaturalState> {
  const { rows } = await sql.query<{ t: string; n: number; h: string }>(
    Object.entries(NATURAL_KEYS)
      .map(
        ([table, query]) =>
          `SELECT '${table}' AS t, count(*)::int AS n, md5(coalesce(string_agg(k, E'\\n' ORDER BY k COLLATE "C"), '')) AS h
             FROM (${query}) AS q`,
      )
      .join(' UNION ALL '),
  );
  return Object.fromEntries(rows.map((r) => [r.t, { rows: Number(r.n), md5: r.h }]));
}

/** The tables whose natural-key sets differ ([] when the states match). */
export function stateDifferences(a: NaturalState, b: NaturalState): string[] {
  const tables = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...tables].filter((t) => a[t]?.md5 !== b[t]?.md5 || a[t]?.rows !== b[t]?.rows);
}
