import {
  COMPANY_ENTITY_TYPES_SQL,
  legacyRecordExistsSql,
  personExistsSql,
  personnelEntityExistsSql,
  personnelLinkOrphanReasonSql,
  projectExistsSql,
  projectLinkOrphansQuery,
  unifiedOrphansQueries,
} from '../mapping/orphans.ts';
import {
  companySourcesCtes,
  recordAssignmentExistsSql,
  recordCompanySql,
  roleIdSql,
} from '../mapping/record-sources.ts';
import { ROLE_MAPPINGS, trimmedNameSql } from '../mapping/roles.ts';
import { requireSchemas } from '../schema/introspect.ts';
import { DISTINCT_PAIRS_EXIST_SQL } from '../schema/migration.sql.ts';
import type { SqlClient } from '../sql/types.ts';
import { duplicateGroupsSql, isAcknowledged } from './duplicate-names.ts';
import { ensureValidationIndexes } from './indexes.ts';
import {
  type AcknowledgedPair,
  type Criterion,
  type DuplicateGroup,
  meetsPercent,
  percentOf,
  ROLE_KEYS,
  type RoleKey,
  type SuccessThresholds,
  successThresholdsSchema,
  type ValidationIssue,
  type ValidationReport,
  validationReportSchema,
} from './report-schema.ts';

/**
 * Validation: exact, set-based checks V1–V8 over the legacy and unified schemas, in a fixed number of
 * statements whatever the data size. Every figure counts rows exactly; samples carry ids and names only.
 */

export interface ValidateOptions {
  runId: string;
  stage: string;
  thresholds?: Partial<SuccessThresholds>;
  /** Entries per sample. */
  sampleSize?: number;
  /** Create the indexes the checks need when missing (off in a dry run: it writes nothing). */
  createIndexes?: boolean;
  now?: () => Date;
}

type Json = string | number | boolean | null;
type JsonRow = Record<string, Json>;

/** V1, V2, V8: one row per role. */
function companyRecordsSql(): string {
  return ROLE_MAPPINGS.map((role) => {
    const id = `l.${role.idColumn}`;
    const name = trimmedNameSql(`l.${role.nameColumn}`);
    return `SELECT '${role.code}' AS role,
      (SELECT count(*) FROM ${role.legacyTable})::int8 AS total,
      (SELECT count(*) FROM ${role.legacyTable} l WHERE ${recordAssignmentExistsSql(role, id)})::int8 AS mapped,
      (SELECT json_agg(s) FROM (SELECT ${id} AS id, l.${role.nameColumn} AS name FROM ${role.legacyTable} l
         WHERE NOT ${recordAssignmentExistsSql(role, id)} ORDER BY ${id} LIMIT :sample) AS s) AS missing_sample,
      (SELECT count(*) FROM company_role_assignments a
        WHERE a.context_type = '${role.recordContextType}'
          AND EXISTS (SELECT 1 FROM ${role.legacyTable} l WHERE ${id} = a.context_id))::int8 AS assignments,
      (SELECT count(*) FROM company_role_assignments a
        WHERE a.context_type = '${role.recordContextType}'
          AND NOT EXISTS (SELECT 1 FROM ${role.legacyTable} l WHERE ${id} = a.context_id))::int8 AS stale,
      (SELECT count(*) FROM ${role.legacyTable} l
        WHERE ${name} <> '' AND NOT ${recordAssignmentExistsSql(role, id)})::int8 AS missing_named,
      (SELECT count(*) FROM ${role.legacyTable} l WHERE ${name} = '')::int8 AS blank,
      (SELECT json_agg(s) FROM (SELECT '${role.legacyTable}' AS "table", ${id} AS id FROM ${role.legacyTable} l
         WHERE ${name} = '' ORDER BY ${id} LIMIT :sample) AS s) AS blank_sample`;
  }).join('\nUNION ALL\n');
}

