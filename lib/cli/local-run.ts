import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import { createBackfillHandler } from '../../functions/backfill/handler.ts';
import { createDiffHandler } from '../../functions/diff/handler.ts';
import { createEvaluateHandler } from '../../functions/evaluate/handler.ts';
import { createPreflightHandler } from '../../functions/preflight/handler.ts';
import { createReportFailureHandler } from '../../functions/report-failure/handler.ts';
import type { DepsProvider } from '../../functions/shared/handler.ts';
import { createSmokeHandler } from '../../functions/smoke/handler.ts';
import { createUndoHandler } from '../../functions/undo/handler.ts';
import { createValidateHandler } from '../../functions/validate/handler.ts';
import type { ExecutionInput } from '../core/pipeline/contracts.ts';
import type { PipelineDeps } from '../core/pipeline/steps.ts';

/** The definition the CDK deploys; the local runner executes the very same file. */
export const MIGRATION_ASL_FILE = new URL('../../state-machines/migration.asl.json', import.meta.url);

/** The interpreter's event log entries (its type is not exported by name). */
export type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** Placeholder values for the definition's substitutions when no AWS account is involved. */
const LOCAL_FUNCTION_ARN = (name: string) =>
  `arn:aws:lambda:us-east-1:000000000000:function:company-migration-local-${name}`;
const LOCAL_SUBSTITUTIONS: Record<string, string> = {
  PreflightFunctionArn: LOCAL_FUNCTION_ARN('preflight'),
  ValidateFunctionArn: LOCAL_FUNCTION_ARN('validate'),
  BackfillFunctionArn: LOCAL_FUNCTION_ARN('backfill'),
  UndoFunctionArn: LOCAL_FUNCTION_ARN('undo'),
  DiffFunctionArn: LOCAL_FUNCTION_ARN('diff'),
  SmokeFunctionArn: LOCAL_FUNCTION_ARN('smoke'),
  EvaluateFunctionArn: LOCAL_FUNCTION_ARN('evaluate'),
  ReportFailureFunctionArn: LOCAL_FUNCTION_ARN('report-failure'),
  ClusterIdentifier: 'local',
};

/** The definition with its `${…}` placeholders filled in, as the CDK's definitionSubstitutions would. */
export function loadMigrationDefinition(substitutions: Record<string, string> = LOCAL_SUBSTITUTIONS) {
  const text = readFileSync(MIGRATION_ASL_FILE, 'utf8').replace(/\$\{(\w+)\}/g, (_match, name: string) => {
    const value = substitutions[name];
    if (value === undefined)
      throw new Error(`the state machine definition uses \${${name}}, which has no value`);
    return value;
  });
  return JSON.parse(text) as { States: Record<string, { Type: string; Resource?: string }> };
}

export interface LocalSnapshotResult {
  snapshotId: string;
  status: 'available' | 'skipped';
  detail?: string;
}

/** Test seam: make a state's handler throw `error` for its first `times` invocations. */
export interface InjectedFault {
  state: string;
  times: number;
  error: () => Error;
}

export interface LocalRunOptions {
  deps: PipelineDeps;
  runId: string;
  input: ExecutionInput;
  /** Stands in for the RDS cluster snapshot: a dump of the local database. */
  takeSnapshot: (snapshotId: string) => Promise<LocalSnapshotResult>;
  /** Work time each backfill invocation gets (a Lambda gets its remaining time less a margin). */
  invocationBudgetMs?: number;
  /** Pause before each retry (ms); Step Functions would wait seconds, tests need none. */
  retryPauseMs?: number;
  faults?: InjectedFault[];
  onEvent?: (event: EventLog) => void;
}

export interface LocalRunResult {
  status: 'SUCCEEDED' | 'FAILED';
  runId: string;
  output: unknown;
  error?: { name: string; cause: string };
  /** Task invocations per state, retries included. */
  invocations: Record<string, number>;
  retries: Record<string, number>;
}

