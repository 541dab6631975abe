import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import {
  ensureJournal,
  JOURNALED_TABLES,
  type JournalTag,
  journalCte,
  journalReturning,
  RUNS_TABLE,
  registerRun,
} from '../journal/schema.ts';
import { timestampedRunId } from '../pipeline/run-id.ts';
import { pathSegment } from '../reports/store.ts';
import { requireSchemas } from '../schema/introspect.ts';
import { DISTINCT_PAIRS_EXIST_SQL, DISTINCT_PAIRS_TABLE } from '../schema/migration.sql.ts';
import type { SqlClient, SqlSession } from '../sql/types.ts';
import { normalizedNameSql } from '../validation/duplicate-names.ts';
import { RemedyRefusedError } from './errors.ts';

/**
 * `duplicates merge`: one company of a V5 group absorbs another. Everything that points at the merged
 * company moves to the survivor — role assignments, personnel affiliations, the client profile — where
 * the survivor already has the same identity the two collapse into the survivor's row, and the merged
 * company is removed. One transaction, every write journaled under a run id of its own, so that
 * `company-migration undo <run-id>` puts back exactly the earlier rows (ids and audit times included).
 */

export const mergeInputSchema = z
  .object({
    /** The survivor: the company that stays. */
    keepId: z.coerce.number().int().positive(),
    /** The company that is absorbed and removed. */
    mergeId: z.coerce.number().int().positive(),
    /** Merge even when the normalized names differ or the pair is recorded as distinct. */
    force: z.boolean().default(false),
    dryRun: z.boolean().default(false),
    /** The run id to journal under; a new `merge-<UTC time>-<hex>` when absent. Must be unused. */
    runId: pathSegment(80).optional(),
  })
  .refine((input) => input.keepId !== input.mergeId, {
    message: 'the survivor and the merged company are the same: a company cannot absorb itself',
    path: ['mergeId'],
  });
export type MergeInput = z.input<typeof mergeInputSchema>;

/** A field the two companies (or client profiles) disagree on: the survivor's value stays. */
export const fieldConflictSchema = z.object({
  field: z.string(),
  /** The values as text; null when NULL — or when hidden (free-text notes may be confidential). */
  survivor: z.string().nullable(),
  merged: z.string().nullable(),
  valuesHidden: z.boolean(),
});
export type FieldConflict = z.infer<typeof fieldConflictSchema>;

const companyRefSchema = z.object({
  companyId: z.number().int(),
  name: z.string(),
  normalizedName: z.string(),
});

export const mergeResultSchema = z.object({
  /** The run the merge was journaled under (`company-migration undo <runId>` reverses it); null in a dry run. */
  runId: z.string().nullable(),
  dryRun: z.boolean(),
  schema: z.string(),
  survivor: companyRefSchema,
  merged: companyRefSchema,
  /** Why the merge needed --force: the names differ once normalized, or the pair is recorded as distinct. */
  forcedOver: z.array(z.enum(['names-differ', 'kept-apart'])),
  /** The reason recorded with `duplicates keep-apart`, when the pair is recorded. */
  keptApartReason: z.string().nullable(),
  assignments: z.object({
    /** The merged company's assignments moved to the survivor as they are. */
    moved: z.number().int().min(0),
    /** The merged company's assignments whose identity the survivor already had: removed. */
    collapsed: z.number().int().min(0),
    /** The survivor's assignments that became confidential because a collapsed one was. */
    madeConfidential: z.number().int().min(0),
  }),
  affiliations: z.object({
    moved: z.number().int().min(0),
    collapsed: z.number().int().min(0),
  }),
  clientProfile: z.object({
    /**
     * none: neither has one; survivor: only the survivor's (kept); moved: only the merged company had
     * one, it now belongs to the survivor; collapsed: both had one, the survivor's stays.
     */
    outcome: z.enum(['none', 'survivor', 'moved', 'collapsed']),
    /** Fields the two profiles disagreed on (collapsed only): the survivor's values stay. */
    conflicts: z.array(fieldConflictSchema),
  }),
  company: z.object({
    /** The survivor became an MPR client because the merged company was one. */
    madeMprClient: z.boolean(),
    /** Company fields the two disagreed on: the survivor's values stay. */
    conflicts: z.array(fieldConflictSchema),
  }),
  /** Rows written (in a dry run: that would be written), journal entries, statements sent. */
  rowsWritten: z.number().int().min(0),
  statements: z.number().int().min(0),
});
export type MergeResult = z.infer<typeof mergeResultSchema>;

