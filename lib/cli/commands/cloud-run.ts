import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { type Command, Option } from 'commander';
import * as z from 'zod';
import { BACKFILL_STEPS, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE } from '../../core/backfill/contract.ts';
import {
  CRITERIA_NOT_MET_ERRORS,
  type ExecutionInput,
  executionInputSchema,
} from '../../core/pipeline/contracts.ts';
import type { RunSummary } from '../../core/pipeline/summary.ts';
import { pathSegment } from '../../core/reports/store.ts';
import {
  consoleUrl,
  type Deployment,
  describeExecution,
  executionArnFor,
  type FollowResult,
  fetchSummary,
  followExecution,
  getReportText,
  lastStateEntered,
  listRunReports,
  parseExecutionArn,
  REPORT_NAMES,
  resolveDeployment,
  runFolderUri,
  startExecution,
} from '../cloud.ts';
import { CliError, EXIT } from '../errors.ts';
import type { CliIo } from '../output.ts';
import { describeBackfillProgress, renderVerdict } from './run.ts';
import { newRunId } from './validate.ts';

/* ------------------------------------------------------------------------------------------------------------
 * Options
 * ---------------------------------------------------------------------------------------------------------- */

const segment = pathSegment(80);
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as eu-west-1');

const cloudRunOptions = z
  .object({
    stage: segment.refine((s) => s !== 'local', {
      message: 'with --cloud, name a deployed stage (dev, staging, production)',
    }),
    region: region.optional(),
    dryRun: z.boolean().default(false),
    steps: z
      .string()
      .transform((value) => value.split(',').map((s) => s.trim()))
      .pipe(z.array(z.enum(BACKFILL_STEPS)).min(1))
      .optional(),
    chunkSize: z.coerce.number().int().min(1).max(MAX_CHUNK_SIZE).default(DEFAULT_CHUNK_SIZE),
    skipSnapshot: z.boolean().default(false),
    undoOnFailure: z.boolean().default(false),
    json: z.boolean().default(false),
    databaseUrl: z
      .undefined({ error: 'does not apply with --cloud: the stage runs on its own database' })
      .optional(),
    dataDir: z
      .undefined({ error: 'does not apply with --cloud: the stage runs on its own database' })
      .optional(),
  })
  .loose();

/** Test seam and Ctrl-C: following stops when `signal` aborts (the execution keeps running). */
export interface FollowControl {
  signal?: AbortSignal;
}

/* ------------------------------------------------------------------------------------------------------------
 * The progress display: the local run's lines, from the execution's history events
 * ---------------------------------------------------------------------------------------------------------- */

const TASK_FAILED_EVENTS = new Set([
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionStartFailed',
  'LambdaFunctionScheduleFailed',
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
]);
const TASK_SCHEDULED_EVENTS = new Set(['LambdaFunctionScheduled', 'TaskScheduled']);

/** A Lambda's cause is its error as JSON ({ errorType, errorMessage, trace }); the message says it. */
function readableCause(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage.split('\n')[0] ?? '';
  } catch {
    // Not JSON: the cause as Step Functions gave it.
  }
  return cause.split('\n')[0] ?? '';
}

function failureOf(event: HistoryEvent): { error?: string; cause?: string } {
  return (
    event.lambdaFunctionFailedEventDetails ??
    event.lambdaFunctionTimedOutEventDetails ??
    event.lambdaFunctionStartFailedEventDetails ??
    event.lambdaFunctionScheduleFailedEventDetails ??
    event.taskFailedEventDetails ??
    event.taskTimedOutEventDetails ??
    event.taskStartFailedEventDetails ??
    event.taskSubmitFailedEventDetails ??
    {}
  );
}

/**
 * Turns history events into the lines `run` prints locally: `[  12.3s] <State>` as each Task state is
 * entered, the backfill progress after each backfill invocation, failures and retries. Times count from
 * the execution's start.
 */
export class ProgressPrinter {
  private task: string | undefined;
  private attemptFailed = false;
  private readonly stepStarted: Record<string, number> = {};

  constructor(
    private readonly startDate: Date,
    private readonly write: (line: string) => void,
  ) {}

  private seconds(event: HistoryEvent): string {
    const at = event.timestamp?.getTime() ?? Date.now();
    return ((at - this.startDate.getTime()) / 1000).toFixed(1).padStart(6);
  }

