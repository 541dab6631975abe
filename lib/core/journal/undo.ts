import { countAndSample } from '../backfill/sql-helpers.ts';
import type { SqlClient, SqlSession } from '../sql/types.ts';
import {
  JOURNAL_TABLE,
  JOURNAL_UNDO_INDEX_SQL,
  JOURNALED_TABLES,
  type JournaledTable,
  keyColumnOf,
  RUNS_TABLE,
  rowFingerprintSql,
} from './schema.ts';
import {
  emptyOutcomeCounts,
  type OutcomeCounts,
  UNDO_OUTCOMES,
  type UndoOptions,
  type UndoOutcome,
  type UndoRequest,
  type UndoResult,
  undoRequestSchema,
} from './undo-contract.ts';

/** The run asked for is not in the journal (or there is no journal): nothing can be undone. */
export class UndoInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputValidationError';
  }
}

/**
 * A row the run deleted cannot be put back because someone wrote a row with one of its unique values
 * since (a company with the merged company's name): the undo stops there, having written nothing of that
 * chunk, and says which rows; once the newer row is renamed or removed, undo again to continue.
 */
export class UndoBlockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UndoBlockedError';
  }
}

/** A single-column foreign key that points at one of the tables a run writes. */
interface Reference {
  childTable: string;
  childColumn: string;
  /** The child's single-column primary key, to name a dependent row; null when it has none. */
  childKey: string | null;
  /** The child as a journaled table, when it is one (its rows of this run may go first). */
  childJournaled: JournaledTable | null;
  parentTable: JournaledTable;
}

interface TableShape {
  table: JournaledTable;
  key: string;
  /** Every column but the key: what a restore writes back. */
  columns: string[];
}

/**
 * Undoes one run: every row it inserted is deleted, every row it updated gets its earlier values back
 * and every row it deleted (a merge) is put back with its key — unless someone changed the row since
 * (their write stays), or later rows depend on a row it created (the undo stops and names them, or keeps
 * those rows when told to). Works in two passes, each table by table, newest key first, in chunks of one
 * transaction each, each marking the journal entries it handled (a second undo finds nothing left to do):
 * first the deleted rows are put back, the referenced tables first (a company before the assignments
 * that point at it); then the rest, the referencing tables first (an assignment before its company).
 * Sequences are left as they are: rows put back keep their own keys.
 */
