import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackfillHandler } from '../../functions/backfill/handler.ts';
import { createDiffHandler } from '../../functions/diff/handler.ts';
import { createEvaluateHandler } from '../../functions/evaluate/handler.ts';
import { createPreflightHandler } from '../../functions/preflight/handler.ts';
import { createReportFailureHandler } from '../../functions/report-failure/handler.ts';
import type { DepsProvider } from '../../functions/shared/handler.ts';
import { createSmokeHandler } from '../../functions/smoke/handler.ts';
import { createValidateHandler } from '../../functions/validate/handler.ts';
import { fakeContext, runMigrationLocally } from '../../lib/cli/local-run.ts';
import { generateDemoData } from '../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../lib/core/demo/load.ts';
import type { ExecutionInput, RunContext } from '../../lib/core/pipeline/contracts.ts';
import { LocalReportStore } from '../../lib/core/reports/local-store.ts';
import { applySchemas } from '../../lib/core/schema/apply.ts';
import type { SqlClient } from '../../lib/core/sql/types.ts';
import { loadStageConfig, parseStageConfig } from '../../lib/stacks/stage-config.ts';
import { type Checksums, legacyChecksums, unifiedChecksums } from '../support/checksums.ts';
import { realDatabases, type TestDatabase } from '../support/databases.ts';

/**
 * The hostile-input corpus, part 2: malformed Lambda events (each handler factory, a fake Lambda
 * context), malformed execution inputs through the whole local state machine, and invalid stage configs.
 * Every case ends in a clear, non-retried error naming what is wrong; nothing is written to the database
 * and no report but the failure report.
 */

const run: RunContext = {
  runId: 'run-hostile-1',
  stage: 'test',
  dryRun: false,
  steps: ['companies', 'personnel', 'projects'],
  chunkSize: 100,
  takeSnapshot: false,
  undoOnFailure: false,
  snapshotId: 'migration-run-hostile-1',
  startedAt: '2026-11-25T07:00:00.000Z',
};

type HandlerName = 'preflight' | 'validate' | 'backfill' | 'diff' | 'smoke' | 'evaluate' | 'report-failure';
type Handler = (event: unknown, context: Context, options: { signal: AbortSignal }) => Promise<unknown>;

const FACTORIES: Record<HandlerName, (deps: DepsProvider) => Handler> = {
  preflight: (d) => createPreflightHandler(d) as Handler,
  validate: (d) => createValidateHandler(d) as Handler,
  backfill: (d) => createBackfillHandler(d) as Handler,
  diff: (d) => createDiffHandler(d) as Handler,
  smoke: (d) => createSmokeHandler(d) as Handler,
  evaluate: (d) => createEvaluateHandler(d) as Handler,
  'report-failure': (d) => createReportFailureHandler(d) as Handler,
};

interface EventCase {
  name: string;
  handler: HandlerName;
  event: unknown;
  /** What the error message must name: the field at fault. */
  names: RegExp;
}

const backfillState = {
  step: 'companies',
  done: false,
  cursor: { phase: 0, after: 10 },
  invocations: 1,
  counts: {},
  orphans: 0,
  conflicts: 0,
  unmigratable: 0,
  reportKey: null,
};

