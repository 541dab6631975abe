import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DatabaseConnectionError } from '../core/sql/errors.ts';
import { describeUrl, PgSqlClient } from '../core/sql/pg-client.ts';
import { PgliteSqlClient } from '../core/sql/pglite-client.ts';
import type { SqlClient } from '../core/sql/types.ts';
import { CliError } from './errors.ts';

/** Where the embedded database lives unless --data-dir or COMPANY_MIGRATION_DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = '.data/pglite';

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  /** Refuse to create an embedded database that is not there yet (every command but `db init`). */
  mustExist?: boolean;
}

export interface OpenedDatabase {
  client: SqlClient;
  /** For messages: the URL without its password, or the embedded data directory. */
  description: string;
}

/** The database a command works on: a server URL when given (flag or DATABASE_URL), else embedded PGlite. */
export function resolveDatabase(
  options: DatabaseOptions,
  env: NodeJS.ProcessEnv,
): { url?: string; dataDir: string } {
  const url = options.databaseUrl ?? env.DATABASE_URL;
  const dataDir = resolve(options.dataDir ?? env.COMPANY_MIGRATION_DATA_DIR ?? DEFAULT_DATA_DIR);
  return url ? { url, dataDir } : { dataDir };
}

export async function openDatabase(
  options: DatabaseOptions,
  env: NodeJS.ProcessEnv,
): Promise<OpenedDatabase> {
  const target = resolveDatabase(options, env);
  if (target.url) {
    const client = new PgSqlClient({ url: target.url });
    try {
      // Fail here, with the URL in the message, rather than half-way through a command.
      await client.query('SELECT 1');
    } catch (error) {
      await client.close().catch(() => {});
      if (error instanceof DatabaseConnectionError) {
        throw new DatabaseConnectionError(`cannot reach ${describeUrl(target.url)}: ${error.message}`, {
          adapter: 'pg',
          cause: error,
        });
      }
      throw error;
    }
    return { client, description: describeUrl(target.url) };
  }
  if (options.mustExist && !existsSync(target.dataDir)) {
    throw new CliError(`no embedded database at ${target.dataDir}: run \`company-migration db init\` first`);
  }
  if (existsSync(target.dataDir) && !statSync(target.dataDir).isDirectory()) {
    throw new CliError(`${target.dataDir} is a file, not an embedded database directory`);
  }
  const client = await PgliteSqlClient.open({ dataDir: target.dataDir });
  return { client, description: `embedded PGlite at ${target.dataDir}` };
}

/** The options every database command takes, worded the same everywhere. */
export function withDatabaseOptions(command: Command): Command {
  return command
    .option(
      '--database-url <url>',
      'a PostgreSQL server (postgres://…); default: DATABASE_URL, else embedded PGlite',
    )
    .option(
      '--data-dir <dir>',
      `embedded database directory (default: COMPANY_MIGRATION_DATA_DIR or ${DEFAULT_DATA_DIR})`,
    );
}