/** V3 and the project half of V6: one row per role. */
function projectLinksSql(): string {
  return ROLE_MAPPINGS.map((role) => {
    const entity = `l.${role.projectLinkEntityColumn}`;
    const orphans = projectLinkOrphansQuery(role);
    return `SELECT '${role.code}' AS role, count(*)::int8 AS total,
        count(*) FILTER (WHERE x.project_exists AND x.entity_exists AND x.assignment_id IS NOT NULL)::int8 AS covered,
        count(*) FILTER (WHERE NOT (x.project_exists AND x.entity_exists))::int8 AS orphans,
        count(*) FILTER (WHERE x.is_confidential AND x.assignment_id IS NOT NULL AND NOT x.assignment_confidential)::int8
          AS confidentiality_lost,
        (SELECT json_agg(s) FROM (
           SELECT '${orphans.table}' AS "table", o.id, o.reason FROM (${orphans.sql}) AS o
            ORDER BY o.id LIMIT :sample) AS s) AS orphan_sample
      FROM (SELECT c.is_confidential, c.project_exists, c.entity_exists,
                   pa.assignment_id, pa.is_confidential AS assignment_confidential
              FROM (SELECT l.is_confidential, l.project_id,
                           ${projectExistsSql('l.project_id')} AS project_exists,
                           ${legacyRecordExistsSql(role, entity)} AS entity_exists,
                           ${recordCompanySql(role, entity)} AS company_id
                      FROM ${role.projectLinkTable} l
                    OFFSET 0) AS c -- keeps the company lookup once per link, not inside the join below
              -- one probe of the unique index per link (a join would hash every project assignment)
              LEFT JOIN LATERAL (
                SELECT pa.assignment_id, pa.is_confidential FROM company_role_assignments pa
                 WHERE pa.company_id = c.company_id AND pa.role_id = ${roleIdSql(role)}
                   AND pa.context_type = 'Project' AND pa.context_id = c.project_id
                 LIMIT 1) AS pa ON true) AS x`;
  }).join('\nUNION ALL\n');
}

/** V4 and the personnel half of V6. */
function personnelLinksSql(titleColumn: string): string {
  const companyId = `CASE l.entity_type ${ROLE_MAPPINGS.flatMap((role) =>
    role.personnelEntityTypes.map((t) => `WHEN '${t}' THEN ${recordCompanySql(role, 'l.entity_id')}`),
  ).join(' ')} ELSE NULL::int END`;
  return `WITH links AS (
      SELECT l.relationship_id, l.personnel_id, l."${titleColumn}" AS title,
             l.entity_type IN (${COMPANY_ENTITY_TYPES_SQL}) AS in_scope,
             ${personExistsSql('l.personnel_id')} AS person_exists,
             ${personnelEntityExistsSql('l.entity_type', 'l.entity_id')} AS entity_exists,
             ${companyId} AS company_id
        FROM personnel_entity_relationships l)
    SELECT count(*) FILTER (WHERE in_scope)::int8 AS total,
           count(*) FILTER (WHERE in_scope AND person_exists AND entity_exists AND EXISTS (
             SELECT 1 FROM person_company_affiliations f
              WHERE f.person_id = links.personnel_id AND f.company_id = links.company_id
                AND f.title IS NOT DISTINCT FROM links.title))::int8 AS covered,
           count(*) FILTER (WHERE NOT in_scope)::int8 AS out_of_scope,
           count(*) FILTER (WHERE in_scope AND NOT (person_exists AND entity_exists))::int8 AS orphans,
           (SELECT json_agg(s) FROM (
              SELECT 'personnel_entity_relationships' AS "table", relationship_id AS id,
                     ${personnelLinkOrphanReasonSql('person_exists', 'entity_exists')} AS reason
                FROM links WHERE in_scope AND NOT (person_exists AND entity_exists)
               ORDER BY relationship_id LIMIT :sample) AS s) AS orphan_sample
      FROM links`;
}

/** V6 (unified side): rows pointing at companies, roles or people that do not exist. */
const UNIFIED_ORPHANS_SQL = (() => {
  const rows = unifiedOrphansQueries()
    .map((q) => `SELECT '${q.table}' AS "table", o.id, o.reason FROM (${q.sql}) AS o`)
    .join('\n          UNION ALL\n          ');
  return `
  SELECT json_agg(s) AS sample, (SELECT count(*) FROM (${rows}) AS all_rows)::int8 AS total
    FROM (${rows} ORDER BY 1, 2 LIMIT :sample) AS s`;
})();

