/**
 * Writes state-machines/migration.asl.json: the one definition the CDK deploys and the local runner
 * executes. Generated so that every Task gets the same Retry and Catch policy; the JSON is committed and
 * a test checks it matches this script. Run: `npx tsx scripts/build-migration-asl.ts`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type State = Record<string, unknown>;

/** A definitionSubstitutions placeholder: the CDK (or the local runner) fills it in. */
const substitution = (name: string) => `\${${name}}`;

/** Database and Lambda errors worth another try; everything else (bad input, bad SQL) fails at once. */
export const RETRY_POLICY = [
  {
    ErrorEquals: [
      'StatementTimeoutError',
      'DatabaseResumingError',
      'ThrottlingError',
      'DatabaseConnectionError',
      'ConcurrencyConflictError',
      'TransactionExpiredError',
    ],
    IntervalSeconds: 2,
    BackoffRate: 2,
    MaxAttempts: 6,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
  {
    ErrorEquals: [
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
      'Sandbox.Timedout',
    ],
    IntervalSeconds: 1,
    BackoffRate: 2,
    MaxAttempts: 3,
  },
];

const SNAPSHOT_RETRY = [
  {
    ErrorEquals: ['Rds.ThrottlingException', 'Rds.InvalidDbClusterStateException'],
    IntervalSeconds: 10,
    BackoffRate: 2,
    MaxAttempts: 5,
  },
];

/** Seconds between snapshot polls, and how many polls before giving up (2 hours). */
const SNAPSHOT_POLL_SECONDS = 30;
const SNAPSHOT_MAX_POLLS = 240;

const states: Record<string, State> = {};

function failurePath(task: string): { catch: State[] } {
  const recorder = `Record${task}Failure`;
  states[recorder] = {
    Type: 'Pass',
    Comment: `Notes which state failed, for the failure report.`,
    Result: task,
    ResultPath: '$.failedState',
    Next: 'ReportFailure',
  };
  return { catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: recorder }] };
}

function lambdaTask(
  name: string,
  functionArn: string,
  parameters: State,
  resultPath: string,
  next: State,
): void {
  states[name] = {
    Type: 'Task',
    Resource: substitution(functionArn),
    Parameters: parameters,
    ResultPath: resultPath,
    TimeoutSeconds: 900,
    Retry: RETRY_POLICY,
    Catch: failurePath(name).catch,
    ...next,
  };
}

function backfillLoop(step: 'companies' | 'personnel' | 'projects', task: string, next: string): void {
  lambdaTask(
    task,
    'BackfillFunctionArn',
    { 'run.$': '$.run', step, 'state.$': `$.backfill.${step}` },
    `$.backfill.${step}`,
    { Next: `${task}Done` },
  );
  states[`${task}Done`] = {
    Type: 'Choice',
    Comment: 'Each invocation works until its time budget is spent; loop until the step is done.',
    Choices: [{ Variable: `$.backfill.${step}.done`, BooleanEquals: true, Next: next }],
    Default: task,
  };
}

