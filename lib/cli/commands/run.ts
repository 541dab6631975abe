import { resolve } from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod';
import { BACKFILL_STEPS, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE } from '../../core/backfill/contract.ts';
import { type BackfillState, CRITERIA_NOT_MET_ERRORS } from '../../core/pipeline/contracts.ts';
import type { RunSummary } from '../../core/pipeline/summary.ts';
import { LocalReportStore } from '../../core/reports/local-store.ts';
import { readReport } from '../../core/reports/publish.ts';
import { pathSegment } from '../../core/reports/store.ts';
import { createLocalSnapshot } from '../../core/snapshot/local-snapshot.ts';
import { PgliteSqlClient } from '../../core/sql/pglite-client.ts';
import { STAGES } from '../../stacks/stage-config.ts';
import { openDatabase, resolveDatabase, withDatabaseOptions } from '../database.ts';
import { EXIT } from '../errors.ts';
import { type CliIo, formatTable } from '../output.ts';
import { newRunId } from './validate.ts';

const runOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  dryRun: z.boolean().default(false),
  reports: z.string().min(1).default('reports'),
  stage: pathSegment(80).default('local'),
  steps: z
    .string()
    .transform((value) => value.split(',').map((s) => s.trim()))
    .pipe(z.array(z.enum(BACKFILL_STEPS)).min(1))
    .optional(),
  chunkSize: z.coerce.number().int().min(1).max(MAX_CHUNK_SIZE).default(DEFAULT_CHUNK_SIZE),
  skipSnapshot: z.boolean().default(false),
  undoOnFailure: z.boolean().default(false),
  verbose: z.boolean().default(false),
  json: z.boolean().default(false),
});

export function registerRunCommand(program: Command, io: CliIo): void {
  withDatabaseOptions(program.command('run'))
    .description(
      'run the whole migration: with --stage dev|staging|production, on that stage deployed in AWS (started and ' +
        'followed live); otherwise locally — the same state machine (state-machines/migration.asl.json) and ' +
        'handlers, on the embedded database or a PostgreSQL URL. Exit 0 passed, 1 criteria not met, 2 error.',
    )
    .option('--dry-run', 'predict everything, write nothing to the database, still produce every report')
    .option('--reports <dir>', 'where reports go: <dir>/<stage>/<run-id>/', 'reports')
    .option(
      '--stage <name>',
      'a deployed stage (dev, staging, production) runs in AWS; any other name runs locally',
      'local',
    )
    .option('--steps <list>', 'backfill steps to run, comma-separated (default: all)')
    .option('--chunk-size <n>', 'legacy rows per backfill chunk', String(DEFAULT_CHUNK_SIZE))
    .option('--skip-snapshot', 'take no backup dump before the backfill')
    .option(
      '--undo-on-failure',
      'when post-validation fails, undo exactly this run (from its journal) before failing',
    )
    .option('--json', 'print the run result and summary as JSON')
    .option('--cloud', 'insist on AWS (the default for a deployed stage name)')
    .option('--local', 'run locally even when --stage names a deployed stage (reports are named after it)')
    .option(
      '--region <region>',
      'with --cloud: the AWS region of the stage (default: AWS_REGION or the profile)',
    )
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const deployedStage = (STAGES as readonly unknown[]).includes(raw.stage);
      if (
        raw.cloud ||
        (deployedStage && !raw.local && raw.databaseUrl === undefined && raw.dataDir === undefined)
      ) {
        // Imported here, not at the top: cloud-run.ts imports this module's display helpers.
        const { runInCloud } = await import('./cloud-run.ts');
        const { local: _local, ...cloudOptions } = raw;
        io.setExitCode?.(await runInCloud(cloudOptions, io));
        return;
      }
      const { local: _local, ...localOptions } = raw;
      const options = runOptions.parse({ ...localOptions, verbose: command.parent?.opts().verbose ?? false });
      io.setExitCode?.(await runLocally(options, io));
    });
}

