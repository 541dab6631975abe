import type { Command } from 'commander';
import * as z from 'zod';
import { type MonitorResult, metricRows, monitorCheck } from '../../core/pipeline/monitor.ts';
import { LocalReportStore } from '../../core/reports/local-store.ts';
import { pathSegment } from '../../core/reports/store.ts';
import { openDatabase, withDatabaseOptions } from '../database.ts';
import { EXIT } from '../errors.ts';
import { type CliIo, formatTable } from '../output.ts';

const segment = pathSegment(80);

const monitorOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  since: z
    .union([z.iso.datetime({ offset: true }), z.iso.date()], {
      error: 'must be an ISO 8601 date or date-time (2026-11-25 or 2026-11-25T06:00:00Z)',
    })
    .optional(),
  stage: segment.default('local'),
  out: z.string().min(1).default('reports'),
  sampleSize: z.coerce.number().int().min(0).max(1_000).default(20),
  json: z.boolean().default(false),
});
export type MonitorCommandOptions = z.infer<typeof monitorOptions>;

export function registerMonitorCommand(program: Command, io: CliIo): void {
  withDatabaseOptions(program.command('monitor'))
    .description(
      'run the daily monitoring check locally: validation, sync lag and sync errors since the last check, ' +
        'drift and query latency; print the metrics and keep the report under <out>/<stage>/monitor-<time>/. ' +
        'Exit 0 validation passed with no sync error or unsynced record, 1 otherwise, 2 error.',
    )
    .option('--since <iso>', 'check records and errors after this time (default: the last check; first: all)')
    .option(
      '--stage <name>',
      'stage the check runs for (reports and the last check are kept per stage)',
      'local',
    )
    .option(
      '--out <dir>',
      'report folder: the monitor and validation reports, and the last check time',
      'reports',
    )
    .option('--sample-size <n>', 'ids listed per sample', '20')
    .option('--json', 'print the result as JSON instead of the metrics table')
    .action(async (raw: Record<string, unknown>) => {
      const result = await runMonitor(monitorOptions.parse(raw), io);
      io.setExitCode?.(result.healthy ? EXIT.ok : EXIT.checkFailed);
    });
}

export async function runMonitor(options: MonitorCommandOptions, io: CliIo): Promise<MonitorResult> {
  const store = new LocalReportStore(options.out);
  const { client } = await openDatabase({ ...options, mustExist: true }, io.env);
  let result: MonitorResult;
  try {
    result = await monitorCheck(
      { sql: client, store },
      { stage: options.stage },
      {
        sampleSize: options.sampleSize,
        ...(options.since ? { since: new Date(options.since) } : {}),
      },
    );
  } finally {
    await client.close();
  }
  if (options.json) {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    io.stdout(
      [
        `Monitoring check ${result.runId} (${result.stage}): ${result.healthy ? 'healthy' : 'NOT healthy'}`,
        `since: ${result.since ?? 'first check (everything checked)'}`,
        `validation: ${result.passed ? 'passed' : 'failed'}`,
        `dual-write: ${result.dualWriteInstalled ? 'installed' : 'not installed (no sync-errors table)'}`,
        `cutover: ${result.cutoverReady ? 'ready' : 'not ready (company-migration cutover check --dry-run says why)'}`,
        '',
        formatTable(['metric', 'value', 'unit'], metricRows(result.metrics)),
        '',
      ].join('\n'),
    );
  }
  io.stderr(
    `report written: ${store.location}/${result.reportKey}, ${store.location}/${result.validationReportKey}\n`,
  );
  return result;
}
