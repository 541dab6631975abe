import { journalCte, journalReturning } from '../journal/schema.ts';
import {
  companySourcesCtes,
  recordAssignmentExistsSql,
  recordCompanySql,
} from '../mapping/record-sources.ts';
import {
  ROLE_MAPPINGS,
  type RoleCode,
  type RoleMapping,
  rolesFor,
  trimmedNameSql,
} from '../mapping/roles.ts';
import { CLIENT_PROFILE_FIELDS } from '../schema/unified.sql.ts';
import type { SqlSession } from '../sql/types.ts';
import type { BackfillPhase, BackfillStepDefinition, StepOutcome } from './driver.ts';
import {
  boundsOf,
  countAndSample,
  JIT_OFF_FOR_TRANSACTION,
  legacyChunkBounds,
  rowCountSql,
  writtenCount,
} from './sql-helpers.ts';

/**
 * Step 1: roles (R1), one company per legacy company record through its record assignment (R2), the
 * company fields (R3) and client profiles (R4).
 *
 * Live runs go table by table in role order, chunk by legacy key: create the companies a chunk needs,
 * then its record assignments. Because tables are read in role order and keys ascending, the record
 * that creates a company is the one R3 takes its fields from. A last phase walks the companies that
 * record assignments point at, by company_id, and brings their fields, client flag and client profile
 * to what R3/R4 give from all their records, reporting field conflicts once per company.
 */

export const COMPANY_COUNT_KEYS = [
  'rolesCreated',
  'companiesCreated',
  'companiesReused',
  'recordAssignmentsInserted',
  'recordAssignmentsUpdated',
  'companiesUpdated',
  'clientProfilesInserted',
  'clientProfilesUpdated',
] as const;

/** The chunk's legacy rows of one role table, with the values R2/R3 read from them. */
function chunkCte(role: RoleMapping): string {
  return `chunk AS (
    SELECT l.${role.idColumn} AS legacy_id, ${trimmedNameSql(`l.${role.nameColumn}`)} AS name,
           ${role.companyTypeSql} AS company_type, l.notes
      FROM ${role.legacyTable} l
     WHERE l.${role.idColumn} > :after::int8 AND l.${role.idColumn} <= :upto
  ),
  unassigned AS (
    SELECT c.* FROM chunk c
     WHERE c.name <> '' AND NOT ${recordAssignmentExistsSql(role, 'c.legacy_id')}
  )`;
}

