import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRestoreCommand } from '../../lib/cli/commands/restore.ts';
import { describeError, EXIT } from '../../lib/cli/errors.ts';
import type { CliIo } from '../../lib/cli/output.ts';
import { createProgram } from '../../lib/cli/program.ts';
import { countRows } from '../../lib/core/schema/apply.ts';
import { createLocalSnapshot } from '../../lib/core/snapshot/local-snapshot.ts';
import { describeUrl, PgSqlClient } from '../../lib/core/sql/pg-client.ts';
import { PgliteSqlClient } from '../../lib/core/sql/pglite-client.ts';
import type { SqlClient } from '../../lib/core/sql/types.ts';
import { type CliRun, runCliCaptured } from '../support/cli.ts';
import { serverUrl, uniqueSchemaName } from '../support/databases.ts';
import { unifiedStateHash } from '../support/unified-state.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-restore-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const TAKEN_AT = new Date('2026-11-25T08:00:00.000Z');

/** The CLI in-process, as runCli runs it, with the restore command registered (until program.ts does). */
async function runCommand(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
    interactive: false,
  };
  const program = createProgram(io);
  if (!program.commands.some((command) => command.name() === 'restore')) {
    registerRestoreCommand(program, io);
    for (const command of program.commands)
      command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { code: EXIT.ok, stdout, stderr };
  } catch (error) {
    if (error instanceof CommanderError)
      return { code: error.exitCode === 0 ? 0 : EXIT.error, stdout, stderr };
    stderr += `${describeError(error, false)}\n`;
    const code = (error as { exitCode?: unknown }).exitCode;
    return { code: typeof code === 'number' ? code : EXIT.error, stdout, stderr };
  }
}

async function stateOf(sql: SqlClient) {
  return { counts: await countRows(sql), unified: await unifiedStateHash(sql) };
}

async function embeddedState(dataDir: string) {
  const client = await PgliteSqlClient.open({ dataDir });
  try {
    return await stateOf(client);
  } finally {
    await client.close();
  }
}