export async function undoRun(sql: SqlClient, request: UndoRequest): Promise<UndoResult> {
  const options = undoRequestSchema.parse(request);
  const started = Date.now();
  const statementsBefore = sql.statementsIssued;
  await requireRun(sql, options.runId);
  if (!options.dryRun) await sql.query(JOURNAL_UNDO_INDEX_SQL);
  const shapes = await tableShapes(sql);
  const references = await referencesTo(sql);
  const result: UndoResult = {
    runId: options.runId,
    dryRun: options.dryRun,
    status: 'planned',
    done: false,
    tables: Object.fromEntries(JOURNALED_TABLES.map(({ table }) => [table, emptyOutcomeCounts()])),
    totals: emptyOutcomeCounts(),
    alreadyUndone: await alreadyUndone(sql, options.runId),
    dependents: { count: 0, sample: [] },
    changedSince: { count: 0, sample: [] },
    chunks: 0,
    statements: 0,
    elapsedMs: 0,
  };
  const finish = () => {
    for (const counts of Object.values(result.tables))
      for (const outcome of UNDO_OUTCOMES) result.totals[outcome] += counts[outcome];
    result.statements = sql.statementsIssued - statementsBefore;
    result.elapsedMs = Date.now() - started;
    return result;
  };

  // The plan: who depends on what the run created (checked on every call, so later dependents stop the
  // undo too), and which of its rows were changed since. Both read the whole run; the second only where
  // an undo starts (or is planned): the calls that continue it would count the same rows once per call.
  result.dependents = await countAndSample(
    sql,
    dependentsSelect(references),
    { run_id: options.runId },
    options.sampleSize,
  );
  if (options.dryRun || result.alreadyUndone === 0) {
    result.changedSince = await countAndSample(
      sql,
      changedSinceSelect(shapes),
      { run_id: options.runId },
      options.sampleSize,
    );
  }
  if (options.dryRun || (result.dependents.count > 0 && !options.keepDependents)) {
    for (const shape of shapes) {
      const { rows } = await sql.query<{ outcome: UndoOutcome; n: number }>(
        `WITH ${classifiedCtes(shape, references, null)}
         SELECT outcome, count(*)::int AS n FROM classified GROUP BY outcome`,
        { run_id: options.runId },
      );
      addCounts(result.tables[shape.table] as OutcomeCounts, rows);
    }
    result.status = options.dryRun ? 'planned' : 'stopped';
    result.done = options.dryRun;
    return finish();
  }

  const passes = [
    { shapes: [...shapes].reverse(), chunk: reinsertChunk },
    { shapes, chunk: undoChunk },
  ];
  for (const pass of passes) {
    for (const shape of pass.shapes) {
      for (;;) {
        if (result.chunks > 0 && Date.now() - started >= options.timeBudgetMs) {
          result.status = 'in-progress';
          return finish();
        }
        const rows = await sql.transaction(async (tx) => pass.chunk(tx, shape, references, options));
        if (rows.length === 0) break;
        result.chunks++;
        addCounts(result.tables[shape.table] as OutcomeCounts, rows);
      }
    }
  }
  await sql.query(
    `UPDATE ${RUNS_TABLE} r
        SET undone_at = coalesce(r.undone_at, now()),
            undo_status = CASE WHEN EXISTS (SELECT 1 FROM ${JOURNAL_TABLE} j WHERE j.run_id = r.run_id
                                             AND j.undo_outcome IN ('keptChanged', 'keptDependent'))
                               THEN 'undone, some rows kept' ELSE 'undone' END
      WHERE r.run_id = :run_id`,
    { run_id: options.runId },
  );
  result.status = 'undone';
  result.done = true;
  return finish();
}

async function requireRun(sql: SqlSession, runId: string): Promise<void> {
  const { rows } = await sql.query<{ journal: boolean; known: boolean | null }>(
    `SELECT to_regclass('${JOURNAL_TABLE}') IS NOT NULL AND to_regclass('${RUNS_TABLE}') IS NOT NULL AS journal`,
  );
  if (!rows[0]?.journal) {
    throw new UndoInputError(
      `no run journal in this database: no live backfill or merge has run here, nothing to undo`,
    );
  }
  const known = await sql.query(`SELECT 1 FROM ${RUNS_TABLE} WHERE run_id = :run_id`, { run_id: runId });
  if (known.rows.length === 0) {
    throw new UndoInputError(
      `run ${runId} is not in the journal (no live backfill or merge ran under that id)`,
    );
  }
}