/** A new merge run id: readable and sortable like the others, unique however many merges a second. */
export function newMergeRunId(now = new Date()): string {
  return `${timestampedRunId('merge', now)}-${randomBytes(3).toString('hex')}`;
}

/** Columns that say who wrote a row when, not what it says: not a conflict when they differ. */
const AUDIT_COLUMNS = ['created_by', 'created_date', 'modified_by', 'modified_date'];
/** Company columns that are no conflict: the key, the name (the survivor's is the one kept, by choice), the MPR flag (either). */
const COMPANY_NOT_COMPARED = ['company_id', 'company_name', 'is_mpr_client', ...AUDIT_COLUMNS];
const PROFILE_NOT_COMPARED = ['company_id', ...AUDIT_COLUMNS];

/**
 * Merges company `mergeId` into `keepId`. Refuses (RemedyRefusedError) unknown ids, a company merged into
 * itself, names whose V5-normalized forms differ and a pair recorded as distinct (those two unless
 * `force`), and a merged company that rows of tables outside the unified five point at (they could be
 * neither moved nor undone). A dry run reads the same plan and writes nothing, not even the journal.
 */
export async function mergeCompanies(sql: SqlClient, rawInput: MergeInput): Promise<MergeResult> {
  const parsed = mergeInputSchema.safeParse(rawInput);
  if (!parsed.success) throw new RemedyRefusedError(parsed.error.issues.map((i) => i.message).join('; '));
  const input = parsed.data;
  const statementsBefore = sql.statementsIssued;
  await requireSchemas(sql, { unified: true });
  const ids = { keep: input.keepId, merge: input.mergeId };

  if (input.dryRun) {
    const pair = await readPair(sql, ids, input.force, false);
    const plan = await readPlan(sql, ids);
    return finish(null, pair, plan, sql.statementsIssued - statementsBefore);
  }

  const runId = input.runId ?? newMergeRunId();
  await ensureJournal(sql);
  return sql.transaction(async (tx) => {
    const used = await tx.query(`SELECT 1 FROM ${RUNS_TABLE} WHERE run_id = :run_id`, { run_id: runId });
    if (used.rows.length > 0) {
      throw new RemedyRefusedError(
        `run id ${runId} is already in the journal: a merge needs a run id of its own, so that undoing it undoes only the merge`,
      );
    }
    // Both companies locked first: nobody renames, merges or removes them while the rows move.
    const pair = await readPair(tx, ids, input.force, true);
    const plan = await readPlan(tx, ids);
    await registerRun(tx, runId);
    const written = await writeMerge(tx, ids, { journal_run_id: runId, journal_step: 'merge' });
    const counts = { ...plan.counts };
    // The writes decide what the result says; they match the plan read under the same locks.
    Object.assign(counts, written);
    return finish(runId, pair, { ...plan, counts }, sql.statementsIssued - statementsBefore);
  });
}

interface MergeIds {
  keep: number;
  merge: number;
}

interface PairFacts {
  schema: string;
  survivor: z.infer<typeof companyRefSchema>;
  merged: z.infer<typeof companyRefSchema>;
  forcedOver: MergeResult['forcedOver'];
  keptApartReason: string | null;
}

interface MergeCounts {
  assignmentsMoved: number;
  assignmentsCollapsed: number;
  madeConfidential: number;
  affiliationsMoved: number;
  affiliationsCollapsed: number;
  profileCopied: number;
  profileDeleted: number;
  madeMprClient: number;
  companyDeleted: number;
}

