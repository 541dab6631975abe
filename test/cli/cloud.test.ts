import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  AccessDeniedException,
  GetParameterCommand,
  ParameterNotFound,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AwsClientConfig, setAwsClientFactories, setPolling } from '../../lib/cli/cloud.ts';
import type { RunSummary } from '../../lib/core/pipeline/summary.ts';
import { runCliCaptured } from '../support/cli.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-cloud-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:company-migration-staging`;
const BUCKET = 'nukeworks-company-migration-reports-staging';
const T0 = new Date('2026-11-25T07:15:02.000Z');
const RUN_ID = 'run-20261125-071502';
const EXECUTION_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:execution:company-migration-staging:${RUN_ID}`;

/* ------------------------------------------------------------------------------------------------------------
 * A scripted execution history, as GetExecutionHistory returns it
 * ---------------------------------------------------------------------------------------------------------- */

const runContext = {
  runId: RUN_ID,
  stage: 'staging',
  dryRun: false,
  steps: ['companies', 'personnel'],
  chunkSize: 1200,
  takeSnapshot: true,
  snapshotId: 'company-migration-staging-run-20261125-071502',
  startedAt: T0.toISOString(),
};

function backfillState(step: string, progress: Record<string, unknown>) {
  return {
    step,
    done: false,
    skipped: false,
    cursor: null,
    invocations: 1,
    rowsProcessed: 0,
    rowsTotal: 0,
    counts: {},
    orphans: 0,
    conflicts: 0,
    unmigratable: 0,
    reportKey: null,
    ...progress,
  };
}

/** The state's output after a backfill Task: the whole execution state, its backfill part updated. */
function backfillOutput(backfill: Record<string, unknown>): string {
  return JSON.stringify({
    ...runContext,
    run: runContext,
    validatePre: { phase: 'pre', passed: false, critical: 0, warnings: 3, reportKey: 'x' },
    snapshot: { DbClusterSnapshot: { Status: 'available' } },
    backfill: { companies: null, personnel: null, projects: null, ...backfill },
  });
}

const lambdaError = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler'] });

/** Builds events with increasing ids at seconds after T0. */
class HistoryScript {
  readonly events: HistoryEvent[] = [];

  add(seconds: number, type: string, details: Partial<HistoryEvent> = {}): this {
    const id = this.events.length + 1;
    this.events.push({
      id,
      previousEventId: id - 1,
      timestamp: new Date(T0.getTime() + seconds * 1000),
      type: type as HistoryEvent['type'],
      ...details,
    });
    return this;
  }

  entered(seconds: number, name: string, type = 'Task'): this {
    return this.add(seconds, `${type}StateEntered`, { stateEnteredEventDetails: { name, input: '{}' } });
  }

  exited(seconds: number, name: string, output = '{}', type = 'Task'): this {
    return this.add(seconds, `${type}StateExited`, { stateExitedEventDetails: { name, output } });
  }

  /** A Lambda Task state that succeeds on its first attempt. */
  lambda(from: number, to: number, name: string, output = '{}'): this {
    return this.entered(from, name)
      .add(from, 'LambdaFunctionScheduled')
      .add(from, 'LambdaFunctionStarted')
      .add(to, 'LambdaFunctionSucceeded')
      .exited(to, name, output);
  }

  get length(): number {
    return this.events.length;
  }
}

/** The part every run shares: preflight, validation before, backup, two backfill steps and one skipped. */
function historyUpToSmoke(): { script: HistoryScript; polls: number[] } {
  const script = new HistoryScript()
    .add(0, 'ExecutionStarted')
    .lambda(0.1, 1.2, 'Preflight')
    .add(1.2, 'PassStateEntered')
    .lambda(1.3, 4.0, 'ValidatePre')
    .entered(4.1, 'SnapshotWanted', 'Choice')
    .exited(4.1, 'SnapshotWanted', '{}', 'Choice')
    .lambda(
      5.0,
      11.0,
      'BackfillCompanies',
      backfillOutput({
        companies: backfillState('companies', {
          cursor: { phase: 0, after: 1200 },
          rowsProcessed: 1200,
          rowsTotal: 2000,
          counts: { created: 1200 },
        }),
      }),
    )
    .entered(11.1, 'BackfillCompaniesDone', 'Choice')
    .exited(11.1, 'BackfillCompaniesDone', '{}', 'Choice')
    .lambda(
      11.5,
      15.0,
      'BackfillCompanies',
      backfillOutput({
        companies: backfillState('companies', {
          done: true,
          invocations: 2,
          rowsProcessed: 2000,
          rowsTotal: 2000,
          counts: { created: 2000 },
        }),
      }),
    );
  const firstPoll = script.length;
  script
    .entered(16.0, 'BackfillPersonnel')
    .add(16.0, 'LambdaFunctionScheduled')
    .add(16.0, 'LambdaFunctionStarted')
    .add(18.0, 'LambdaFunctionFailed', {
      lambdaFunctionFailedEventDetails: {
        error: 'DatabaseResumingError',
        cause: lambdaError('DatabaseResumingError', 'the Aurora cluster is resuming'),
      },
    })
    .add(20.0, 'LambdaFunctionScheduled')
    .add(20.0, 'LambdaFunctionStarted')
    .add(24.0, 'LambdaFunctionSucceeded')
    .exited(
      24.0,
      'BackfillPersonnel',
      backfillOutput({
        companies: backfillState('companies', {
          done: true,
          invocations: 2,
          rowsProcessed: 2000,
          rowsTotal: 2000,
        }),
        personnel: backfillState('personnel', {
          done: true,
          rowsProcessed: 500,
          rowsTotal: 500,
          counts: { linked: 500 },
        }),
      }),
    )
    .lambda(
      24.5,
      25.0,
      'BackfillProjects',
      backfillOutput({
        projects: backfillState('projects', { done: true, skipped: true, invocations: 0 }),
      }),
    );
  const secondPoll = script.length;
  script.lambda(25.5, 40.0, 'ValidatePost').lambda(40.1, 42.0, 'Diff').lambda(42.1, 44.0, 'Smoke');
  return { script, polls: [firstPoll, secondPoll] };
}

function succeededHistory(): { events: HistoryEvent[]; polls: number[] } {
  const { script, polls } = historyUpToSmoke();
  script
    .lambda(44.1, 45.0, 'Evaluate')
    .entered(45.0, 'Verdict', 'Choice')
    .exited(45.0, 'Verdict', '{}', 'Choice')
    .add(45.1, 'SucceedStateEntered', { stateEnteredEventDetails: { name: 'MigrationSucceeded' } })
    .add(45.1, 'SucceedStateExited', { stateExitedEventDetails: { name: 'MigrationSucceeded' } })
    .add(45.2, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: '{}' } });
  return { events: script.events, polls: [...polls, script.length] };
}

const NOT_MET = 'FAILED: 1 reason(s): project-coverage: project-relationship coverage 91.2 % < 95 %';

function criteriaNotMetHistory(): { events: HistoryEvent[]; polls: number[] } {
  const { script, polls } = historyUpToSmoke();
  script
    .lambda(44.1, 45.0, 'Evaluate')
    .entered(45.0, 'Verdict', 'Choice')
    .exited(45.0, 'Verdict', '{}', 'Choice')
    .add(45.1, 'FailStateEntered', { stateEnteredEventDetails: { name: 'MigrationCriteriaNotMet' } })
    .add(45.2, 'ExecutionFailed', {
      executionFailedEventDetails: { error: 'MigrationCriteriaNotMet', cause: NOT_MET },
    });
  return { events: script.events, polls: [...polls, script.length] };
}

/** Fails in ValidatePre on bad input: caught, reported, then the MigrationFailed Fail state. */
function brokenHistory(): { events: HistoryEvent[]; polls: number[] } {
  const cause = lambdaError('InputValidationError', 'validate event: field "phase" must be pre or post');
  const script = new HistoryScript()
    .add(0, 'ExecutionStarted')
    .lambda(0.1, 1.2, 'Preflight')
    .entered(1.3, 'ValidatePre')
    .add(1.3, 'LambdaFunctionScheduled')
    .add(1.3, 'LambdaFunctionStarted')
    .add(1.9, 'LambdaFunctionFailed', {
      lambdaFunctionFailedEventDetails: { error: 'InputValidationError', cause },
    })
    .exited(1.9, 'ValidatePre')
    .entered(2.0, 'RecordValidatePreFailure', 'Pass')
    .exited(2.0, 'RecordValidatePreFailure', '{}', 'Pass')
    .lambda(2.1, 3.0, 'ReportFailure')
    .add(3.1, 'FailStateEntered', { stateEnteredEventDetails: { name: 'MigrationFailed' } })
    .add(3.2, 'ExecutionFailed', { executionFailedEventDetails: { error: 'InputValidationError', cause } });
  return { events: script.events, polls: [script.length] };
}

/* ------------------------------------------------------------------------------------------------------------
 * Mocked AWS: SSM parameters of the deployed stage, the state machine, the report bucket
 * ---------------------------------------------------------------------------------------------------------- */

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    kind: 'summary',
    schemaVersion: 1,
    runId: RUN_ID,
    stage: 'staging',
    dryRun: false,
    generatedAt: '2026-11-25T07:15:47.000Z',
    passed: true,
    verdict: 'PASSED: stage staging migrated and validated',
    failures: [],
    snapshot: { snapshotId: runContext.snapshotId, status: 'available' },
    backfill: [
      {
        step: 'companies',
        done: true,
        skipped: false,
        invocations: 2,
        counts: { created: 2000 },
        orphans: 0,
        conflicts: 0,
        unmigratable: 0,
      },
      {
        step: 'personnel',
        done: true,
        skipped: false,
        invocations: 1,
        counts: { linked: 500 },
        orphans: 2,
        conflicts: 0,
        unmigratable: 0,
      },
      {
        step: 'projects',
        done: true,
        skipped: true,
        invocations: 0,
        counts: {},
        orphans: 0,
        conflicts: 0,
        unmigratable: 0,
      },
    ],
    validation: {
      passed: true,
      criteria: [
        {
          id: 'project-coverage',
          passed: true,
          actual: 98.5,
          threshold: 95,
          message: 'project coverage 98.5 % ≥ 95 %',
        },
      ],
      issues: [],
    },
    smoke: { passed: true, warnings: 0, failures: 0, reportKey: `staging/${RUN_ID}/smoke.json` },
    ...overrides,
  };
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
let ssm: AwsClientStub<SSMClient>;
let sfn: AwsClientStub<SFNClient>;
let s3: AwsClientStub<S3Client>;
let objects: Map<string, string>;
let clientConfigs: AwsClientConfig[];
let sleeps: number[];

/** GetExecutionHistory as the service answers it: each poll sees more events, `pageSize` per page. */
function scriptHistory(events: HistoryEvent[], polls: number[], pageSize = 100): void {
  let poll = -1;
  sfn.on(GetExecutionHistoryCommand).callsFake((input) => {
    if (input.reverseOrder) {
      // status: the newest events first
      return { events: [...events].reverse().slice(0, input.maxResults ?? 100) };
    }
    if (!input.nextToken) poll++;
    const visible = events.slice(0, polls[Math.min(poll, polls.length - 1)]);
    const offset = input.nextToken ? Number(input.nextToken.replace('page-', '')) : 0;
    const end = offset + pageSize;
    return {
      events: visible.slice(offset, end),
      ...(end < visible.length ? { nextToken: `page-${end}` } : {}),
    };
  });
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  objects = new Map();
  clientConfigs = [];
  sleeps = [];
  const ssmClient = new SSMClient({ region: REGION, credentials });
  const sfnClient = new SFNClient({ region: REGION, credentials });
  const s3Client = new S3Client({ region: REGION, credentials });
  ssm = mockClient(ssmClient);
  sfn = mockClient(sfnClient);
  s3 = mockClient(s3Client);
  setAwsClientFactories({
    ssm: (config) => {
      clientConfigs.push(config);
      return ssmClient;
    },
    sfn: (config) => {
      clientConfigs.push(config);
      return sfnClient;
    },
    s3: () => s3Client,
  });
  setPolling({
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  const parameters: Record<string, string> = {
    '/company-migration/staging/state-machine-arn': STATE_MACHINE_ARN,
    '/company-migration/staging/report-bucket': BUCKET,
  };
  ssm.on(GetParameterCommand).callsFake((input) => {
    const value = parameters[String(input.Name)];
    if (value === undefined) {
      throw new ParameterNotFound({ message: '', $metadata: { httpStatusCode: 400 } });
    }
    return { Parameter: { Name: input.Name, Type: 'String', Value: value } };
  });
  sfn.on(StartExecutionCommand).callsFake((input) => ({
    executionArn: `${String(input.stateMachineArn).replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: T0,
  }));
  s3.on(GetObjectCommand).callsFake((input) => {
    const body = input.Bucket === BUCKET ? objects.get(String(input.Key)) : undefined;
    if (body === undefined) {
      throw new NoSuchKey({
        message: 'The specified key does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    }
    return { Body: { transformToString: async () => body } as unknown as GetObjectCommandOutput['Body'] };
  });
  s3.on(ListObjectsV2Command).callsFake((input) => ({
    Contents: [...objects.keys()].filter((k) => k.startsWith(String(input.Prefix))).map((Key) => ({ Key })),
    IsTruncated: false,
  }));
});

afterEach(() => {
  vi.useRealTimers();
  setAwsClientFactories();
  setPolling();
  ssm.restore();
  sfn.restore();
  s3.restore();
});

const putSummary = (value: RunSummary) =>
  objects.set(`staging/${RUN_ID}/summary.json`, `${JSON.stringify(value, null, 2)}\n`);

const lines = (text: string) => text.trim().split('\n');

/* ------------------------------------------------------------------------------------------------------------
 * run --cloud
 * ---------------------------------------------------------------------------------------------------------- */

describe('company-migration run --cloud', () => {
  it('starts the stage execution named by the run id, follows it live and prints the verdict, exit 0', async () => {
    // Prepare: a history that grows over three polls, and the summary the Evaluate state writes.
    const history = succeededHistory();
    scriptHistory(history.events, history.polls);
    putSummary(summary());

    // Act
    const run = await runCliCaptured([
      'run',
      '--cloud',
      '--stage',
      'staging',
      '--steps',
      'companies,personnel',
      '--chunk-size',
      '1200',
      '--undo-on-failure',
    ]);

    // Assess: the execution, named by the run id, with the operator's input
    expect(run.code).toBe(0);
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, {
      Name: '/company-migration/staging/state-machine-arn',
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: RUN_ID,
    });
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input;
    expect(JSON.parse(String(input))).toEqual({
      stage: 'staging',
      dryRun: false,
      chunkSize: 1200,
      skipSnapshot: false,
      undoOnFailure: true,
      steps: ['companies', 'personnel'],
    });

    // Assess: the local run's lines, in order, timed from the execution's start
    const progress = lines(run.stderr);
    expect(progress[0]).toBe(`migration run ${RUN_ID} on stage staging in ${REGION}`);
    expect(progress[1]).toBe(`execution: ${EXECUTION_ARN}`);
    expect(progress.slice(3)).toEqual([
      '[   0.1s] Preflight',
      '[   1.3s] ValidatePre',
      '[   5.0s] BackfillCompanies',
      '           companies ████████████░░░░░░░░ 60% 1200/2000 rows, invocation 1 (200 rows/s)',
      '[  11.5s] BackfillCompanies',
      '           companies ████████████████████ 100% 2000/2000 rows, invocation 2, done (200 rows/s)',
      '[  16.0s] BackfillPersonnel',
      '[  18.0s]   BackfillPersonnel failed: DatabaseResumingError: the Aurora cluster is resuming',
      '[  20.0s]   retrying BackfillPersonnel',
      '           personnel ████████████████████ 100% 500/500 rows, invocation 1, done (63 rows/s)',
      '[  24.5s] BackfillProjects',
      "           projects: skipped (not among the run's steps)",
      '[  25.5s] ValidatePost',
      '[  40.1s] Diff',
      '[  42.1s] Smoke',
      '[  44.1s] Evaluate',
    ]);

    // Assess: three polls, two 2-second pauses between them, and the verdict table from summary.json
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 3);
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, {
      executionArn: EXECUTION_ARN,
      reverseOrder: false,
    });
    expect(sleeps).toEqual([2000, 2000]);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: BUCKET,
      Key: `staging/${RUN_ID}/summary.json`,
    });
    expect(run.stdout).toContain('PASSED: stage staging migrated and validated');
    expect(run.stdout).toMatch(/personnel\s+done\s+1\s+2\s+0\s+0/);
    expect(run.stdout).toMatch(/project-coverage\s+98\.5\s+95\s+yes/);
    expect(run.stdout).toContain('execution: SUCCEEDED');
    expect(run.stdout).toContain(`reports: s3://${BUCKET}/staging/${RUN_ID}/`);
  });

  it('reads every page of the history through nextToken, each event once', async () => {
    // Prepare: three events a page
    const history = succeededHistory();
    scriptHistory(history.events, history.polls, 3);
    putSummary(summary());

    // Act
    const run = await runCliCaptured(['run', '--cloud', '--stage', 'staging', '--region', REGION]);

    // Assess
    expect(run.code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, {
      executionArn: EXECUTION_ARN,
      reverseOrder: false,
      nextToken: 'page-3',
    });
    const calls = sfn.commandCalls(GetExecutionHistoryCommand);
    expect(calls.length).toBe(history.polls.reduce((sum, n) => sum + Math.ceil(n / 3), 0));
    expect(run.stderr.match(/\] BackfillCompanies$/gm)).toHaveLength(2);
    expect(run.stderr.match(/\] Evaluate$/gm)).toHaveLength(1);
    expect(clientConfigs).toContainEqual({ region: REGION });
  });

  it('exits 1 when the execution fails with MigrationCriteriaNotMet, naming the failed criterion', async () => {
    // Prepare
    const history = criteriaNotMetHistory();
    scriptHistory(history.events, history.polls);
    putSummary(
      summary({
        passed: false,
        verdict: NOT_MET,
        failures: ['project-coverage: project-relationship coverage 91.2 % < 95 %'],
        validation: {
          passed: false,
          criteria: [
            { id: 'project-coverage', passed: false, actual: 91.2, threshold: 95, message: 'coverage' },
          ],
          issues: [],
        },
      }),
    );

    // Act
    const run = await runCliCaptured(['run', '--cloud', '--stage', 'staging']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(NOT_MET);
    expect(run.stdout).toMatch(/project-coverage\s+91\.2\s+95\s+NO/);
    expect(run.stdout).toContain('execution: FAILED (MigrationCriteriaNotMet)');
  });

  it('exits 2 when the execution fails otherwise, with the failure and where its report is', async () => {
    // Prepare: no summary.json, only the failure report
    const history = brokenHistory();
    scriptHistory(history.events, history.polls);
    objects.set(`staging/${RUN_ID}/failure.json`, '{}');

    // Act
    const run = await runCliCaptured(['run', '--cloud', '--stage', 'staging', '--dry-run']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      '[   1.9s]   ValidatePre failed: InputValidationError: validate event: field "phase" must be pre or post',
    );
    expect(run.stderr).not.toContain('retrying');
    expect(run.stdout).toContain('FAILED: InputValidationError:');
    expect(run.stdout).toContain('execution: FAILED (InputValidationError)');
    expect(run.stdout).toContain(
      `company-migration report get --stage staging --run ${RUN_ID} --name failure`,
    );
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input;
    expect(JSON.parse(String(input))).toMatchObject({ dryRun: true });
  });

  it('Ctrl-C stops following, leaves the execution running and says how to follow it again', async () => {
    // Prepare: the execution is still in its first poll's events when the operator presses Ctrl-C
    const history = succeededHistory();
    scriptHistory(history.events, history.polls);
    setPolling({
      sleep: async (ms) => {
        sleeps.push(ms);
        process.emit('SIGINT', 'SIGINT');
      },
    });

    const listeners = process.listenerCount('SIGINT');

    // Act
    const run = await runCliCaptured(['run', '--cloud', '--stage', 'staging', '--region', REGION]);

    // Assess
    expect(run.code).toBe(2);
    expect(sleeps).toHaveLength(1);
    expect(run.stderr).toContain(`stopped following ${RUN_ID}; the execution keeps running`);
    expect(run.stderr).toContain(
      `follow it again: company-migration status ${RUN_ID} --stage staging --region ${REGION} --follow`,
    );
    expect(run.stdout).toBe('');
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });
});