/** V7: a company's name differs from its records' trimmed names, or its R3 fields from its first record. */
function driftSql(): string {
  const nameDrift = ROLE_MAPPINGS.map(
    (role) => `SELECT c.company_id, c.company_name, 'company_name' AS field,
                      '${role.legacyTable}#' || l.${role.idColumn} AS legacy
                 FROM ${role.legacyTable} l
                 JOIN company_role_assignments a ON a.context_id = l.${role.idColumn}
                  AND a.context_type = '${role.recordContextType}'
                 JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = '${role.code}'
                 JOIN companies c ON c.company_id = a.company_id
                WHERE ${trimmedNameSql(`l.${role.nameColumn}`)} <> ''
                  AND c.company_name <> ${trimmedNameSql(`l.${role.nameColumn}`)}`,
  ).join(' UNION ALL ');
  return `WITH ${companySourcesCtes()},
    drifted AS (
      ${nameDrift}
      UNION ALL
      SELECT c.company_id, c.company_name, f.field, w.legacy_table || '#' || w.legacy_id
        FROM winners w
        JOIN flags fl ON fl.company_key = w.company_key
        JOIN companies c ON c.company_id = w.company_key
       CROSS JOIN LATERAL (VALUES ('company_type', c.company_type IS DISTINCT FROM w.company_type),
                                  ('notes', c.notes IS DISTINCT FROM w.notes),
                                  ('is_mpr_client', fl.any_client AND NOT c.is_mpr_client)) AS f(field, differs)
       WHERE f.differs)
    SELECT (SELECT count(DISTINCT company_id) FROM drifted)::int8 AS total,
           (SELECT json_agg(s) FROM (SELECT company_id AS "companyId", company_name AS company, field, legacy
                                       FROM drifted ORDER BY company_id, field, legacy LIMIT :sample) AS s) AS sample`;
}

/**
 * Roles missing from company_roles, and whether `duplicates keep-apart` has recorded pairs (its table
 * exists): asked here so that V5 knows whether to read them without a statement of its own.
 */
const MISSING_ROLES_SQL = `
  SELECT coalesce(json_agg(v.code ORDER BY v.code), '[]') AS missing,
         ${DISTINCT_PAIRS_EXIST_SQL} AS distinct_pairs
    FROM (VALUES ${ROLE_MAPPINGS.map((r) => `('${r.code}')`).join(', ')}) AS v(code)
   WHERE NOT EXISTS (SELECT 1 FROM company_roles r WHERE r.role_code = v.code)`;

const n = (value: unknown) => Number(value ?? 0);
const rows = (value: unknown) => (Array.isArray(value) ? (value as JsonRow[]) : []);