interface MergePlan {
  counts: MergeCounts;
  clientProfile: MergeResult['clientProfile'];
  companyConflicts: FieldConflict[];
}

/** Reads (and, live, locks) both companies; refuses what the merge must not do. */
async function readPair(sql: SqlSession, ids: MergeIds, force: boolean, lock: boolean): Promise<PairFacts> {
  const { rows: exists } = await sql.query<{ pairs: boolean }>(`SELECT ${DISTINCT_PAIRS_EXIST_SQL} AS pairs`);
  const [low, high] = ids.keep < ids.merge ? [ids.keep, ids.merge] : [ids.merge, ids.keep];
  const reasonSql = exists[0]?.pairs
    ? `(SELECT d.reason FROM ${DISTINCT_PAIRS_TABLE} d
         WHERE d.data_schema = current_schema() AND d.company_a = ${low} AND d.company_b = ${high})`
    : 'NULL::text';
  const { rows } = await sql.query<{
    company_id: number;
    company_name: string;
    normalized: string;
    schema: string;
    kept_apart_reason: string | null;
  }>(
    `SELECT c.company_id, c.company_name, ${normalizedNameSql('c.company_name')} AS normalized,
            current_schema() AS schema, ${reasonSql} AS kept_apart_reason
       FROM companies c WHERE c.company_id IN (:keep, :merge)
      ORDER BY c.company_id${lock ? ' FOR UPDATE' : ''}`,
    { keep: ids.keep, merge: ids.merge },
  );
  const survivor = rows.find((r) => Number(r.company_id) === ids.keep);
  const merged = rows.find((r) => Number(r.company_id) === ids.merge);
  const unknown = [survivor ? null : ids.keep, merged ? null : ids.merge].filter((id) => id !== null);
  if (!survivor || !merged) {
    throw new RemedyRefusedError(
      `unknown company id${unknown.length > 1 ? 's' : ''} ${unknown.join(' and ')} (no such row in companies)`,
    );
  }
  const forcedOver: MergeResult['forcedOver'] = [];
  if (survivor.normalized !== merged.normalized) forcedOver.push('names-differ');
  if (survivor.kept_apart_reason !== null) forcedOver.push('kept-apart');
  if (!force && forcedOver.includes('names-differ')) {
    throw new RemedyRefusedError(
      `companies ${ids.keep} (“${survivor.company_name}”) and ${ids.merge} (“${merged.company_name}”) do not have ` +
        'near-identical names, so they are not duplicates by V5 (check the ids; --force merges them anyway)',
    );
  }
  if (!force && forcedOver.includes('kept-apart')) {
    throw new RemedyRefusedError(
      `companies ${ids.keep} and ${ids.merge} are recorded as legitimately distinct (“${survivor.kept_apart_reason}”); ` +
        '--force merges them anyway',
    );
  }
  await refuseForeignReferences(sql, ids.merge);
  const ref = (r: typeof survivor) => ({
    companyId: Number(r.company_id),
    name: r.company_name,
    normalizedName: r.normalized,
  });
  return {
    schema: survivor.schema,
    survivor: ref(survivor),
    merged: ref(merged),
    forcedOver,
    keptApartReason: survivor.kept_apart_reason,
  };
}

/**
 * Refuses when rows of a table other than the unified five point at the merged company through a
 * foreign key (an application table the merge knows nothing of): the merge could not move them, and
 * the journal could not put them back. Tables without a foreign key cannot be seen here.
 */