describe('company-migration restore (embedded)', () => {
  const dataDir = join(scratch, 'pglite');
  const reports = join(scratch, 'reports');
  let snapshotId = '';
  let atSnapshot: Awaited<ReturnType<typeof stateOf>>;
  let migrated: Awaited<ReturnType<typeof stateOf>>;

  beforeAll(async () => {
    expect((await runCliCaptured(['db', 'init', '--demo', '--data-dir', dataDir])).code).toBe(0);
    const client = await PgliteSqlClient.open({ dataDir });
    const created = await createLocalSnapshot({ kind: 'pglite', client }, join(reports, 'run-1'), {
      now: () => TAKEN_AT,
    });
    if (created.status !== 'created') throw new Error('no snapshot');
    snapshotId = created.snapshotId;
    atSnapshot = await stateOf(client);
    await client.close();
    expect((await runCliCaptured(['backfill', '--data-dir', dataDir])).code).toBe(0);
    migrated = await embeddedState(dataDir);
  });

  it('says what it would do and refuses without --yes, changing nothing', async () => {
    // Act
    const run = await runCommand(['restore', 'run-1', '--reports', reports, '--data-dir', dataDir]);

    // Assess
    expect(run).toEqual({
      code: 2,
      stdout:
        `snapshot: ${join(reports, 'run-1', 'snapshot.tar.gz')} (${run.stdout.match(/\((\d+) bytes\)/)?.[1]} bytes), ` +
        `taken at 2026-11-25T08:00:00.000Z of embedded PGlite at ${dataDir}\n` +
        `target:   embedded PGlite at ${dataDir}\n`,
      stderr:
        `error: this replaces the database (embedded PGlite at ${dataDir}) with the snapshot of run run-1 ` +
        'taken at 2026-11-25T08:00:00.000Z; add --yes\n',
    });
    expect(migrated).not.toEqual(atSnapshot);
    expect(await embeddedState(dataDir)).toEqual(migrated);
  });

  it('with --json prints the outcome as JSON, and without --yes still changes nothing', async () => {
    // Act
    const run = await runCommand(['restore', 'run-1', '--json', '--reports', reports, '--data-dir', dataDir]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/; add --yes\n$/);
    expect(JSON.parse(run.stdout)).toEqual({
      runId: 'run-1',
      snapshotFolder: join(reports, 'run-1'),
      manifest: expect.objectContaining({ snapshotId, kind: 'pglite', createdAt: TAKEN_AT.toISOString() }),
      target: `embedded PGlite at ${dataDir}`,
      restored: false,
    });
    expect(await embeddedState(dataDir)).toEqual(migrated);
  });

  it('refuses while the database is open', async () => {
    // Prepare
    const client = await PgliteSqlClient.open({ dataDir });

    // Act
    const run = await runCommand(['restore', 'run-1', '--yes', '--reports', reports, '--data-dir', dataDir]);

    // Assess
    await client.close();
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `error: the embedded database at ${dataDir} is in use by process ${process.pid} (this one); ` +
        'close it before restoring\n',
    );
    expect(await embeddedState(dataDir)).toEqual(migrated);
  });

  it('restores the snapshot with --yes and says what it did', async () => {
    // Act
    const run = await runCommand(['restore', 'run-1', '--yes', '--reports', reports, '--data-dir', dataDir]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n').slice(2)).toEqual([
      `restored embedded PGlite at ${dataDir} from the snapshot of run run-1 taken at 2026-11-25T08:00:00.000Z ` +
        `(${snapshotId})`,
      '',
    ]);
    expect(await embeddedState(dataDir)).toEqual(atSnapshot);
  });

  it('finds a snapshot under a stage folder, and asks for --stage when several stages have one', async () => {
    // Prepare
    const client = await PgliteSqlClient.open({ dataDir });
    await createLocalSnapshot({ kind: 'pglite', client }, join(reports, 'staging', 'run-3'));
    await client.close();

    // Act
    const found = await runCommand(['restore', 'run-3', '--reports', reports, '--data-dir', dataDir]);
    const otherStage = await runCommand(['restore', 'run-3', '--stage', 'dev', '--reports', reports]);
    const client2 = await PgliteSqlClient.open({ dataDir });
    await createLocalSnapshot({ kind: 'pglite', client: client2 }, join(reports, 'prod', 'run-3'));
    await client2.close();
    const ambiguous = await runCommand(['restore', 'run-3', '--reports', reports, '--data-dir', dataDir]);
    const chosen = await runCommand([
      'restore',
      'run-3',
      '--stage',
      'prod',
      '--reports',
      reports,
      '--data-dir',
      dataDir,
    ]);

    // Assess
    expect(found.stdout).toMatch(
      new RegExp(`^snapshot: ${join(reports, 'staging', 'run-3', 'snapshot.tar.gz')} `),
    );
    expect(found.stderr).toMatch(/add --yes\n$/);
    expect(otherStage).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: no run run-3 in ${join(reports, 'dev')}\n`,
    });
    expect(ambiguous).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `error: run run-3 has snapshots in several folders (${join(reports, 'prod', 'run-3')}, ` +
        `${join(reports, 'staging', 'run-3')}); choose one with --stage\n`,
    });
    expect(chosen.stdout).toMatch(
      new RegExp(`^snapshot: ${join(reports, 'prod', 'run-3', 'snapshot.tar.gz')} `),
    );
  });

  it('exits 2 with one line for a missing run, a run without snapshot, an invalid run id, or the wrong database', async () => {
    // Prepare
    mkdirSync(join(reports, 'run-2'), { recursive: true });

    // Act
    const missing = await runCommand(['restore', 'run-9', '--reports', reports, '--data-dir', dataDir]);
    const noSnapshot = await runCommand(['restore', 'run-2', '--reports', reports, '--data-dir', dataDir]);
    const invalid = await runCommand(['restore', '../run-1', '--reports', reports, '--data-dir', dataDir]);
    const noReports = await runCommand(['restore', 'run-1', '--reports', join(scratch, 'none')]);
    const server = await runCommand([
      'restore',
      'run-1',
      '--yes',
      '--reports',
      reports,
      '--database-url',
      'postgres://migrator:secret@db.example.com/nukeworks',
    ]);

    // Assess
    expect(missing).toEqual({ code: 2, stdout: '', stderr: `error: no run run-9 in ${reports}\n` });
    expect(noSnapshot).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: run run-2 has no snapshot: no snapshot.json in ${join(reports, 'run-2')}\n`,
    });
    expect(invalid).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: invalid run id "../run-1": must be letters, digits, . _ - (not starting with . _ -)\n',
    });
    expect(noReports).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: no run run-1 in ${join(scratch, 'none')}\n`,
    });
    expect(server).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `error: the snapshot of run run-1 is of an embedded PGlite database (embedded PGlite at ${dataDir}), ` +
        'but the configured database is a PostgreSQL server database ' +
        '(postgres://migrator:***@db.example.com/nukeworks); choose it with --data-dir or --database-url\n',
    });
    expect(await embeddedState(dataDir)).toEqual(atSnapshot);
  });
});

const pgDumpInstalled = spawnSync('pg_dump', ['--version']).status === 0;

describe.runIf(serverUrl && pgDumpInstalled)('company-migration restore (server)', () => {
  const admin = serverUrl ? new PgSqlClient({ url: serverUrl, maxConnections: 1 }) : undefined;
  const name = uniqueSchemaName('restore');
  const url = new URL(serverUrl ?? 'postgres://x');
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();

  beforeAll(async () => {
    await admin?.query(`CREATE DATABASE "${name}"`);
  });

  afterAll(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin?.close();
  });

  it('restores the server database from the run’s snapshot with --yes', async () => {
    // Prepare
    const reports = join(scratch, 'server-reports');
    expect((await runCliCaptured(['db', 'init', '--demo', '--database-url', databaseUrl])).code).toBe(0);
    const client = new PgSqlClient({ url: databaseUrl });
    const created = await createLocalSnapshot(
      { kind: 'pg', url: databaseUrl },
      join(reports, 'dev', 'run-5'),
      {
        now: () => TAKEN_AT,
      },
    );
    const atSnapshot = await stateOf(client);
    expect((await runCliCaptured(['backfill', '--database-url', databaseUrl])).code).toBe(0);
    const migrated = await stateOf(client);

    // Act
    const refused = await runCommand(['restore', 'run-5', '--reports', reports], {
      DATABASE_URL: databaseUrl,
    });
    const afterRefusal = await stateOf(client);
    const run = await runCommand([
      'restore',
      'run-5',
      '--yes',
      '--reports',
      reports,
      '--database-url',
      databaseUrl,
    ]);

    // Assess
    try {
      if (created.status !== 'created') throw new Error('no snapshot');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(
        `error: this replaces the database (${describeUrl(databaseUrl)}) with the snapshot of run run-5 ` +
          'taken at 2026-11-25T08:00:00.000Z; add --yes\n',
      );
      expect(afterRefusal).toEqual(migrated);
      expect(migrated).not.toEqual(atSnapshot);
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n').slice(2)).toEqual([
        `restored ${describeUrl(databaseUrl)} from the snapshot of run run-5 taken at ` +
          `2026-11-25T08:00:00.000Z (${created.snapshotId})`,
        '',
      ]);
      expect(await stateOf(client)).toEqual(atSnapshot);
    } finally {
      await client.close();
    }
  });
});
