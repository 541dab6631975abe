import { ROLE_MAPPINGS } from '../mapping/roles.ts';
import { requireSchemas } from '../schema/introspect.ts';
import type { PersonnelTitleColumn } from '../schema/legacy.sql.ts';
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
 * Step 2 (R5): company-related personnel links become person_company_affiliations.
 *
 * The identity is (person, company, title) with NULL titles equal — which the table's unique
 * constraint cannot enforce (NULLs are distinct there), so the step checks it itself. As for project
 * links, each identity is decided once, in the chunk holding its lowest relationship_id, from all the
 * person's links: that keeps live runs, resumed runs and the dry run in exact agreement.
 */

export const PERSONNEL_COUNT_KEYS = [
  'affiliationsInserted',
  'affiliationsUpdated',
  'linksMigrated',
  'linksUnmapped',
  'linksOutOfScope',
] as const;

const TABLE = 'personnel_entity_relationships';

function caseByEntityType(
  valueFor: (role: (typeof ROLE_MAPPINGS)[number]) => string,
  fallback = 'NULL',
): string {
  const branches = ROLE_MAPPINGS.flatMap((role) =>
    role.personnelEntityTypes.map((type) => `WHEN '${type}' THEN ${valueFor(role)}`),
  );
  return `CASE entity_type ${branches.join(' ')} ELSE ${fallback} END`;
}

const IN_SCOPE_TYPES = ROLE_MAPPINGS.flatMap((r) => r.personnelEntityTypes)
  .map((t) => `'${t}'`)
  .join(', ');

function linkCtes(title: PersonnelTitleColumn, mode: ResolveMode): string {
  const resolved = (alias: string, where: string) => `
    SELECT relationship_id, personnel_id, entity_type, entity_id, title, notes,
           entity_type IN (${IN_SCOPE_TYPES}) AS in_scope,
           EXISTS (SELECT 1 FROM personnel p WHERE p.personnel_id = x.personnel_id) AS person_exists,
           ${caseByEntityType((role) => entityExistsSql(role, 'x.entity_id'), 'false')} AS entity_exists,
           ${caseByEntityType((role) => companyKeySql(role, 'x.entity_id', mode))} AS company_key
      FROM (SELECT ${alias}.relationship_id, ${alias}.personnel_id, ${alias}.entity_type, ${alias}.entity_id,
                   ${alias}."${title}" AS title, ${alias}.notes
              FROM ${TABLE} ${alias} WHERE ${where}) AS x`;
  return `chunk AS (${resolved('l', 'l.relationship_id > :after::int8 AND l.relationship_id <= :upto')}),
  peers AS (${resolved(
    't',
    `t.personnel_id IN (SELECT personnel_id FROM chunk WHERE in_scope AND person_exists AND entity_exists
                                                          AND company_key IS NOT NULL)`,
  )}),
  identities AS (
    SELECT personnel_id, company_key, ${companyIdFromKeySql('company_key', mode)} AS company_id, title,
           min(relationship_id) AS first_id
      FROM peers WHERE in_scope AND entity_exists AND company_key IS NOT NULL
     GROUP BY personnel_id, company_key, title),
  decided AS (
    SELECT i.*, l.notes,
           (SELECT count(*) FROM person_company_affiliations f
             WHERE f.person_id = i.personnel_id AND f.company_id = i.company_id
               AND f.title IS NOT DISTINCT FROM i.title) AS existing,
           (SELECT count(*) FROM person_company_affiliations f
             WHERE f.person_id = i.personnel_id AND f.company_id = i.company_id
               AND f.title IS NOT DISTINCT FROM i.title AND f.notes IS DISTINCT FROM l.notes) AS differing
      FROM identities i JOIN ${TABLE} l ON l.relationship_id = i.first_id
     WHERE i.first_id > :after::int8 AND i.first_id <= :upto)`;
}

function orphanSampleSql(title: PersonnelTitleColumn, mode: ResolveMode): string {
  return `WITH ${linkCtes(title, mode)}
    SELECT '${TABLE}' AS "table", relationship_id AS id,
           CASE WHEN NOT person_exists AND NOT entity_exists THEN 'missing person and entity'
                WHEN NOT person_exists THEN 'missing person' ELSE 'missing entity' END AS reason
      FROM chunk WHERE in_scope AND NOT (person_exists AND entity_exists) ORDER BY relationship_id`;
}

