import { setTimeout as sleepFor } from 'node:timers/promises';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryOutput,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ExecutionInput } from '../core/pipeline/contracts.ts';
import type { RunSummary } from '../core/pipeline/summary.ts';
import { ReportParseError, readReport } from '../core/reports/publish.ts';
import { S3ReportStore } from '../core/reports/s3-store.ts';
import { ReportNotFoundError } from '../core/reports/store.ts';
import { CliError } from './errors.ts';

/**
 * The AWS side of the operator CLI: where a stage is deployed (SSM parameters the stack publishes),
 * starting and following its state machine's executions, and reading the reports they leave in S3.
 */

/* ------------------------------------------------------------------------------------------------------------
 * Clients: one of each per region and process, from the default credential chain (AWS_PROFILE, SSO, access
 * keys, instance roles …). Tests replace the factories with ones that return mocked clients.
 * ---------------------------------------------------------------------------------------------------------- */

export interface AwsClientConfig {
  /** --region; without it the SDK's own resolution (AWS_REGION, the profile's region). */
  region?: string;
}

export interface AwsClientFactories {
  ssm: (config: AwsClientConfig) => SSMClient;
  sfn: (config: AwsClientConfig) => SFNClient;
  s3: (config: AwsClientConfig) => S3Client;
  rds: (config: AwsClientConfig) => RDSClient;
}

const defaultFactories: AwsClientFactories = {
  ssm: (config) => new SSMClient(config),
  sfn: (config) => new SFNClient(config),
  s3: (config) => new S3Client(config),
  rds: (config) => new RDSClient(config),
};
let factories: AwsClientFactories = defaultFactories;
const clients = new Map<string, Partial<{ ssm: SSMClient; sfn: SFNClient; s3: S3Client; rds: RDSClient }>>();

/** Replaces how the AWS clients are made (tests: mocked clients); no argument restores the defaults. */
export function setAwsClientFactories(replacement?: Partial<AwsClientFactories>): void {
  factories = { ...defaultFactories, ...replacement };
  clients.clear();
}

function awsClient<K extends keyof AwsClientFactories>(
  kind: K,
  region: string | undefined,
): ReturnType<AwsClientFactories[K]> {
  const slot = region ?? '';
  const made = clients.get(slot) ?? {};
  clients.set(slot, made);
  made[kind] ??= factories[kind](region ? { region } : {}) as never;
  return made[kind] as ReturnType<AwsClientFactories[K]>;
}

export const ssmClient = (region?: string): SSMClient => awsClient('ssm', region);
export const sfnClient = (region?: string): SFNClient => awsClient('sfn', region);
export const s3Client = (region?: string): S3Client => awsClient('s3', region);
export const rdsClient = (region?: string): RDSClient => awsClient('rds', region);

/* ------------------------------------------------------------------------------------------------------------
 * Errors: what the SDK throws, as one line the operator can act on.
 * ---------------------------------------------------------------------------------------------------------- */

export const NO_CREDENTIALS =
  'no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY';
export const NO_REGION = 'no AWS region: set AWS_REGION or --region';

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'AuthorizationError']);
const CREDENTIALS_REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);
const CREDENTIALS_EXPIRED = new Set(['ExpiredTokenException', 'ExpiredToken', 'TokenRefreshRequired']);

