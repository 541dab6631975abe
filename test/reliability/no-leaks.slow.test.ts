import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Everything the handlers log, at the most talkative level: the logger reads it when it is created.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

import { createBackfillHandler } from '../../functions/backfill/handler.ts';
import { createReportFailureHandler } from '../../functions/report-failure/handler.ts';
import { createValidateHandler } from '../../functions/validate/handler.ts';
import { fakeContext } from '../../lib/cli/local-run.ts';
import { generateDemoData } from '../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../lib/core/demo/load.ts';
import type { RunContext } from '../../lib/core/pipeline/contracts.ts';
import { S3ReportStore } from '../../lib/core/reports/s3-store.ts';
import { applySchemas } from '../../lib/core/schema/apply.ts';
import { requireSchemas } from '../../lib/core/schema/introspect.ts';
import { PgSqlClient } from '../../lib/core/sql/pg-client.ts';
import { PgliteSqlClient } from '../../lib/core/sql/pglite-client.ts';
import type { SqlClient } from '../../lib/core/sql/types.ts';
import { type CliRun, runCliCaptured, runCliProcess } from '../support/cli.ts';
import { createDataApiDouble, type DataApiDouble } from '../support/data-api-double.ts';
import { serverUrl, uniqueSchemaName } from '../support/databases.ts';
import { inMemoryBucket } from '../support/s3-bucket.ts';

/**
 * Nothing leaked: everything the tools emit — stdout and stderr of the CLI (its real process, with
 * --verbose, so the handlers' DEBUG logs are on), every report and snapshot description written, the
 * Lambda handlers' structured logs and the reports they put in S3 — is searched for the database
 * password, fake secrets in the environment, and the free text of confidential legacy rows.
 */

const token = () => randomBytes(6).toString('hex');
const PASSWORD = `Pw-${token()}`;
const ENV_SECRETS = {
  AWS_SECRET_ACCESS_KEY: `fake-aws-secret-${token()}`,
  AWS_SESSION_TOKEN: `fake-session-${token()}`,
  COMPANY_MIGRATION_TEST_SECRET: `fake-secret-${token()}`,
};
/** Free text of confidential rows: link notes and titles, orphaned ones included. */
const CONFIDENTIAL = {
  personnelNote: `CONF-PERSON-NOTE-${token()}`,
  personnelTitle: `CONF-PERSON-TITLE-${token()}`,
  orphanPersonnelNote: `CONF-ORPHAN-PERSON-${token()}`,
  projectNote: `CONF-PROJECT-NOTE-${token()}`,
  orphanProjectNote: `CONF-ORPHAN-PROJECT-${token()}`,
  clientProjectNote: `CONF-CLIENT-PROJECT-${token()}`,
  unmigratableLinkNote: `CONF-BLANK-VENDOR-LINK-${token()}`,
};
const FORBIDDEN: Record<string, string> = {
  password: PASSWORD,
  ...ENV_SECRETS,
  ...CONFIDENTIAL,
};

/** Confidential links with distinctive free text, next to the demo data. */
async function plantConfidentialRows(sql: SqlClient): Promise<void> {
  const { personnelTitleColumn: title } = await requireSchemas(sql);
  await sql.runScript(`
    INSERT INTO technology_vendors (vendor_id, vendor_name) VALUES (900001, 'Leak Probe Vendor'), (900002, '   ');
    INSERT INTO clients (client_id, client_name) VALUES (900001, 'Leak Probe Client');
    INSERT INTO personnel (personnel_id, full_name) VALUES (900001, 'Leak Probe Person');
    INSERT INTO projects (project_id, project_name) VALUES (900001, 'Leak Probe Project');
    INSERT INTO personnel_entity_relationships
      (relationship_id, personnel_id, entity_type, entity_id, ${title}, notes, is_confidential) VALUES
      (900001, 900001, 'Vendor', 900001, '${CONFIDENTIAL.personnelTitle}', '${CONFIDENTIAL.personnelNote}', true),
      (900002, 999999, 'Vendor', 900001, NULL, '${CONFIDENTIAL.orphanPersonnelNote}', true);
    INSERT INTO project_vendor_relationships (relationship_id, project_id, vendor_id, notes, is_confidential) VALUES
      (900001, 900001, 900001, '${CONFIDENTIAL.projectNote}', true),
      (900002, 900001, 999999, '${CONFIDENTIAL.orphanProjectNote}', true),
      (900003, 900001, 900002, '${CONFIDENTIAL.unmigratableLinkNote}', true);
    INSERT INTO client_project_relationships (relationship_id, client_id, project_id, notes, is_confidential) VALUES
      (900001, 900001, 900001, '${CONFIDENTIAL.clientProjectNote}', true);
  `);
}

