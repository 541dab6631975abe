import { journalCte, journalReturning } from '../journal/schema.ts';
import { projectExistsSql, projectLinkOrphanReasonSql } from '../mapping/orphans.ts';
import { ROLE_MAPPINGS, type RoleCode, type RoleMapping, rolesFor } from '../mapping/roles.ts';
import type { SqlParams, SqlSession } from '../sql/types.ts';
import { mergeSample } from './contract.ts';
import type { BackfillPhase, BackfillStepDefinition, StepOutcome } from './driver.ts';
import {
  companyIdFromKeySql,
  companyKeySql,
  entityExistsSql,
  type ResolveMode,
  WHOLE_RANGE,
} from './resolve.ts';
import { ensureLinkIndexes, groupChunkBounds, rowCountSql, runLinkChunkStatement } from './sql-helpers.ts';

/**
 * Step 3 (R6): each legacy project link becomes a 'Project' role assignment of the entity's company.
 *
 * Several legacy rows can land on one identity (company, role, 'Project', project) — e.g. two vendor
 * records of one company linked to the same project. Each identity is decided once, in the chunk that
 * holds its lowest relationship_id, from all its rows: confidential when any row is, notes from the
 * lowest. So the outcome does not depend on chunk size or on where a run was resumed, and the dry run
 * (the same query over the whole table, without writes) predicts it exactly.
 */

export const PROJECT_COUNT_KEYS = [
  'assignmentsInserted',
  'assignmentsUpdated',
  'linksMigrated',
  'linksUnmapped',
] as const;

function linkCtes(role: RoleMapping, mode: ResolveMode): string {
  const table = role.projectLinkTable;
  const entity = role.projectLinkEntityColumn;
  const resolved = (alias: string) => `
      SELECT ${alias}.relationship_id, ${alias}.project_id, ${alias}.${entity} AS entity_id,
             ${alias}.is_confidential, ${alias}.notes,
             ${projectExistsSql(`${alias}.project_id`)} AS project_exists,
             ${entityExistsSql(role, `${alias}.${entity}`)} AS entity_exists,
             ${companyKeySql(role, `${alias}.${entity}`, mode)} AS company_key
        FROM ${table} ${alias}`;
  return `chunk AS (${resolved('l')} WHERE l.project_id > :after::int8 AND l.project_id <= :upto),
  identities AS (
    SELECT company_key, ${companyIdFromKeySql('company_key', mode)} AS company_id, project_id,
           min(relationship_id) AS first_id, bool_or(is_confidential) AS confidential
      FROM chunk WHERE project_exists AND entity_exists AND company_key IS NOT NULL
     GROUP BY company_key, project_id),
  decided AS (
    SELECT i.*, l.notes, a.assignment_id, a.is_confidential AS current_confidential, a.notes AS current_notes
      FROM identities i
      JOIN ${table} l ON l.relationship_id = i.first_id
      LEFT JOIN company_roles r ON r.role_code = '${role.code}'
      LEFT JOIN company_role_assignments a ON a.company_id = i.company_id AND a.role_id = r.role_id
            AND a.context_type = 'Project' AND a.context_id = i.project_id)`;
}

/** An existing assignment the identity's rows change: confidentiality gained (never lost) or other notes. */
const changesExisting = (d: string) => `${d}assignment_id IS NOT NULL
  AND ((${d}confidential AND NOT ${d}current_confidential) OR ${d}notes IS DISTINCT FROM ${d}current_notes)`;

/**
 * One statement for a chunk (or, dry, for the whole table): in a live run the writes, journaled; in both
 * the counts the step reports and its orphan sample — so the links are resolved once, not once per count.
 */