  handle(event: HistoryEvent): void {
    const type = event.type ?? '';
    if (type === 'TaskStateEntered') {
      const name = event.stateEnteredEventDetails?.name ?? '?';
      this.task = name;
      this.attemptFailed = false;
      this.stepStarted[name] ??= event.timestamp?.getTime() ?? Date.now();
      this.write(`[${this.seconds(event)}s] ${name}`);
    } else if (type === 'TaskStateExited') {
      const name = event.stateExitedEventDetails?.name ?? '?';
      this.task = undefined;
      if (!name.startsWith('Backfill')) return;
      let output: unknown = null;
      try {
        output = JSON.parse(event.stateExitedEventDetails?.output ?? 'null');
      } catch {
        // Truncated or missing output: the progress line says no progress was reported.
      }
      const since = this.stepStarted[name] ?? this.startDate.getTime();
      this.write(describeBackfillProgress(name, output, (event.timestamp?.getTime() ?? Date.now()) - since));
    } else if (TASK_FAILED_EVENTS.has(type)) {
      const { error, cause } = failureOf(event);
      this.attemptFailed = true;
      this.write(
        `[${this.seconds(event)}s]   ${this.task ?? 'a task'} failed: ${error ?? type}: ${readableCause(cause)}`,
      );
    } else if (TASK_SCHEDULED_EVENTS.has(type) && this.attemptFailed) {
      this.attemptFailed = false;
      this.write(`[${this.seconds(event)}s]   retrying ${this.task ?? 'the task'}`);
    }
  }
}

/* ------------------------------------------------------------------------------------------------------------
 * Following an execution to its verdict (run --cloud, status --follow)
 * ---------------------------------------------------------------------------------------------------------- */

interface Followed {
  deployment: Deployment;
  executionArn: string;
  runId: string;
  startDate: Date;
  json: boolean;
  /** The --region the operator gave, repeated in the hint to follow again. */
  regionFlag?: string;
}

/** Ctrl-C stops following (once; a second Ctrl-C ends the process as usual). */
function interruptible(control: FollowControl): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  const signal = control.signal ? AbortSignal.any([controller.signal, control.signal]) : controller.signal;
  return { signal, dispose: () => process.off('SIGINT', onInterrupt) };
}

function exitCodeOf(status: string, error: { name: string } | undefined): number {
  if (status === 'SUCCEEDED') return EXIT.ok;
  return CRITERIA_NOT_MET_ERRORS.includes(error?.name ?? '') ? EXIT.checkFailed : EXIT.error;
}

function followHint(followed: Pick<Followed, 'runId' | 'deployment' | 'regionFlag'>): string {
  const regionFlag = followed.regionFlag ? ` --region ${followed.regionFlag}` : '';
  return `company-migration status ${followed.runId} --stage ${followed.deployment.stage}${regionFlag} --follow`;
}

