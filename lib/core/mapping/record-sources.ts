import { ROLE_MAPPINGS, type RoleMapping } from './roles.ts';

/**
 * SQL for the legacy company records that map to companies through their record assignments, with
 * what R3 reads from each. The backfill's field sync and validation's drift check both start here, so
 * they agree on which record a company's fields come from.
 */

const recordAssignmentsOf = (role: RoleMapping, legacyIdSql: string) =>
  `FROM company_role_assignments a
     JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = '${role.code}'
    WHERE a.context_type = '${role.recordContextType}' AND a.context_id = ${legacyIdSql}`;

/** True when the legacy row `legacyIdSql` of `role` has its record assignment. */
export function recordAssignmentExistsSql(role: RoleMapping, legacyIdSql: string): string {
  return `EXISTS (SELECT 1 ${recordAssignmentsOf(role, legacyIdSql)})`;
}

/** The company that row's record assignment points at (the lowest assignment id if several); NULL when none. */
export function recordCompanySql(role: RoleMapping, legacyIdSql: string): string {
  // The role's id as an uncorrelated subquery: computed once per statement, not joined on every lookup.
  return `(SELECT a.company_id FROM company_role_assignments a
            WHERE a.context_type = '${role.recordContextType}' AND a.context_id = ${legacyIdSql}
              AND a.role_id = ${roleIdSql(role)}
            ORDER BY a.assignment_id LIMIT 1)`;
}

/** The role's id in company_roles (NULL when it has none), as a scalar subquery. */
export function roleIdSql(role: RoleMapping): string {
  return `(SELECT r.role_id FROM company_roles r WHERE r.role_code = '${role.code}')`;
}

/**
 * Every legacy record of `role` that has a record assignment, with its company (the lowest assignment
 * id's, as recordCompanySql): columns legacy_id and company_id, one row per legacy_id. To join rather
 * than look up row by row, where many rows want their company.
 */
export function recordCompaniesSql(role: RoleMapping): string {
  return `SELECT DISTINCT ON (a.context_id) a.context_id AS legacy_id, a.company_id
            FROM company_role_assignments a
           WHERE a.context_type = '${role.recordContextType}'
             AND a.role_id = ${roleIdSql(role)}
           ORDER BY a.context_id, a.assignment_id`;
}

/** Existing record assignments of `role` whose context_id is `legacyIdSql` (alias `a`, role alias `r`). */
export function recordAssignmentJoin(role: RoleMapping, legacyIdSql: string, extraCondition = ''): string {
  return `JOIN company_role_assignments a ON a.context_id = ${legacyIdSql}
              AND a.context_type = '${role.recordContextType}' ${extraCondition}
            JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = '${role.code}'`;
}

/**
 * One row per (company, legacy record) pair: company_key (the company id), role_order, role,
 * legacy_table, legacy_id, company_type and notes as R3 takes them. `companyFilter` narrows the
 * companies (e.g. a keyset range on a.company_id).
 */
export function recordSourcesSql(companyFilter = ''): string {
  return ROLE_MAPPINGS.map(
    (role, order) =>
      `SELECT a.company_id AS company_key, ${order} AS role_order, '${role.code}' AS role,
              '${role.legacyTable}' AS legacy_table, l.${role.idColumn} AS legacy_id,
              ${role.companyTypeSql} AS company_type, l.notes
         FROM ${role.legacyTable} l ${recordAssignmentJoin(role, `l.${role.idColumn}`, companyFilter)}`,
  ).join('\n       UNION ALL\n       ');
}

/** `sources`, `winners` (the record R3 takes fields from) and `flags` (any client record) as CTEs. */
export function companySourcesCtes(companyFilter = ''): string {
  return `sources AS (${recordSourcesSql(companyFilter)}),
  winners AS (SELECT DISTINCT ON (company_key) * FROM sources ORDER BY company_key, role_order, legacy_id),
  flags AS (SELECT company_key, bool_or(role = 'client') AS any_client FROM sources GROUP BY company_key)`;
}
