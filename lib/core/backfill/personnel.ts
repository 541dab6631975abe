import { journalCte, journalReturning } from '../journal/schema.ts';
import {
  COMPANY_ENTITY_TYPES_SQL,
  personExistsSql,
  personnelEntityExistsSql,
  personnelEntityTypesSql,
  personnelLinkOrphanReasonSql,
} from '../mapping/orphans.ts';
import { ROLE_MAPPINGS, type RoleCode, rolesFor } from '../mapping/roles.ts';
import { requireSchemas } from '../schema/introspect.ts';
import type { PersonnelTitleColumn } from '../schema/legacy.sql.ts';
import type { SqlParams, SqlSession } from '../sql/types.ts';
import type { BackfillPhase, BackfillStepDefinition, StepOutcome } from './driver.ts';
import {
  companyIdFromKeySql,
  predictedCompanyKeySql,
  type ResolveMode,
  recordCompanyByEntityTypeJoinSql,
  WHOLE_RANGE,
} from './resolve.ts';
import { ensureLinkIndexes, groupChunkBounds, rowCountSql, runLinkChunkStatement } from './sql-helpers.ts';

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

function caseByEntityType(valueFor: (role: (typeof ROLE_MAPPINGS)[number]) => string): string {
  const branches = ROLE_MAPPINGS.flatMap((role) =>
    role.personnelEntityTypes.map((type) => `WHEN '${type}' THEN ${valueFor(role)}`),
  );
  return `CASE x.entity_type ${branches.join(' ')} ELSE NULL END`;
}

const IN_SCOPE_TYPES = COMPANY_ENTITY_TYPES_SQL;

function linkCtes(title: PersonnelTitleColumn, mode: ResolveMode, entity: RoleCode | undefined): string {
  const companyKey =
    mode === 'live'
      ? 'rc.company_id::text'
      : caseByEntityType((role) => predictedCompanyKeySql(role, 'x.entity_id'));
  const companyJoin =
    mode === 'live' ? recordCompanyByEntityTypeJoinSql('x.entity_type', 'x.entity_id', 'rc') : '';
  const onlyEntity = entity ? ` AND l.entity_type IN (${personnelEntityTypesSql(rolesFor(entity))})` : '';
  // Live, identities come out in the unique index's order (person, company, title): so does the insert.
  const companyOrder = mode === 'live' ? 'company_id' : 'company_key';
  return `chunk AS (
    SELECT x.relationship_id, x.personnel_id, x.entity_type, x.entity_id, x.title, x.notes,
           x.entity_type IN (${IN_SCOPE_TYPES}) AS in_scope,
           ${personExistsSql('x.personnel_id')} AS person_exists,
           ${personnelEntityExistsSql('x.entity_type', 'x.entity_id')} AS entity_exists,
           ${companyKey} AS company_key
      FROM (SELECT l.relationship_id, l.personnel_id, l.entity_type, l.entity_id, l."${title}" AS title, l.notes
              FROM ${TABLE} l
             WHERE l.personnel_id > :after::int8 AND l.personnel_id <= :upto${onlyEntity}) AS x
      ${companyJoin}),
  identities AS (
    -- one sort decides every identity (NULL titles are equal here): notes from its lowest link
    SELECT DISTINCT ON (personnel_id, ${companyOrder}, title) *
      FROM (SELECT personnel_id, company_key, ${companyIdFromKeySql('company_key', mode)} AS company_id, title,
                   relationship_id, notes
              FROM chunk WHERE in_scope AND person_exists AND entity_exists AND company_key IS NOT NULL) AS links
     ORDER BY personnel_id, ${companyOrder}, title, relationship_id),
  decided AS (
    -- one probe per identity through the index on (person, company, …); no constraint covers the title
    SELECT i.*, e.existing, e.differing
      FROM identities i
      CROSS JOIN LATERAL (
        SELECT count(*) AS existing, count(*) FILTER (WHERE f.notes IS DISTINCT FROM i.notes) AS differing
          FROM person_company_affiliations f
         WHERE f.person_id = i.personnel_id AND f.company_id = i.company_id
           AND f.title IS NOT DISTINCT FROM i.title) AS e)`;
}

/**
 * One statement for a chunk (or, dry, for the whole table): in a live run the writes, journaled; in both
 * the counts the step reports and its orphan sample — so the links are resolved once, not once per count.
 */