async function refuseForeignReferences(sql: SqlSession, mergeId: number): Promise<void> {
  const journaled = JOURNALED_TABLES.map(({ table }) => `to_regclass('${table}')`).join(', ');
  const { rows: references } = await sql.query<{ child_table: string; child_column: string }>(
    `SELECT con.conrelid::regclass::text AS child_table, a.attname::text AS child_column
       FROM pg_constraint con
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
      WHERE con.contype = 'f' AND con.confrelid = to_regclass('companies') AND cardinality(con.conkey) = 1
        AND con.conrelid NOT IN (${journaled})
      ORDER BY 1, 2`,
  );
  if (references.length === 0) return;
  const { rows } = await sql.query<{ child_table: string; n: number }>(
    references
      .map(
        (r) =>
          `SELECT '${r.child_table.replace(/'/g, "''")}.${r.child_column}' AS child_table, count(*)::int AS n
             FROM ${r.child_table} WHERE "${r.child_column.replace(/"/g, '""')}" = :merge`,
      )
      .join(' UNION ALL '),
    { merge: mergeId },
  );
  const found = rows.filter((r) => r.n > 0);
  if (found.length > 0) {
    throw new RemedyRefusedError(
      `rows of other tables point at company ${mergeId}: ${found.map((r) => `${r.child_table} (${r.n})`).join(', ')}; ` +
        'the merge moves only assignments, affiliations and client profiles: re-point those rows first',
    );
  }
}

/** The survivor's row of each merged assignment that has the same identity; NULL context ids count as equal. */
const ASSIGNMENT_PAIRS_CTE = `assignment_pairs AS (
    SELECT m.assignment_id AS merged_id, s.assignment_id AS survivor_id, m.is_confidential AS merged_confidential
      FROM company_role_assignments m
      JOIN company_role_assignments s
        ON s.company_id = :keep AND s.role_id = m.role_id AND s.context_type = m.context_type
       AND s.context_id IS NOT DISTINCT FROM m.context_id
     WHERE m.company_id = :merge)`;

/** Merged affiliations the survivor already has: same person and title (NULL titles equal), any start date. */
const AFFILIATION_PAIRS_CTE = `affiliation_pairs AS (
    SELECT m.affiliation_id AS merged_id
      FROM person_company_affiliations m
     WHERE m.company_id = :merge
       AND EXISTS (SELECT 1 FROM person_company_affiliations s
                    WHERE s.company_id = :keep AND s.person_id = m.person_id
                      AND s.title IS NOT DISTINCT FROM m.title))`;

/** What the merge will write, read in one statement: the dry run's answer and the live run's check. */
async function readPlan(sql: SqlSession, ids: MergeIds): Promise<MergePlan> {
  const { rows } = await sql.query<{
    assignments: number;
    assignments_collapsed: number;
    made_confidential: number;
    affiliations: number;
    affiliations_collapsed: number;
    survivor_company: Record<string, unknown>;
    merged_company: Record<string, unknown>;
    survivor_profile: Record<string, unknown> | null;
    merged_profile: Record<string, unknown> | null;
  }>(
    `WITH ${ASSIGNMENT_PAIRS_CTE}, ${AFFILIATION_PAIRS_CTE}
     SELECT (SELECT count(*) FROM company_role_assignments WHERE company_id = :merge)::int AS assignments,
            (SELECT count(*) FROM assignment_pairs)::int AS assignments_collapsed,
            (SELECT count(*) FROM company_role_assignments s
              WHERE NOT s.is_confidential
                AND s.assignment_id IN (SELECT survivor_id FROM assignment_pairs WHERE merged_confidential))::int
              AS made_confidential,
            (SELECT count(*) FROM person_company_affiliations WHERE company_id = :merge)::int AS affiliations,
            (SELECT count(*) FROM affiliation_pairs)::int AS affiliations_collapsed,
            (SELECT to_jsonb(c) FROM companies c WHERE c.company_id = :keep) AS survivor_company,
            (SELECT to_jsonb(c) FROM companies c WHERE c.company_id = :merge) AS merged_company,
            (SELECT to_jsonb(p) FROM client_profiles p WHERE p.company_id = :keep) AS survivor_profile,
            (SELECT to_jsonb(p) FROM client_profiles p WHERE p.company_id = :merge) AS merged_profile`,
    { keep: ids.keep, merge: ids.merge },
  );
  const row = rows[0];
  if (!row) throw new Error('the merge plan returned no row');
  const survivorProfile = row.survivor_profile;
  const mergedProfile = row.merged_profile;
  const outcome = mergedProfile
    ? survivorProfile
      ? 'collapsed'
      : 'moved'
    : survivorProfile
      ? 'survivor'
      : 'none';
  return {
    counts: {
      assignmentsMoved: row.assignments - row.assignments_collapsed,
      assignmentsCollapsed: row.assignments_collapsed,
      madeConfidential: row.made_confidential,
      affiliationsMoved: row.affiliations - row.affiliations_collapsed,
      affiliationsCollapsed: row.affiliations_collapsed,
      profileCopied: outcome === 'moved' ? 1 : 0,
      profileDeleted: mergedProfile ? 1 : 0,
      madeMprClient:
        row.merged_company.is_mpr_client === true && row.survivor_company.is_mpr_client !== true ? 1 : 0,
      companyDeleted: 1,
    },
    clientProfile: {
      outcome,
      conflicts:
        survivorProfile && mergedProfile
          ? fieldConflicts(survivorProfile, mergedProfile, PROFILE_NOT_COMPARED)
          : [],
    },
    companyConflicts: fieldConflicts(row.survivor_company, row.merged_company, COMPANY_NOT_COMPARED),
  };
}