/** A Lambda context for in-process invocations: a function name and a deadline `budgetMs` from now. */
export function fakeContext(functionName: string, budgetMs: number): Context {
  const deadline = Date.now() + budgetMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: LOCAL_FUNCTION_ARN(functionName),
    memoryLimitInMB: '1024',
    awsRequestId: `local-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

type Invoke = (event: unknown) => Promise<unknown>;

/**
 * Runs the migration state machine on this machine: the committed ASL file, executed by
 * aws-local-stepfunctions, each Task state served in-process by the same handler the Lambda runs.
 */
export async function runMigrationLocally(options: LocalRunOptions): Promise<LocalRunResult> {
  const deps: DepsProvider = async () => options.deps;
  // A Lambda times out at 15 minutes and keeps a minute's margin; locally the budget is the option.
  const lambdaBudgetMs = (options.invocationBudgetMs ?? 10 * 60_000) + 60_000;
  // Called as the Lambda runtime calls a handler: the event (JSON as it arrived) and a context.
  const lambda = <Event>(
    name: string,
    handler: (event: Event, context: Context, options: { signal: AbortSignal }) => Promise<unknown>,
  ): Invoke => {
    return (event) =>
      handler(event as Event, fakeContext(name, lambdaBudgetMs), { signal: new AbortController().signal });
  };
  const handlers: Record<string, Invoke> = {
    Preflight: lambda('preflight', createPreflightHandler(deps)),
    ValidatePre: lambda('validate', createValidateHandler(deps)),
    ValidatePost: lambda('validate', createValidateHandler(deps)),
    BackfillCompanies: lambda('backfill', createBackfillHandler(deps)),
    BackfillPersonnel: lambda('backfill', createBackfillHandler(deps)),
    BackfillProjects: lambda('backfill', createBackfillHandler(deps)),
    UndoRun: lambda('undo', createUndoHandler(deps)),
    Diff: lambda('diff', createDiffHandler(deps)),
    Smoke: lambda('smoke', createSmokeHandler(deps)),
    Evaluate: lambda('evaluate', createEvaluateHandler(deps)),
    ReportFailure: lambda('report-failure', createReportFailureHandler(deps)),
    // The SDK integrations answer in the RDS API's shape, so the same Choice logic runs.
    CreateSnapshot: async (event) => {
      const { DbClusterSnapshotIdentifier } = event as { DbClusterSnapshotIdentifier: string };
      const snapshot = await options.takeSnapshot(DbClusterSnapshotIdentifier);
      return {
        DbClusterSnapshot: { DbClusterSnapshotIdentifier: snapshot.snapshotId, Status: snapshot.status },
      };
    },
    DescribeSnapshot: async (event) => {
      const { DbClusterSnapshotIdentifier } = event as { DbClusterSnapshotIdentifier: string };
      return { DbClusterSnapshots: [{ DbClusterSnapshotIdentifier, Status: 'available' }] };
    },
  };

  const definition = loadMigrationDefinition();
  const invocations: Record<string, number> = {};
  const retries: Record<string, number> = {};
  const remainingFaults = new Map((options.faults ?? []).map((f) => [f.state, { ...f }]));
  type JsonValue = Parameters<
    NonNullable<
      NonNullable<NonNullable<Parameters<StateMachine['run']>[1]>['overrides']>['taskResourceLocalHandlers']
    >[string]
  >[0];
  const overrides: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  for (const [stateName, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const invoke = handlers[stateName];
    if (!invoke) throw new Error(`the local runner has no handler for Task state ${stateName}`);
    overrides[stateName] = async (input) => {
      invocations[stateName] = (invocations[stateName] ?? 0) + 1;
      const fault = remainingFaults.get(stateName);
      if (fault && fault.times > 0) {
        fault.times--;
        throw fault.error();
      }
      return (await invoke(input)) as JsonValue;
    };
  }
  const taskStates = Object.keys(overrides);
  const pause = options.retryPauseMs ?? 250;
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const execution = machine.run(options.input, {
    overrides: {
      taskResourceLocalHandlers: overrides,
      waitTimeOverrides: { WaitForSnapshot: 0 },
      retryIntervalOverrides: Object.fromEntries(taskStates.map((s) => [s, pause])),
    },
    context: {
      Execution: { Name: options.runId, Input: options.input, StartTime: new Date().toISOString() },
    },
  });
  const events = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateRetried') retries[event.state.name] = (retries[event.state.name] ?? 0) + 1;
      options.onEvent?.(event);
    }
  })();
  try {
    const output = await execution.result;
    await events.catch(() => {});
    return { status: 'SUCCEEDED', runId: options.runId, output, invocations, retries };
  } catch (error) {
    await events.catch(() => {});
    return {
      status: 'FAILED',
      runId: options.runId,
      output: null,
      error: failStateError(error),
      invocations,
      retries,
    };
  }
}

/** The Fail state's Error and Cause: the interpreter wraps them in an ExecutionError's cause. */
function failStateError(error: unknown): { name: string; cause: string } {
  const inner = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (inner instanceof Error) return { name: inner.name, cause: inner.message };
  return { name: 'Error', cause: String(inner) };
}