function recordPhase(role: RoleMapping): BackfillPhase {
  return {
    label: role.legacyTable,
    countSql: rowCountSql(role.legacyTable),
    nextChunk: (tx, after, limit) => legacyChunkBounds(tx, role.legacyTable, role.idColumn, after, limit),
    async applyChunk(tx, { after, upto, sampleSize, journal }) {
      const range = { after, upto };
      const params = { ...range, ...journal };
      const unmigratable = await countAndSample(
        tx,
        `SELECT '${role.legacyTable}' AS "table", l.${role.idColumn} AS id
           FROM ${role.legacyTable} l
          WHERE l.${role.idColumn} > :after::int8 AND l.${role.idColumn} <= :upto
            AND ${trimmedNameSql(`l.${role.nameColumn}`)} = ''
          ORDER BY l.${role.idColumn}`,
        range,
        sampleSize,
      );
      const created = await tx.query(
        `WITH ${chunkCte(role)},
         creating AS (
           SELECT DISTINCT ON (u.name) u.* FROM unassigned u
            WHERE NOT EXISTS (SELECT 1 FROM companies co WHERE co.company_name = u.name)
            ORDER BY u.name, u.legacy_id
         ),
         written AS (
           INSERT INTO companies AS t (company_name, company_type, notes, is_mpr_client, is_internal)
           SELECT name, company_type, notes, ${role.code === 'client'}, false FROM creating ORDER BY legacy_id
           ON CONFLICT (company_name) DO NOTHING
           RETURNING ${journalReturning('companies', 't', 'insert')}),
         ${journalCte('written', 'companies')}
         SELECT count(*)::int AS n FROM written`,
        params,
      );
      const inserted = await tx.query(
        `WITH ${chunkCte(role)},
         written AS (
           INSERT INTO company_role_assignments AS t
                  (company_id, role_id, context_type, context_id, is_primary, is_confidential)
           SELECT co.company_id, r.role_id, '${role.recordContextType}', u.legacy_id, true, false
             FROM unassigned u
             JOIN companies co ON co.company_name = u.name
             JOIN company_roles r ON r.role_code = '${role.code}'
            ORDER BY u.legacy_id
           ON CONFLICT (company_id, role_id, context_type, context_id) DO NOTHING
           RETURNING ${journalReturning('company_role_assignments', 't', 'insert')}),
         ${journalCte('written', 'company_role_assignments')}
         SELECT count(*)::int AS n FROM written`,
        params,
      );
      const madePrimary = await tx.query(
        `WITH written AS (
           UPDATE company_role_assignments a SET is_primary = true, modified_date = now()
             FROM company_roles r, ${role.legacyTable} l
            WHERE r.role_id = a.role_id AND r.role_code = '${role.code}'
              AND a.context_type = '${role.recordContextType}' AND a.context_id = l.${role.idColumn}
              AND l.${role.idColumn} > :after::int8 AND l.${role.idColumn} <= :upto
              AND NOT a.is_primary
           RETURNING ${journalReturning('company_role_assignments', 'a', 'update')}),
         ${journalCte('written', 'company_role_assignments')}
         SELECT count(*)::int AS n FROM written`,
        params,
      );
      const createdCount = writtenCount(created);
      const insertedCount = writtenCount(inserted);
      return {
        counts: {
          companiesCreated: createdCount,
          recordAssignmentsInserted: insertedCount,
          companiesReused: insertedCount - createdCount,
          recordAssignmentsUpdated: writtenCount(madePrimary),
        },
        unmigratable,
      };
    },
  };
}

/** The record context types a call's sync walks: every role's, or the one entity's. */
const contextTypesFor = (entity: RoleCode | undefined) =>
  rolesFor(entity)
    .map((r) => `'${r.recordContextType}'`)
    .join(', ');

/**
 * For an entity-limited call: only companies that have a record of that entity (alias `a` is their
 * assignment); their fields still come from all their records (R3).
 */
const entityCompanyFilter = (entity: RoleCode | undefined) =>
  entity
    ? `AND EXISTS (SELECT 1 FROM company_role_assignments e
                    WHERE e.company_id = a.company_id AND e.context_type IN (${contextTypesFor(entity)}))`
    : '';

/** Live: the sources of the companies whose ids are in (after, upto]. */
const assignedSourcesCte = (entity: RoleCode | undefined) =>
  companySourcesCtes(
    `AND a.company_id > :after::int8 AND a.company_id <= :upto ${entityCompanyFilter(entity)}`,
  );

const CONFLICTS_SELECT = `
  SELECT s.company_key AS "companyKey", f.field,
         w.legacy_table || '#' || w.legacy_id AS "keptFrom", s.legacy_table || '#' || s.legacy_id AS "differsIn"
    FROM sources s
    JOIN winners w ON w.company_key = s.company_key
   CROSS JOIN LATERAL (VALUES ('company_type', s.company_type IS DISTINCT FROM w.company_type),
                              ('notes', s.notes IS DISTINCT FROM w.notes)) AS f(field, differs)
   WHERE f.differs AND NOT (s.role = w.role AND s.legacy_id = w.legacy_id)
   ORDER BY s.company_key, f.field, s.role_order, s.legacy_id`;

const profileColumns = CLIENT_PROFILE_FIELDS.join(', ');
const profileDiffers = (left: string, right: string) =>
  `(${CLIENT_PROFILE_FIELDS.map((f) => `${left}.${f}`).join(', ')}) IS DISTINCT FROM (${CLIENT_PROFILE_FIELDS.map((f) => `${right}.${f}`).join(', ')})`;

