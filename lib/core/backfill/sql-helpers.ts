import { SqlClientError } from '../sql/errors.ts';
import type { QueryResult, SqlParams, SqlSession } from '../sql/types.ts';
import { ensureIndexes, type WantedIndex } from '../validation/indexes.ts';
import type { Sample } from './contract.ts';
import type { ChunkBounds, StepOutcome } from './driver.ts';

/** How many rows a table holds (for progress displays), as a scalar query. */
export function rowCountSql(table: string): string {
  return `SELECT count(*) FROM ${table}`;
}

/**
 * A select-list item that turns JIT compilation off for the rest of the chunk's transaction. JIT spends
 * about a second compiling each of a chunk's big statements (their correlated lookups inflate the cost
 * estimates past its thresholds) to speed up milliseconds of work. The chunk-bounds query is the first
 * statement of every chunk, so this costs no round trip (what the Data API counts).
 */
export const JIT_OFF_FOR_TRANSACTION = `set_config('jit', 'off', true) AS jit_setting`;

/**
 * For a link step's chunk transaction, with JIT off: no nested-loop joins. Its statements join a chunk of
 * links to what they point at (the records' companies, the projects); the planner picks a nested loop
 * when the statistics say a side is nearly empty, and the unified tables' statistics are stale during a
 * migration by nature (the companies step has just filled them). A nested loop over a chunk's 50,000 links
 * with a side the statistics call empty runs for minutes; hash and merge joins stay linear whatever the
 * estimates. Lookups written as correlated subqueries (one index probe per row) are not joins and keep
 * their plans.
 */
export const NO_NESTED_LOOPS_FOR_TRANSACTION = `set_config('enable_nestloop', 'off', true) AS nestloop_setting`;

/** The next keyset chunk of a legacy table: its last key and its size, or null when none is left. */
export async function legacyChunkBounds(
  sql: SqlSession,
  table: string,
  idColumn: string,
  after: number,
  limit: number,
): Promise<ChunkBounds | null> {
  const { rows } = await sql.query<{ upto: number | null; rows: number; last: boolean }>(
    `WITH c AS (SELECT max(id) AS upto, count(*)::int AS rows
                  FROM (SELECT ${idColumn} AS id FROM ${table} WHERE ${idColumn} > :after::int8
                         ORDER BY ${idColumn} LIMIT :limit) AS ids)
     SELECT c.upto, c.rows, NOT EXISTS (SELECT 1 FROM ${table} t WHERE t.${idColumn} > c.upto) AS last,
            ${JIT_OFF_FOR_TRANSACTION}
       FROM c`,
    { after, limit },
  );
  return boundsOf(rows[0]);
}

/**
 * The next chunk of a link table that holds whole groups: up to `limit` rows by `groupColumn` (e.g. all
 * links of a range of projects), widened to the end of the last group, so every identity built from one
 * group's rows is decided inside one chunk. Returns the last group key and the chunk's row count.
 */
export async function groupChunkBounds(
  sql: SqlSession,
  table: string,
  groupColumn: string,
  after: number,
  limit: number,
): Promise<ChunkBounds | null> {
  const { rows } = await sql.query<{ upto: number | null; rows: number; last: boolean }>(
    `WITH bound AS (
       SELECT max(g) AS upto
         FROM (SELECT ${groupColumn} AS g FROM ${table} WHERE ${groupColumn} > :after::int8
                ORDER BY ${groupColumn} LIMIT :limit) AS c)
     SELECT b.upto,
            (SELECT count(*) FROM ${table} t WHERE t.${groupColumn} > :after::int8 AND t.${groupColumn} <= b.upto)::int AS rows,
            NOT EXISTS (SELECT 1 FROM ${table} t WHERE t.${groupColumn} > b.upto) AS last,
            ${JIT_OFF_FOR_TRANSACTION}, ${NO_NESTED_LOOPS_FOR_TRANSACTION}
       FROM bound b`,
    { after, limit },
  );
  return boundsOf(rows[0]);
}

/** A bounds query's row as ChunkBounds; null when the range held no rows. */
export function boundsOf(
  row: { upto: number | null; rows: number; last: boolean } | undefined,
): ChunkBounds | null {
  return row && row.upto !== null ? { upto: Number(row.upto), rows: row.rows, last: row.last } : null;
}

/** The number of rows a query returns and the first `sampleSize` of them, in one statement. */
export async function countAndSample(
  sql: SqlSession,
  select: string,
  params: SqlParams,
  sampleSize: number,
): Promise<Sample> {
  const { rows } = await sql.query<{ total: number; sample: Sample['sample'] | null }>(
    `WITH q AS (${select})
     SELECT (SELECT count(*) FROM q)::int8 AS total,
            (SELECT json_agg(s) FROM (SELECT * FROM q LIMIT :sample_size) AS s) AS sample`,
    { ...params, sample_size: sampleSize },
  );
  const row = rows[0];
  return { count: Number(row?.total ?? 0), sample: row?.sample ?? [] };
}

/** The `n` a journaled write returns (`SELECT count(*) AS n FROM written`). */
export function writtenCount(result: QueryResult<Record<string, unknown>>): number {
  return Number(result.rows[0]?.n ?? 0);
}

/**
 * Creates the read indexes a link step's chunks use, where missing. Only a table's owner may index it:
 * without that privilege the step goes on without them (the same results, more slowly).
 */
export async function ensureLinkIndexes(sql: SqlSession, wanted: readonly WantedIndex[]): Promise<void> {
  try {
    await ensureIndexes(sql, wanted, { create: true });
  } catch (error) {
    if (!(error instanceof SqlClientError && error.sqlState === '42501')) throw error;
  }
}

/**
 * Runs a link step's chunk statement (or its dry run over the whole table), whose one row names each of
 * the step's counts as a column, plus orphan_count and orphan_sample.
 */
export async function runLinkChunkStatement(
  sql: SqlSession,
  statement: string,
  params: SqlParams,
  countKeys: readonly string[],
): Promise<StepOutcome> {
  const { rows } = await sql.query<Record<string, unknown>>(statement, params);
  const row = rows[0] ?? {};
  return {
    counts: Object.fromEntries(countKeys.map((key) => [key, Number(row[key] ?? 0)])),
    orphans: {
      count: Number(row.orphan_count ?? 0),
      sample: (row.orphan_sample as Sample['sample'] | null) ?? [],
    },
  };
}
