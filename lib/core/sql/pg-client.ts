import pg from 'pg';
import { AdapterBase, type StatementResult } from './adapter-base.ts';
import { DatabaseConfigurationError, fromPostgresError } from './errors.ts';
import { toPositional } from './sql-text.ts';
import type { SqlParams } from './types.ts';
import { positionalValues, textParsers } from './values.ts';

export interface PgClientOptions {
  /** A `postgres://` or `postgresql://` URL. */
  url: string;
  /** Schema for unqualified names (must exist, or be created by the caller); the server default when absent. */
  schema?: string;
  /** Pool size; a migration step needs few connections. */
  maxConnections?: number;
  /** Milliseconds before a statement is cancelled by the server; none when absent. */
  statementTimeoutMs?: number;
}

/** Our value parsers for the types we normalize; pg's defaults for the rest. */
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    const parse = textParsers[oid];
    if (parse && format !== 'binary') return parse;
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** A PostgreSQL server through a `pg` connection pool. */
export class PgSqlClient extends AdapterBase<pg.PoolClient> {
  readonly adapter = 'pg' as const;
  readonly pool: pg.Pool;

  constructor(options: PgClientOptions) {
    super();
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new DatabaseConfigurationError(`not a valid database URL: ${describeUrl(options.url)}`, {
        adapter: 'pg',
      });
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new DatabaseConfigurationError(
        `database URL must start with postgres:// or postgresql:// (got ${parsed.protocol}//)`,
        { adapter: 'pg' },
      );
    }
    // JIT compiles each big statement for about a second (the correlated lookups inflate the cost
    // estimates past its thresholds), far longer than the chunk-sized work it would speed up.
    const settings = ['-c TimeZone=UTC', '-c jit=off'];
    if (options.schema) settings.push(`-c search_path=${options.schema}`);
    if (options.statementTimeoutMs) settings.push(`-c statement_timeout=${options.statementTimeoutMs}`);
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: 10_000,
      options: settings.join(' '),
      types: typeParsers,
    });
    // An idle client losing its connection must not crash the process; the next query reports it.
    this.pool.on('error', () => {});
  }

  protected async execute(
    sql: string,
    params: SqlParams,
    tx: pg.PoolClient | undefined,
  ): Promise<StatementResult> {
    const { text, names } = toPositional(sql);
    const values = positionalValues(names, params, this.adapter);
    try {
      const result = await (tx ?? this.pool).query(text, values);
      return { rows: result.rows, rowsAffected: result.rowCount ?? result.rows.length };
    } catch (error) {
      throw fromPostgresError(error, this.adapter);
    }
  }

  protected async inTransaction<T>(work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw fromPostgresError(error, this.adapter);
    }
    let broken = false;
    // A checked-out client whose connection drops (server restart, pg_terminate_backend, network) emits
    // 'error'; with no listener that is an uncaught exception that ends the process before the caller
    // can retry. The statement in flight fails on its own with a DatabaseConnectionError.
    const onConnectionError = () => {
      broken = true;
    };
    client.on('error', onConnectionError);
    try {
      await this.control(client, 'BEGIN');
      const result = await work(client);
      await this.control(client, 'COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection itself failed: the server rolls back; make sure it is not reused.
        broken = true;
      }
      // The caller's own error comes back unchanged; driver errors were classified where they arose.
      throw error;
    } finally {
      client.off('error', onConnectionError);
      client.release(broken);
    }
  }

  private async control(client: pg.PoolClient, command: 'BEGIN' | 'COMMIT'): Promise<void> {
    try {
      await client.query(command);
    } catch (error) {
      throw fromPostgresError(error, this.adapter);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
