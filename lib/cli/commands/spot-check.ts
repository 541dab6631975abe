import type { Command } from 'commander';
import * as z from 'zod';
import { ROLE_CODES, type RoleCode } from '../../core/mapping/roles.ts';
import { timestampedRunId } from '../../core/pipeline/run-id.ts';
import { LocalReportStore } from '../../core/reports/local-store.ts';
import { publishReport } from '../../core/reports/publish.ts';
import { pathSegment } from '../../core/reports/store.ts';
import { renderSpotCheckHtml, renderSpotCheckMarkdown, spotCheckRows } from '../../core/spot-check/render.ts';
import type { SpotCheckReport } from '../../core/spot-check/report-schema.ts';
import { spotCheck } from '../../core/spot-check/spot-check.ts';
import { openDatabase, withDatabaseOptions } from '../database.ts';
import { EXIT } from '../errors.ts';
import { type CliIo, formatTable } from '../output.ts';

const segment = pathSegment();

const spotCheckCommandOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  perRole: z.coerce.number().int().min(1).max(1_000).default(3),
  seed: z.string().min(1).max(200).optional(),
  roles: z
    .string()
    .optional()
    .transform((text) => (text ? text.split(',').map((r) => r.trim()) : undefined))
    .pipe(
      z
        .array(
          z.enum(ROLE_CODES as [RoleCode, ...RoleCode[]], {
            error: (issue) => `unknown role ${JSON.stringify(issue.input)}: use ${ROLE_CODES.join(', ')}`,
          }),
        )
        .optional(),
    ),
  linkLimit: z.coerce.number().int().min(0).max(1_000).default(25),
  stage: segment.default('local'),
  out: z.string().min(1).optional(),
  json: z.boolean().default(false),
});
export type SpotCheckCommandOptions = z.infer<typeof spotCheckCommandOptions>;

export function registerSpotCheckCommand(program: Command, io: CliIo): void {
  withDatabaseOptions(program.command('spot-check'))
    .description(
      'pick legacy company records per role (reproducibly, by seed) and show each beside its unified company: ' +
        'name, fields, roles, affiliations and project links from both schemas, with a verdict per record. ' +
        'Read-only. Exit 0 every sampled record matches the rules, 1 one differs, 2 error.',
    )
    .option('--per-role <n>', 'records sampled per role', '3')
    .option('--seed <text>', 'the same seed picks the same records (default: a random seed, printed)')
    .option('--roles <list>', `only these roles, comma-separated (${ROLE_CODES.join(', ')})`)
    .option('--link-limit <n>', 'personnel and project links listed per record (counts cover all)', '25')
    .option('--stage <name>', 'stage named in the report', 'local')
    .option(
      '--out <dir>',
      'also write the report as JSON, Markdown and HTML to <dir>/<stage>/spot-check-<time>/',
    )
    .option('--json', 'print the report as JSON instead of the table')
    .action(async (raw: Record<string, unknown>) => {
      const report = await runSpotCheck(spotCheckCommandOptions.parse(raw), io);
      io.setExitCode?.(report.passed ? EXIT.ok : EXIT.checkFailed);
    });
}

export async function runSpotCheck(options: SpotCheckCommandOptions, io: CliIo): Promise<SpotCheckReport> {
  const { client } = await openDatabase({ ...options, mustExist: true }, io.env);
  let report: SpotCheckReport;
  try {
    report = await spotCheck(client, {
      runId: timestampedRunId('spot-check'),
      stage: options.stage,
      perRole: options.perRole,
      linkLimit: options.linkLimit,
      ...(options.seed ? { seed: options.seed } : {}),
      ...(options.roles ? { roles: options.roles } : {}),
    });
  } finally {
    await client.close();
  }
  const markdown = renderSpotCheckMarkdown(report);
  if (options.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { counts } = report;
    io.stdout(
      [
        `Spot-check (seed ${report.seed}, ${report.perRole} per role): ${counts.matching} match, ` +
          `${counts.differing} differ, ${counts.unmigratable} unmigratable of ${counts.sampled}`,
        '',
        formatTable(['record', 'legacy name', 'company', 'verdict', 'differences'], spotCheckRows(report)),
        '',
        `same sample again: company-migration spot-check --per-role ${report.perRole} --seed ${report.seed}` +
          (options.roles ? ` --roles ${options.roles.join(',')}` : ''),
        options.out ? '' : 'side by side, field by field: add --out <dir> for the Markdown and HTML report',
        '',
      ].join('\n'),
    );
  }
  if (options.out) {
    const store = new LocalReportStore(options.out);
    const written = await publishReport(
      store,
      { stage: report.stage, runId: report.runId, name: 'spot-check' },
      { json: report, markdown, html: renderSpotCheckHtml(report) },
    );
    io.stderr(`report written: ${written.map((key) => `${store.location}/${key}`).join(', ')}\n`);
  }
  return report;
}