/** Prints the progress until the execution ends, then its verdict; the exit code of the run. */
async function followToVerdict(followed: Followed, io: CliIo, control: FollowControl): Promise<number> {
  const printer = new ProgressPrinter(followed.startDate, (line) => io.stderr(`${line}\n`));
  const { signal, dispose } = interruptible(control);
  let result: FollowResult;
  try {
    result = await followExecution({
      executionArn: followed.executionArn,
      region: followed.deployment.region,
      onEvent: (event) => printer.handle(event),
      signal,
    });
  } finally {
    dispose();
  }
  if (result.status === 'STOPPED_FOLLOWING') {
    io.stderr(
      `\nstopped following ${followed.runId}; the execution keeps running in ${followed.deployment.region}.\n` +
        `follow it again: ${followHint(followed)}\n` +
        `stop it: aws stepfunctions stop-execution --execution-arn ${followed.executionArn}\n`,
    );
    return EXIT.error;
  }
  const summary = await summaryOrWarning(followed.deployment, followed.runId, io);
  const reports = runFolderUri(followed.deployment, followed.runId);
  if (followed.json) {
    io.stdout(
      `${JSON.stringify(
        {
          status: result.status,
          runId: followed.runId,
          stage: followed.deployment.stage,
          region: followed.deployment.region,
          executionArn: followed.executionArn,
          ...(result.error ? { error: result.error } : {}),
          reports,
          summary,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    io.stdout(`${renderVerdict(result.status, result.error, summary)}\n`);
    io.stdout(
      `\nreports: ${reports}\n${reportHint(followed.deployment, followed.runId, summary, followed.regionFlag)}\n`,
    );
  }
  return exitCodeOf(result.status, result.error);
}

function reportHint(
  deployment: Deployment,
  runId: string,
  summary: RunSummary | null,
  regionFlag: string | undefined,
): string {
  const name = summary ? '' : ' --name failure';
  const region = regionFlag ? ` --region ${regionFlag}` : '';
  return `read it: company-migration report get --stage ${deployment.stage} --run ${runId}${name}${region}`;
}

/** The summary; when it cannot be read, one warning line (the execution's outcome is known all the same). */
async function summaryOrWarning(
  deployment: Deployment,
  runId: string,
  io: CliIo,
): Promise<RunSummary | null> {
  try {
    return await fetchSummary(deployment, runId);
  } catch (error) {
    io.stderr(`warning: could not read the run's summary: ${(error as Error).message}\n`);
    return null;
  }
}

/* ------------------------------------------------------------------------------------------------------------
 * run --cloud
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * `run --cloud --stage S`: starts the stage's state machine with the run id as the execution name, follows
 * it with the local run's display, and prints its verdict. Exit 0 succeeded, 1 criteria not met, 2 otherwise
 * (failed, timed out, aborted, or following stopped with Ctrl-C while the execution runs on).
 */
export async function runInCloud(
  raw: Record<string, unknown>,
  io: CliIo,
  control: FollowControl = {},
): Promise<number> {
  const options = cloudRunOptions.parse(raw);
  const input: ExecutionInput = {
    stage: options.stage,
    dryRun: options.dryRun,
    chunkSize: options.chunkSize,
    skipSnapshot: options.skipSnapshot,
    undoOnFailure: options.undoOnFailure,
    ...(options.steps ? { steps: options.steps } : {}),
  };
  executionInputSchema.parse(input);
  const deployment = await resolveDeployment(options.stage, options.region);
  const runId = newRunId();
  const { executionArn, startDate } = await startExecution(deployment, runId, input);
  io.stderr(
    `migration run ${runId} on stage ${deployment.stage} in ${deployment.region}${options.dryRun ? ' (dry run)' : ''}\n` +
      `execution: ${executionArn}\nconsole:   ${consoleUrl(executionArn, deployment.region)}\n`,
  );
  return followToVerdict(
    {
      deployment,
      executionArn,
      runId,
      startDate,
      json: options.json,
      ...(options.region ? { regionFlag: options.region } : {}),
    },
    io,
    control,
  );
}

/* ------------------------------------------------------------------------------------------------------------
 * status
 * ---------------------------------------------------------------------------------------------------------- */

const statusOptions = z.object({
  stage: segment.optional(),
  region: region.optional(),
  follow: z.boolean().default(false),
  json: z.boolean().default(false),
});

export type StatusInput = z.input<typeof statusOptions>;

/** The execution the operator named: a full ARN, or a run id on the state machine of --stage. */
async function locateExecution(
  execution: string,
  options: z.infer<typeof statusOptions>,
): Promise<{ executionArn: string; region: string; deployment?: Deployment }> {
  if (execution.startsWith('arn:')) {
    const parsed = parseExecutionArn(execution);
    if (!parsed) throw new CliError(`${execution} is not a Step Functions execution ARN`);
    const region = options.region ?? parsed.region;
    const deployment = options.stage ? await resolveDeployment(options.stage, region) : undefined;
    return { executionArn: execution, region, ...(deployment ? { deployment } : {}) };
  }
  if (!options.stage) {
    throw new CliError(`name the execution by its full ARN, or give --stage with the run id ${execution}`);
  }
  if (!segment.safeParse(execution).success) throw new CliError(`${execution} is not a run id`);
  const deployment = await resolveDeployment(options.stage, options.region);
  return {
    executionArn: executionArnFor(deployment.stateMachineArn, execution),
    region: deployment.region,
    deployment,
  };
}

/** The stage the execution was started for, from its input. */
function stageOfInput(input: string | undefined): string | undefined {
  try {
    const stage = (JSON.parse(input ?? '{}') as { stage?: unknown }).stage;
    return typeof stage === 'string' && segment.safeParse(stage).success ? stage : undefined;
  } catch {
    return undefined;
  }
}

function duration(from: Date, to: Date): string {
  const seconds = Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m ${s}s` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/**
 * `status <execution>`: what the execution is doing or did — status, times, current or last state, and the
 * verdict of its summary when it wrote one. Exit 0 when it could be shown (whatever the outcome); with
 * --follow, it follows a running execution (or shows one that ended) and exits as `run --cloud` does.
 */
export async function showStatus(
  execution: string,
  raw: StatusInput,
  io: CliIo,
  control: FollowControl = {},
): Promise<number> {
  const options = statusOptions.parse(raw);
  const located = await locateExecution(execution, options);
  const region = located.region;
  const described = await describeExecution(located.executionArn, region);
  const runId = described.name ?? parseExecutionArn(located.executionArn)?.name ?? execution;
  const stage = options.stage ?? stageOfInput(described.input);
  let deployment = located.deployment;
  if (!deployment && stage) {
    try {
      deployment = await resolveDeployment(stage, region);
    } catch (error) {
      io.stderr(`warning: no report bucket for stage ${stage}: ${(error as Error).message}\n`);
    }
  }
  const status = described.status ?? 'UNKNOWN';
  const startDate = described.startDate ?? new Date();

  if (options.follow && status === 'RUNNING') {
    if (!deployment) {
      throw new CliError(`cannot follow ${runId} without its stage's report bucket: give --stage`);
    }
    io.stderr(`following ${runId} on stage ${deployment.stage} in ${deployment.region}\n`);
    return followToVerdict(
      {
        deployment,
        executionArn: located.executionArn,
        runId,
        startDate,
        json: options.json,
        ...(options.region ? { regionFlag: options.region } : {}),
      },
      io,
      control,
    );
  }

  const state = await lastStateEntered(located.executionArn, region);
  const error = described.error ? { name: described.error, cause: described.cause ?? '' } : undefined;
  const summary = deployment && status !== 'RUNNING' ? await summaryOrWarning(deployment, runId, io) : null;
  const reports = deployment ? runFolderUri(deployment, runId) : undefined;
  // Shown only, the status exits 0; --follow on an execution that already ended exits as `run` would.
  const exitCode = options.follow ? exitCodeOf(status, error) : EXIT.ok;
  if (options.json) {
    io.stdout(
      `${JSON.stringify(
        {
          runId,
          executionArn: located.executionArn,
          stage: stage ?? null,
          region,
          status,
          startDate: startDate.toISOString(),
          stopDate: described.stopDate?.toISOString() ?? null,
          state: state ?? null,
          ...(error ? { error } : {}),
          reports: reports ?? null,
          summary,
        },
        null,
        2,
      )}\n`,
    );
    return exitCode;
  }
  const rows: [string, string][] = [
    ['execution', runId],
    ['arn', located.executionArn],
    ['stage', stage ? `${stage} (${region})` : region],
    ['status', status],
    ['started', startDate.toISOString()],
    [
      'stopped',
      described.stopDate
        ? `${described.stopDate.toISOString()} (after ${duration(startDate, described.stopDate)})`
        : `— (running for ${duration(startDate, new Date())})`,
    ],
    ['state', state ? `${state} (${status === 'RUNNING' ? 'current' : 'last'})` : '—'],
  ];
  if (error) rows.push(['error', `${error.name}: ${error.cause.split('\n')[0] ?? ''}`]);
  if (reports) rows.push(['reports', reports]);
  io.stdout(`${rows.map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n')}\n`);
  if (summary) io.stdout(`${renderVerdict(status, error, summary)}\n`);
  if (status === 'RUNNING' && deployment) {
    io.stdout(
      `\nfollow it: ${followHint({ runId, deployment, ...(options.region ? { regionFlag: options.region } : {}) })}\n`,
    );
  } else if (status !== 'RUNNING' && deployment) {
    io.stdout(`\n${reportHint(deployment, runId, summary, options.region)}\n`);
  }
  return exitCode;
}