/** Every text file under a folder (reports, snapshot descriptions); the dumps themselves hold the data. */
function textFilesUnder(folder: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || /\.(tar\.gz|pgdump)$/.test(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    files[path] = readFileSync(path, 'utf8');
  }
  return files;
}

/** Each forbidden value found, with where: an empty list is the promise kept. */
function leaks(emitted: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(emitted))
    for (const [what, value] of Object.entries(FORBIDDEN))
      if (text.includes(value)) found.push(`${what} in ${where}`);
  return found;
}

const captured = (label: string, run: CliRun) => ({
  [`${label} stdout`]: run.stdout,
  [`${label} stderr`]: run.stderr,
});

interface Target {
  name: string;
  /** The CLI's database arguments. */
  args: string[];
  /** Both sides of a leak check need a database: prepared, then described for assertions. */
  prepare(): Promise<void>;
  dispose(): Promise<void>;
}

const scratch = mkdtempSync(join(tmpdir(), 'no-leaks-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function embeddedTarget(): Target {
  const dataDir = join(scratch, 'embedded');
  return {
    name: 'embedded PGlite',
    args: ['--data-dir', dataDir],
    async prepare() {
      expect((await runCliCaptured(['db', 'init', '--demo', '--data-dir', dataDir])).code).toBe(0);
      const client = await PgliteSqlClient.open({ dataDir });
      await plantConfidentialRows(client);
      await client.close();
    },
    async dispose() {},
  };
}

function serverTarget(): Target {
  const database = uniqueSchemaName('no_leaks');
  const url = new URL(serverUrl ?? 'postgres://localhost/none');
  url.password = PASSWORD;
  url.pathname = `/${database}`;
  let admin: SqlClient | undefined;
  return {
    name: 'PostgreSQL server, password in the URL',
    args: ['--database-url', url.toString()],
    async prepare() {
      admin = new PgSqlClient({ url: serverUrl ?? '', maxConnections: 1 });
      await admin.query(`CREATE DATABASE "${database}"`);
      expect((await runCliCaptured(['db', 'init', '--demo', '--database-url', url.toString()])).code).toBe(0);
      const client = new PgSqlClient({ url: url.toString(), maxConnections: 1 });
      await plantConfidentialRows(client);
      await client.close();
    },
    async dispose() {
      await admin?.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin?.close();
    },
  };
}

const targets = [embeddedTarget(), ...(serverUrl ? [serverTarget()] : [])];

describe.each(targets)('nothing leaked by the CLI: $name', (target) => {
  const reports = join(scratch, `reports-${token()}`);
  const out = join(scratch, `out-${token()}`);
  const env = { ...ENV_SECRETS, PGPASSWORD: PASSWORD };

  beforeAll(() => target.prepare());
  afterAll(() => target.dispose());

  it('a whole live run with --verbose, then every other command, emits no secret and no confidential text', async () => {
    // Act: the real entry point in a fresh process, as an operator runs it.
    const dry = runCliProcess(['run', '--dry-run', '--verbose', '--reports', reports, ...target.args], env);
    const live = runCliProcess(
      ['run', '--verbose', '--chunk-size', '50', '--reports', reports, ...target.args],
      env,
    );
    const runId = /migration run (run-[0-9-]+)/.exec(live.stderr)?.[1] ?? 'none';
    const others = {
      backfill: runCliProcess(['backfill', '--json', '--sample-size', '1000', ...target.args], env),
      validate: runCliProcess(['validate', '--json', '--out', out, ...target.args], env),
      monitor: runCliProcess(['monitor', '--json', ...target.args], env),
      dualWrite: runCliProcess(['dual-write', 'install', '--json', ...target.args], env),
      status: runCliProcess(['db', 'status', '--json', ...target.args], env),
      restore: runCliProcess(['restore', runId, '--yes', '--reports', reports, ...target.args], env),
    };

    // Assess: the runs did their work (the planted blank name fails the criteria: exit 1) and the
    // handlers' logs were captured, so the search means something.
    expect([dry.code, live.code, others.restore.code], live.stderr + others.restore.stderr).toEqual([
      0, 1, 0,
    ]);
    expect(live.stdout).toMatch(/"message":"step finished"/);
    expect(Object.fromEntries(Object.entries(others).map(([name, r]) => [name, r.code]))).toEqual({
      backfill: 0,
      validate: 1,
      monitor: 1,
      dualWrite: 0,
      status: 0,
      restore: 0,
    });
    const emitted = {
      ...captured('run --dry-run', dry),
      ...captured('run', live),
      ...Object.assign({}, ...Object.entries(others).map(([name, run]) => captured(name, run))),
      ...textFilesUnder(reports),
      ...textFilesUnder(out),
    };
    expect(Object.keys(emitted).filter((k) => k.endsWith('.html')).length).toBeGreaterThan(5);
    expect(leaks(emitted)).toEqual([]);
  });

  it('failures (unreachable server, missing tables) name the database without its password', async () => {
    // Prepare
    const unreachable = `postgres://migrator:${PASSWORD}@127.0.0.1:1/nukeworks`;

    // Act
    const runs = {
      'run, unreachable': runCliProcess(['run', '--verbose', '--database-url', unreachable], env),
      'validate, unreachable, verbose': await runCliCaptured(
        ['validate', '--verbose', '--database-url', unreachable],
        env,
      ),
      'backfill, unreachable, from DATABASE_URL': await runCliCaptured(['backfill'], {
        DATABASE_URL: unreachable,
      }),
    };

    // Assess
    expect(Object.values(runs).map((r) => r.code)).toEqual([2, 2, 2]);
    for (const run of Object.values(runs)) expect(run.stderr).toContain('migrator:***@127.0.0.1:1');
    expect(
      leaks(Object.assign({}, ...Object.entries(runs).map(([name, run]) => captured(name, run)))),
    ).toEqual([]);
  });
});

describe('nothing leaked by the Lambda handlers (Data API, S3, DEBUG logs)', () => {
  let double: DataApiDouble;
  const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const s3Mock = mockClient(s3);
  const bucket = inMemoryBucket(s3Mock);
  const run: RunContext = {
    runId: 'run-no-leaks-1',
    stage: 'test',
    dryRun: false,
    steps: ['companies', 'personnel', 'projects'],
    chunkSize: 100,
    takeSnapshot: false,
    undoOnFailure: false,
    snapshotId: 'migration-run-no-leaks-1',
    startedAt: '2026-11-25T07:00:00.000Z',
  };

  beforeAll(async () => {
    double = await createDataApiDouble({ schema: 'no_leaks' });
    await applySchemas(double.sqlClient);
    await loadDemoData(double.sqlClient, generateDemoData());
    await plantConfidentialRows(double.sqlClient);
  });

  afterAll(async () => {
    await double?.close();
    s3Mock.restore();
  });

  it('logs, results and S3 reports of a migration and of a failed invocation hold no confidential text or secret', async () => {
    // Prepare
    const saved = { ...process.env };
    Object.assign(process.env, ENV_SECRETS);
    const logs: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      logs.push(String(chunk));
      return true;
    };
    const writes = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    const deps = async () => ({
      sql: double.sqlClient,
      store: new S3ReportStore({ client: s3, bucket: 'reports' }),
    });
    const invoke = (handler: (e: never, c: never, o: never) => Promise<unknown>, event: unknown) =>
      handler(
        event as never,
        fakeContext('handler', 900_000) as never,
        {
          signal: new AbortController().signal,
        } as never,
      );
    const results: unknown[] = [];

    try {
      // Act: validation, the three backfills, and one invocation the database fails.
      results.push(await invoke(createValidateHandler(deps), { run, phase: 'pre' }));
      for (const step of ['companies', 'personnel', 'projects'] as const)
        results.push(await invoke(createBackfillHandler(deps), { run, step, state: null }));
      results.push(await invoke(createValidateHandler(deps), { run, phase: 'post' }));
      double.failNext(
        'BadRequestException',
        'ERROR: canceling statement due to statement timeout; SQLState: 57014',
      );
      const failed = await invoke(createBackfillHandler(deps), { run, step: 'projects', state: null }).catch(
        (e: Error) => e,
      );
      results.push(
        await invoke(createReportFailureHandler(deps), {
          runId: run.runId,
          failedState: 'BackfillProjects',
          error: { Error: (failed as Error).name, Cause: (failed as Error).message },
          state: { run },
        }),
      );
    } finally {
      for (const spy of writes) spy.mockRestore();
      process.env = saved;
    }

    // Assess: the handlers logged (DEBUG on) and reported, and none of it holds a forbidden value.
    expect(logs.join('')).toMatch(/"message":"step failed"/);
    expect(bucket.size).toBeGreaterThan(10);
    const emitted = {
      logs: logs.join(''),
      results: JSON.stringify(results),
      ...Object.fromEntries(bucket.entries()),
    };
    expect(leaks(emitted)).toEqual([]);
  });
});