const EVENT_CASES: EventCase[] = [
  { name: 'a null event', handler: 'preflight', event: null, names: /\(root\)/ },
  { name: 'a string instead of an event', handler: 'preflight', event: 'go', names: /\(root\)/ },
  {
    name: 'an event without its run id',
    handler: 'preflight',
    event: { input: { stage: 'test' } },
    names: /runId/,
  },
  {
    name: 'a run id that climbs out of the report folder',
    handler: 'preflight',
    event: { runId: '../../etc/passwd', input: { stage: 'test' } },
    names: /runId: must be letters, digits/,
  },
  {
    name: 'a run id of a megabyte',
    handler: 'preflight',
    event: { runId: 'r'.repeat(1024 * 1024), input: { stage: 'test' } },
    names: /runId/,
  },
  {
    name: 'an execution input with an unknown key',
    handler: 'preflight',
    event: { runId: 'run-1', input: { stage: 'test', dropTables: true } },
    names: /Unrecognized key.*dropTables/,
  },
  {
    name: 'a stage with a path in it',
    handler: 'preflight',
    event: { runId: 'run-1', input: { stage: 'test/../../other' } },
    names: /stage: must be letters, digits/,
  },
  {
    name: 'a chunk size given as text',
    handler: 'preflight',
    event: { runId: 'run-1', input: { stage: 'test', chunkSize: '100' } },
    names: /chunkSize/,
  },
  {
    name: 'a chunk size of 10^9',
    handler: 'preflight',
    event: { runId: 'run-1', input: { stage: 'test', chunkSize: 1e9 } },
    names: /chunkSize: Too big/,
  },
  {
    name: 'an empty list of steps',
    handler: 'preflight',
    event: { runId: 'run-1', input: { stage: 'test', steps: [] } },
    names: /steps: Too small/,
  },
  {
    name: 'dryRun as the text "yes"',
    handler: 'preflight',
    event: { runId: 'run-1', input: { stage: 'test', dryRun: 'yes' } },
    names: /dryRun/,
  },
  {
    name: 'an unknown validation phase',
    handler: 'validate',
    event: { run, phase: 'halfway' },
    names: /phase/,
  },
  { name: 'a validation event without its run', handler: 'validate', event: { phase: 'pre' }, names: /run/ },
  {
    name: 'a snapshot id RDS would refuse',
    handler: 'validate',
    event: { run: { ...run, snapshotId: 'Migration--Run_1' }, phase: 'pre' },
    names: /run\.snapshotId/,
  },
  {
    name: 'a start time that is not a date',
    handler: 'validate',
    event: { run: { ...run, startedAt: 'yesterday' }, phase: 'pre' },
    names: /run\.startedAt/,
  },
  {
    name: 'an unknown backfill step',
    handler: 'backfill',
    event: { run, step: 'everything', state: null },
    names: /step/,
  },
  {
    name: 'a cursor with a negative phase',
    handler: 'backfill',
    event: { run, step: 'companies', state: { ...backfillState, cursor: { phase: -1, after: 0 } } },
    names: /state\.cursor\.phase/,
  },
  {
    name: 'a cursor key that is not an integer',
    handler: 'backfill',
    event: { run, step: 'companies', state: { ...backfillState, cursor: { phase: 0, after: 1.5 } } },
    names: /state\.cursor\.after/,
  },
  {
    name: 'a run context whose chunk size no backfill accepts',
    handler: 'backfill',
    event: { run: { ...run, chunkSize: 1e9 }, step: 'companies', state: null },
    names: /run\.chunkSize: Too big/,
  },
  {
    name: 'a diff event whose stage holds a slash',
    handler: 'diff',
    event: { run: { ...run, stage: 'a/b' } },
    names: /run\.stage/,
  },
  { name: 'a smoke event that is a list', handler: 'smoke', event: [run], names: /run|\(root\)/ },
  {
    name: 'an evaluate event without the smoke result',
    handler: 'evaluate',
    event: { run, validatePost: { phase: 'post', passed: true, critical: 0, warnings: 0, reportKey: 'k' } },
    names: /smoke/,
  },
  {
    name: 'a failure event without the error',
    handler: 'report-failure',
    event: { runId: 'run-1', failedState: 'Preflight' },
    names: /error/,
  },
  {
    name: 'a failure event whose run id climbs out of the report folder',
    handler: 'report-failure',
    event: { runId: '../../../tmp/owned', failedState: 'Preflight', error: { Error: 'X' } },
    names: /runId: must be letters, digits/,
  },
];