/* ------------------------------------------------------------------------------------------------------------
 * status
 * ---------------------------------------------------------------------------------------------------------- */

describe('company-migration status', () => {
  it('builds the execution ARN from the stage state machine and the run id, and shows the verdict', async () => {
    // Prepare
    const history = succeededHistory();
    scriptHistory(history.events, history.polls);
    putSummary(summary());
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION_ARN,
      stateMachineArn: STATE_MACHINE_ARN,
      name: RUN_ID,
      status: 'SUCCEEDED',
      startDate: T0,
      stopDate: new Date(T0.getTime() + 45_200),
      input: JSON.stringify({ stage: 'staging', dryRun: false }),
    });

    // Act
    const run = await runCliCaptured(['status', RUN_ID, '--stage', 'staging']);

    // Assess
    expect(run.code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION_ARN });
    expect(run.stdout).toMatch(/^status\s+SUCCEEDED$/m);
    expect(run.stdout).toMatch(/^started\s+2026-11-25T07:15:02\.000Z$/m);
    expect(run.stdout).toMatch(/^stopped\s+2026-11-25T07:15:47\.200Z \(after 45s\)$/m);
    expect(run.stdout).toMatch(/^state\s+MigrationSucceeded \(last\)$/m);
    expect(run.stdout).toContain('PASSED: stage staging migrated and validated');
  });

  it('shows the current state of a running execution given by its ARN, finding the stage in its input', async () => {
    // Prepare
    const { script } = historyUpToSmoke();
    scriptHistory(script.events, [script.length]);
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION_ARN,
      stateMachineArn: STATE_MACHINE_ARN,
      name: RUN_ID,
      status: 'RUNNING',
      startDate: T0,
      input: JSON.stringify({ stage: 'staging', dryRun: false }),
    });

    // Act
    const run = await runCliCaptured(['status', EXECUTION_ARN, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(clientConfigs).toContainEqual({ region: REGION });
    expect(JSON.parse(run.stdout)).toMatchObject({
      runId: RUN_ID,
      stage: 'staging',
      status: 'RUNNING',
      state: 'Smoke',
      reports: `s3://${BUCKET}/staging/${RUN_ID}/`,
      summary: null,
    });
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
  });

  it('--follow follows a running execution to its verdict and exits as run does', async () => {
    // Prepare
    const history = criteriaNotMetHistory();
    scriptHistory(history.events, history.polls);
    putSummary(summary({ passed: false, verdict: NOT_MET }));
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION_ARN,
      stateMachineArn: STATE_MACHINE_ARN,
      name: RUN_ID,
      status: 'RUNNING',
      startDate: T0,
      input: '{"stage":"staging"}',
    });

    // Act
    const run = await runCliCaptured(['status', RUN_ID, '--stage', 'staging', '--follow']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[  16.0s] BackfillPersonnel');
    expect(run.stdout).toContain('execution: FAILED (MigrationCriteriaNotMet)');
  });

  it('--follow on an execution that already ended shows it and exits with its outcome', async () => {
    // Prepare
    const history = criteriaNotMetHistory();
    scriptHistory(history.events, history.polls);
    putSummary(summary({ passed: false, verdict: NOT_MET }));
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION_ARN,
      stateMachineArn: STATE_MACHINE_ARN,
      name: RUN_ID,
      status: 'FAILED',
      startDate: T0,
      stopDate: new Date(T0.getTime() + 45_200),
      error: 'MigrationCriteriaNotMet',
      cause: NOT_MET,
      input: '{"stage":"staging"}',
    });

    // Act
    const run = await runCliCaptured(['status', RUN_ID, '--stage', 'staging', '--follow']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^state\s+MigrationCriteriaNotMet \(last\)$/m);
    expect(run.stdout).toContain(`error      MigrationCriteriaNotMet: ${NOT_MET}`);
    expect(sleeps).toEqual([]);
  });

  it('asks for --stage when given a bare run id', async () => {
    // Act
    const run = await runCliCaptured(['status', RUN_ID]);

    // Assess
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      `error: name the execution by its full ARN, or give --stage with the run id ${RUN_ID}`,
    ]);
  });
});

