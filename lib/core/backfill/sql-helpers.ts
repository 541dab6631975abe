import type { SqlParams, SqlSession } from '../sql/types.ts';
import type { Sample } from './contract.ts';

/** How many rows a table holds (for progress displays). */
export async function rowCount(sql: SqlSession, table: string): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${table}`);
  return Number(rows[0]?.n ?? 0);
}

/** The next keyset chunk of a legacy table: its last key and its size, or null when none is left. */
export async function legacyChunkBounds(
  sql: SqlSession,
  table: string,
  idColumn: string,
  after: number,
  limit: number,
): Promise<{ upto: number; rows: number } | null> {
  const { rows } = await sql.query<{ upto: number | null; rows: number }>(
    `SELECT max(id) AS upto, count(*)::int AS rows
       FROM (SELECT ${idColumn} AS id FROM ${table} WHERE ${idColumn} > :after::int8 ORDER BY ${idColumn} LIMIT :limit) AS c`,
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
