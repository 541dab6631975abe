import type { QueryResult, SqlParams, SqlSession } from '../sql/types.ts';
import type { Sample } from './contract.ts';

/** How many rows a table holds (for progress displays). */
export async function rowCount(sql: SqlSession, table: string): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${table}`);
  return Number(rows[0]?.n ?? 0);
}

/**
 * A select-list item that turns JIT compilation off for the rest of the chunk's transaction. JIT spends
 * about a second compiling each of a chunk's big statements (their correlated lookups inflate the cost
 * estimates past its thresholds) to speed up milliseconds of work. The chunk-bounds query is the first
 * statement of every chunk, so this costs no round trip (what the Data API counts).
 */
export const JIT_OFF_FOR_TRANSACTION = `set_config('jit', 'off', true) AS jit_setting`;

/** The next keyset chunk of a legacy table: its last key and its size, or null when none is left. */
export async function legacyChunkBounds(
  sql: SqlSession,
  table: string,
  idColumn: string,
  after: number,
  limit: number,
): Promise<{ upto: number; rows: number } | null> {
  const { rows } = await sql.query<{ upto: number | null; rows: number }>(
    `SELECT max(id) AS upto, count(*)::int AS rows, ${JIT_OFF_FOR_TRANSACTION}
       FROM (SELECT ${idColumn} AS id FROM ${table} WHERE ${idColumn} > :after::int8 ORDER BY ${idColumn} LIMIT :limit) AS c`,
    { after, limit },
  );
  const row = rows[0];
  return row && row.upto !== null ? { upto: Number(row.upto), rows: row.rows } : null;
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
): Promise<{ upto: number; rows: number } | null> {
  const { rows } = await sql.query<{ upto: number | null; rows: number }>(
    `WITH bound AS (
       SELECT max(g) AS upto
         FROM (SELECT ${groupColumn} AS g FROM ${table} WHERE ${groupColumn} > :after::int8
                ORDER BY ${groupColumn} LIMIT :limit) AS c)
     SELECT b.upto,
            (SELECT count(*) FROM ${table} t WHERE t.${groupColumn} > :after::int8 AND t.${groupColumn} <= b.upto)::int AS rows,
            ${JIT_OFF_FOR_TRANSACTION}
       FROM bound b`,
    { after, limit },
  );
  const row = rows[0];
  return row && row.upto !== null ? { upto: Number(row.upto), rows: row.rows } : null;
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