/**
 * The fields two rows disagree on (a NULL on the merged side is no conflict: it loses nothing). Values
 * of free-text notes are not shown: they may be confidential, and reports travel.
 */
export function fieldConflicts(
  survivor: Record<string, unknown>,
  merged: Record<string, unknown>,
  notCompared: readonly string[],
): FieldConflict[] {
  const text = (value: unknown) =>
    value === null || value === undefined ? null : typeof value === 'string' ? value : JSON.stringify(value);
  return Object.keys(merged)
    .filter((field) => !notCompared.includes(field))
    .filter((field) => merged[field] !== null && text(survivor[field]) !== text(merged[field]))
    .sort()
    .map((field) => {
      const valuesHidden = /notes$/.test(field);
      return {
        field,
        survivor: valuesHidden ? null : text(survivor[field]),
        merged: valuesHidden ? null : text(merged[field]),
        valuesHidden,
      };
    });
}

/**
 * The writes, one journaled statement per table (children first, the merged company last, so no
 * foreign key ever points at a missing row). Returns what each wrote.
 */
async function writeMerge(tx: SqlSession, ids: MergeIds, journal: JournalTag): Promise<Partial<MergeCounts>> {
  const params = { keep: ids.keep, merge: ids.merge, ...journal };
  const counts = async (statement: string) => {
    const { rows } = await tx.query<Record<string, number>>(statement, params);
    return rows[0] ?? {};
  };

  // Assignments: a collapsed one makes the survivor's confidential when it was; the rest move.
  const assignments = await counts(
    `WITH ${ASSIGNMENT_PAIRS_CTE},
     confidential AS (
       UPDATE company_role_assignments a SET is_confidential = true, modified_date = now()
        WHERE NOT a.is_confidential
          AND a.assignment_id IN (SELECT survivor_id FROM assignment_pairs WHERE merged_confidential)
       RETURNING ${journalReturning('company_role_assignments', 'a', 'update')}),
     ${journalCte('confidential', 'company_role_assignments')},
     collapsed AS (
       DELETE FROM company_role_assignments a WHERE a.assignment_id IN (SELECT merged_id FROM assignment_pairs)
       RETURNING ${journalReturning('company_role_assignments', 'a', 'delete')}),
     ${journalCte('collapsed', 'company_role_assignments')},
     moved AS (
       UPDATE company_role_assignments a SET company_id = :keep, modified_date = now()
        WHERE a.company_id = :merge
          AND a.assignment_id NOT IN (SELECT merged_id FROM assignment_pairs)
       RETURNING ${journalReturning('company_role_assignments', 'a', 'update')}),
     ${journalCte('moved', 'company_role_assignments')}
     SELECT (SELECT count(*) FROM moved)::int AS "assignmentsMoved",
            (SELECT count(*) FROM collapsed)::int AS "assignmentsCollapsed",
            (SELECT count(*) FROM confidential)::int AS "madeConfidential"`,
  );

  const affiliations = await counts(
    `WITH ${AFFILIATION_PAIRS_CTE},
     collapsed AS (
       DELETE FROM person_company_affiliations f WHERE f.affiliation_id IN (SELECT merged_id FROM affiliation_pairs)
       RETURNING ${journalReturning('person_company_affiliations', 'f', 'delete')}),
     ${journalCte('collapsed', 'person_company_affiliations')},
     moved AS (
       UPDATE person_company_affiliations f SET company_id = :keep, modified_date = now()
        WHERE f.company_id = :merge
          AND f.affiliation_id NOT IN (SELECT merged_id FROM affiliation_pairs)
       RETURNING ${journalReturning('person_company_affiliations', 'f', 'update')}),
     ${journalCte('moved', 'person_company_affiliations')}
     SELECT (SELECT count(*) FROM moved)::int AS "affiliationsMoved",
            (SELECT count(*) FROM collapsed)::int AS "affiliationsCollapsed"`,
  );

  // A profile's key is its company: moving it is a copy under the survivor's id (every column, the
  // application's own included) and the removal of the merged one, so undo can reverse both by key.
  const profile = await counts(
    `WITH copied AS (
       INSERT INTO client_profiles AS t
       SELECT (jsonb_populate_record(NULL::client_profiles,
                 to_jsonb(p) || jsonb_build_object('company_id', :keep::int, 'modified_date', localtimestamp))).*
         FROM client_profiles p
        WHERE p.company_id = :merge
          AND NOT EXISTS (SELECT 1 FROM client_profiles s WHERE s.company_id = :keep)
       RETURNING ${journalReturning('client_profiles', 't', 'insert')}),
     ${journalCte('copied', 'client_profiles')},
     removed AS (
       DELETE FROM client_profiles p WHERE p.company_id = :merge
       RETURNING ${journalReturning('client_profiles', 'p', 'delete')}),
     ${journalCte('removed', 'client_profiles')}
     SELECT (SELECT count(*) FROM copied)::int AS "profileCopied",
            (SELECT count(*) FROM removed)::int AS "profileDeleted"`,
  );

  const company = await counts(
    `WITH flagged AS (
       UPDATE companies c SET is_mpr_client = true, modified_date = now()
        WHERE c.company_id = :keep AND NOT c.is_mpr_client
          AND EXISTS (SELECT 1 FROM companies m WHERE m.company_id = :merge AND m.is_mpr_client)
       RETURNING ${journalReturning('companies', 'c', 'update')}),
     ${journalCte('flagged', 'companies')},
     removed AS (
       DELETE FROM companies c WHERE c.company_id = :merge
       RETURNING ${journalReturning('companies', 'c', 'delete')}),
     ${journalCte('removed', 'companies')}
     SELECT (SELECT count(*) FROM flagged)::int AS "madeMprClient",
            (SELECT count(*) FROM removed)::int AS "companyDeleted"`,
  );
  return { ...assignments, ...affiliations, ...profile, ...company };
}

function finish(runId: string | null, pair: PairFacts, plan: MergePlan, statements: number): MergeResult {
  const c = plan.counts;
  return mergeResultSchema.parse({
    runId,
    dryRun: runId === null,
    schema: pair.schema,
    survivor: pair.survivor,
    merged: pair.merged,
    forcedOver: pair.forcedOver,
    keptApartReason: pair.keptApartReason,
    assignments: {
      moved: c.assignmentsMoved,
      collapsed: c.assignmentsCollapsed,
      madeConfidential: c.madeConfidential,
    },
    affiliations: { moved: c.affiliationsMoved, collapsed: c.affiliationsCollapsed },
    clientProfile: plan.clientProfile,
    company: { madeMprClient: c.madeMprClient > 0, conflicts: plan.companyConflicts },
    rowsWritten:
      c.assignmentsMoved +
      c.assignmentsCollapsed +
      c.madeConfidential +
      c.affiliationsMoved +
      c.affiliationsCollapsed +
      c.profileCopied +
      c.profileDeleted +
      c.madeMprClient +
      c.companyDeleted,
    statements,
  });
}
