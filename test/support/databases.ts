import { randomBytes } from 'node:crypto';
import { PgSqlClient } from '../../lib/core/sql/pg-client.ts';
import { PgliteSqlClient } from '../../lib/core/sql/pglite-client.ts';
import type { SqlAdapterKind, SqlClient } from '../../lib/core/sql/types.ts';

/** The PostgreSQL server the suite also runs against, when set (.ci/run sets it). */
export const serverUrl = process.env.DATABASE_URL;

export interface TestDatabase {
  client: SqlClient;
  /** The schema this test owns; nothing else uses it. */
  schema: string;
  dispose(): Promise<void>;
}

export function uniqueSchemaName(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** An in-memory PGlite whose unqualified names live in a fresh schema. */
export async function openPgliteDatabase(): Promise<TestDatabase> {
  const schema = uniqueSchemaName();
  const client = await PgliteSqlClient.open({ schema });
  return { client, schema, dispose: () => client.close() };
}

/** A fresh schema on the PostgreSQL server at DATABASE_URL, dropped on dispose. */
export async function openServerDatabase(url = serverUrl): Promise<TestDatabase> {
  if (!url) throw new Error('DATABASE_URL is not set');
  const schema = uniqueSchemaName();
  const admin = new PgSqlClient({ url, maxConnections: 1 });
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const client = new PgSqlClient({ url, schema });
  return {
    client,
    schema,
    async dispose() {
      await client.close();
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      await admin.close();
    },
  };
}

export interface AdapterUnderTest {
  name: SqlAdapterKind;
  open(): Promise<TestDatabase>;
}

/** Real PostgreSQL back ends: PGlite always, the server when DATABASE_URL is set. */
export const realDatabases: AdapterUnderTest[] = [
  { name: 'pglite', open: openPgliteDatabase },
  ...(serverUrl ? [{ name: 'pg' as const, open: () => openServerDatabase() }] : []),
];