const syncPhase = (entity: RoleCode | undefined): BackfillPhase => ({
  label: 'companies (fields and client profiles)',
  countSql: `SELECT count(DISTINCT company_id) FROM company_role_assignments
              WHERE context_type IN (${contextTypesFor(entity)})`,
  // It walks the companies the record phases create.
  recountAtStart: true,
  async nextChunk(tx, after, limit) {
    const { rows } = await tx.query<{ upto: number | null; rows: number; last: boolean }>(
      `WITH c AS (SELECT max(company_id) AS upto, count(*)::int AS rows FROM (
                    SELECT DISTINCT company_id FROM company_role_assignments
                     WHERE context_type IN (${contextTypesFor(entity)}) AND company_id > :after::int8
                     ORDER BY company_id LIMIT :limit) AS ids)
       SELECT c.upto, c.rows,
              NOT EXISTS (SELECT 1 FROM company_role_assignments a
                           WHERE a.context_type IN (${contextTypesFor(entity)}) AND a.company_id > c.upto) AS last,
              ${JIT_OFF_FOR_TRANSACTION}
         FROM c`,
      { after, limit },
    );
    return boundsOf(rows[0]);
  },
  async applyChunk(tx, { after, upto, sampleSize, journal }) {
    const range = { after, upto };
    const params = { ...range, ...journal };
    const updated = await tx.query(
      `WITH ${assignedSourcesCte(entity)},
       -- winners and flags in one pass: joining the two CTEs, whose sizes the planner cannot estimate,
       -- made it pick a nested loop over both (quadratic in the chunk).
       target AS (
         SELECT DISTINCT ON (company_key) company_key, company_type, notes,
                bool_or(role = 'client') OVER (PARTITION BY company_key) AS any_client
           FROM sources ORDER BY company_key, role_order, legacy_id),
       written AS (
         UPDATE companies co
            SET company_type = w.company_type, notes = w.notes,
                is_mpr_client = co.is_mpr_client OR w.any_client, modified_date = now()
           FROM target w
          WHERE co.company_id = w.company_key
            AND (co.company_type IS DISTINCT FROM w.company_type OR co.notes IS DISTINCT FROM w.notes
                 OR (w.any_client AND NOT co.is_mpr_client))
         RETURNING ${journalReturning('companies', 'co', 'update')}),
       ${journalCte('written', 'companies')}
       SELECT count(*)::int AS n FROM written`,
      params,
    );
    const profiles = await tx.query<{ inserted: number; updated: number }>(
      `WITH profile_sources AS (
         SELECT DISTINCT ON (a.company_id) a.company_id, l.*
           FROM company_role_assignments a
           JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = 'client'
           JOIN clients l ON l.client_id = a.context_id
          WHERE a.context_type = 'ClientRecord' AND a.company_id > :after::int8 AND a.company_id <= :upto
                ${entityCompanyFilter(entity)}
          ORDER BY a.company_id, l.client_id),
       written AS (
         INSERT INTO client_profiles AS t (company_id, ${profileColumns})
         SELECT company_id, ${profileColumns} FROM profile_sources
         ON CONFLICT (company_id) DO UPDATE
            SET ${CLIENT_PROFILE_FIELDS.map((f) => `${f} = EXCLUDED.${f}`).join(', ')}, modified_date = now()
          WHERE ${profileDiffers('t', 'EXCLUDED')}
         RETURNING ${journalReturning('client_profiles', 't', 'upsert')}),
       ${journalCte('written', 'client_profiles')}
       SELECT count(*) FILTER (WHERE op = 'insert')::int AS inserted,
              count(*) FILTER (WHERE op = 'update')::int AS updated
         FROM written`,
      params,
    );
    const conflicts = await countAndSample(
      tx,
      `WITH ${assignedSourcesCte(entity)} ${CONFLICTS_SELECT}`,
      range,
      sampleSize,
    );
    return {
      counts: {
        companiesUpdated: writtenCount(updated),
        clientProfilesInserted: profiles.rows[0]?.inserted ?? 0,
        clientProfilesUpdated: profiles.rows[0]?.updated ?? 0,
      },
      conflicts,
    };
  },
});

/**
 * Dry run: every legacy record with the company the rules give it, as a key — 'c:<id>' for a
 * company that exists, 'n:<name>' for one the live run would create — and no writes.
 */
