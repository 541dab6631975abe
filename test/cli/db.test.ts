import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LEGACY_TABLES } from '../../lib/core/schema/legacy.sql.ts';
import { UNIFIED_TABLES } from '../../lib/core/schema/unified.sql.ts';
import { PgSqlClient } from '../../lib/core/sql/pg-client.ts';
import { PgliteSqlClient } from '../../lib/core/sql/pglite-client.ts';
import { runCliCaptured, runCliProcess } from '../support/cli.ts';
import { serverUrl, uniqueSchemaName } from '../support/databases.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const ALL_TABLES = [...LEGACY_TABLES, ...UNIFIED_TABLES];

describe('company-migration db init (embedded)', () => {
  it('creates both schemas and prints the row count of every table', async () => {
    // Prepare
    const dataDir = join(scratch, 'schema-only');

    // Act
    const run = await runCliCaptured(['db', 'init', '--schema-only', '--data-dir', dataDir]);

    // Assess
    expect(run.code).toBe(0);
    for (const table of ALL_TABLES) expect(run.stdout).toMatch(new RegExp(`^${table}\\s+0$`, 'm'));
  });

  it('loads the demo data once, refuses to load it twice, and keeps it with --if-absent', async () => {
    // Prepare
    const dataDir = join(scratch, 'demo');

    // Act
    const first = await runCliCaptured(['db', 'init', '--demo', '--data-dir', dataDir, '--json']);
    const second = await runCliCaptured(['db', 'init', '--demo', '--data-dir', dataDir]);
    const third = await runCliCaptured([
      'db',
      'init',
      '--demo',
      '--if-absent',
      '--data-dir',
      dataDir,
      '--json',
    ]);

    // Assess
    expect(first.code).toBe(0);
    const loaded = JSON.parse(first.stdout) as {
      demoLoaded: boolean;
      tables: { table: string; rows: number }[];
    };
    expect(loaded.demoLoaded).toBe(true);
    expect(loaded.tables.map((t) => t.table).sort()).toEqual([...ALL_TABLES].sort());
    expect(loaded.tables.find((t) => t.table === 'technology_vendors')?.rows).toBeGreaterThan(0);
    expect(second.code).toBe(2);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(/refusing to load demo data.*--if-absent/);
    const kept = JSON.parse(third.stdout) as { demoLoaded: boolean; tables: unknown };
    expect(third.code).toBe(0);
    expect(kept.demoLoaded).toBe(false);
    expect(kept.tables).toEqual(loaded.tables);
  });

  it('creates the title column under the name the application models use when asked', async () => {
    // Act
    const run = await runCliCaptured([
      'db',
      'init',
      '--schema-only',
      '--legacy-title-column',
      'role_at_entity',
      '--data-dir',
      join(scratch, 'role-at-entity'),
      '--json',
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ personnelTitleColumn: 'role_at_entity' });
  });

  it.each([
    [['db', 'init', '--scale', '0'], /scale/],
    [['db', 'init', '--schema-only', '--demo'], /--schema-only cannot be combined/],
    [['db', 'init', '--defects'], /--defects needs --demo/],
    [['db', 'init', '--database-url', 'not a url'], /not a valid database URL/],
    [['db', 'init', '--database-url', 'mysql://localhost/x'], /must start with postgres/],
    [['db', 'init', '--no-such-option'], /unknown option/],
  ])('rejects bad input %j with one clear line and exit code 2', async (argv, message) => {
    // Act
    const run = await runCliCaptured([...argv, '--data-dir', join(scratch, 'rejected')]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('answers --help for every command', async () => {
    // Act
    const runs = await Promise.all(
      [['--help'], ['db', '--help'], ['db', 'init', '--help'], ['db', 'status', '--help']].map((argv) =>
        runCliCaptured(argv),
      ),
    );

    // Assess
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: company-migration/);
    }
  });

  it('db status names the missing tables of a database without the schemas and exits 2', async () => {
    // Prepare
    const dataDir = join(scratch, 'empty');
    await runCliCaptured(['db', 'init', '--schema-only', '--data-dir', dataDir]);
    const emptied = await PgliteSqlClient.open({ dataDir });
    await emptied.query('DROP TABLE person_company_affiliations, client_profiles');
    await emptied.close();

    // Act
    const run = await runCliCaptured(['db', 'status', '--data-dir', dataDir]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/lacks 2 table\(s\): client_profiles, person_company_affiliations/);
  });

  it('refuses to open an embedded database another process holds, and takes over a stale lock', async () => {
    // Prepare
    const dataDir = join(scratch, 'locked');
    const holder = await PgliteSqlClient.open({ dataDir });

    // Act
    const whileHeld = await runCliCaptured(['db', 'init', '--schema-only', '--data-dir', dataDir]);
    await holder.close();
    writeFileSync(`${dataDir}.lock`, '999999999'); // a pid no process has
    const afterStaleLock = await runCliCaptured(['db', 'init', '--schema-only', '--data-dir', dataDir]);

    // Assess
    expect(whileHeld.code).toBe(2);
    expect(whileHeld.stderr).toMatch(new RegExp(`in use by process ${process.pid}`));
    expect(afterStaleLock.code).toBe(0);
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });

  it('db status does not create an embedded database that is not there', async () => {
    // Prepare
    const dataDir = join(scratch, 'never-created');

    // Act
    const run = await runCliCaptured(['db', 'status', '--data-dir', dataDir]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no embedded database at .*never-created.*db init/);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('company-migration entry point (a fresh Node process)', () => {
  it('reports an unreachable server in one line, exit code 2, and the stack only with --verbose', () => {
    // Prepare
    const unreachable = 'postgres://postgres:secret@127.0.0.1:1/nukeworks';

    // Act
    const plain = runCliProcess(['db', 'init', '--database-url', unreachable]);
    const verbose = runCliProcess(['db', 'init', '--database-url', unreachable, '--verbose']);

    // Assess
    expect(plain.code).toBe(2);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    expect(plain.stderr).toMatch(/cannot reach postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nukeworks/);
    expect(plain.stderr).not.toContain('secret');
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });
});

describe.runIf(serverUrl)('company-migration db init (PostgreSQL server)', () => {
  const database = uniqueSchemaName('cli');
  const admin = serverUrl ? new PgSqlClient({ url: serverUrl, maxConnections: 1 }) : undefined;

  afterAll(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin?.close();
  });

  it('creates the schemas and loads the demo data on the server at --database-url', async () => {
    // Prepare
    await admin?.query(`CREATE DATABASE "${database}"`);
    const url = new URL(serverUrl as string);
    url.pathname = `/${database}`;

    // Act
    const init = await runCliCaptured(['db', 'init', '--demo', '--database-url', url.toString(), '--json']);
    const status = await runCliCaptured(['db', 'status', '--json'], { DATABASE_URL: url.toString() });

    // Assess
    expect(init.code).toBe(0);
    expect(status.code).toBe(0);
    const initTables = (JSON.parse(init.stdout) as { tables: unknown }).tables;
    expect((JSON.parse(status.stdout) as { tables: unknown }).tables).toEqual(initTables);
    expect(JSON.parse(status.stdout)).toMatchObject({
      schema: 'public',
      personnelTitleColumn: 'relationship_role',
    });
  });
});