function chunkStatement(
  title: PersonnelTitleColumn,
  mode: ResolveMode,
  entity: RoleCode | undefined,
): string {
  const writes =
    mode === 'live'
      ? `inserted AS (
           INSERT INTO person_company_affiliations AS t (person_id, company_id, title, notes, is_primary)
           SELECT personnel_id, company_id, title, notes, false FROM decided WHERE existing = 0
            ORDER BY personnel_id, company_id, title
           RETURNING ${journalReturning('person_company_affiliations', 't', 'insert')}),
         ${journalCte('inserted', 'person_company_affiliations')},
         updated AS (
           UPDATE person_company_affiliations f SET notes = d.notes, modified_date = now()
             FROM decided d
            WHERE d.differing > 0 AND f.person_id = d.personnel_id AND f.company_id = d.company_id
              AND f.title IS NOT DISTINCT FROM d.title AND f.notes IS DISTINCT FROM d.notes
           RETURNING ${journalReturning('person_company_affiliations', 'f', 'update')}),
         ${journalCte('updated', 'person_company_affiliations')},`
      : '';
  const [inserted, updated] =
    mode === 'live'
      ? ['(SELECT count(*) FROM inserted)', '(SELECT count(*) FROM updated)']
      : [
          '(SELECT count(*) FROM decided WHERE existing = 0)',
          '(SELECT coalesce(sum(differing), 0) FROM decided)',
        ];
  return `WITH ${linkCtes(title, mode, entity)},
     ${writes}
     orphans AS (
       SELECT relationship_id AS id, personnel_id,
              ${personnelLinkOrphanReasonSql('person_exists', 'entity_exists')} AS reason
         FROM chunk WHERE in_scope AND NOT (person_exists AND entity_exists))
     SELECT ${inserted}::int AS "affiliationsInserted", ${updated}::int AS "affiliationsUpdated",
            (SELECT count(*) FROM chunk
              WHERE in_scope AND person_exists AND entity_exists AND company_key IS NOT NULL)::int AS "linksMigrated",
            (SELECT count(*) FROM chunk
              WHERE in_scope AND person_exists AND entity_exists AND company_key IS NULL)::int AS "linksUnmapped",
            (SELECT count(*) FROM chunk WHERE NOT in_scope)::int AS "linksOutOfScope",
            (SELECT count(*) FROM orphans)::int AS orphan_count,
            (SELECT json_agg(json_build_object('table', '${TABLE}', 'id', o.id, 'reason', o.reason))
               FROM (SELECT * FROM orphans ORDER BY personnel_id, id LIMIT :sample_size) AS o) AS orphan_sample`;
}

async function runChunkStatement(
  sql: SqlSession,
  title: PersonnelTitleColumn,
  mode: ResolveMode,
  entity: RoleCode | undefined,
  params: SqlParams,
): Promise<StepOutcome> {
  return runLinkChunkStatement(sql, chunkStatement(title, mode, entity), params, PERSONNEL_COUNT_KEYS);
}

function personnelPhase(title: PersonnelTitleColumn, entity: RoleCode | undefined): BackfillPhase {
  return {
    label: TABLE,
    countSql: rowCountSql(TABLE),
    nextChunk: (tx, after, limit) => groupChunkBounds(tx, TABLE, 'personnel_id', after, limit),
    async applyChunk(tx, { after, upto, sampleSize, journal }) {
      // No unique constraint guards a NULL title, so an application insert in flight could slip past the
      // NOT EXISTS check. Holding the table against writers for this chunk (milliseconds) closes that gap;
      // a writer holding it longer makes the chunk fail as a retryable lock timeout instead of hanging.
      // One DO block: one round trip for both.
      await tx.query(
        `DO $$ BEGIN
           SET LOCAL lock_timeout = '10s';
           LOCK TABLE person_company_affiliations IN SHARE ROW EXCLUSIVE MODE;
         END $$`,
      );
      return runChunkStatement(tx, title, 'live', entity, {
        after,
        upto,
        sample_size: sampleSize,
        ...journal,
      });
    },
  };
}

async function titleColumn(sql: SqlSession): Promise<PersonnelTitleColumn> {
  return (await requireSchemas(sql)).personnelTitleColumn;
}

async function predictPersonnel(
  sql: SqlSession,
  sampleSize: number,
  entity: RoleCode | undefined,
): Promise<StepOutcome> {
  const title = await titleColumn(sql);
  return runChunkStatement(sql, title, 'dry', entity, { ...WHOLE_RANGE, sample_size: sampleSize });
}

/** Chunks take whole persons: through the legacy unique index (personnel_id, …), or one we add. */
const PERSON_LINK_INDEXES = [
  { name: `company_migration_${TABLE}_person_idx`, table: TABLE, columns: ['personnel_id'] },
];

export const personnelStep: BackfillStepDefinition = {
  step: 'personnel',
  countKeys: PERSONNEL_COUNT_KEYS,
  async prepare(sql) {
    await ensureLinkIndexes(sql, PERSON_LINK_INDEXES);
    return { counts: {} };
  },
  phases: async (sql, entity) => [personnelPhase(await titleColumn(sql), entity)],
  predict: predictPersonnel,
};