/* ------------------------------------------------------------------------------------------------------------
 * report get
 * ---------------------------------------------------------------------------------------------------------- */

describe('company-migration report get', () => {
  it('fetches <stage>/<run>/<name>.<format> from the stage bucket and writes it to --out', async () => {
    // Prepare
    objects.set(`staging/${RUN_ID}/summary.md`, '# ✅ PASSED — migration run\n');
    const out = join(scratch, 'fetched', 'summary.md');

    // Act
    const run = await runCliCaptured(['report', 'get', '--stage', 'staging', '--run', RUN_ID, '--out', out]);

    // Assess
    expect(run.code).toBe(0);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: BUCKET,
      Key: `staging/${RUN_ID}/summary.md`,
    });
    expect(readFileSync(out, 'utf8')).toBe('# ✅ PASSED — migration run\n');
    expect(run.stderr).toContain(`written to ${out}`);
  });

  it('prints the JSON of a report that has no Markdown rendering', async () => {
    // Prepare
    objects.set(`staging/${RUN_ID}/backfill-companies.json`, '{"kind":"backfill"}\n');

    // Act
    const run = await runCliCaptured([
      'report',
      'get',
      '--stage',
      'staging',
      '--run',
      RUN_ID,
      '--name',
      'backfill-companies',
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"kind":"backfill"}\n');
  });

  it('names the reports the run has when the one asked for is missing', async () => {
    // Prepare
    objects.set(`staging/${RUN_ID}/failure.json`, '{}');
    objects.set(`staging/${RUN_ID}/failure.md`, '# failed');

    // Act
    const run = await runCliCaptured([
      'report',
      'get',
      '--stage',
      'staging',
      '--run',
      RUN_ID,
      '--format',
      'html',
    ]);

    // Assess
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      `error: run ${RUN_ID} has no summary.html in s3://${BUCKET}/staging/${RUN_ID}/; it has: failure.json, failure.md`,
    ]);
  });
});