function chunkStatement(role: RoleMapping, mode: ResolveMode): string {
  const writes =
    mode === 'live'
      ? `inserted AS (
           INSERT INTO company_role_assignments AS t
                  (company_id, role_id, context_type, context_id, is_primary, is_confidential, notes)
           SELECT d.company_id, r.role_id, 'Project', d.project_id, false, d.confidential, d.notes
             FROM decided d JOIN company_roles r ON r.role_code = '${role.code}'
            WHERE d.assignment_id IS NULL
            -- in the unique index's order: the chunk goes through its pages once, not at random
            ORDER BY d.company_id, d.project_id
           ON CONFLICT (company_id, role_id, context_type, context_id) DO NOTHING
           RETURNING ${journalReturning('company_role_assignments', 't', 'insert')}),
         ${journalCte('inserted', 'company_role_assignments')},
         updated AS (
           UPDATE company_role_assignments a
              SET is_confidential = a.is_confidential OR d.confidential, notes = d.notes, modified_date = now()
             FROM decided d, company_role_assignments prev
            WHERE a.assignment_id = d.assignment_id AND ${changesExisting('d.')}
              AND prev.assignment_id = a.assignment_id
           RETURNING ${journalReturning('company_role_assignments', 'a', { beforeAlias: 'prev' })}),
         ${journalCte('updated', 'company_role_assignments')},`
      : '';
  const [inserted, updated] =
    mode === 'live'
      ? ['(SELECT count(*) FROM inserted)', '(SELECT count(*) FROM updated)']
      : [
          '(SELECT count(*) FROM decided WHERE assignment_id IS NULL)',
          `(SELECT count(*) FROM decided WHERE ${changesExisting('')})`,
        ];
  return `WITH ${linkCtes(role, mode)},
     ${writes}
     orphans AS (
       SELECT '${role.projectLinkTable}' AS "table", relationship_id AS id,
              ${projectLinkOrphanReasonSql(role, 'project_exists', 'entity_exists')} AS reason, project_id
         FROM chunk WHERE NOT (project_exists AND entity_exists))
     SELECT ${inserted}::int AS "assignmentsInserted", ${updated}::int AS "assignmentsUpdated",
            (SELECT count(*) FROM chunk WHERE project_exists AND entity_exists AND company_key IS NOT NULL)::int
              AS "linksMigrated",
            (SELECT count(*) FROM chunk WHERE project_exists AND entity_exists AND company_key IS NULL)::int
              AS "linksUnmapped",
            (SELECT count(*) FROM orphans)::int AS orphan_count,
            (SELECT json_agg(json_build_object('table', o."table", 'id', o.id, 'reason', o.reason))
               FROM (SELECT * FROM orphans ORDER BY project_id, id LIMIT :sample_size) AS o) AS orphan_sample`;
}

async function runChunkStatement(
  sql: SqlSession,
  role: RoleMapping,
  mode: ResolveMode,
  params: SqlParams,
): Promise<StepOutcome> {
  return runLinkChunkStatement(sql, chunkStatement(role, mode), params, PROJECT_COUNT_KEYS);
}

function projectPhase(role: RoleMapping): BackfillPhase {
  const table = role.projectLinkTable;
  return {
    label: table,
    countSql: rowCountSql(table),
    nextChunk: (tx, after, limit) => groupChunkBounds(tx, table, 'project_id', after, limit),
    applyChunk: (tx, { after, upto, sampleSize, journal }) =>
      runChunkStatement(tx, role, 'live', { after, upto, sample_size: sampleSize, ...journal }),
  };
}

async function predictProjects(
  sql: SqlSession,
  sampleSize: number,
  entity: RoleCode | undefined,
): Promise<StepOutcome> {
  const total: StepOutcome = {
    counts: Object.fromEntries(PROJECT_COUNT_KEYS.map((k) => [k, 0])),
    orphans: { count: 0, sample: [] },
  };
  for (const role of rolesFor(entity)) {
    const outcome = await runChunkStatement(sql, role, 'dry', { ...WHOLE_RANGE, sample_size: sampleSize });
    for (const [key, n] of Object.entries(outcome.counts)) total.counts[key] = (total.counts[key] ?? 0) + n;
    if (total.orphans && outcome.orphans) mergeSample(total.orphans, outcome.orphans, sampleSize);
  }
  return total;
}

/**
 * Chunks take whole projects, read through an index on each link table's project_id. The legacy schema
 * has none (a foreign key makes no index), so the live run adds one per table where no index starts with
 * project_id: a read aid that changes no legacy row (named company_migration_*, dropped with the tables).
 */
const PROJECT_LINK_INDEXES = ROLE_MAPPINGS.map((role) => ({
  name: `company_migration_${role.projectLinkTable}_project_idx`,
  table: role.projectLinkTable,
  columns: ['project_id'],
}));

export const projectsStep: BackfillStepDefinition = {
  step: 'projects',
  countKeys: PROJECT_COUNT_KEYS,
  async prepare(sql) {
    await ensureLinkIndexes(sql, PROJECT_LINK_INDEXES);
    return { counts: {} };
  },
  phases: async (_sql, entity) => rolesFor(entity).map(projectPhase),
  predict: predictProjects,
};
