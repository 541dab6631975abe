import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { pathSegment } from '../../core/reports/store.ts';
import {
  readLocalSnapshotManifest,
  restoreLocalSnapshot,
  SNAPSHOT_MANIFEST,
  SnapshotError,
  type SnapshotManifest,
} from '../../core/snapshot/local-snapshot.ts';
import { describeUrl } from '../../core/sql/pg-client.ts';
import { resolveDatabase, withDatabaseOptions } from '../database.ts';
import { CliError } from '../errors.ts';
import type { CliIo } from '../output.ts';

/** A report key segment: what run ids and stages may be. */
const segment = pathSegment();

const restoreOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  reports: z.string().min(1).default('reports'),
  stage: segment.optional(),
  yes: z.boolean().default(false),
});
export type RestoreOptions = z.infer<typeof restoreOptions>;

export interface RestoreOutcome {
  runId: string;
  snapshotFolder: string;
  manifest: SnapshotManifest;
  target: string;
  restored: boolean;
}

export function registerRestoreCommand(program: Command, io: CliIo): void {
  withDatabaseOptions(
    program
      .command('restore')
      .argument('<run-id>', 'the run whose snapshot to restore (its report folder holds snapshot.json)'),
  )
    .description(
      'replace the database with the local snapshot taken before a migration run ' +
        '(<reports>/<run-id>/snapshot.json, or <reports>/<stage>/<run-id>/). Says what it will do and ' +
        'does it only with --yes. Exit 0 restored, 2 refused or could not restore.',
    )
    .option('--reports <dir>', 'the folder the run wrote its reports to', 'reports')
    .option('--stage <name>', 'look in <reports>/<stage>/<run-id>/ only')
    .option('--yes', 'replace the database (without it, nothing is changed)')
    .action(async (runId: string, raw: Record<string, unknown>) => {
      await runRestore(runId, restoreOptions.parse(raw), io);
    });
}

export async function runRestore(runId: string, options: RestoreOptions, io: CliIo): Promise<RestoreOutcome> {
  const id = segment.safeParse(runId);
  if (!id.success) {
    throw new CliError(
      `invalid run id ${JSON.stringify(runId)}: ${id.error.issues[0]?.message ?? 'not a run id'}`,
    );
  }
  const folder = findSnapshotFolder(resolve(options.reports), runId, options.stage);
  const manifest = await withSnapshotErrors(() => readLocalSnapshotManifest(folder));

  const database = resolveDatabase(options, io.env);
  const target = database.url
    ? ({ kind: 'pg', url: database.url } as const)
    : ({ kind: 'pglite', dataDir: database.dataDir } as const);
  const targetDescription = database.url
    ? describeUrl(database.url)
    : `embedded PGlite at ${database.dataDir}`;
  if (manifest.kind !== target.kind) {
    throw new CliError(
      `the snapshot of run ${runId} is of ${kindName(manifest.kind)} (${manifest.database}), but the configured ` +
        `database is ${kindName(target.kind)} (${targetDescription}); choose it with --data-dir or --database-url`,
    );
  }

  io.stdout(
    `snapshot: ${join(folder, manifest.file)} (${manifest.bytes} bytes), taken at ${manifest.createdAt} ` +
      `of ${manifest.database}\n` +
      `target:   ${targetDescription}\n`,
  );
  const outcome: RestoreOutcome = {
    runId,
    snapshotFolder: folder,
    manifest,
    target: targetDescription,
    restored: false,
  };
  if (!options.yes) {
    throw new CliError(
      `this replaces the database (${targetDescription}) with the snapshot of run ${runId} taken at ` +
        `${manifest.createdAt}; add --yes`,
    );
  }
  const result = await withSnapshotErrors(() => restoreLocalSnapshot(folder, target));
  io.stdout(
    `restored ${result.restored} from the snapshot of run ${runId} taken at ${result.createdAt} ` +
      `(${result.snapshotId})\n`,
  );
  return { ...outcome, restored: true };
}

/**
 * `<reports>/<stage>/<run-id>/` with --stage; else `<reports>/<run-id>/`, or the one stage folder that
 * holds the run's snapshot.
 */
function findSnapshotFolder(reports: string, runId: string, stage: string | undefined): string {
  const candidates = stage
    ? [join(reports, stage, runId)]
    : [join(reports, runId), ...stageFolders(reports, runId)];
  const withSnapshot = candidates.filter((folder) => existsSync(join(folder, SNAPSHOT_MANIFEST)));
  const [only, ...more] = withSnapshot;
  if (only && more.length === 0) return only;
  if (only) {
    throw new CliError(
      `run ${runId} has snapshots in several folders (${withSnapshot.join(', ')}); choose one with --stage`,
    );
  }
  const runFolder = candidates.find((folder) => existsSync(folder));
  if (runFolder) throw new CliError(`run ${runId} has no snapshot: no ${SNAPSHOT_MANIFEST} in ${runFolder}`);
  const where = stage ? join(reports, stage) : reports;
  throw new CliError(`no run ${runId} in ${where}`);
}

function stageFolders(reports: string, runId: string): string[] {
  try {
    return readdirSync(reports, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== runId)
      .map((entry) => join(reports, entry.name, runId))
      .sort();
  } catch {
    return [];
  }
}

function kindName(kind: 'pglite' | 'pg'): string {
  return kind === 'pglite' ? 'an embedded PGlite database' : 'a PostgreSQL server database';
}

async function withSnapshotErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SnapshotError) throw new CliError(error.message);
    throw error;
  }
}