function plannedRecordsCte(entity: RoleCode | undefined): string {
  // An entity-limited live run assigns that entity's records; other records count only if already assigned.
  const inRun = entity ? `AND (role = '${entity}' OR assigned_company IS NOT NULL)` : '';
  const touched = entity
    ? `WHERE company_key IN (SELECT company_key FROM keyed WHERE role = '${entity}' AND company_key IS NOT NULL)`
    : '';
  return `planned AS (
  ${ROLE_MAPPINGS.map(
    (
      role,
      order,
    ) => `SELECT ${order} AS role_order, '${role.code}' AS role, '${role.legacyTable}' AS legacy_table,
           l.${role.idColumn} AS legacy_id, ${trimmedNameSql(`l.${role.nameColumn}`)} AS name,
           ${role.companyTypeSql} AS company_type, l.notes,
           ${recordCompanySql(role, `l.${role.idColumn}`)} AS assigned_company
      FROM ${role.legacyTable} l`,
  ).join('\n    UNION ALL\n    ')}
),
keyed AS (
  SELECT p.*, co.company_id AS named_company,
         CASE WHEN p.assigned_company IS NOT NULL THEN 'c:' || p.assigned_company
              WHEN p.name = '' THEN NULL
              WHEN co.company_id IS NOT NULL THEN 'c:' || co.company_id
              ELSE 'n:' || p.name END AS company_key
    FROM planned p LEFT JOIN companies co ON co.company_name = p.name
),
sources AS (SELECT * FROM keyed WHERE company_key IS NOT NULL ${inRun}),
winners AS (SELECT DISTINCT ON (company_key) * FROM sources ${touched} ORDER BY company_key, role_order, legacy_id),
flags AS (SELECT company_key, bool_or(role = 'client') AS any_client FROM sources GROUP BY company_key)`;
}