export function registerStatusCommand(program: Command, io: CliIo): void {
  program
    .command('status')
    .description(
      'show an execution of a deployed stage: status, times, current or last state, and the verdict ' +
        'of its summary; --follow follows a running one as `run --cloud` does',
    )
    .argument('<execution>', 'the execution ARN, or the run id (the execution name) with --stage')
    .option('--stage <name>', 'the deployed stage (dev, staging, production) that ran it')
    .option('--region <region>', 'the AWS region of the stage (default: AWS_REGION or the profile)')
    .option(
      '--follow',
      'follow a running execution until it ends; exit 0 passed, 1 criteria not met, 2 error',
    )
    .option('--json', 'print the status (and summary) as JSON')
    .action(async (execution: string, raw: Record<string, unknown>) => {
      io.setExitCode?.(await showStatus(execution, raw, io));
    });
}

/* ------------------------------------------------------------------------------------------------------------
 * report get
 * ---------------------------------------------------------------------------------------------------------- */

const REPORT_FORMATS = ['md', 'json', 'html'] as const;
type ReportFormat = (typeof REPORT_FORMATS)[number];

const OUT_EXTENSIONS: Record<string, ReportFormat> = {
  '.md': 'md',
  '.markdown': 'md',
  '.json': 'json',
  '.html': 'html',
  '.htm': 'html',
};

