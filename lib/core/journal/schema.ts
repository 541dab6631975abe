import type { SqlSession } from '../sql/types.ts';

/**
 * The run journal: what each live backfill run (or duplicates merge) wrote, so that exactly that run can
 * be undone later while everyone else's writes stay. Two tables of the migration's own, created beside the unified tables (in
 * the schema they resolve to), so a database — or a test's schema — has its journal with its data:
 *
 * - `company_migration_runs`: one row per run id that wrote something.
 * - `company_migration_journal`: one row per row a run inserted, updated or deleted, written by the same
 *   statement as the write itself (so in the chunk's transaction): the table and key, `op`, the version of
 *   the row as the run left it (`after_hash`, see rowVersionSql: to tell whether someone changed it
 *   since; NULL for a delete: the run left no row) and, for an update or a delete, the whole row as it was.
 */
export const JOURNAL_TABLE = 'company_migration_journal';
export const RUNS_TABLE = 'company_migration_runs';

const JOURNAL_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS ${RUNS_TABLE} (
  run_id text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  undone_at timestamptz,
  undo_status text
);

CREATE TABLE IF NOT EXISTS ${JOURNAL_TABLE} (
  entry_id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  step text NOT NULL,
  table_name text NOT NULL,
  op text NOT NULL CONSTRAINT company_migration_journal_op_check CHECK (op IN ('insert', 'update', 'delete')),
  row_key bigint NOT NULL,
  after_hash text,
  before jsonb,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  undone_at timestamptz,
  undo_outcome text
);
`;

/**
 * The index undo reads the journal by. Created by the first undo, not with the table: every backfill
 * write appends to the journal, and maintaining this index on each append would slow every run for the
 * sake of the rare one that gets undone.
 */
export const JOURNAL_UNDO_INDEX_SQL = `CREATE INDEX IF NOT EXISTS company_migration_journal_run_row_idx
  ON ${JOURNAL_TABLE} (run_id, table_name, row_key)`;

/**
 * A journal created before merges existed knows only 'insert' and 'update', and wants an after_hash on
 * every entry: this lets it take deletes too (its entries stay as they are).
 */
const JOURNAL_DELETES_SQL = `
ALTER TABLE ${JOURNAL_TABLE} ALTER COLUMN after_hash DROP NOT NULL;
ALTER TABLE ${JOURNAL_TABLE} DROP CONSTRAINT IF EXISTS company_migration_journal_op_check;
ALTER TABLE ${JOURNAL_TABLE} ADD CONSTRAINT company_migration_journal_op_check
  CHECK (op IN ('insert', 'update', 'delete'));
