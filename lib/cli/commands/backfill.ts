import { SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import * as z from 'zod';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE } from '../../core/backfill/contract.ts';
import {
  BACKFILL_STEPS,
  type BackfillProgress,
  type BackfillResult,
  type BackfillStep,
  runBackfillToEnd,
} from '../../core/backfill/index.ts';
import { ROLE_CODES, type RoleCode } from '../../core/mapping/roles.ts';
import { timestampedRunId } from '../../core/pipeline/run-id.ts';
import { pathSegment } from '../../core/reports/store.ts';
import { requireSchemas } from '../../core/schema/introspect.ts';
import { openDatabase, withDatabaseOptions } from '../database.ts';
import { type CliIo, formatTable } from '../output.ts';

const backfillOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  step: z.enum([...BACKFILL_STEPS, 'all']).default('all'),
  runId: pathSegment(80).optional(),
  entity: z.enum(ROLE_CODES as [RoleCode, ...RoleCode[]]).optional(),
  dryRun: z.boolean().default(false),
  chunkSize: z.coerce.number().int().min(1).max(MAX_CHUNK_SIZE).default(DEFAULT_CHUNK_SIZE),
  throttleMs: z.coerce.number().int().min(0).max(60_000).default(0),
  sampleSize: z.coerce.number().int().min(0).max(1_000).default(10),
  json: z.boolean().default(false),
});

export type BackfillCommandOptions = z.infer<typeof backfillOptions>;

export function registerBackfillCommand(program: Command, io: CliIo): void {
  withDatabaseOptions(program.command('backfill'))
    .description(
      'copy legacy company data into the unified schema: companies and roles (R1–R4), personnel affiliations ' +
        '(R5), project relationships (R6). Chunked by legacy key, one transaction per chunk, safe to re-run.',
    )
    .addOption(
      new Option('--step <step>', 'which step to run').choices([...BACKFILL_STEPS, 'all']).default('all'),
    )
    .addOption(
      new Option(
        '--entity <role>',
        'only this legacy table: its records (companies step) and the links pointing at them (link steps)',
      ).choices([...ROLE_CODES]),
    )
    .option('--dry-run', 'report exactly what a live run would do, writing nothing')
    .option('--run-id <id>', 'journal the writes under this run id (default: backfill-<UTC timestamp>)')
    .option('--chunk-size <n>', 'legacy rows per chunk (one transaction each)', String(DEFAULT_CHUNK_SIZE))
    .option('--throttle-ms <n>', 'pause between chunks, to leave room for the application', '0')
    .option('--sample-size <n>', 'ids shown per orphan/conflict/unmigratable sample', '10')
    .option('--json', 'print the step results as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const options = backfillOptions.parse(raw);
      const results = await runBackfill(options, io);
      io.stdout(options.json ? `${JSON.stringify(results, null, 2)}\n` : `${renderSummary(results)}\n`);
    });
}

export async function runBackfill(options: BackfillCommandOptions, io: CliIo): Promise<BackfillResult[]> {
  const { client } = await openDatabase({ ...options, mustExist: true }, io.env);
  try {
    await requireSchemas(client);
    const steps: BackfillStep[] = options.step === 'all' ? [...BACKFILL_STEPS] : [options.step];
    const runId = options.runId ?? timestampedRunId('backfill');
    const results: BackfillResult[] = [];
    for (const step of steps) {
      const display = progressDisplay(io, step, options.dryRun);
      try {
        results.push(
          await runBackfillToEnd(
            client,
            step,
            {
              runId,
              ...(options.entity ? { entity: options.entity } : {}),
              dryRun: options.dryRun,
              chunkSize: options.chunkSize,
              throttleMs: options.throttleMs,
              sampleSize: options.sampleSize,
            },
            { onProgress: display.update },
          ),
        );
      } finally {
        display.stop();
      }
      const last = results.at(-1);
      if (last && !options.json) io.stderr(`${describeStepEnd(last)}\n`);
    }
    if (!options.dryRun && !options.json) {
      io.stderr(
        `journaled as run ${runId}: \`company-migration undo ${runId}\` reverses exactly these writes\n`,
      );
    }
    return results;
  } finally {
    await client.close();
  }
}

/** A progress bar per step on a terminal; nothing on a pipe (the summary follows anyway). */
function progressDisplay(io: CliIo, step: BackfillStep, dryRun: boolean) {
  if (!io.interactive || dryRun) return { update: (_: BackfillProgress) => {}, stop: () => {} };
  const started = Date.now();
  const bar = new SingleBar({
    format: `${step.padEnd(10)} {bar} {value}/{total} rows | {rate} rows/s | {label}`,
    hideCursor: true,
    clearOnComplete: true,
  });
  let running = false;
  return {
    update(progress: BackfillProgress) {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      const payload = { label: progress.label, rate: Math.round(progress.processed / seconds) };
      if (!running) {
        bar.start(progress.total, progress.processed, payload);
        running = true;
      }
      bar.setTotal(progress.total);
      bar.update(progress.processed, payload);
    },
    stop() {
      if (running) bar.stop();
    },
  };
}

function describeStepEnd(result: BackfillResult): string {
  const seconds = (result.elapsedMs / 1000).toFixed(1);
  const verb = result.dryRun ? 'predicted' : 'done';
  return `${result.step}: ${verb} in ${seconds} s (${result.chunks} chunks, ${result.statements} statements)`;
}

const SAMPLE_LINES = 5;

export function renderSummary(results: BackfillResult[]): string {
  const dryRun = results.some((r) => r.dryRun);
  const lines: string[] = [
    dryRun ? 'DRY RUN: nothing was written; a live run would report:' : 'Backfill summary:',
  ];
  const rows: (string | number)[][] = [];
  for (const result of results) {
    for (const [key, value] of Object.entries(result.counts)) rows.push([result.step, key, value]);
    rows.push([result.step, 'orphans', result.orphans.count]);
    if (result.step === 'companies') {
      rows.push([result.step, 'fieldConflicts', result.conflicts.count]);
      rows.push([result.step, 'unmigratable', result.unmigratable.count]);
    }
  }
  lines.push(formatTable(['step', 'count', 'value'], rows));
  for (const result of results) {
    const show = (title: string, sample: BackfillResult['orphans']) => {
      if (sample.count === 0) return;
      lines.push('', `${result.step}: ${title} (${sample.count}):`);
      for (const entry of sample.sample.slice(0, SAMPLE_LINES)) {
        lines.push(
          `  ${Object.entries(entry)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        );
      }
      if (sample.count > SAMPLE_LINES)
        lines.push(`  … ${sample.count - SAMPLE_LINES} more (--json for the sample)`);
    };
    show('CRITICAL: legacy records not migrated (blank or over-long names)', result.unmigratable);
    show('orphaned legacy links (not migrated)', result.orphans);
    show('field conflicts (kept the first record in role order)', result.conflicts);
  }
  return lines.join('\n');
}