const reportGetOptions = z.object({
  stage: segment,
  run: segment,
  name: z.enum(REPORT_NAMES).default('summary'),
  format: z.enum(REPORT_FORMATS).optional(),
  out: z.string().min(1, 'must name a file').optional(),
  region: region.optional(),
});

/**
 * `report get`: one report of a cloud run, from the stage's bucket (found through SSM), printed or written to
 * --out. The format: --format, else the extension of --out, else Markdown — or JSON for reports that have no
 * Markdown rendering (the backfill and smoke reports).
 */
export async function getReport(raw: Record<string, unknown>, io: CliIo): Promise<string> {
  const options = reportGetOptions.parse(raw);
  const explicit =
    options.format ?? (options.out ? OUT_EXTENSIONS[extname(options.out).toLowerCase()] : undefined);
  const deployment = await resolveDeployment(options.stage, options.region);
  const folder = `${options.stage}/${options.run}`;
  const formats: ReportFormat[] = explicit ? [explicit] : ['md', 'json'];
  let text: string | undefined;
  let key = '';
  for (const format of formats) {
    key = `${folder}/${options.name}.${format}`;
    text = await getReportText(deployment, key);
    if (text !== undefined) break;
  }
  if (text === undefined) {
    const wanted = explicit ? `${options.name}.${explicit}` : options.name;
    const present = (await listRunReports(deployment, options.run)).map((k) => k.slice(folder.length + 1));
    throw new CliError(
      present.length > 0
        ? `run ${options.run} has no ${wanted} in ${runFolderUri(deployment, options.run)}; it has: ${present.join(', ')}`
        : `no reports for run ${options.run} in ${runFolderUri(deployment, options.run)} (is the run id right?)`,
    );
  }
  if (!options.out) {
    io.stdout(text.endsWith('\n') ? text : `${text}\n`);
    return key;
  }
  const path = resolve(options.out);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new CliError(`--out ${options.out} is a folder; name a file`);
    if (code === 'ENOTDIR' || code === 'EEXIST')
      throw new CliError(`--out ${options.out}: a file stands where a folder should`);
    if (code === 'EACCES' || code === 'EPERM') throw new CliError(`--out ${options.out}: permission denied`);
    throw error;
  }
  io.stderr(`s3://${deployment.reportBucket}/${key} written to ${options.out}\n`);
  return key;
}

export function registerReportGetCommand(reportCommand: Command, io: CliIo): void {
  reportCommand
    .command('get')
    .description("fetch a report of a cloud run from its stage's report bucket (found through SSM)")
    .requiredOption('--stage <name>', 'the deployed stage (dev, staging, production)')
    .requiredOption('--run <run-id>', 'the run id (the execution name)')
    .addOption(new Option('--name <name>', 'which report').choices([...REPORT_NAMES]).default('summary'))
    .addOption(
      new Option(
        '--format <format>',
        'md, json or html (default: from the --out extension, else md)',
      ).choices([...REPORT_FORMATS]),
    )
    .option('--out <file>', 'write to a file instead of printing')
    .option('--region <region>', 'the AWS region of the stage (default: AWS_REGION or the profile)')
    .action(async (raw: Record<string, unknown>) => {
      await getReport(raw, io);
    });
}