export async function runLocally(options: z.infer<typeof runOptions>, io: CliIo): Promise<number> {
  // The handlers log and emit metrics for CloudWatch; on a laptop the progress display says it better.
  process.env.POWERTOOLS_LOG_LEVEL = options.verbose ? 'DEBUG' : 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const { runMigrationLocally } = await import('../local-run.ts');
  const target = resolveDatabase(options, io.env);
  const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
  const reportsDir = resolve(options.reports);
  const store = new LocalReportStore(reportsDir);
  const runId = newRunId();
  const runFolder = resolve(reportsDir, options.stage, runId);
  const started = Date.now();
  const stepStarted: Record<string, number> = {};
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  io.stderr(`migration run ${runId} on ${description}${options.dryRun ? ' (dry run)' : ''}\n`);
  try {
    const result = await runMigrationLocally({
      deps: { sql: client, store, stage: { snapshots: true } },
      runId,
      input: {
        stage: options.stage,
        dryRun: options.dryRun,
        chunkSize: options.chunkSize,
        skipSnapshot: options.skipSnapshot,
        undoOnFailure: options.undoOnFailure,
        ...(options.steps ? { steps: options.steps } : {}),
      },
      takeSnapshot: async (snapshotId) => {
        const snapshot = await createLocalSnapshot(
          client instanceof PgliteSqlClient
            ? { kind: 'pglite', client }
            : { kind: 'pg', url: target.url ?? '' },
          runFolder,
        );
        if (snapshot.status === 'created') {
          io.stderr(`[${seconds()}s]   backup written: ${snapshot.file} (${snapshot.bytes} bytes)\n`);
          return { snapshotId, status: 'available' };
        }
        io.stderr(`[${seconds()}s]   backup skipped: ${snapshot.reason}\n`);
        return { snapshotId, status: 'available', detail: snapshot.reason };
      },
      onEvent: (event) => {
        if (event.type === 'StateEntered' && event.state.type === 'Task') {
          stepStarted[event.state.name] ??= Date.now();
          io.stderr(`[${seconds()}s] ${event.state.name}\n`);
        } else if (
          event.type === 'StateExited' &&
          event.state.name.startsWith('Backfill') &&
          event.state.type === 'Task'
        ) {
          const since = stepStarted[event.state.name] ?? started;
          io.stderr(
            `${describeBackfillProgress(event.state.name, event.state.output, Date.now() - since)}\n`,
          );
        } else if (event.type === 'StateFailed') {
          io.stderr(
            `[${seconds()}s]   ${event.state.name} failed: ${event.Error}: ${String(event.Cause ?? '')}\n`,
          );
        } else if (event.type === 'StateRetried') {
          io.stderr(`[${seconds()}s]   retrying ${event.state.name}\n`);
        }
      },
    });
    const summary = await readSummary(store, options.stage, runId);
    if (options.json) {
      io.stdout(`${JSON.stringify({ ...result, summary }, null, 2)}\n`);
    } else {
      io.stdout(`${renderVerdict(result.status, result.error, summary)}\n`);
      io.stdout(`\nreports: ${runFolder}\nopen the summary: ${resolve(runFolder, 'summary.html')}\n`);
    }
    if (result.status === 'SUCCEEDED') return EXIT.ok;
    return CRITERIA_NOT_MET_ERRORS.includes(result.error?.name ?? '') ? EXIT.checkFailed : EXIT.error;
  } finally {
    await client.close();
  }
}

/** After each backfill invocation: rows so far of all, and the step's rate since it started. */
export function describeBackfillProgress(stateName: string, output: unknown, elapsedMs: number): string {
  const step = stateName.replace('Backfill', '').toLowerCase();
  const state = (output as { backfill?: Record<string, BackfillState | null> } | null)?.backfill?.[step];
  if (!state) return `           ${stateName}: no progress reported`;
  if (state.skipped) return `           ${step}: skipped (not among the run's steps)`;
  const percent =
    state.rowsTotal > 0 ? Math.min(100, Math.round((state.rowsProcessed / state.rowsTotal) * 100)) : 100;
  const filled = Math.round(percent / 5);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(20 - filled)}`;
  const rate = Math.round(state.rowsProcessed / Math.max(elapsedMs / 1000, 0.001));
  return `           ${step.padEnd(9)} ${bar} ${percent}% ${state.rowsProcessed}/${state.rowsTotal} rows, invocation ${state.invocations}${state.done ? ', done' : ''} (${rate} rows/s)`;
}

async function readSummary(
  store: LocalReportStore,
  stage: string,
  runId: string,
): Promise<RunSummary | null> {
  try {
    return (await readReport(store, `${stage}/${runId}/summary.json`)) as RunSummary;
  } catch {
    return null;
  }
}

export function renderVerdict(
  status: string,
  error: { name: string; cause: string } | undefined,
  summary: RunSummary | null,
): string {
  const lines: string[] = [];
  if (summary) {
    lines.push('', summary.verdict, '');
    lines.push(
      formatTable(
        ['step', 'status', 'invocations', 'orphans', 'conflicts', 'unmigratable'],
        summary.backfill.map((b) => [
          b.step,
          b.skipped ? 'skipped' : b.done ? 'done' : 'not finished',
          b.invocations,
          b.orphans,
          b.conflicts,
          b.unmigratable,
        ]),
      ),
      '',
      formatTable(
        ['criterion', 'actual', 'threshold', 'passed'],
        summary.validation.criteria.map((c) => [
          c.id,
          String(c.actual),
          String(c.threshold),
          c.passed ? 'yes' : 'NO',
        ]),
      ),
    );
  } else if (error) {
    lines.push('', `FAILED: ${error.name}: ${error.cause}`);
  }
  lines.push('', `execution: ${status}${error ? ` (${error.name})` : ''}`);
  return lines.join('\n');
}
