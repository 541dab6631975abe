import { LEGACY_TABLES } from '../../lib/core/schema/legacy.sql.ts';
import type { SqlSession } from '../../lib/core/sql/types.ts';

const UNIFIED_KEYS: Record<string, string> = {
  companies: 'company_id',
  company_roles: 'role_id',
  company_role_assignments: 'assignment_id',
  client_profiles: 'company_id',
  person_company_affiliations: 'affiliation_id',
};

/**
 * A hash over every unified row, ids included. Timestamps set by now() differ between two databases,
 * so `withAuditTimes: false` leaves created_date and modified_date out when comparing runs.
 */
export async function unifiedStateHash(sql: SqlSession, { withAuditTimes = true } = {}): Promise<string> {
  const parts = Object.entries(UNIFIED_KEYS).map(([table, key]) => {
    const row = withAuditTimes ? 't' : `(to_jsonb(t) - 'created_date' - 'modified_date')`;
    return `SELECT '${table}' AS t, md5(coalesce(string_agg(${row}::text, '|' ORDER BY t.${key}), '')) AS h FROM ${table} t`;
  });
  const { rows } = await sql.query<{ t: string; h: string }>(parts.join(' UNION ALL '));
  return rows.map((r) => `${r.t}:${r.h}`).join(',');
}

/**
 * The unified state by natural keys only (no surrogate ids): what two runs that consumed sequence
 * values differently must still agree on.
 */
export async function unifiedNaturalState(sql: SqlSession): Promise<Record<string, string[]>> {
  const queries: Record<string, string> = {
    companies: `SELECT concat_ws('|', company_name, company_type, notes, is_mpr_client, is_internal) AS k FROM companies`,
    company_roles: `SELECT concat_ws('|', role_code, role_label, is_active) AS k FROM company_roles`,
    company_role_assignments: `SELECT concat_ws('|', c.company_name, r.role_code, a.context_type, a.context_id, a.is_primary,
                                   a.is_confidential, a.notes) AS k
                                 FROM company_role_assignments a JOIN companies c USING (company_id)
                                 JOIN company_roles r USING (role_id)`,
    client_profiles: `SELECT concat_ws('|', c.company_name, p.relationship_strength, p.client_priority, p.client_status,
                            p.last_contact_date, p.next_planned_contact_date) AS k
                        FROM client_profiles p JOIN companies c USING (company_id)`,
    person_company_affiliations: `SELECT concat_ws('|', f.person_id, c.company_name, coalesce(f.title, '<null>'), f.notes,
                                        f.is_primary) AS k
                                    FROM person_company_affiliations f JOIN companies c USING (company_id)`,
  };
  const state: Record<string, string[]> = {};
  for (const [table, query] of Object.entries(queries)) {
    const { rows } = await sql.query<{ k: string }>(`${query} ORDER BY 1`);
    state[table] = rows.map((r) => r.k);
  }
  return state;
}

/** A hash over every legacy table: the backfill must never change it. */
export async function legacyStateHash(sql: SqlSession): Promise<string> {
  const parts = LEGACY_TABLES.map(
    (table) =>
      `SELECT '${table}' AS t, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${table} x`,
  );
  const { rows } = await sql.query<{ t: string; h: string }>(parts.join(' UNION ALL '));
  return rows.map((r) => `${r.t}:${r.h}`).join(',');
}
