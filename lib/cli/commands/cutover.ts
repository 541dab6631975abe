import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import * as z from 'zod';
import { CUTOVER_BASELINE_TABLE, cutoverCheck } from '../../core/cutover/cutover-check.ts';
import { renderCutoverMarkdown } from '../../core/cutover/render.ts';
import type { CutoverReport } from '../../core/cutover/report-schema.ts';
import { openDatabase, withDatabaseOptions } from '../database.ts';
import { CliError, EXIT } from '../errors.ts';
import type { CliIo } from '../output.ts';

const cutoverCheckOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  minQuietHours: z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(24),
  sqlOut: z.string().min(1).optional(),
  dryRun: z.boolean().default(false),
  json: z.boolean().default(false),
});
export type CutoverCheckCommandOptions = z.infer<typeof cutoverCheckOptions>;

/** `company-migration cutover check`: may the legacy tables be retired? Never drops anything. */
export function registerCutoverCommand(program: Command, io: CliIo): void {
  const cutover = program
    .command('cutover')
    .description('retiring the legacy company tables once the application has moved to the unified schema');

  withDatabaseOptions(cutover.command('check'))
    .description(
      'list what still depends on the legacy tables (views, rules, foreign keys, triggers other than ours, ' +
        'functions), whether they are still written (table statistics since the last check), and the ' +
        'validation criteria; give a verdict with reasons and print the SQL a DBA would run, in dependency ' +
        `order. Never drops anything; keeps the write counters in ${CUTOVER_BASELINE_TABLE} unless --dry-run. ` +
        'Exit 0 ready, 1 not ready, 2 error.',
    )
    .option(
      '--min-quiet-hours <hours>',
      'how long the legacy tables must have gone unwritten (as seen by earlier checks)',
      '24',
    )
    .option('--sql-out <file>', 'also write the SQL a DBA would run to this file')
    .option('--dry-run', 'record no write counters (compares with the last recorded ones only)')
    .option('--json', 'print the report as JSON instead of text')
    .action(async (raw: Record<string, unknown>) => {
      const report = await runCutoverCheck(cutoverCheckOptions.parse(raw), io);
      io.setExitCode?.(report.ready ? EXIT.ok : EXIT.checkFailed);
    });
}

export async function runCutoverCheck(
  options: CutoverCheckCommandOptions,
  io: CliIo,
): Promise<CutoverReport> {
  const { client } = await openDatabase({ ...options, mustExist: true }, io.env);
  let report: CutoverReport;
  try {
    report = await cutoverCheck(client, { dryRun: options.dryRun, minQuietHours: options.minQuietHours });
  } finally {
    await client.close();
  }
  io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderCutoverMarkdown(report)}\n`);
  if (options.sqlOut) {
    try {
      await writeFile(options.sqlOut, report.dropSql);
    } catch (error) {
      throw new CliError(`cannot write the SQL to ${options.sqlOut}: ${(error as Error).message}`);
    }
    io.stderr(`SQL written (not run): ${options.sqlOut}\n`);
  }
  return report;
}
