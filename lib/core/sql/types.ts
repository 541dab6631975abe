/**
 * The one way core code talks to PostgreSQL. Three adapters implement it (PGlite, `pg`, RDS Data API);
 * the same SQL text, with `:name` parameters, runs through all of them and reads back the same values.
 *
 * Values read back, whatever the adapter:
 * - text, varchar, uuid → string; boolean → boolean; int2/int4/float → number
 * - int8 → number when it is a safe integer, bigint beyond 2^53 (never a rounded number)
 * - numeric → string (exact); date → 'YYYY-MM-DD'; timestamp → 'YYYY-MM-DD HH:MM:SS[.ffffff]'
 * - timestamptz → the same text in UTC; json/jsonb → the parsed value; NULL → null
 */

export type SqlAdapterKind = 'pglite' | 'pg' | 'data-api';

/** Types the RDS Data API cannot infer from a JS value; `pg` and PGlite send them as text. */
export type SqlTypeHint = 'date' | 'time' | 'timestamp' | 'decimal' | 'json' | 'uuid';

export interface TypedSqlParam {
  readonly typeHint: SqlTypeHint;
  readonly value: string | null;
}

/** A JS Date is sent as a UTC timestamp. */
export type SqlParam = string | number | bigint | boolean | null | Date | TypedSqlParam;

export type SqlParams = Readonly<Record<string, SqlParam>>;

export type SqlRow = Record<string, unknown>;

export interface QueryResult<Row> {
  rows: Row[];
  /** Rows inserted, updated or deleted (or returned, for a SELECT). */
  rowsAffected: number;
}

export interface PagedReadRequest {
  /** A SELECT whose result carries the key columns; it is wrapped, so it may have no ORDER BY or LIMIT. */
  sql: string;
  params?: SqlParams;
  /** Column(s) unique over the result, read in ascending order. Integers or text. */
  key: string | readonly string[];
  /** The most rows a page may hold; adapters with a response-size limit use fewer when rows are large. */
  pageSize?: number;
}

export interface SqlSession {
  query<Row extends object = SqlRow>(sql: string, params?: SqlParams): Promise<QueryResult<Row>>;
  /** Runs a script of several statements, one after the other; returns how many ran. */
  runScript(script: string): Promise<number>;
  /** Reads a large result in key order, one page per round trip. */
  readPages<Row extends object = SqlRow>(request: PagedReadRequest): AsyncGenerator<Row[], void, undefined>;
}

export interface SqlClient extends SqlSession {
  readonly adapter: SqlAdapterKind;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws (the error
   * is rethrown). Nothing of a failed transaction stays behind.
   */
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
  /** Statements sent to the database so far (tests and the benchmark count them). */
  readonly statementsIssued: number;
  close(): Promise<void>;
}

function typed(typeHint: SqlTypeHint) {
  return (value: string | null): TypedSqlParam => ({ typeHint, value });
}

/** Parameter values that carry their PostgreSQL type. */
export const sqlParam = {
  date: typed('date'),
  time: typed('time'),
  timestamp: typed('timestamp'),
  decimal: typed('decimal'),
  uuid: typed('uuid'),
  json: (value: unknown): TypedSqlParam => ({
    typeHint: 'json',
    value: value === null || value === undefined ? null : JSON.stringify(value),
  }),
};

export function isTypedSqlParam(value: unknown): value is TypedSqlParam {
  return typeof value === 'object' && value !== null && !(value instanceof Date) && 'typeHint' in value;
}
