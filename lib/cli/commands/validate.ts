import type { Command } from 'commander';
import * as z from 'zod';
import { timestampedRunId } from '../../core/pipeline/run-id.ts';
import { LocalReportStore } from '../../core/reports/local-store.ts';
import { publishReport } from '../../core/reports/publish.ts';
import { renderValidationHtml, renderValidationMarkdown } from '../../core/reports/render-validation.ts';
import { pathSegment } from '../../core/reports/store.ts';
import type { ValidationReport } from '../../core/validation/report-schema.ts';
import { validate } from '../../core/validation/validate.ts';
import { openDatabase, withDatabaseOptions } from '../database.ts';
import { EXIT } from '../errors.ts';
import type { CliIo } from '../output.ts';

const segment = pathSegment();

const validateOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  stage: segment.default('local'),
  runId: segment.optional(),
  out: z.string().min(1).optional(),
  sampleSize: z.coerce.number().int().min(0).max(1_000).default(20),
  projectThreshold: z.coerce.number().min(0).max(100).default(95),
  personnelThreshold: z.coerce.number().min(0).max(100).default(95),
  createIndexes: z.boolean().default(true),
  json: z.boolean().default(false),
});

/** A run id people can sort and read: run-20261125-071502. */
export const newRunId = (now = new Date()) => timestampedRunId('run', now);

export function registerValidateCommand(program: Command, io: CliIo): void {
  withDatabaseOptions(program.command('validate'))
    .description(
      'check the migration exactly (V1–V8: coverage, counts, duplicates, orphans, drift, unmigratable records) ' +
        'and judge it against the success criteria. Exit 0 passed, 1 a criterion failed, 2 error.',
    )
    .option('--json', 'print the report as JSON instead of the Markdown summary')
    .option('--out <dir>', 'also write the report as JSON, Markdown and HTML to <dir>/<stage>/<run-id>/')
    .option('--stage <name>', 'stage named in the report', 'local')
    .option('--run-id <id>', 'run id named in the report (default: run-<UTC timestamp>)')
    .option('--sample-size <n>', 'ids and names listed per sample', '20')
    .option('--project-threshold <percent>', 'minimum project-relationship coverage', '95')
    .option('--personnel-threshold <percent>', 'minimum personnel-affiliation coverage', '95')
    .option('--no-create-indexes', 'do not create the indexes the checks rely on (report them only)')
    .action(async (raw: Record<string, unknown>) => {
      const report = await runValidation(validateOptions.parse(raw), io);
      io.setExitCode?.(report.passed ? EXIT.ok : EXIT.checkFailed);
    });
}

export async function runValidation(
  options: z.infer<typeof validateOptions>,
  io: CliIo,
): Promise<ValidationReport> {
  const { client } = await openDatabase({ ...options, mustExist: true }, io.env);
  let report: ValidationReport;
  try {
    report = await validate(client, {
      runId: options.runId ?? newRunId(),
      stage: options.stage,
      sampleSize: options.sampleSize,
      createIndexes: options.createIndexes,
      thresholds: {
        projectCoveragePercent: options.projectThreshold,
        personnelCoveragePercent: options.personnelThreshold,
      },
    });
  } finally {
    await client.close();
  }
  const markdown = renderValidationMarkdown(report);
  io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${markdown}\n`);
  if (options.out) {
    const store = new LocalReportStore(options.out);
    const written = await publishReport(
      store,
      { stage: report.stage, runId: report.runId, name: 'validation' },
      { json: report, markdown, html: renderValidationHtml(report) },
    );
    io.stderr(`report written: ${written.map((key) => `${store.location}/${key}`).join(', ')}\n`);
  }
  return report;
}