async function alreadyUndone(sql: SqlSession, runId: string): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${JOURNAL_TABLE} WHERE run_id = :run_id AND undone_at IS NOT NULL`,
    { run_id: runId },
  );
  return rows[0]?.n ?? 0;
}

async function tableShapes(sql: SqlSession): Promise<TableShape[]> {
  const { rows } = await sql.query<{ table_name: string; columns: string[] }>(
    `SELECT c.relname AS table_name, array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.oid IN (${JOURNALED_TABLES.map(({ table }) => `to_regclass('${table}')`).join(', ')})
        AND a.attnum > 0 AND NOT a.attisdropped
      GROUP BY c.relname`,
  );
  return JOURNALED_TABLES.map(({ table, key }) => {
    const columns = rows.find((r) => r.table_name === table)?.columns ?? [];
    return { table, key, columns: columns.filter((c) => c !== key) };
  });
}

/** Every single-column foreign key that points at a table a run writes — ours and the application's. */
async function referencesTo(sql: SqlSession): Promise<Reference[]> {
  const journaled = JOURNALED_TABLES.map(({ table }) => `('${table}', to_regclass('${table}'))`).join(', ');
  const { rows } = await sql.query<{
    child_table: string;
    child_column: string;
    child_key: string | null;
    child_journaled: JournaledTable | null;
    parent_table: JournaledTable;
  }>(
    `WITH journaled(name, oid) AS (VALUES ${journaled})
     SELECT con.conrelid::regclass::text AS child_table, ca.attname::text AS child_column,
            (SELECT ka.attname::text FROM pg_index i
               JOIN pg_attribute ka ON ka.attrelid = i.indrelid AND ka.attnum = i.indkey[0]
              WHERE i.indrelid = con.conrelid AND i.indisprimary AND i.indnatts = 1) AS child_key,
            cj.name AS child_journaled, pj.name AS parent_table
       FROM pg_constraint con
       JOIN journaled pj ON pj.oid = con.confrelid
       LEFT JOIN journaled cj ON cj.oid = con.conrelid
       JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = con.conkey[1]
      WHERE con.contype = 'f' AND cardinality(con.conkey) = 1
      ORDER BY 1, 2`,
  );
  return rows.map((r) => ({
    childTable: r.child_table,
    childColumn: r.child_column,
    childKey: r.child_key,
    childJournaled: r.child_journaled,
    parentTable: r.parent_table,
  }));
}

/**
 * Which of a run's rows a pass handles: those the run left deleted (put back first, parents first), or
 * the others (deleted or restored, children first); null for all of them (the plan).
 */
type Pass = 'leftDeleted' | 'leftPresent' | null;

/**
 * The run's pending journal entries of one table, folded into one line per row (newest key first):
 * the first op and before-image (the row as it was before the run), and the last op and `after_hash`
 * (the row's version as the run left it; none when the run left it deleted).
 */
function pendingEntriesSql(table: JournaledTable, limit: string | null, pass: Pass = null): string {
  const lastOp = `(array_agg(op ORDER BY entry_id DESC))[1]`;
  const having = pass === null ? '' : ` HAVING ${lastOp} ${pass === 'leftDeleted' ? '=' : '<>'} 'delete'`;
  return `SELECT row_key,
                 (array_agg(op ORDER BY entry_id))[1] AS first_op,
                 (array_agg(before ORDER BY entry_id))[1] AS first_before,
                 ${lastOp} AS last_op,
                 (array_agg(after_hash ORDER BY entry_id DESC))[1] AS last_hash
            FROM ${JOURNAL_TABLE}
           WHERE run_id = :run_id AND table_name = '${table}' AND undone_at IS NULL
           GROUP BY row_key${having}
           ORDER BY row_key DESC${limit ? ` LIMIT ${limit}` : ''}`;
}

/**
 * True when the run inserted child row `alias` and would delete it: its first pending entry is an
 * insert and the row is as the run left it.
 */
function runWillDelete(childTable: JournaledTable, childKey: string, alias: string): string {
  return `coalesce((SELECT (array_agg(j.op ORDER BY j.entry_id))[1] = 'insert'
                       AND (array_agg(j.after_hash ORDER BY j.entry_id DESC))[1]
                           = ${rowFingerprintSql(alias, '(array_agg(j.after_hash ORDER BY j.entry_id DESC))[1]')}
                  FROM ${JOURNAL_TABLE} j
                 WHERE j.run_id = :run_id AND j.table_name = '${childTable}'
                   AND j.row_key = ${alias}.${childKey} AND j.undone_at IS NULL), false)`;
}

/** Rows of one reference that would still point at `parentKeySql` once the run's own rows are gone. */
function dependentRowsCondition(ref: Reference, parentKeySql: string, alias: string): string {
  const ownRow =
    ref.childJournaled && ref.childKey
      ? ` AND NOT ${runWillDelete(ref.childJournaled, ref.childKey, alias)}`
      : '';
  return `${alias}.${ref.childColumn} = ${parentKeySql}${ownRow}`;
}

function classifiedCtes(
  shape: TableShape,
  references: Reference[],
  limit: string | null,
  pass: Pass = null,
): string {
  const dependents = references
    .filter((ref) => ref.parentTable === shape.table)
    .map(
      (ref) =>
        `EXISTS (SELECT 1 FROM ${ref.childTable} d WHERE ${dependentRowsCondition(ref, 'e.row_key', 'd')})`,
    );
  const hasDependents = dependents.length > 0 ? dependents.join(' OR ') : 'false';
  // A row the run deleted and nobody re-created is put back, unless the run had inserted it first
  // (then nothing is left to undo). A row present where the run left none was written by someone since.
  return `entries AS (${pendingEntriesSql(shape.table, limit, pass)}),
  classified AS (
    SELECT e.*,
           CASE WHEN t.${shape.key} IS NULL
                  THEN CASE WHEN e.last_op = 'delete' AND e.first_op <> 'insert' THEN 'reinserted' ELSE 'gone' END
                WHEN ${rowFingerprintSql('t', 'e.last_hash')} IS DISTINCT FROM e.last_hash THEN 'keptChanged'
                WHEN e.first_op = 'insert' AND (${hasDependents}) THEN 'keptDependent'
                WHEN e.first_op = 'insert' THEN 'deleted'
                ELSE 'restored' END AS outcome
      FROM entries e LEFT JOIN ${shape.table} t ON t.${shape.key} = e.row_key)`;
}

/** A CTE that marks the run's pending entries of the rows in `source` (row_key, outcome) as undone. */
function markedCte(table: JournaledTable, source: string): string {
  return `marked AS (
       UPDATE ${JOURNAL_TABLE} j SET undone_at = now(), undo_outcome = s.outcome
         FROM ${source} s
        WHERE j.run_id = :run_id AND j.table_name = '${table}' AND j.row_key = s.row_key
          AND j.undone_at IS NULL
       RETURNING 1)`;
}

/** One chunk of one table: delete, restore and mark, in one statement; returns the outcome counts. */
async function undoChunk(
  tx: SqlSession,
  shape: TableShape,
  references: Reference[],
  options: UndoOptions,
): Promise<{ outcome: UndoOutcome; n: number }[]> {
  const columns = shape.columns;
  const restore =
    columns.length > 0
      ? `restored AS (
           UPDATE ${shape.table} t SET (${columns.join(', ')}) = (${columns.map((c) => `r.${c}`).join(', ')})
             FROM classified c CROSS JOIN LATERAL jsonb_populate_record(NULL::${shape.table}, c.first_before) AS r
            WHERE c.outcome = 'restored' AND t.${shape.key} = c.row_key
           RETURNING 1),`
      : '';
  const { rows } = await tx.query<{ outcome: UndoOutcome; n: number }>(
    `WITH ${classifiedCtes(shape, references, String(options.chunkSize), 'leftPresent')},
     deleted AS (
       DELETE FROM ${shape.table} t USING classified c
        WHERE c.outcome = 'deleted' AND t.${shape.key} = c.row_key
       RETURNING 1),
     ${restore}
     ${markedCte(shape.table, 'classified')}
     SELECT outcome, count(*)::int AS n FROM classified GROUP BY outcome`,
    { run_id: options.runId },
  );
  return rows;
}

/**
 * One chunk of the rows the run left deleted, in one statement: each is inserted again from its
 * before-image, with its own key (the sequence is not touched). Where someone wrote a row with its key
 * since, theirs stays (keptChanged). Where one of its other unique values is taken (a company's name),
 * the chunk is rolled back and the undo stops with UndoBlockedError: putting back the rows that refer
 * to it would fail anyway. Returns the outcome counts.
 */
async function reinsertChunk(
  tx: SqlSession,
  shape: TableShape,
  references: Reference[],
  options: UndoOptions,
): Promise<{ outcome: UndoOutcome; n: number }[]> {
  const columns = [shape.key, ...shape.columns];
  const { rows } = await tx.query<{ outcome: UndoOutcome; n: number; keys: string }>(
    `WITH ${classifiedCtes(shape, references, String(options.chunkSize), 'leftDeleted')},
     reinserted AS (
       INSERT INTO ${shape.table} (${columns.join(', ')})
       SELECT ${columns.map((c) => `r.${c}`).join(', ')}
         FROM classified c CROSS JOIN LATERAL jsonb_populate_record(NULL::${shape.table}, c.first_before) AS r
        WHERE c.outcome = 'reinserted'
        ORDER BY c.row_key
       ON CONFLICT DO NOTHING
       RETURNING ${shape.key}::int8 AS row_key),
     outcomes AS (
       SELECT c.row_key,
              CASE WHEN c.outcome = 'reinserted' AND NOT EXISTS (SELECT 1 FROM reinserted r WHERE r.row_key = c.row_key)
                   THEN 'blocked' ELSE c.outcome END AS outcome
         FROM classified c),
     ${markedCte(shape.table, 'outcomes')}
     SELECT outcome, count(*)::int AS n, string_agg(row_key::text, ', ' ORDER BY row_key) AS keys
       FROM outcomes GROUP BY outcome`,
    { run_id: options.runId },
  );
  const blocked = rows.find((r) => r.outcome === ('blocked' as UndoOutcome));
  if (blocked) {
    // Thrown inside the chunk's transaction: its re-inserts and marks are rolled back.
    throw new UndoBlockedError(
      `cannot put back ${shape.table} ${shape.key} ${blocked.keys} (deleted by run ${options.runId}): ` +
        'a row written since holds one of its unique values (e.g. the same company name); rename or remove ' +
        'that row and undo again',
    );
  }
  return rows.map(({ outcome, n }) => ({ outcome, n }));
}

/** The later rows that depend on rows the run created, with what they point at. */
function dependentsSelect(references: Reference[]): string {
  const parts = references.map((ref) => {
    const key = ref.childKey ? `d.${ref.childKey}::text` : 'NULL::text';
    return `SELECT '${ref.childTable}' AS "table", ${key} AS id, '${ref.childColumn}' AS "column",
                   '${ref.parentTable}' AS "references", e.row_key AS "referencedId"
              FROM (${pendingEntriesSql(ref.parentTable, null)}) e
              JOIN ${ref.parentTable} p ON p.${keyColumnOf(ref.parentTable)} = e.row_key AND ${rowFingerprintSql('p', 'e.last_hash')} = e.last_hash
              JOIN ${ref.childTable} d ON ${dependentRowsCondition(ref, 'e.row_key', 'd')}
             WHERE e.first_op = 'insert'`;
  });
  if (parts.length === 0) return `SELECT NULL::text AS "table" WHERE false`;
  return `SELECT * FROM (${parts.join('\nUNION ALL\n')}) AS x ORDER BY "references", "referencedId", "table", id`;
}

/** The run's rows someone changed after it (their values stay). */
function changedSinceSelect(shapes: TableShape[]): string {
  return `SELECT * FROM (${shapes
    .map(
      (shape) => `SELECT '${shape.table}' AS "table", e.row_key AS id, e.first_op AS "runDid"
                    FROM (${pendingEntriesSql(shape.table, null)}) e
                    JOIN ${shape.table} t ON t.${shape.key} = e.row_key
                   WHERE ${rowFingerprintSql('t', 'e.last_hash')} IS DISTINCT FROM e.last_hash`,
    )
    .join('\nUNION ALL\n')}) AS x ORDER BY "table", id`;
}

function addCounts(into: OutcomeCounts, rows: { outcome: UndoOutcome; n: number }[]): void {
  for (const row of rows) into[row.outcome] += row.n;
}
