import { ROLE_MAPPINGS, type RoleMapping, trimmedNameSql } from '../core/mapping/roles.ts';
import { CLIENT_PROFILE_FIELDS } from '../core/schema/unified.sql.ts';
import type { SqlClient } from '../core/sql/types.ts';

/**
 * The lower bound: the backfill's end state produced by bare set-based SQL, one INSERT … SELECT per
 * target table over the whole data set — no chunking, no cursor, no counts, samples or checks. It
 * assumes an empty unified schema (which is what the benchmark gives it) and reads the rules R1–R6
 * straight: a company per distinct trimmed non-blank name, fields from the first record in role then
 * key order; links resolved to companies by the entity's trimmed name.
 */

/** Legacy entities of one role with the company they map to (alias columns: entity_id, company_id). */
function entityCompanies(role: RoleMapping): string {
  return `SELECT l.${role.idColumn} AS entity_id, co.company_id
            FROM ${role.legacyTable} l JOIN companies co ON co.company_name = ${trimmedNameSql(`l.${role.nameColumn}`)}`;
}

export const LOWER_BOUND_STATEMENTS: readonly string[] = [
  `INSERT INTO company_roles (role_code, role_label, is_active)
   VALUES ${ROLE_MAPPINGS.map((r) => `('${r.code}', '${r.label}', true)`).join(', ')}`,

  `INSERT INTO companies (company_name, company_type, notes, is_mpr_client, is_internal)
   SELECT DISTINCT ON (name) name, company_type, notes, bool_or(is_client) OVER (PARTITION BY name), false
     FROM (${ROLE_MAPPINGS.map(
       (role, order) =>
         `SELECT ${order} AS role_order, l.${role.idColumn} AS legacy_id, ${trimmedNameSql(`l.${role.nameColumn}`)} AS name,
                 ${role.companyTypeSql} AS company_type, l.notes, ${role.code === 'client'} AS is_client
            FROM ${role.legacyTable} l`,
     ).join(' UNION ALL ')}) AS records
    WHERE name <> ''
    ORDER BY name, role_order, legacy_id`,

  `INSERT INTO company_role_assignments
          (company_id, role_id, context_type, context_id, is_primary, is_confidential, notes)
   ${ROLE_MAPPINGS.flatMap((role) => [
     `SELECT e.company_id, r.role_id, '${role.recordContextType}', e.entity_id, true, false, NULL
        FROM (${entityCompanies(role)}) AS e JOIN company_roles r ON r.role_code = '${role.code}'`,
     `SELECT DISTINCT ON (e.company_id, p.project_id) e.company_id, r.role_id, 'Project', p.project_id, false,
             bool_or(p.is_confidential) OVER (PARTITION BY e.company_id, p.project_id), p.notes
        FROM ${role.projectLinkTable} p
        JOIN (${entityCompanies(role)}) AS e ON e.entity_id = p.${role.projectLinkEntityColumn}
        JOIN projects pr ON pr.project_id = p.project_id
        JOIN company_roles r ON r.role_code = '${role.code}'
       ORDER BY e.company_id, p.project_id, p.relationship_id`,
   ])
     .map((q) => `(${q})`)
     .join(' UNION ALL ')}`,

  `INSERT INTO client_profiles (company_id, ${CLIENT_PROFILE_FIELDS.join(', ')})
   SELECT DISTINCT ON (co.company_id) co.company_id, ${CLIENT_PROFILE_FIELDS.map((f) => `l.${f}`).join(', ')}
     FROM clients l JOIN companies co ON co.company_name = ${trimmedNameSql('l.client_name')}
    ORDER BY co.company_id, l.client_id`,

  `INSERT INTO person_company_affiliations (person_id, company_id, title, notes, is_primary)
   SELECT DISTINCT ON (x.personnel_id, e.company_id, x.relationship_role)
          x.personnel_id, e.company_id, x.relationship_role, x.notes, false
     FROM personnel_entity_relationships x
     JOIN personnel p ON p.personnel_id = x.personnel_id
     JOIN (${ROLE_MAPPINGS.flatMap((role) =>
       role.personnelEntityTypes.map(
         (type) => `SELECT '${type}' AS entity_type, ec.* FROM (${entityCompanies(role)}) AS ec`,
       ),
     ).join(' UNION ALL ')}) AS e ON e.entity_type = x.entity_type AND e.entity_id = x.entity_id
    ORDER BY x.personnel_id, e.company_id, x.relationship_role, x.relationship_id`,
];

/** Runs the lower bound in one transaction; returns the statements it issued. */
export async function runLowerBound(sql: SqlClient): Promise<number> {
  const before = sql.statementsIssued;
  await sql.transaction(async (tx) => {
    for (const statement of LOWER_BOUND_STATEMENTS) await tx.query(statement);
  });
  return sql.statementsIssued - before;
}