describe('hostile Lambda events (each handler factory, a fake context)', () => {
  let database: TestDatabase;
  let sql: SqlClient;
  let reports: string;
  let before: { legacy: Checksums; unified: Checksums };

  const checksums = async () => ({
    legacy: await legacyChecksums(sql),
    unified: await unifiedChecksums(sql),
  });

  beforeAll(async () => {
    database = await (realDatabases[0] as (typeof realDatabases)[number]).open();
    sql = database.client;
    await applySchemas(sql);
    await loadDemoData(sql, generateDemoData());
    reports = mkdtempSync(join(tmpdir(), 'hostile-events-'));
    before = await checksums();
  });

  afterAll(async () => {
    await database?.dispose();
    rmSync(reports, { recursive: true, force: true });
  });

  it.each(EVENT_CASES)('$handler: $name → InputValidationError, nothing written', async (testCase) => {
    // Prepare
    const store = new LocalReportStore(reports);
    const handler = FACTORIES[testCase.handler](async () => ({ sql, store, stage: { snapshots: false } }));

    // Act
    const outcome = handler(testCase.event, fakeContext(testCase.handler, 120_000), {
      signal: new AbortController().signal,
    });

    // Assess: a named field, a message of bounded size (a megabyte of input is not echoed back).
    const error = await outcome.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe('InputValidationError');
    expect(error?.message).toMatch(testCase.names);
    expect(error?.message.length).toBeLessThan(2_000);
    expect(await store.list('')).toEqual([]);
    expect(await checksums()).toEqual(before);
  });
});

const badInput = (input: unknown) => input as ExecutionInput;

interface ExecutionCase {
  name: string;
  input: ExecutionInput;
  /** The error the execution ends with; InputValidationError unless said. */
  error?: string;
  names: RegExp;
  /** Where the failure report goes; null: none can be written. */
  reportStage: string | null;
}

const EXECUTION_CASES: ExecutionCase[] = [
  {
    name: 'an input with an unknown key',
    input: badInput({ stage: 'test', truncate: true }),
    names: /Unrecognized key/,
    reportStage: 'test',
  },
  {
    name: 'a stage that climbs out of the report folder',
    input: badInput({ stage: '../../outside' }),
    names: /stage: must be letters/,
    reportStage: 'unknown',
  },
  {
    name: 'a step that does not exist',
    input: badInput({ stage: 'test', steps: ['companies', 'drop'] }),
    names: /steps\.1/,
    reportStage: 'test',
  },
  {
    // Step Functions itself cannot add the run context to a list: its own error ends the execution,
    // before any handler writes (the CLI and `run --cloud` only ever send an object).
    name: 'an input that is a list',
    input: badInput(['stage', 'test']),
    error: 'States.ResultPathMatchFailure',
    names: /ResultPath/,
    reportStage: null,
  },
];

describe.each(realDatabases)('hostile execution inputs through the local state machine: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;
  let reports: string;
  let before: { legacy: Checksums; unified: Checksums };
  let runs = 0;

  const checksums = async () => ({
    legacy: await legacyChecksums(sql),
    unified: await unifiedChecksums(sql),
  });

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
    await loadDemoData(sql, generateDemoData());
    reports = mkdtempSync(join(tmpdir(), 'hostile-inputs-'));
    before = await checksums();
  });

  afterAll(async () => {
    await database?.dispose();
    rmSync(reports, { recursive: true, force: true });
  });

  it.each(EXECUTION_CASES)(
    '$name: Failed at Preflight, not retried, only a failure report',
    async (testCase) => {
      // Prepare
      const store = new LocalReportStore(reports);
      const runId = `run-hostile-input-${++runs}`;
      const snapshots: string[] = [];

      // Act
      const result = await runMigrationLocally({
        deps: { sql, store, stage: { snapshots: true } },
        runId,
        input: testCase.input,
        takeSnapshot: async (snapshotId) => {
          snapshots.push(snapshotId);
          return { snapshotId, status: 'available' };
        },
        retryPauseMs: 0,
      });

      // Assess
      expect(result.status).toBe('FAILED');
      expect(result.error?.name).toBe(testCase.error ?? 'InputValidationError');
      expect(result.error?.cause).toMatch(testCase.names);
      expect(result.invocations.Preflight).toBe(1);
      expect(result.retries.Preflight ?? 0).toBe(0);
      expect(snapshots).toEqual([]);
      expect((await store.list('')).filter((k) => k.includes(runId))).toEqual(
        testCase.reportStage === null
          ? []
          : [`${testCase.reportStage}/${runId}/failure.json`, `${testCase.reportStage}/${runId}/failure.md`],
      );
      expect(await checksums()).toEqual(before);
    },
  );
});