/* ------------------------------------------------------------------------------------------------------------
 * Errors: one line, exit 2
 * ---------------------------------------------------------------------------------------------------------- */

describe('cloud commands without a usable AWS setup', () => {
  it('says a stage without its SSM parameter is not deployed in the region', async () => {
    // Act
    const run = await runCliCaptured(['run', '--cloud', '--stage', 'production']);

    // Assess
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      `error: stage production is not deployed in ${REGION} (no /company-migration/production/state-machine-arn parameter)`,
    ]);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('names the action that was denied', async () => {
    // Prepare
    ssm.on(GetParameterCommand).rejects(
      new AccessDeniedException({
        message: 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ssm:GetParameter',
        Message: 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ssm:GetParameter',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const run = await runCliCaptured(['report', 'get', '--stage', 'staging', '--run', RUN_ID]);

    // Assess
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      'error: access denied: your AWS identity may not ssm:GetParameter on /company-migration/staging/state-machine-arn',
    ]);
  });

  it('reports the SDK credentials error as one line', async () => {
    // Prepare: what the default credential chain throws when nothing provides credentials
    const error = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
      tryNextLink: false,
    });
    ssm.on(GetParameterCommand).rejects(error);

    // Act
    const run = await runCliCaptured(['status', RUN_ID, '--stage', 'staging']);

    // Assess
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      'error: no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    ]);
  });

  describe('with the real SDK and no AWS configuration at all', () => {
    const saved = { ...process.env };

    beforeEach(() => {
      // No mocks here: the SDK's own region and credential resolution, on an empty configuration.
      ssm.restore();
      sfn.restore();
      s3.restore();
      setAwsClientFactories();
      for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
      process.env.AWS_CONFIG_FILE = join(scratch, 'no-config');
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(scratch, 'no-credentials');
      process.env.AWS_EC2_METADATA_DISABLED = 'true';
    });

    afterEach(() => {
      for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
      Object.assign(process.env, saved);
    });

    it('exits 2 with one line when no region is set', async () => {
      // Act
      const run = await runCliCaptured(['run', '--cloud', '--stage', 'staging']);

      // Assess
      expect(run.code).toBe(2);
      expect(lines(run.stderr)).toEqual(['error: no AWS region: set AWS_REGION or --region']);
    });

    it('exits 2 with one line when no credentials are found', async () => {
      // Act
      const run = await runCliCaptured([
        'report',
        'get',
        '--stage',
        'staging',
        '--run',
        RUN_ID,
        '--region',
        REGION,
      ]);

      // Assess
      expect(run.code).toBe(2);
      expect(lines(run.stderr)).toEqual([
        'error: no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
      ]);
    });
  });
});
