import { DISTINCT_PAIRS_TABLE } from '../schema/migration.sql.ts';

/**
 * V5 as SQL: groups of companies whose names are equal once lower-cased, trimmed and inner whitespace
 * collapsed, with the pairs an operator recorded as legitimately distinct (`duplicates keep-apart`).
 * Validation and `duplicates list` run the same statement, so they always show the same groups.
 */

/** SQL for the form two names are compared in; `column` is a company name. */
export function normalizedNameSql(column: string): string {
  return `lower(btrim(regexp_replace(${column}, '\\s+', ' ', 'g')))`;
}

export interface DuplicateGroupsSqlOptions {
  /** Read the recorded distinct pairs: only when their table exists (the statement would fail without). */
  distinctPairs: boolean;
  /** Per company also its creation date and how much points at it (for `duplicates list`). */
  details: boolean;
}

/**
 * One row per group, ordered by normalized name: `normalized`, `companies` (JSON, by company id) and
 * `acknowledged_pairs` (JSON; pairs within the group recorded as distinct, by ids; [] without the table).
 */
export function duplicateGroupsSql({ distinctPairs, details }: DuplicateGroupsSqlOptions): string {
  const count = (from: string) => `(SELECT count(*) FROM ${from})`;
  const detailFields = details
    ? `,
           'createdDate', to_char(c.created_date, 'YYYY-MM-DD HH24:MI:SS'),
           'recordAssignments', ${count(`company_role_assignments a WHERE a.company_id = c.company_id AND a.context_type LIKE '%Record'`)},
           'projectAssignments', ${count(`company_role_assignments a WHERE a.company_id = c.company_id AND a.context_type = 'Project'`)},
           'otherAssignments', ${count(
             `company_role_assignments a WHERE a.company_id = c.company_id
                AND a.context_type <> 'Project' AND a.context_type NOT LIKE '%Record'`,
           )},
           'affiliations', ${count('person_company_affiliations f WHERE f.company_id = c.company_id')},
           'clientProfile', EXISTS (SELECT 1 FROM client_profiles cp WHERE cp.company_id = c.company_id)`
    : '';
  const pairs = distinctPairs
    ? `coalesce((SELECT json_agg(json_build_object(
                   'companyA', d.company_a, 'companyB', d.company_b, 'reason', d.reason,
                   'recordedBy', d.recorded_by,
                   'recordedAt', to_char(d.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                   ORDER BY d.company_a, d.company_b)
                 FROM ${DISTINCT_PAIRS_TABLE} d
                WHERE d.data_schema = current_schema()
                  AND d.company_a IN (SELECT m.company_id FROM named m WHERE m.normalized = g.normalized)
                  AND d.company_b IN (SELECT m.company_id FROM named m WHERE m.normalized = g.normalized)),
               '[]')`
    : `'[]'::json`;
  return `
  WITH named AS (
    SELECT c.company_id, ${normalizedNameSql('c.company_name')} AS normalized FROM companies c),
  groups AS (SELECT normalized FROM named GROUP BY normalized HAVING count(*) > 1)
  SELECT g.normalized, json_agg(json_build_object(
           'companyId', c.company_id, 'name', c.company_name,
           'roles', coalesce((SELECT json_agg(DISTINCT r.role_code) FROM company_role_assignments a
                                JOIN company_roles r ON r.role_id = a.role_id WHERE a.company_id = c.company_id), '[]'),
           'contextTypes', coalesce((SELECT json_agg(DISTINCT a.context_type) FROM company_role_assignments a
                                      WHERE a.company_id = c.company_id), '[]')${detailFields})
         ORDER BY c.company_id) AS companies,
         ${pairs} AS acknowledged_pairs
    FROM groups g
    JOIN named n ON n.normalized = g.normalized
    JOIN companies c ON c.company_id = n.company_id
   GROUP BY g.normalized ORDER BY g.normalized`;
}

/** A group is acknowledged when every pair of its companies is recorded as distinct. */
export function isAcknowledged(companies: number, acknowledgedPairs: number): boolean {
  return companies > 1 && acknowledgedPairs === (companies * (companies - 1)) / 2;
}
