import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { AdapterBase, type StatementResult } from './adapter-base.ts';
import { DatabaseConfigurationError, fromPostgresError, isPostgresServerError } from './errors.ts';
import { toPositional } from './sql-text.ts';
import type { SqlParams } from './types.ts';
import { positionalValues, textParsers } from './values.ts';

export interface PgliteClientOptions {
  /** A folder for a persistent database; in memory when absent. */
  dataDir?: string;
  /** Schema for unqualified names (created when missing); `public` when absent. */
  schema?: string;
}

/** The embedded PostgreSQL. One connection: statements and transactions run one at a time. */
export class PgliteSqlClient extends AdapterBase<Transaction> {
  readonly adapter = 'pglite' as const;

  private constructor(
    readonly db: PGlite,
    private readonly lockFile?: string,
  ) {
    super();
  }

  static async open(options: PgliteClientOptions = {}): Promise<PgliteSqlClient> {
    if (!options.dataDir)
      return PgliteSqlClient.wrap(await PGlite.create({ parsers: textParsers }), options.schema);
    const lockFile = lockDataDir(options.dataDir);
    try {
      const db = await PGlite.create({ dataDir: options.dataDir, parsers: textParsers });
      return await PgliteSqlClient.wrap(db, options.schema, lockFile);
    } catch (error) {
      rmSync(lockFile, { force: true });
      throw error;
    }
  }

  /** Uses an instance the caller opened (tests share one per file); `close()` closes it. */
  static async wrap(db: PGlite, schema?: string, lockFile?: string): Promise<PgliteSqlClient> {
    await db.exec("SET TIME ZONE 'UTC'");
    if (schema) {
      const quoted = `"${schema.replaceAll('"', '""')}"`;
      await db.exec(`CREATE SCHEMA IF NOT EXISTS ${quoted}; SET search_path TO ${quoted}`);
    }
    return new PgliteSqlClient(db, lockFile);
  }

  protected async execute(
    sql: string,
    params: SqlParams,
    tx: Transaction | undefined,
  ): Promise<StatementResult> {
    const { text, names } = toPositional(sql);
    const values = positionalValues(names, params, this.adapter);
    try {
      const result = await (tx ?? this.db).query<Record<string, unknown>>(text, values, {
        parsers: textParsers,
      });
      return { rows: result.rows, rowsAffected: result.affectedRows ?? result.rows.length };
    } catch (error) {
      throw fromPostgresError(error, this.adapter);
    }
  }

  protected async inTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(work);
    } catch (error) {
      // BEGIN/COMMIT failures arrive raw; the caller's own errors come back unchanged.
      throw isPostgresServerError(error) ? fromPostgresError(error, this.adapter) : error;
    }
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
    if (this.lockFile) rmSync(this.lockFile, { force: true });
  }
}

/**
 * Two PGlite instances on one data directory corrupt it, so a lock file beside the directory holds
 * the owner's pid. A lock left by a process that no longer runs is taken over.
 */
export function lockDataDir(dataDir: string, whatToDo = 'wait for it to finish'): string {
  const lockFile = `${dataDir.replace(/[\\/]+$/, '')}.lock`;
  mkdirSync(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return lockFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
        throw new DatabaseConfigurationError(
          `the embedded database at ${dataDir} is in use by process ${owner}` +
            `${owner === process.pid ? ' (this one)' : ''}; ${whatToDo}`,
          { adapter: 'pglite' },
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new DatabaseConfigurationError(`could not lock the embedded database at ${dataDir}`, {
    adapter: 'pglite',
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
