import { ROLE_MAPPINGS, type RoleMapping } from '../mapping/roles.ts';
import type { SqlSession } from '../sql/types.ts';
import type { BackfillPhase, BackfillStepDefinition, StepOutcome } from './driver.ts';
import {
  companyIdFromKeySql,
  companyKeySql,
  entityExistsSql,
  type ResolveMode,
  WHOLE_RANGE,
} from './resolve.ts';
import { countAndSample, legacyChunkBounds, rowCount } from './sql-helpers.ts';

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
             EXISTS (SELECT 1 FROM projects p WHERE p.project_id = ${alias}.project_id) AS project_exists,
             ${entityExistsSql(role, `${alias}.${entity}`)} AS entity_exists,
             ${companyKeySql(role, `${alias}.${entity}`, mode)} AS company_key
        FROM ${table} ${alias}`;
  return `chunk AS (${resolved('l')} WHERE l.relationship_id > :after::int8 AND l.relationship_id <= :upto),
  peers AS (${resolved('t')}
           WHERE t.project_id IN (SELECT project_id FROM chunk WHERE project_exists AND entity_exists
                                                             AND company_key IS NOT NULL)),
  identities AS (
    SELECT company_key, ${companyIdFromKeySql('company_key', mode)} AS company_id, project_id,
           min(relationship_id) AS first_id, bool_or(is_confidential) AS confidential
      FROM peers WHERE entity_exists AND company_key IS NOT NULL
     GROUP BY company_key, project_id),
  decided AS (
    SELECT i.*, l.notes, a.assignment_id, a.is_confidential AS current_confidential, a.notes AS current_notes
      FROM identities i
      JOIN ${table} l ON l.relationship_id = i.first_id
      LEFT JOIN company_roles r ON r.role_code = '${role.code}'
      LEFT JOIN company_role_assignments a ON a.company_id = i.company_id AND a.role_id = r.role_id
            AND a.context_type = 'Project' AND a.context_id = i.project_id
     WHERE i.first_id > :after::int8 AND i.first_id <= :upto)`;
}

/** An existing assignment the identity's rows change: confidentiality gained (never lost) or other notes. */
const changesExisting = (d: string) => `${d}assignment_id IS NOT NULL
  AND ((${d}confidential AND NOT ${d}current_confidential) OR ${d}notes IS DISTINCT FROM ${d}current_notes)`;

function orphanSampleSql(role: RoleMapping, mode: ResolveMode): string {
  return `WITH ${linkCtes(role, mode)}
    SELECT '${role.projectLinkTable}' AS "table", relationship_id AS id,
           CASE WHEN NOT project_exists AND NOT entity_exists THEN 'missing project and ${role.code}'
                WHEN NOT project_exists THEN 'missing project' ELSE 'missing ${role.code}' END AS reason
      FROM chunk WHERE NOT (project_exists AND entity_exists) ORDER BY relationship_id`;
}

async function linkCounts(
  sql: SqlSession,
  role: RoleMapping,
  mode: ResolveMode,
  range: { after: number; upto: number },
): Promise<{ migrated: number; unmapped: number }> {
  const { rows } = await sql.query<{ migrated: number; unmapped: number }>(
    `WITH ${linkCtes(role, mode)}
     SELECT count(*) FILTER (WHERE project_exists AND entity_exists AND company_key IS NOT NULL)::int AS migrated,
            count(*) FILTER (WHERE project_exists AND entity_exists AND company_key IS NULL)::int AS unmapped
       FROM chunk`,
    range,
  );
  return { migrated: rows[0]?.migrated ?? 0, unmapped: rows[0]?.unmapped ?? 0 };
}

function projectPhase(role: RoleMapping): BackfillPhase {
  const table = role.projectLinkTable;
  return {
    label: table,
    countRows: (sql) => rowCount(sql, table),
    nextChunk: (tx, after, limit) => legacyChunkBounds(tx, table, 'relationship_id', after, limit),
    async applyChunk(tx, after, upto, sampleSize) {
      const range = { after, upto };
      const { rows } = await tx.query<{ inserted: number; updated: number }>(
        `WITH ${linkCtes(role, 'live')},
         inserted AS (
           INSERT INTO company_role_assignments
                  (company_id, role_id, context_type, context_id, is_primary, is_confidential, notes)
           SELECT d.company_id, r.role_id, 'Project', d.project_id, false, d.confidential, d.notes
             FROM decided d JOIN company_roles r ON r.role_code = '${role.code}'
            WHERE d.assignment_id IS NULL
            ORDER BY d.first_id
           ON CONFLICT (company_id, role_id, context_type, context_id) DO NOTHING
           RETURNING 1),
         updated AS (
           UPDATE company_role_assignments a
              SET is_confidential = a.is_confidential OR d.confidential, notes = d.notes, modified_date = now()
             FROM decided d
            WHERE a.assignment_id = d.assignment_id AND ${changesExisting('d.')}
           RETURNING 1)
         SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM updated)::int AS updated`,
        range,
      );
      const links = await linkCounts(tx, role, 'live', range);
      const orphans = await countAndSample(tx, orphanSampleSql(role, 'live'), range, sampleSize);
      return {
        counts: {
          assignmentsInserted: rows[0]?.inserted ?? 0,
          assignmentsUpdated: rows[0]?.updated ?? 0,
          linksMigrated: links.migrated,
          linksUnmapped: links.unmapped,
        },
        orphans,
      };
    },
  };
}

async function predictProjects(sql: SqlSession, sampleSize: number): Promise<StepOutcome> {
  const counts: Record<string, number> = {};
  const orphans = { count: 0, sample: [] as Record<string, string | number | null>[] };
  for (const role of ROLE_MAPPINGS) {
    const { rows } = await sql.query<{ inserted: number; updated: number }>(
      `WITH ${linkCtes(role, 'dry')}
       SELECT count(*) FILTER (WHERE assignment_id IS NULL)::int AS inserted,
              count(*) FILTER (WHERE ${changesExisting('')})::int AS updated
         FROM decided`,
      WHOLE_RANGE,
    );
    const links = await linkCounts(sql, role, 'dry', WHOLE_RANGE);
    const roleOrphans = await countAndSample(sql, orphanSampleSql(role, 'dry'), WHOLE_RANGE, sampleSize);
    const add = (key: string, n: number) => {
      counts[key] = (counts[key] ?? 0) + n;
    };
    add('assignmentsInserted', rows[0]?.inserted ?? 0);
    add('assignmentsUpdated', rows[0]?.updated ?? 0);
    add('linksMigrated', links.migrated);
    add('linksUnmapped', links.unmapped);
    orphans.count += roleOrphans.count;
    orphans.sample.push(...roleOrphans.sample.slice(0, Math.max(0, sampleSize - orphans.sample.length)));
  }
  return { counts, orphans };
}

export const projectsStep: BackfillStepDefinition = {
  step: 'projects',
  countKeys: PROJECT_COUNT_KEYS,
  phases: async () => ROLE_MAPPINGS.map(projectPhase),
  predict: predictProjects,
};