const validConfig = () => JSON.parse(JSON.stringify(loadStageConfig('dev'))) as Record<string, unknown>;

const CONFIG_CASES: {
  name: string;
  stage: string;
  change: (c: Record<string, unknown>) => unknown;
  names: RegExp;
}[] = [
  { name: 'an unknown stage', stage: 'prod', change: (c) => c, names: /unknown stage "prod"/ },
  {
    name: 'an account id of 11 digits',
    stage: 'dev',
    change: (c) => ({ ...c, account: '12345678901' }),
    names: /account: must be a 12-digit AWS account id/,
  },
  {
    name: 'a cluster ARN of another service',
    stage: 'staging',
    change: (c) => ({ ...c, clusterArn: 'arn:aws:s3:::nukeworks' }),
    names: /clusterArn: must be an rds cluster ARN/,
  },
  {
    name: 'a secret ARN with a shell command in it',
    stage: 'production',
    change: (c) => ({ ...c, secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x; rm -rf /' }),
    names: /secretArn: must be an? secretsmanager secret ARN/,
  },
  {
    name: 'a database name with a quote',
    stage: 'dev',
    change: (c) => ({ ...c, databaseName: 'nukeworks"; DROP DATABASE x; --' }),
    names: /databaseName: must be a PostgreSQL database name/,
  },
  {
    name: 'an alarm address that is not an e-mail',
    stage: 'dev',
    change: (c) => ({ ...c, alarmEmail: 'ops at nukeworks' }),
    names: /alarmEmail: must be an e-mail address/,
  },
  {
    name: 'a coverage threshold of 150 %',
    stage: 'dev',
    change: (c) => ({ ...c, thresholds: { projectCoveragePercent: 150 } }),
    names: /thresholds\.projectCoveragePercent: Too big/,
  },
  {
    name: 'a time zone that does not exist',
    stage: 'dev',
    change: (c) => ({ ...c, schedule: { expression: 'cron(0 6 * * ? *)', timeZone: 'Mars/Olympus_Mons' } }),
    names: /schedule\.timeZone: must be an IANA time zone/,
  },
  {
    name: 'a schedule in words',
    stage: 'dev',
    change: (c) => ({ ...c, schedule: { expression: 'every morning', timeZone: 'UTC' } }),
    names: /schedule\.expression: must be an EventBridge Scheduler expression/,
  },
  {
    name: 'an unknown setting',
    stage: 'dev',
    change: (c) => ({ ...c, deleteLegacyTables: true }),
    names: /Unrecognized key.*deleteLegacyTables/,
  },
  { name: 'a config that is a list', stage: 'dev', change: () => [], names: /\(root\)/ },
];

describe('hostile stage configs', () => {
  it.each(CONFIG_CASES)('$name → StageConfigError naming it', ({ stage, change, names }) => {
    // Act
    const outcome = () => parseStageConfig(stage, change(validConfig()));

    // Assess
    expect(outcome).toThrow(names);
    expect(outcome).toThrow(expect.objectContaining({ name: 'StageConfigError' }));
  });

  it('a config file that is not JSON → StageConfigError naming the file', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'hostile-config-'));
    writeFileSync(join(dir, 'dev.json'), '{ "account": ');

    // Act
    const outcome = () => loadStageConfig('dev', pathToFileURL(`${dir}/`));

    // Assess
    try {
      expect(outcome).toThrow(/cannot read config\/stages\/dev\.json/);
      expect(outcome).toThrow(expect.objectContaining({ name: 'StageConfigError' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
