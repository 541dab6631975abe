import { journalCte, journalReturning } from '../journal/schema.ts';
import { projectExistsSql, projectLinkOrphanReasonSql } from '../mapping/orphans.ts';
import { roleIdSql } from '../mapping/record-sources.ts';
import { ROLE_MAPPINGS, type RoleCode, type RoleMapping, rolesFor } from '../mapping/roles.ts';
import type { SqlParams, SqlSession } from '../sql/types.ts';
import { mergeSample } from './contract.ts';
import type { BackfillPhase, BackfillStepDefinition, StepOutcome } from './driver.ts';
import {
  companyIdFromKeySql,
  entityExistsSql,
  predictedCompanyKeySql,
  type ResolveMode,
  recordCompanyJoinSql,
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
  const companyId = companyIdFromKeySql('company_key', mode);
  // Live, identities come out in company id order: the insert then walks the unique index in its order.
  const [identityOrder, partition] =
    mode === 'live' ? ['company_id', companyId] : ['company_key', 'company_key'];
  return `chunk AS (
    SELECT l.relationship_id, l.project_id, l.${entity} AS entity_id, l.is_confidential, l.notes,
           ${projectExistsSql('l.project_id')} AS project_exists,
           ${entityExistsSql(role, `l.${entity}`)} AS entity_exists,
           ${mode === 'live' ? 'rc.company_id::text' : predictedCompanyKeySql(role, `l.${entity}`)} AS company_key
      FROM ${table} l ${mode === 'live' ? recordCompanyJoinSql(role, `l.${entity}`, 'rc') : ''}
     WHERE l.project_id > :after::int8 AND l.project_id <= :upto),
  identities AS (
    -- one sort decides every identity: notes from its lowest link, confidential when any link is
    SELECT DISTINCT ON (${identityOrder}, project_id) *
      FROM (SELECT company_key, ${companyId} AS company_id, project_id, relationship_id, notes,
                   bool_or(is_confidential) OVER (PARTITION BY ${partition}, project_id ORDER BY relationship_id
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                     AS confidential
              FROM chunk WHERE project_exists AND entity_exists AND company_key IS NOT NULL) AS links
     ORDER BY ${identityOrder}, project_id, relationship_id)`;
}

/** An existing assignment the identity's rows change: confidentiality gained (never lost) or other notes. */
function changesExisting(
  identity: { confidential: string; notes: string },
  current: { confidential: string; notes: string },
): string {
  return `((${identity.confidential} AND NOT ${current.confidential}) OR ${identity.notes} IS DISTINCT FROM ${current.notes})`;
}

/**
 * One statement for a chunk (or, dry, for the whole table): in a live run the writes, journaled; in both
 * the counts the step reports and its orphan sample — so the links are resolved once, not once per count.
 *
 * Each identity's assignment is looked up with one probe of the unique index (not a join, whose plan
 * would rest on statistics the backfill itself makes stale). Live, one upsert writes the identities
 * that are new or change their assignment; identities already done never reach it, so a retried or
 * repeated chunk takes no sequence value. It only updates a row this statement's snapshot sees: one the
 * application wrote since is left alone, as a dry run could not have predicted it.
 */
function chunkStatement(role: RoleMapping, mode: ResolveMode): string {
  const current = { confidential: 'current_confidential', notes: 'current_notes' };
  const changes = `assignment_id IS NOT NULL AND ${changesExisting({ confidential: 'confidential', notes: 'notes' }, current)}`;
  const decided = `decided AS (
           SELECT i.*, a.assignment_id, a.is_confidential AS current_confidential, a.notes AS current_notes
             FROM identities i
             LEFT JOIN LATERAL (
               SELECT a.assignment_id, a.is_confidential, a.notes FROM company_role_assignments a
                WHERE a.company_id = i.company_id AND a.context_type = 'Project' AND a.context_id = i.project_id
                  AND a.role_id = ${roleIdSql(role)}
                LIMIT 1) a ON true)`;
  const writes =
    mode === 'live'
      ? `${decided},
         written AS (
           INSERT INTO company_role_assignments AS t
                  (company_id, role_id, context_type, context_id, is_primary, is_confidential, notes)
           SELECT d.company_id, r.role_id, 'Project', d.project_id, false, d.confidential, d.notes
             FROM decided d JOIN company_roles r ON r.role_code = '${role.code}'
            WHERE d.assignment_id IS NULL OR (${changes})
            ORDER BY d.company_id, d.project_id
           ON CONFLICT (company_id, role_id, context_type, context_id) DO UPDATE
              SET is_confidential = t.is_confidential OR EXCLUDED.is_confidential, notes = EXCLUDED.notes,
                  modified_date = now()
            WHERE ${changesExisting({ confidential: 'EXCLUDED.is_confidential', notes: 'EXCLUDED.notes' }, { confidential: 't.is_confidential', notes: 't.notes' })}
              AND EXISTS (SELECT 1 FROM company_role_assignments seen WHERE seen.assignment_id = t.assignment_id)
           RETURNING ${journalReturning('company_role_assignments', 't', 'upsert')}),
         ${journalCte('written', 'company_role_assignments')},`
      : `${decided},`;
  const [inserted, updated] =
    mode === 'live'
      ? [
          "(SELECT count(*) FROM written WHERE op = 'insert')",
          "(SELECT count(*) FROM written WHERE op = 'update')",
        ]
      : [
          '(SELECT count(*) FROM decided WHERE assignment_id IS NULL)',
          `(SELECT count(*) FROM decided WHERE ${changes})`,
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