export function buildMigrationDefinition(): State {
  lambdaTask(
    'Preflight',
    'PreflightFunctionArn',
    { 'runId.$': '$$.Execution.Name', 'input.$': '$' },
    '$.run',
    { Next: 'Initialize' },
  );
  states.Initialize = {
    Type: 'Pass',
    Comment: 'From here on the state holds the validated run and each step’s small result.',
    Parameters: {
      'run.$': '$.run',
      backfill: { companies: null, personnel: null, projects: null },
      undo: null,
    },
    Next: 'ValidatePre',
  };
  lambdaTask('ValidatePre', 'ValidateFunctionArn', { 'run.$': '$.run', phase: 'pre' }, '$.validatePre', {
    Next: 'SnapshotWanted',
  });
  states.SnapshotWanted = {
    Type: 'Choice',
    Choices: [{ Variable: '$.run.takeSnapshot', BooleanEquals: true, Next: 'CreateSnapshot' }],
    Default: 'SkipSnapshot',
  };
  states.SkipSnapshot = {
    Type: 'Pass',
    Comment: 'Dry runs, runs whose input skips it, and stages with snapshots off take none.',
    Result: { snapshotId: null, status: 'skipped' },
    ResultPath: '$.snapshot',
    Next: 'BackfillCompanies',
  };
  states.CreateSnapshot = {
    Type: 'Task',
    Resource: 'arn:aws:states:::aws-sdk:rds:createDBClusterSnapshot',
    Parameters: {
      DbClusterIdentifier: substitution('ClusterIdentifier'),
      'DbClusterSnapshotIdentifier.$': '$.run.snapshotId',
      Tags: [{ Key: 'purpose', Value: 'company-migration-backup' }],
    },
    ResultSelector: {
      'snapshotId.$': '$.DbClusterSnapshot.DbClusterSnapshotIdentifier',
      'status.$': '$.DbClusterSnapshot.Status',
      polls: 0,
    },
    ResultPath: '$.snapshot',
    Retry: SNAPSHOT_RETRY,
    Catch: failurePath('CreateSnapshot').catch,
    Next: 'WaitForSnapshot',
  };
  states.WaitForSnapshot = { Type: 'Wait', Seconds: SNAPSHOT_POLL_SECONDS, Next: 'DescribeSnapshot' };
  states.DescribeSnapshot = {
    Type: 'Task',
    Resource: 'arn:aws:states:::aws-sdk:rds:describeDBClusterSnapshots',
    Parameters: { 'DbClusterSnapshotIdentifier.$': '$.snapshot.snapshotId' },
    ResultSelector: {
      'snapshotId.$': '$.DbClusterSnapshots[0].DbClusterSnapshotIdentifier',
      'status.$': '$.DbClusterSnapshots[0].Status',
    },
    ResultPath: '$.snapshotCheck',
    Retry: SNAPSHOT_RETRY,
    Catch: failurePath('DescribeSnapshot').catch,
    Next: 'CountSnapshotPoll',
  };
  states.CountSnapshotPoll = {
    Type: 'Pass',
    Parameters: {
      'snapshotId.$': '$.snapshotCheck.snapshotId',
      'status.$': '$.snapshotCheck.status',
      'polls.$': 'States.MathAdd($.snapshot.polls, 1)',
    },
    ResultPath: '$.snapshot',
    Next: 'SnapshotReady',
  };
  states.SnapshotReady = {
    Type: 'Choice',
    Choices: [
      { Variable: '$.snapshot.status', StringEquals: 'available', Next: 'BackfillCompanies' },
      {
        Or: [
          { Variable: '$.snapshot.status', StringEquals: 'failed' },
          { Variable: '$.snapshot.status', StringEquals: 'incompatible-restore' },
          { Variable: '$.snapshot.polls', NumericGreaterThanEquals: SNAPSHOT_MAX_POLLS },
        ],
        Next: 'SnapshotNotAvailable',
      },
    ],
    Default: 'WaitForSnapshot',
  };
  states.SnapshotNotAvailable = {
    Type: 'Pass',
    Comment: 'No backup, no backfill: the run ends before writing anything.',
    Parameters: {
      Error: 'SnapshotNotAvailable',
      'Cause.$':
        "States.Format('snapshot {} is {} after {} polls', $.snapshot.snapshotId, $.snapshot.status, $.snapshot.polls)",
    },
    ResultPath: '$.error',
    Next: 'RecordSnapshotFailure',
  };
  states.RecordSnapshotFailure = {
    Type: 'Pass',
    Result: 'WaitForSnapshot',
    ResultPath: '$.failedState',
    Next: 'ReportFailure',
  };
  backfillLoop('companies', 'BackfillCompanies', 'BackfillPersonnel');
  backfillLoop('personnel', 'BackfillPersonnel', 'BackfillProjects');
  backfillLoop('projects', 'BackfillProjects', 'ValidatePost');
  lambdaTask('ValidatePost', 'ValidateFunctionArn', { 'run.$': '$.run', phase: 'post' }, '$.validatePost', {
    Next: 'UndoWanted',
  });
  states.UndoWanted = {
    Type: 'Choice',
    Comment: 'Post-validation failed and the input asked for it: reverse exactly this run from its journal.',
    Choices: [
      {
        And: [
          { Variable: '$.validatePost.passed', BooleanEquals: false },
          { Variable: '$.run.undoOnFailure', BooleanEquals: true },
        ],
        Next: 'UndoRun',
      },
    ],
    Default: 'Diff',
  };
  lambdaTask('UndoRun', 'UndoFunctionArn', { 'run.$': '$.run', 'state.$': '$.undo' }, '$.undo', {
    Next: 'UndoRunDone',
  });
  states.UndoRunDone = {
    Type: 'Choice',
    Comment: 'Each invocation works until its time budget is spent; loop until the undo is done or stopped.',
    Choices: [
      { Variable: '$.undo.status', StringEquals: 'undone', Next: 'RunUndone' },
      { Variable: '$.undo.status', StringEquals: 'stopped', Next: 'UndoStopped' },
    ],
    Default: 'UndoRun',
  };
  states.RunUndone = {
    Type: 'Fail',
    Error: 'PostValidationFailedRunUndone',
    Cause:
      'post-validation failed; the run was undone as the input asked (see the validation-post and undo reports)',
  };
  states.UndoStopped = {
    Type: 'Fail',
    Error: 'PostValidationFailedUndoStopped',
    Cause:
      'post-validation failed; the undo stopped because later rows depend on rows the run created, and wrote nothing (see the undo report)',
  };
  lambdaTask('Diff', 'DiffFunctionArn', { 'run.$': '$.run' }, '$.diff', { Next: 'Smoke' });
  lambdaTask('Smoke', 'SmokeFunctionArn', { 'run.$': '$.run' }, '$.smoke', { Next: 'Evaluate' });
  lambdaTask(
    'Evaluate',
    'EvaluateFunctionArn',
    {
      'run.$': '$.run',
      'validatePost.$': '$.validatePost',
      'smoke.$': '$.smoke',
      'backfill.$': '$.backfill',
      'snapshot.$': '$.snapshot',
    },
    '$.evaluate',
    { Next: 'Verdict' },
  );
  states.Verdict = {
    Type: 'Choice',
    Choices: [{ Variable: '$.evaluate.passed', BooleanEquals: true, Next: 'MigrationSucceeded' }],
    Default: 'MigrationCriteriaNotMet',
  };
  states.MigrationSucceeded = { Type: 'Succeed' };
  states.MigrationCriteriaNotMet = {
    Type: 'Fail',
    Error: 'MigrationCriteriaNotMet',
    CausePath: '$.evaluate.verdict',
  };
  states.ReportFailure = {
    Type: 'Task',
    Resource: substitution('ReportFailureFunctionArn'),
    Parameters: {
      'runId.$': '$$.Execution.Name',
      'failedState.$': '$.failedState',
      'error.$': '$.error',
      'state.$': '$',
    },
    ResultPath: '$.failureReport',
    TimeoutSeconds: 120,
    Retry: [RETRY_POLICY[1]],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failureReportError', Next: 'MigrationFailed' }],
    Next: 'MigrationFailed',
  };
  states.MigrationFailed = {
    Type: 'Fail',
    ErrorPath: '$.error.Error',
    CausePath: '$.error.Cause',
  };
  return {
    Comment:
      'NukeWorks company migration: preflight, validation, backup, three backfills, validation (undo on failure when asked), diff, smoke, verdict.',
    StartAt: 'Preflight',
    TimeoutSeconds: 43_200,
    States: states,
  };
}

export const MIGRATION_ASL_PATH = fileURLToPath(
  new URL('../state-machines/migration.asl.json', import.meta.url),
);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(MIGRATION_ASL_PATH, `${JSON.stringify(buildMigrationDefinition(), null, 2)}\n`);
  console.log(`wrote ${MIGRATION_ASL_PATH}`);
}
