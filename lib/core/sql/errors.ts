import type { SqlAdapterKind } from './types.ts';

/**
 * Database failures, one class per way a caller should react. The class name is the error's `name`,
 * which is what a Step Functions Retry matches on, so these names are part of the state machine's
 * contract.
 */
export type SqlErrorKind =
  | 'statement-timeout'
  | 'database-resuming'
  | 'throttled'
  | 'connection'
  | 'concurrency-conflict'
  | 'transaction-expired'
  | 'response-too-large'
  | 'access-denied'
  | 'configuration'
  | 'query';

export interface SqlErrorDetails {
  adapter: SqlAdapterKind;
  /** The PostgreSQL SQLSTATE, when the database reported one. */
  sqlState?: string | undefined;
  cause?: unknown;
}

export abstract class SqlClientError extends Error {
  abstract readonly kind: SqlErrorKind;
  /** True when running the same unit of work again (a statement, or the whole transaction) may succeed. */
  abstract readonly retryable: boolean;
  readonly adapter: SqlAdapterKind;
  readonly sqlState: string | undefined;

  constructor(message: string, details: SqlErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.adapter = details.adapter;
    this.sqlState = details.sqlState;
  }
}

/** The statement ran past its time limit (Data API: 45 s; PostgreSQL: statement_timeout). */
export class StatementTimeoutError extends SqlClientError {
  readonly kind = 'statement-timeout';
  readonly retryable = true;
}

/** An Aurora Serverless cluster paused and is resuming; the same call works in a few seconds. */
export class DatabaseResumingError extends SqlClientError {
  readonly kind = 'database-resuming';
  readonly retryable = true;
}

/** Too many requests or connections. */
export class ThrottlingError extends SqlClientError {
  readonly kind = 'throttled';
  readonly retryable = true;
}

/** The database could not be reached or the connection dropped. */
export class DatabaseConnectionError extends SqlClientError {
  readonly kind = 'connection';
  readonly retryable = true;
}

/** Serialization failure, deadlock or lock timeout: the transaction was rolled back and may be rerun. */
export class ConcurrencyConflictError extends SqlClientError {
  readonly kind = 'concurrency-conflict';
  readonly retryable = true;
}

/** The transaction is gone (Data API: rolled back after 3 idle minutes); rerun the whole transaction. */
export class TransactionExpiredError extends SqlClientError {
  readonly kind = 'transaction-expired';
  readonly retryable = true;
}

/** The response would exceed the Data API's 1 MiB limit; read in smaller pages. */
export class ResponseTooLargeError extends SqlClientError {
  readonly kind = 'response-too-large';
  readonly retryable = false;
}

export class DatabaseAccessDeniedError extends SqlClientError {
  readonly kind = 'access-denied';
  readonly retryable = false;
}

/** Bad settings: an unparsable URL, a missing database, a value the adapter cannot send. */
export class DatabaseConfigurationError extends SqlClientError {
  readonly kind = 'configuration';
  readonly retryable = false;
}

/** The database rejected the statement (syntax, constraint, missing table …): rerunning will not help. */
export class QueryError extends SqlClientError {
  readonly kind = 'query';
  readonly retryable = false;
}

export function isRetryableSqlError(error: unknown): boolean {
  return error instanceof SqlClientError && error.retryable;
}

type ErrorClass = new (message: string, details: SqlErrorDetails) => SqlClientError;

/** Maps a PostgreSQL SQLSTATE to the class a caller should see. */
export function errorClassForSqlState(sqlState: string | undefined): ErrorClass {
  if (!sqlState) return QueryError;
  if (sqlState === '57014') return StatementTimeoutError; // query_canceled: statement_timeout fired
  if (sqlState === '40001' || sqlState === '40P01' || sqlState === '55P03') return ConcurrencyConflictError;
  if (sqlState.startsWith('08') || ['57P01', '57P02', '57P03'].includes(sqlState))
    return DatabaseConnectionError;
  if (sqlState.startsWith('53')) return ThrottlingError; // insufficient resources, too many connections
  if (sqlState === '28000' || sqlState === '28P01' || sqlState === '42501') return DatabaseAccessDeniedError;
  if (sqlState === '3D000') return DatabaseConfigurationError; // database does not exist
  return QueryError;
}

interface PostgresErrorLike {
  message?: unknown;
  code?: unknown;
}

const NODE_CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/** An error message from a PostgreSQL server (pg's and PGlite's DatabaseError both look like this). */
export function isPostgresServerError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string';
}

/** Wraps an error from `pg` or PGlite (both carry the SQLSTATE in `code`) into our classes. */
export function fromPostgresError(error: unknown, adapter: SqlAdapterKind): SqlClientError {
  if (error instanceof SqlClientError) return error;
  const like = (typeof error === 'object' && error !== null ? error : {}) as PostgresErrorLike;
  const message = typeof like.message === 'string' && like.message ? like.message : String(error);
  const code = typeof like.code === 'string' ? like.code : undefined;
  if (code && NODE_CONNECTION_CODES.has(code)) {
    return new DatabaseConnectionError(message, { adapter, cause: error });
  }
  if (
    !code &&
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)
  ) {
    return new DatabaseConnectionError(message, { adapter, cause: error });
  }
  const sqlState = code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const ErrorType = errorClassForSqlState(sqlState);
  return new ErrorType(message, { adapter, sqlState, cause: error });
}
