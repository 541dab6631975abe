import type { Command } from 'commander';
import { z } from 'zod';
import { listOrphans, type OrphansList } from '../../core/remedies/orphans.ts';
import { openDatabase, withDatabaseOptions } from '../database.ts';
import { CliError } from '../errors.ts';
import { type CliIo, formatTable } from '../output.ts';

const DEFAULT_LIMIT = 50;

const listOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  json: z.boolean().default(false),
  limit: z.coerce.number().int().min(0).max(1_000_000).optional(),
  all: z.boolean().default(false),
});

/** `company-migration orphans list`: every orphan validation's V6 counts, with ids. */
export function registerOrphansCommand(program: Command, io: CliIo): void {
  const orphans = program
    .command('orphans')
    .description(
      'rows that point at rows that no longer exist (validation V6): legacy links the migration skips ' +
        '(warning) and unified rows pointing at a missing company, role or person (critical)',
    );

  withDatabaseOptions(orphans.command('list'))
    .description(
      'every kind of orphan, table by table, with exact counts, and per row its id, the reason and the ' +
        'keys it points at: project links whose project or company record is missing, company-related ' +
        'personnel links whose person or company record is missing, unified assignments, affiliations ' +
        'and client profiles whose company, role or person is missing. Read-only.',
    )
    .option('--limit <n>', `rows listed per table (counts are always exact; default ${DEFAULT_LIMIT})`)
    .option('--all', 'list every row (for a long list use --json and a file)')
    .option('--json', 'print the list as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const options = listOptions.parse(raw);
      if (options.all && options.limit !== undefined) throw new CliError('give --limit or --all, not both');
      const limit = options.all ? null : (options.limit ?? DEFAULT_LIMIT);
      const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
      try {
        const list = await listOrphans(client, { limit });
        io.stdout(
          options.json
            ? `${JSON.stringify({ database: description, ...list }, null, 2)}\n`
            : `${describeList(description, list)}\n`,
        );
      } finally {
        await client.close();
      }
    });
}

function describeList(database: string, list: OrphansList): string {
  const lines = [
    `orphans in ${database} (schema ${list.schema}): ${list.legacyLinks} legacy link(s), skipped by the ` +
      `migration (warning); ${list.unifiedRows} unified row(s) pointing at nothing (critical)`,
    formatTable(
      ['table', 'kind', 'orphans'],
      list.tables.map((t) => [t.table, t.kind, t.count]),
    ),
  ];
  for (const table of list.tables.filter((t) => t.count > 0)) {
    lines.push(
      '',
      `${table.table} (${table.count}):`,
      formatTable(
        ['id', 'reason', 'points at'],
        table.rows.map((r) => [
          r.id,
          r.reason,
          Object.entries(r.refs)
            .map(([key, value]) => `${key}=${value ?? 'NULL'}`)
            .join(' '),
        ]),
      ),
    );
    if (table.truncated) {
      lines.push(`… and ${table.count - table.rows.length} more (--all lists every one)`);
    }
  }
  return lines.join('\n');
}