interface SdkErrorLike {
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** The error and its causes (S3ReportStore wraps the SDK's error in one of its own). */
function errorChain(error: unknown): SdkErrorLike[] {
  const chain: SdkErrorLike[] = [];
  let current = error;
  while (typeof current === 'object' && current !== null && chain.length < 5) {
    chain.push(current as SdkErrorLike);
    current = (current as SdkErrorLike).cause;
  }
  return chain;
}

/** The SDK's name for an error anywhere in the chain (ParameterNotFound, ExecutionDoesNotExist …). */
export function awsErrorName(error: unknown): string | undefined {
  for (const link of errorChain(error)) {
    if (typeof link.name === 'string' && link.name !== 'Error') return link.name;
  }
  return undefined;
}

function hasName(error: unknown, names: ReadonlySet<string> | string): boolean {
  return errorChain(error).some((link) =>
    typeof names === 'string' ? link.name === names : names.has(String(link.name)),
  );
}

/**
 * One line for an AWS call that went wrong: missing credentials or region, credentials refused or expired,
 * or the action that was denied; anything else keeps the SDK's message, with the call it came from.
 */
export function awsFailure(error: unknown, action: string, resource: string): Error {
  if (error instanceof CliError) return error;
  const chain = errorChain(error);
  if (
    hasName(error, 'CredentialsProviderError') ||
    chain.some((e) => /could not load credentials from any providers/i.test(String(e.message)))
  ) {
    return new CliError(NO_CREDENTIALS);
  }
  if (chain.some((e) => /region is missing/i.test(String(e.message)))) return new CliError(NO_REGION);
  if (hasName(error, CREDENTIALS_EXPIRED)) {
    return new CliError('the AWS credentials have expired: renew them (aws sso login, or new session keys)');
  }
  if (hasName(error, CREDENTIALS_REJECTED)) {
    return new CliError(
      `AWS refused the credentials for ${action} (${awsErrorName(error)}): check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`,
    );
  }
  if (hasName(error, ACCESS_DENIED) || chain.some((e) => e.$metadata?.httpStatusCode === 403)) {
    return new CliError(`access denied: your AWS identity may not ${action} on ${resource}`);
  }
  const name = awsErrorName(error);
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${action} on ${resource} failed: ${name ? `${name}: ` : ''}${message}`, { cause: error });
}

/** The region a client will use, or the one-line error when there is none. */
async function regionOf(client: SSMClient | SFNClient): Promise<string> {
  try {
    return await client.config.region();
  } catch (error) {
    throw awsFailure(error, 'resolve the AWS region', 'this machine');
  }
}

/* ------------------------------------------------------------------------------------------------------------
 * Deployments: the SSM parameters each deployed stage publishes.
 * ---------------------------------------------------------------------------------------------------------- */

/** `/company-migration/<stage>/<name>`, as the stack publishes it. */
export function parameterName(stage: string, name: 'state-machine-arn' | 'report-bucket'): string {
  return `/company-migration/${stage}/${name}`;
}

export interface Deployment {
  stage: string;
  region: string;
  stateMachineArn: string;
  reportBucket: string;
}

const STATE_MACHINE_ARN = /^arn:[\w-]+:states:[\w-]+:\d{12}:stateMachine:[\w.-]+$/;
const EXECUTION_ARN = /^arn:([\w-]+):states:([\w-]+):(\d{12}):execution:([\w.-]+):([\w.-]+)$/;

async function readParameter(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    const answer = await ssm.send(new GetParameterCommand({ Name: name }));
    return answer.Parameter?.Value;
  } catch (error) {
    if (awsErrorName(error) === 'ParameterNotFound') return undefined;
    throw awsFailure(error, 'ssm:GetParameter', name);
  }
}

/** Where a stage runs: its state machine and report bucket, from the SSM parameters of its deployment. */
export async function resolveDeployment(stage: string, region?: string): Promise<Deployment> {
  const ssm = ssmClient(region);
  const resolvedRegion = region ?? (await regionOf(ssm));
  const [arnName, bucketName] = [
    parameterName(stage, 'state-machine-arn'),
    parameterName(stage, 'report-bucket'),
  ];
  const [stateMachineArn, reportBucket] = await Promise.all([
    readParameter(ssm, arnName),
    readParameter(ssm, bucketName),
  ]);
  if (!stateMachineArn) {
    throw new CliError(`stage ${stage} is not deployed in ${resolvedRegion} (no ${arnName} parameter)`);
  }
  if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
    throw new CliError(`parameter ${arnName} holds "${stateMachineArn}", which is not a state machine ARN`);
  }
  if (!reportBucket) {
    throw new CliError(
      `stage ${stage} is only partly deployed in ${resolvedRegion} (no ${bucketName} parameter)`,
    );
  }
  return { stage, region: resolvedRegion, stateMachineArn, reportBucket };
}

/** `arn:…:stateMachine:X` → `arn:…:execution:X:<name>`. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
    throw new CliError(`${stateMachineArn} is not a state machine ARN`);
  }
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** The parts of an execution ARN, or undefined when it is not one. */
export function parseExecutionArn(
  arn: string,
): { region: string; stateMachineName: string; name: string } | undefined {
  const match = EXECUTION_ARN.exec(arn);
  if (!match) return undefined;
  return { region: match[2] as string, stateMachineName: match[4] as string, name: match[5] as string };
}

/** The Step Functions console page of an execution. */
export function consoleUrl(executionArn: string, region: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/* ------------------------------------------------------------------------------------------------------------
 * Executions
 * ---------------------------------------------------------------------------------------------------------- */

/** Starts the stage's migration as execution `runId` (the state machine uses the name as the run id). */
export async function startExecution(
  deployment: Deployment,
  runId: string,
  input: ExecutionInput,
): Promise<{ executionArn: string; startDate: Date }> {
  const sfn = sfnClient(deployment.region);
  try {
    const answer = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deployment.stateMachineArn,
        name: runId,
        input: JSON.stringify(input),
      }),
    );
    return {
      executionArn: answer.executionArn ?? executionArnFor(deployment.stateMachineArn, runId),
      startDate: answer.startDate ?? new Date(),
    };
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'ExecutionAlreadyExists') {
      throw new CliError(`an execution named ${runId} already exists; start the run again in a second`);
    }
    if (name === 'StateMachineDoesNotExist') {
      throw new CliError(
        `the state machine of stage ${deployment.stage} (${deployment.stateMachineArn}) does not exist: ` +
          'the stage is not (or no longer) deployed',
      );
    }
    throw awsFailure(error, 'states:StartExecution', deployment.stateMachineArn);
  }
}

export async function describeExecution(
  executionArn: string,
  region: string,
): Promise<DescribeExecutionOutput> {
  try {
    return await sfnClient(region).send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (awsErrorName(error) === 'ExecutionDoesNotExist') throw new CliError(`no execution ${executionArn}`);
    if (awsErrorName(error) === 'InvalidArn') throw new CliError(`${executionArn} is not an execution ARN`);
    throw awsFailure(error, 'states:DescribeExecution', executionArn);
  }
}

/** Every page of the execution's history from the start (oldest first), keeping the events after `afterId`. */
export async function historyAfter(
  executionArn: string,
  region: string,
  afterId: number,
  signal?: AbortSignal,
): Promise<HistoryEvent[]> {
  const sfn = sfnClient(region);
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    let page: GetExecutionHistoryOutput;
    try {
      page = await sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          reverseOrder: false,
          maxResults: 1000,
          includeExecutionData: true,
          ...(nextToken ? { nextToken } : {}),
        }),
        signal ? { abortSignal: signal } : {},
      );
    } catch (error) {
      if (signal?.aborted) return events;
      if (awsErrorName(error) === 'ExecutionDoesNotExist') throw new CliError(`no execution ${executionArn}`);
      throw awsFailure(error, 'states:GetExecutionHistory', executionArn);
    }
    for (const event of page.events ?? []) {
      if ((event.id ?? 0) > afterId) events.push(event);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The newest state entered (the one running while the execution runs), from the end of the history. */
export async function lastStateEntered(executionArn: string, region: string): Promise<string | undefined> {
  const sfn = sfnClient(region);
  let nextToken: string | undefined;
  do {
    let page: GetExecutionHistoryOutput;
    try {
      page = await sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          reverseOrder: true,
          maxResults: 100,
          includeExecutionData: false,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
    } catch (error) {
      throw awsFailure(error, 'states:GetExecutionHistory', executionArn);
    }
    const entered = (page.events ?? []).find((e) => e.type?.endsWith('StateEntered'));
    if (entered?.stateEnteredEventDetails?.name) return entered.stateEnteredEventDetails.name;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

export type FinalStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface FollowResult {
  /** How the execution ended, or 'STOPPED_FOLLOWING' when the operator stopped watching (Ctrl-C). */
  status: FinalStatus | 'STOPPED_FOLLOWING';
  error?: { name: string; cause: string };
  lastEventId: number;
}

export interface Polling {
  /** Between history polls; 2 s by default (GetExecutionHistory allows a few calls a second). */
  intervalMs: number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const defaultPolling: Polling = {
  intervalMs: 2_000,
  sleep: (ms, signal) => sleepFor(ms, undefined, signal ? { signal } : {}).catch(() => {}),
};
let polling: Polling = defaultPolling;

/** Replaces the pause between history polls (tests: none); no argument restores the default. */
export function setPolling(replacement?: Partial<Polling>): void {
  polling = { ...defaultPolling, ...replacement };
}

const FINAL_EVENTS: Record<string, FinalStatus> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};

/** The error and cause of a final event (ExecutionFailed, TimedOut, Aborted). */
function finalError(event: HistoryEvent): { name: string; cause: string } | undefined {
  const details =
    event.executionFailedEventDetails ??
    event.executionTimedOutEventDetails ??
    event.executionAbortedEventDetails;
  if (!details) return undefined;
  const fallback = event.type === 'ExecutionTimedOut' ? 'States.Timeout' : 'States.Aborted';
  return { name: details.error ?? fallback, cause: details.cause ?? '' };
}

/**
 * Follows an execution through its history: every event after `afterEventId`, oldest first, handed to
 * `onEvent` as it appears, one poll every `intervalMs`; ends with the execution (a redrive after it
 * fails keeps following), or when `signal` aborts.
 */
export async function followExecution(options: {
  executionArn: string;
  region: string;
  onEvent: (event: HistoryEvent) => void;
  signal?: AbortSignal;
  afterEventId?: number;
}): Promise<FollowResult> {
  let lastEventId = options.afterEventId ?? 0;
  for (;;) {
    const events = await historyAfter(options.executionArn, options.region, lastEventId, options.signal);
    let final: { status: FinalStatus; error?: { name: string; cause: string } } | undefined;
    for (const event of events) {
      lastEventId = Math.max(lastEventId, event.id ?? 0);
      options.onEvent(event);
      const status = event.type ? FINAL_EVENTS[event.type] : undefined;
      if (status) {
        const error = finalError(event);
        final = error ? { status, error } : { status };
      } else if (event.type === 'ExecutionRedriven') {
        final = undefined;
      }
    }
    if (final) return { ...final, lastEventId };
    if (options.signal?.aborted) return { status: 'STOPPED_FOLLOWING', lastEventId };
    await polling.sleep(polling.intervalMs, options.signal);
    if (options.signal?.aborted) return { status: 'STOPPED_FOLLOWING', lastEventId };
  }
}

/* ------------------------------------------------------------------------------------------------------------
 * Reports in the stage's bucket: `<stage>/<run-id>/<name>.<json|md|html>`.
 * ---------------------------------------------------------------------------------------------------------- */

export const REPORT_NAMES = [
  'validation-pre',
  'validation-post',
  'backfill-companies',
  'backfill-personnel',
  'backfill-projects',
  'diff',
  'smoke',
  'spot-check',
  'summary',
  'failure',
  // The daily monitoring check's reports, under <stage>/monitor-<timestamp>/.
  'validation',
  'monitor',
  'cutover',
] as const;

export function reportStoreOf(deployment: Deployment): S3ReportStore {
  return new S3ReportStore({ client: s3Client(deployment.region), bucket: deployment.reportBucket });
}

/** `s3://bucket/<stage>/<run-id>/` */
export function runFolderUri(deployment: Deployment, runId: string): string {
  return `s3://${deployment.reportBucket}/${deployment.stage}/${runId}/`;
}

/** The text of one report, or undefined when the run has none by that name and format. */
export async function getReportText(deployment: Deployment, key: string): Promise<string | undefined> {
  try {
    return await reportStoreOf(deployment).get(key);
  } catch (error) {
    if (error instanceof ReportNotFoundError) return undefined;
    throw awsFailure(error, 's3:GetObject', `s3://${deployment.reportBucket}/${key}`);
  }
}

/** The keys the run's folder holds (relative to the bucket), for messages; empty when it cannot be listed. */
export async function listRunReports(deployment: Deployment, runId: string): Promise<string[]> {
  try {
    return await reportStoreOf(deployment).list(`${deployment.stage}/${runId}/`);
  } catch {
    return [];
  }
}

/** The run's summary.json, or null when it wrote none (it failed before the evaluation). */
export async function fetchSummary(deployment: Deployment, runId: string): Promise<RunSummary | null> {
  const key = `${deployment.stage}/${runId}/summary.json`;
  try {
    return (await readReport(reportStoreOf(deployment), key)) as RunSummary;
  } catch (error) {
    if (error instanceof ReportNotFoundError) return null;
    if (error instanceof ReportParseError)
      throw new CliError(`s3://${deployment.reportBucket}/${key} is not valid JSON`);
    throw awsFailure(error, 's3:GetObject', `s3://${deployment.reportBucket}/${key}`);
  }
}
