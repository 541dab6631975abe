import type { Command } from 'commander';
import * as z from 'zod';
import { RemedyRefusedError } from '../../core/remedies/errors.ts';
import {
  archiveOrphans,
  archiveRunIdSchema,
  ORPHAN_ARCHIVE_KINDS,
  type OrphanArchiveResult,
  type OrphanRestoreResult,
  orphanArchiveKindSchema,
  restoreOrphans,
} from '../../core/remedies/orphan-archive.ts';
import { listOrphans, type OrphansList } from '../../core/remedies/orphans.ts';
import { openDatabase, withDatabaseOptions } from '../database.ts';
import { CliError, EXIT } from '../errors.ts';
import { type CliIo, formatTable } from '../output.ts';

const DEFAULT_LIMIT = 50;

const listOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  json: z.boolean().default(false),
  limit: z.coerce.number().int().min(0).max(1_000_000).optional(),
  all: z.boolean().default(false),
});

const archiveOptions = listOptions.extend({
  kind: z.array(z.string()).default([]),
  dryRun: z.boolean().default(false),
});

const restoreOptions = listOptions.extend({
  dryRun: z.boolean().default(false),
  skipTaken: z.boolean().default(false),
});

/** Repeatable, comma-separated option values, in the order given. */
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',')];

/** --limit / --all as the core's limit (null: all). */
function limitOf(options: { all: boolean; limit?: number | undefined }): number | null {
  if (options.all && options.limit !== undefined) throw new CliError('give --limit or --all, not both');
  return options.all ? null : (options.limit ?? DEFAULT_LIMIT);
}

/** The core refused (unknown run id, a reused id, an archive changed by hand): one line, exit 2. */
const refusal = (error: unknown) => {
  throw error instanceof RemedyRefusedError ? new CliError(error.message) : error;
};

/**
 * `company-migration orphans list|archive|restore`: every orphan validation's V6 counts, with ids; and
 * the one remedy that writes legacy tables — moving orphaned links into an archive, and back.
 */