`;

/**
 * Creates the journal when it is missing, and lets an older one take deletes (one read when it is
 * current: this runs on every live invocation).
 */
export async function ensureJournal(sql: SqlSession): Promise<void> {
  const { rows } = await sql.query<{ present: boolean; takes_deletes: boolean | null }>(
    `SELECT to_regclass('${JOURNAL_TABLE}') IS NOT NULL AND to_regclass('${RUNS_TABLE}') IS NOT NULL AS present,
            (SELECT NOT a.attnotnull FROM pg_attribute a
              WHERE a.attrelid = to_regclass('${JOURNAL_TABLE}') AND a.attname = 'after_hash') AS takes_deletes`,
  );
  if (!rows[0]?.present) await sql.runScript(JOURNAL_SCHEMA_SQL);
  else if (rows[0].takes_deletes === false) await sql.runScript(JOURNAL_DELETES_SQL);
}

/** Registers a run (idempotent: every invocation of every step of the run calls it). */
export async function registerRun(sql: SqlSession, runId: string): Promise<void> {
  await sql.query(`INSERT INTO ${RUNS_TABLE} (run_id) VALUES (:run_id) ON CONFLICT (run_id) DO NOTHING`, {
    run_id: runId,
  });
}

/**
 * The unified tables a run writes, with their key and the tables they reference. Undo goes through them
 * in this order — the rows that reference others first — so a company is only removed after the rows
 * the run hung on it; rows a run deleted are put back in the reverse order, parents first.
 */
export const JOURNALED_TABLES = [
  { table: 'person_company_affiliations', key: 'affiliation_id' },
  { table: 'client_profiles', key: 'company_id' },
  { table: 'company_role_assignments', key: 'assignment_id' },
  { table: 'companies', key: 'company_id' },
  { table: 'company_roles', key: 'role_id' },
] as const;
export type JournaledTable = (typeof JOURNALED_TABLES)[number]['table'];

export function keyColumnOf(table: JournaledTable): string {
  const entry = JOURNALED_TABLES.find((t) => t.table === table);
  if (!entry) throw new Error(`not a journaled table: ${table}`);
  return entry.key;
}

/**
 * How the journal tells whether anyone changed a row after a run wrote it (its `after_hash`): the row
 * version's xmin, the transaction that wrote it. Every later UPDATE makes a new version with another
 * xmin, even one that sets the same values (such a row is kept, the careful side); row locks (the
 * foreign-key checks' FOR KEY SHARE) and VACUUM FREEZE leave it as it is. It costs nothing to read:
 * hashing each row's JSON (md5 of to_jsonb) took a fifth of a project-link chunk's time. A logical dump
 * and restore of the database renumbers transactions, so after one every row reads as changed and undo
 * keeps it.
 */
export const rowVersionSql = (alias: string) => `'x:' || ${alias}.xmin::text`;

/**
 * Table row `alias` in the form of a recorded `after_hash` (`recordedSql`), to compare the two: its xmin
 * for entries written as above, the md5 of its JSON for entries journals written before hold.
 */
export function rowFingerprintSql(alias: string, recordedSql: string): string {
  return `(CASE WHEN ${recordedSql} LIKE 'x:%' THEN ${rowVersionSql(alias)} ELSE md5(to_jsonb(${alias})::text) END)`;
}

/**
 * What a journaled write's RETURNING clause must give, for `alias` the written table's alias: the key,
 * the op, the row's version after the write (rowVersionSql; NULL for a delete), and the row before it
 * (NULL for an insert; for a delete, the deleted row itself — what DELETE ... RETURNING sees; for an
 * update, the row as the statement's snapshot still sees it). 'upsert' is for an INSERT … ON CONFLICT
 * DO UPDATE, whose rows are either inserted or updated.
 */
export function journalReturning(
  table: JournaledTable,
  alias: string,
  op: 'insert' | 'update' | 'upsert' | 'delete',
): string {
  const key = `${alias}.${keyColumnOf(table)}`;
  const version = rowVersionSql(alias);
  // A subquery runs on the statement's snapshot, which still sees a row it updated as it was before.
  const snapshotBefore = `(SELECT to_jsonb(b) FROM ${table} b WHERE b.${keyColumnOf(table)} = ${key})`;
  if (op === 'update')
    return `${key}::int8 AS row_key, 'update'::text AS op, ${version} AS after_hash, ${snapshotBefore} AS before`;
  // INSERT … ON CONFLICT DO UPDATE: xmax = 0 marks a row it inserted.
  if (op === 'upsert')
    return `${key}::int8 AS row_key, CASE WHEN ${alias}.xmax = 0 THEN 'insert' ELSE 'update' END AS op,
            ${version} AS after_hash,
            CASE WHEN ${alias}.xmax <> 0 THEN ${snapshotBefore} END AS before`;
  if (op === 'insert')
    return `${key}::int8 AS row_key, 'insert'::text AS op, ${version} AS after_hash, NULL::jsonb AS before`;
  return `${key}::int8 AS row_key, 'delete'::text AS op, NULL::text AS after_hash, to_jsonb(${alias}) AS before`;
}

/**
 * A CTE that copies what the data-modifying CTE `written` returned (see journalReturning) into the
 * journal, in the same statement. Needs the parameters :journal_run_id and :journal_step.
 */
export function journalCte(written: string, table: JournaledTable): string {
  return `${written}_journaled AS (
    INSERT INTO ${JOURNAL_TABLE} (run_id, step, table_name, op, row_key, after_hash, before)
    SELECT :journal_run_id, :journal_step, '${table}', op, row_key, after_hash, before FROM ${written}
    RETURNING 1)`;
}

/** The parameters journalCte needs. */
export interface JournalTag {
  journal_run_id: string;
  journal_step: string;
}