async function predictCompanies(
  sql: SqlSession,
  sampleSize: number,
  entity: RoleCode | undefined,
): Promise<StepOutcome> {
  const PLANNED_RECORDS_CTE = plannedRecordsCte(entity);
  const ofEntity = entity ? `AND role = '${entity}'` : '';
  const { rows: missingRoles } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (VALUES ${ROLE_MAPPINGS.map((r) => `('${r.code}')`).join(', ')}) AS v(code)
      WHERE NOT EXISTS (SELECT 1 FROM company_roles r WHERE r.role_code = v.code)`,
  );
  const primaryFixes = ROLE_MAPPINGS.filter((r) => !entity || r.code === entity)
    .map(
      (role) => `SELECT count(*) AS n FROM company_role_assignments a
                 JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = '${role.code}'
                 JOIN ${role.legacyTable} l ON l.${role.idColumn} = a.context_id
                WHERE a.context_type = '${role.recordContextType}' AND NOT a.is_primary`,
    )
    .join(' UNION ALL ');
  const { rows } = await sql.query<Record<string, number>>(
    `WITH ${PLANNED_RECORDS_CTE},
     company_changes AS (
       SELECT w.company_key,
              CASE WHEN w.company_key LIKE 'n:%' THEN f.any_client AND w.role <> 'client'
                   ELSE co.company_type IS DISTINCT FROM w.company_type OR co.notes IS DISTINCT FROM w.notes
                        OR (f.any_client AND NOT co.is_mpr_client) END AS changes
         FROM winners w
         JOIN flags f ON f.company_key = w.company_key
         LEFT JOIN companies co ON w.company_key = 'c:' || co.company_id
     ),
     profile_sources AS (
       SELECT DISTINCT ON (k.company_key) k.company_key, l.*
         FROM sources k JOIN clients l ON l.client_id = k.legacy_id
        WHERE k.role = 'client' AND k.company_key IN (SELECT company_key FROM winners)
        ORDER BY k.company_key, l.client_id
     ),
     profile_changes AS (
       SELECT p.company_id IS NULL AS inserts, p.company_id IS NOT NULL AND ${profileDiffers('p', 's')} AS updates
         FROM profile_sources s
         LEFT JOIN client_profiles p ON s.company_key = 'c:' || p.company_id
     )
     SELECT
       (SELECT count(DISTINCT name) FROM keyed
         WHERE assigned_company IS NULL AND name <> '' AND named_company IS NULL ${ofEntity})::int AS created,
       (SELECT count(*) FROM keyed WHERE assigned_company IS NULL AND name <> '' ${ofEntity})::int AS assigned,
       (SELECT coalesce(sum(n), 0) FROM (${primaryFixes}) AS fixes)::int AS primaries,
       (SELECT count(*) FROM company_changes WHERE changes)::int AS updated,
       (SELECT count(*) FROM profile_changes WHERE inserts)::int AS profiles_inserted,
       (SELECT count(*) FROM profile_changes WHERE updates)::int AS profiles_updated`,
  );
  const totals = rows[0] ?? {};
  const conflicts = await countAndSample(
    sql,
    `WITH ${PLANNED_RECORDS_CTE} ${CONFLICTS_SELECT}`,
    {},
    sampleSize,
  );
  const unmigratable = await countAndSample(
    sql,
    `WITH ${PLANNED_RECORDS_CTE}
     SELECT legacy_table AS "table", legacy_id AS id FROM keyed WHERE name = '' ${ofEntity}
      ORDER BY role_order, legacy_id`,
    {},
    sampleSize,
  );
  const created = totals.created ?? 0;
  const assigned = totals.assigned ?? 0;
  return {
    counts: {
      rolesCreated: missingRoles[0]?.n ?? 0,
      companiesCreated: created,
      companiesReused: assigned - created,
      recordAssignmentsInserted: assigned,
      recordAssignmentsUpdated: totals.primaries ?? 0,
      companiesUpdated: totals.updated ?? 0,
      clientProfilesInserted: totals.profiles_inserted ?? 0,
      clientProfilesUpdated: totals.profiles_updated ?? 0,
    },
    conflicts: normalizeConflictKeys(conflicts),
    unmigratable,
  };
}

/** Dry-run conflict samples name a company by key; show ids as the live run does, names for new ones. */
function normalizeConflictKeys(sample: StepOutcome['conflicts']) {
  if (!sample) return sample;
  return {
    count: sample.count,
    sample: sample.sample.map((entry) => {
      const key = String(entry.companyKey);
      const { companyKey: _key, ...rest } = entry;
      return key.startsWith('c:')
        ? { companyId: Number(key.slice(2)), ...rest }
        : { companyId: null, newCompany: key.slice(2), ...rest };
    }),
  };
}

function liveConflictSample(sample: StepOutcome['conflicts']) {
  if (!sample) return sample;
  return {
    count: sample.count,
    sample: sample.sample.map(({ companyKey, ...rest }) => ({ companyId: Number(companyKey), ...rest })),
  };
}

export const companiesStep: BackfillStepDefinition = {
  step: 'companies',
  countKeys: COMPANY_COUNT_KEYS,
  async prepare(sql, journal) {
    const created = await sql.query(
      `WITH written AS (
         INSERT INTO company_roles AS t (role_code, role_label, is_active)
         SELECT v.code, v.label, true
           FROM (VALUES ${ROLE_MAPPINGS.map((r, i) => `(${i}, '${r.code}', '${r.label}')`).join(', ')}) AS v(ord, code, label)
          WHERE NOT EXISTS (SELECT 1 FROM company_roles r WHERE r.role_code = v.code)
          ORDER BY v.ord
         ON CONFLICT (role_code) DO NOTHING
         RETURNING ${journalReturning('company_roles', 't', 'insert')}),
       ${journalCte('written', 'company_roles')}
       SELECT count(*)::int AS n FROM written`,
      { ...journal },
    );
    return { counts: { rolesCreated: writtenCount(created) } };
  },
  async phases(_sql, entity) {
    const records = rolesFor(entity).map(recordPhase);
    const entitySync = syncPhase(entity);
    const sync: BackfillPhase = {
      ...entitySync,
      async applyChunk(tx, chunk) {
        const outcome = await entitySync.applyChunk(tx, chunk);
        return { ...outcome, conflicts: liveConflictSample(outcome.conflicts) };
      },
    };
    return [...records, sync];
  },
  predict: predictCompanies,
};