export function registerOrphansCommand(program: Command, io: CliIo): void {
  const orphans = program
    .command('orphans')
    .description(
      'rows that point at rows that no longer exist (validation V6): legacy links the migration skips ' +
        '(warning) and unified rows pointing at a missing company, role or person (critical); archive moves ' +
        'the legacy ones into an archive table and restore puts them back',
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
      const limit = limitOf(options);
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

  withDatabaseOptions(orphans.command('archive'))
    .description(
      'move the orphaned legacy links (the ones `orphans list` lists) into the table ' +
        'company_migration_orphan_archive beside the legacy tables and delete them from their legacy ' +
        'tables, in one transaction, each row re-checked as it is deleted. The only command that writes ' +
        'legacy tables: it prints an archive run id, and `orphans restore <id>` puts exactly those rows ' +
        'back. Creates the archive table on first use (needs CREATE on the schema).',
    )
    .option(
      '--kind <kinds>',
      `what to archive, comma-separated or repeated (default all): ${ORPHAN_ARCHIVE_KINDS.join(', ')}`,
      collect,
    )
    .option('--dry-run', 'count and list what would move; write nothing')
    .option('--limit <n>', `rows listed per table (counts are always exact; default ${DEFAULT_LIMIT})`)
    .option('--all', 'list every row')
    .option('--json', 'print the result as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const options = archiveOptions.parse(raw);
      const limit = limitOf(options);
      const kinds = options.kind.length === 0 ? ['all'] : options.kind.map((k) => k.trim());
      for (const kind of kinds) {
        const checked = orphanArchiveKindSchema.safeParse(kind);
        if (!checked.success) throw new CliError(checked.error.issues[0]?.message ?? `unknown kind ${kind}`);
      }
      const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
      try {
        const result = await archiveOrphans(client, { kinds, dryRun: options.dryRun, limit }).catch(refusal);
        io.stdout(
          options.json
            ? `${JSON.stringify({ database: description, ...result }, null, 2)}\n`
            : `${describeArchive(description, result)}\n`,
        );
      } finally {
        await client.close();
      }
    });

  withDatabaseOptions(
    orphans.command('restore').argument('<archive-run-id>', 'the id `orphans archive` printed'),
  )
    .description(
      'put the rows of one archive run back into their legacy tables, with their keys and values, so the ' +
        'tables are as before the archive; one transaction. Rows whose key a legacy table holds again are ' +
        'named and refused: nothing is written (exit 1), unless --skip-taken. Restoring twice is restoring ' +
        'once. Exit 0 restored (or nothing left to restore), 1 refused, 2 error.',
    )
    .option('--dry-run', 'say what would be restored or refused; write nothing')
    .option('--skip-taken', 'restore the rows whose key is free; leave the others in the archive')
    .option('--limit <n>', `refused rows named (counts are always exact; default ${DEFAULT_LIMIT})`)
    .option('--all', 'name every refused row')
    .option('--json', 'print the result as JSON')
    .action(async (archiveRunId: string, raw: Record<string, unknown>) => {
      const options = restoreOptions.parse(raw);
      const limit = limitOf(options);
      const id = archiveRunIdSchema.safeParse(archiveRunId);
      if (!id.success) {
        throw new CliError(
          `invalid archive run id ${JSON.stringify(archiveRunId)}: ${id.error.issues[0]?.message}`,
        );
      }
      const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
      try {
        const result = await restoreOrphans(client, {
          archiveRunId: id.data,
          dryRun: options.dryRun,
          skipTaken: options.skipTaken,
          limit,
        }).catch(refusal);
        io.stdout(
          options.json
            ? `${JSON.stringify({ database: description, ...result }, null, 2)}\n`
            : `${describeRestore(description, result)}\n`,
        );
        if (result.status === 'refused') io.setExitCode?.(EXIT.checkFailed);
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

function describeArchive(database: string, result: OrphanArchiveResult): string {
  const kinds = result.kinds.join(', ');
  if (result.total === 0) {
    return `no orphaned legacy links (${kinds}) in ${database} (schema ${result.schema}): nothing to archive`;
  }
  const lines = [
    result.dryRun
      ? `DRY RUN: would archive ${result.total} orphaned legacy link(s) (${kinds}) in ${database} ` +
        `(schema ${result.schema}) into ${result.archiveTable}`
      : `archived ${result.total} orphaned legacy link(s) (${kinds}) in ${database} (schema ${result.schema}) ` +
        `into ${result.archiveTable}, and deleted them from their legacy tables`,
    formatTable(
      ['table', 'kind', result.dryRun ? 'would move' : 'moved'],
      result.tables.map((t) => [t.table, t.group, t.count]),
    ),
  ];
  for (const table of result.tables.filter((t) => t.count > 0)) {
    lines.push(
      '',
      `${table.table} (${table.count}):`,
      formatTable(
        ['id', 'reason'],
        table.rows.map((r) => [r.id, r.reason]),
      ),
    );
    if (table.truncated) lines.push(`… and ${table.count - table.rows.length} more (--all lists every one)`);
  }
  lines.push(
    '',
    result.dryRun || !result.archiveRunId
      ? 'nothing was written'
      : `archive run id: ${result.archiveRunId}\nundo it with: company-migration orphans restore ${result.archiveRunId}`,
  );
  return lines.join('\n');
}

function describeRestore(database: string, result: OrphanRestoreResult): string {
  const run = `archive run ${result.archiveRunId} (archived ${result.archivedAt}, ${result.archived} row(s))`;
  const headline = {
    restored: result.dryRun
      ? `DRY RUN: would restore ${result.restored} row(s) of ${run} in ${database}`
      : `restored ${result.restored} row(s) of ${run} in ${database}: same keys and values as before the archive` +
        (result.taken > 0 ? `; ${result.taken} row(s) stay in the archive (key taken again)` : ''),
    'already-restored': `nothing to restore: every row of ${run} in ${database} was restored before`,
    refused:
      `refused: ${result.taken} row(s) of ${run} have a key its legacy table holds again; nothing was ` +
      'restored (repair or remove those rows, or give --skip-taken to restore the others)',
  }[result.status];
  const lines = [
    headline,
    formatTable(
      ['table', 'archived', 'restored before', result.dryRun ? 'would restore' : 'restored', 'key taken'],
      result.tables.map((t) => [t.table, t.archived, t.alreadyRestored, t.restored, t.taken]),
    ),
  ];
  if (result.taken > 0) {
    lines.push(
      '',
      'keys taken again (left in the archive):',
      formatTable(
        ['table', 'key', 'archive id'],
        result.takenRows.map((r) => [r.table, r.key, r.archiveId]),
      ),
    );
    if (result.takenTruncated) {
      lines.push(`… and ${result.taken - result.takenRows.length} more (--all names every one)`);
    }
  }
  if (result.dryRun || result.status !== 'restored') lines.push('nothing was written');
  return lines.join('\n');
}