async function linkCounts(
  sql: SqlSession,
  title: PersonnelTitleColumn,
  mode: ResolveMode,
  range: { after: number; upto: number },
) {
  const { rows } = await sql.query<Record<string, number>>(
    `WITH ${linkCtes(title, mode)}
     SELECT count(*) FILTER (WHERE in_scope AND person_exists AND entity_exists AND company_key IS NOT NULL)::int AS migrated,
            count(*) FILTER (WHERE in_scope AND person_exists AND entity_exists AND company_key IS NULL)::int AS unmapped,
            count(*) FILTER (WHERE NOT in_scope)::int AS out_of_scope
       FROM chunk`,
    range,
  );
  const row = rows[0] ?? {};
  return {
    linksMigrated: row.migrated ?? 0,
    linksUnmapped: row.unmapped ?? 0,
    linksOutOfScope: row.out_of_scope ?? 0,
  };
}

function personnelPhase(title: PersonnelTitleColumn): BackfillPhase {
  return {
    label: TABLE,
    countRows: (sql) => rowCount(sql, TABLE),
    nextChunk: (tx, after, limit) => legacyChunkBounds(tx, TABLE, 'relationship_id', after, limit),
    async applyChunk(tx, after, upto, sampleSize) {
      const range = { after, upto };
      // No unique constraint guards a NULL title, so an application insert in flight could slip past the
      // NOT EXISTS check. Holding the table against writers for this chunk (milliseconds) closes that gap;
      // a writer holding it longer makes the chunk fail as a retryable lock timeout instead of hanging.
      await tx.query("SET LOCAL lock_timeout = '10s'");
      await tx.query(`LOCK TABLE person_company_affiliations IN SHARE ROW EXCLUSIVE MODE`);
      const { rows } = await tx.query<{ inserted: number; updated: number }>(
        `WITH ${linkCtes(title, 'live')},
         inserted AS (
           INSERT INTO person_company_affiliations (person_id, company_id, title, notes, is_primary)
           SELECT personnel_id, company_id, title, notes, false FROM decided WHERE existing = 0 ORDER BY first_id
           RETURNING 1),
         updated AS (
           UPDATE person_company_affiliations f SET notes = d.notes, modified_date = now()
             FROM decided d
            WHERE f.person_id = d.personnel_id AND f.company_id = d.company_id
              AND f.title IS NOT DISTINCT FROM d.title AND f.notes IS DISTINCT FROM d.notes
           RETURNING 1)
         SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM updated)::int AS updated`,
        range,
      );
      const links = await linkCounts(tx, title, 'live', range);
      const orphans = await countAndSample(tx, orphanSampleSql(title, 'live'), range, sampleSize);
      return {
        counts: {
          affiliationsInserted: rows[0]?.inserted ?? 0,
          affiliationsUpdated: rows[0]?.updated ?? 0,
          ...links,
        },
        orphans,
      };
    },
  };
}

async function titleColumn(sql: SqlSession): Promise<PersonnelTitleColumn> {
  return (await requireSchemas(sql)).personnelTitleColumn;
}

async function predictPersonnel(sql: SqlSession, sampleSize: number): Promise<StepOutcome> {
  const title = await titleColumn(sql);
  const { rows } = await sql.query<{ inserted: number; updated: number }>(
    `WITH ${linkCtes(title, 'dry')}
     SELECT count(*) FILTER (WHERE existing = 0)::int AS inserted, coalesce(sum(differing), 0)::int AS updated
       FROM decided`,
    WHOLE_RANGE,
  );
  const links = await linkCounts(sql, title, 'dry', WHOLE_RANGE);
  const orphans = await countAndSample(sql, orphanSampleSql(title, 'dry'), WHOLE_RANGE, sampleSize);
  return {
    counts: {
      affiliationsInserted: rows[0]?.inserted ?? 0,
      affiliationsUpdated: rows[0]?.updated ?? 0,
      ...links,
    },
    orphans,
  };
}

export const personnelStep: BackfillStepDefinition = {
  step: 'personnel',
  countKeys: PERSONNEL_COUNT_KEYS,
  phases: async (sql) => [personnelPhase(await titleColumn(sql))],
  predict: predictPersonnel,
};