export async function validate(sql: SqlClient, options: ValidateOptions): Promise<ValidationReport> {
  const statementsBefore = sql.statementsIssued;
  const thresholds = successThresholdsSchema.parse(options.thresholds ?? {});
  const sample = options.sampleSize ?? 20;
  const schema = await requireSchemas(sql);
  const indexes = await ensureValidationIndexes(sql, { create: options.createIndexes ?? true });
  const params = { sample };

  const setup = (await sql.query<{ missing: string[]; distinct_pairs: boolean }>(MISSING_ROLES_SQL)).rows[0];
  const missingRoles = setup?.missing ?? [];
  const records = await sql.query<JsonRow & { role: RoleKey }>(companyRecordsSql(), params);
  const projects = await sql.query<JsonRow & { role: RoleKey }>(projectLinksSql(), params);
  const personnel =
    (await sql.query<JsonRow>(personnelLinksSql(schema.personnelTitleColumn), params)).rows[0] ?? {};
  const duplicates = await sql.query<{
    normalized: string;
    companies: DuplicateGroup['companies'];
    acknowledged_pairs: AcknowledgedPair[];
  }>(duplicateGroupsSql({ distinctPairs: setup?.distinct_pairs === true, details: false }));
  const duplicateGroups: DuplicateGroup[] = duplicates.rows.map((g) => ({
    normalizedName: g.normalized,
    acknowledged: isAcknowledged(g.companies.length, g.acknowledged_pairs.length),
    acknowledgedPairs: g.acknowledged_pairs,
    companies: g.companies,
  }));
  const acknowledgedGroups = duplicateGroups.filter((g) => g.acknowledged).length;
  const duplicatesToReview = duplicateGroups.length - acknowledgedGroups;
  const unifiedOrphans = (await sql.query<JsonRow>(UNIFIED_ORPHANS_SQL, params)).rows[0] ?? {};
  const drift = (await sql.query<JsonRow>(driftSql(), params)).rows[0] ?? {};

  const byRole = <T>(result: { rows: (JsonRow & { role: RoleKey })[] }, pick: (row: JsonRow) => T) =>
    Object.fromEntries(
      ROLE_KEYS.map((role) => [role, pick(result.rows.find((r) => r.role === role) ?? {})]),
    ) as Record<RoleKey, T>;

  const companyCoverage = byRole(records, (r) => ({
    total: n(r.total),
    mapped: n(r.mapped),
    missing: n(r.total) - n(r.mapped),
    missingSample: rows(r.missing_sample).map((s) => ({ id: n(s.id), name: String(s.name ?? '') })),
  }));
  const entityCounts = byRole(records, (r) => ({
    legacy: n(r.total),
    assignments: n(r.assignments),
    stale: n(r.stale),
  }));
  const projectRoles = byRole(projects, (r) => ({
    total: n(r.total),
    covered: n(r.covered),
    percent: percentOf(n(r.covered), n(r.total)),
  }));
  const projectTotal = ROLE_KEYS.reduce((sum, role) => sum + projectRoles[role].total, 0);
  const projectCovered = ROLE_KEYS.reduce((sum, role) => sum + projectRoles[role].covered, 0);
  const personnelTotal = n(personnel.total);
  const personnelCovered = n(personnel.covered);
  const projectOrphans = projects.rows.reduce((sum, r) => sum + n(r.orphans), 0);
  const confidentialityLost = projects.rows.reduce((sum, r) => sum + n(r.confidentiality_lost), 0);
  const unmigratable = records.rows.reduce((sum, r) => sum + n(r.blank), 0);
  // Blank records are unmigratable, not missing; counted in SQL so a mapped blank hides no missing one.
  const missingCompanies = records.rows.reduce((sum, r) => sum + n(r.missing_named), 0);
  const stale = ROLE_KEYS.reduce((sum, role) => sum + entityCounts[role].stale, 0);

  const issues: ValidationIssue[] = [];
  const issue = (severity: ValidationIssue['severity'], code: string, count: number, message: string) => {
    if (count > 0) issues.push({ severity, code, count, message });
  };
  issue('critical', 'missing-roles', missingRoles.length, `company_roles lacks ${missingRoles.join(', ')}`);
  issue(
    'critical',
    'unmigratable-records',
    unmigratable,
    `${unmigratable} legacy record(s) have a blank or over-long name`,
  );
  issue(
    'critical',
    'missing-companies',
    missingCompanies,
    `${missingCompanies} legacy record(s) have no record assignment`,
  );
  issue(
    'critical',
    'confidentiality-lost',
    confidentialityLost,
    `${confidentialityLost} confidential legacy project link(s) map to a non-confidential assignment`,
  );
  issue(
    'critical',
    'unified-orphans',
    n(unifiedOrphans.total),
    `${n(unifiedOrphans.total)} unified row(s) point at a missing company, role or person`,
  );
  issue(
    'warning',
    'uncovered-project-links',
    projectTotal - projectCovered,
    `${projectTotal - projectCovered} legacy project link(s) have no exact assignment`,
  );
  issue(
    'warning',
    'uncovered-personnel-links',
    personnelTotal - personnelCovered,
    `${personnelTotal - personnelCovered} company-related personnel link(s) have no exact affiliation`,
  );
  issue(
    'warning',
    'legacy-orphans',
    projectOrphans + n(personnel.orphans),
    `${projectOrphans + n(personnel.orphans)} legacy link(s) point at missing rows`,
  );
  issue(
    'warning',
    'duplicate-names',
    duplicatesToReview,
    `${duplicatesToReview} group(s) of companies with near-identical names`,
  );
  issue(
    'warning',
    'drift',
    n(drift.total),
    `${n(drift.total)} company(ies) differ from their legacy records`,
  );
  issue('warning', 'stale-assignments', stale, `${stale} record assignment(s) point at deleted legacy rows`);
  issue(
    'info',
    'duplicate-names-acknowledged',
    acknowledgedGroups,
    `${acknowledgedGroups} group(s) of near-identical names recorded as legitimately distinct`,
  );
  issue(
    'info',
    'out-of-scope-links',
    n(personnel.out_of_scope),
    `${n(personnel.out_of_scope)} personnel link(s) are not company links (e.g. 'Project')`,
  );

  const criticalCount = issues.filter((i) => i.severity === 'critical').length;
  const mismatched = ROLE_KEYS.filter((role) => entityCounts[role].legacy !== entityCounts[role].assignments);
  const criteria: Criterion[] = [
    {
      id: 'no-critical-issues',
      passed: criticalCount === 0,
      actual: criticalCount,
      threshold: 0,
      message: criticalCount === 0 ? 'no critical issue' : `${criticalCount} critical issue(s)`,
    },
    {
      id: 'entity-counts-match',
      passed: mismatched.length === 0,
      actual:
        mismatched.length === 0
          ? 'equal'
          : mismatched
              .map(
                (role) =>
                  `${role}: ${entityCounts[role].legacy} legacy, ${entityCounts[role].assignments} assigned`,
              )
              .join('; '),
      threshold: 'equal',
      message:
        mismatched.length === 0
          ? 'every role has one record assignment per legacy record'
          : `record assignments differ from legacy records for ${mismatched.join(', ')}`,
    },
    coverageCriterion(
      'project-coverage',
      'project-relationship',
      projectCovered,
      projectTotal,
      thresholds.projectCoveragePercent,
    ),
    coverageCriterion(
      'personnel-coverage',
      'personnel-affiliation',
      personnelCovered,
      personnelTotal,
      thresholds.personnelCoveragePercent,
    ),
  ];

  return validationReportSchema.parse({
    kind: 'validation',
    schemaVersion: 1,
    runId: options.runId,
    stage: options.stage,
    generatedAt: (options.now?.() ?? new Date()).toISOString(),
    passed: criteria.every((c) => c.passed),
    criteria,
    companyCoverage,
    entityCounts,
    projectRelationshipCoverage: {
      ...projectRoles,
      overall: {
        total: projectTotal,
        covered: projectCovered,
        percent: percentOf(projectCovered, projectTotal),
      },
    },
    personnelAffiliationCoverage: {
      total: personnelTotal,
      covered: personnelCovered,
      percent: percentOf(personnelCovered, personnelTotal),
      outOfScope: n(personnel.out_of_scope),
    },
    duplicateNameGroups: duplicateGroups,
    orphans: {
      personnelLinks: n(personnel.orphans),
      projectLinks: projectOrphans,
      unifiedRows: n(unifiedOrphans.total),
      sample: [
        ...rows(unifiedOrphans.sample),
        ...projects.rows.flatMap((r) => rows(r.orphan_sample)),
        ...rows(personnel.orphan_sample),
      ].slice(0, sample),
    },
    drift: { count: n(drift.total), sample: rows(drift.sample) },
    unmigratable: {
      count: unmigratable,
      sample: records.rows.flatMap((r) => rows(r.blank_sample)).slice(0, sample),
    },
    issues,
    indexes,
    statements: sql.statementsIssued - statementsBefore,
  });
}

function coverageCriterion(
  id: string,
  what: string,
  covered: number,
  total: number,
  threshold: number,
): Criterion {
  const percent = percentOf(covered, total);
  const passed = meetsPercent(covered, total, threshold);
  return {
    id,
    passed,
    actual: percent,
    threshold,
    message: `${what} coverage ${percent} % (${covered} of ${total}) ${passed ? '≥' : '<'} ${threshold} %`,
  };
}
