import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod';
import { pathSegment } from '../../core/reports/store.ts';
import {
  readLocalSnapshotManifest,
  restoreLocalSnapshot,
  SNAPSHOT_MANIFEST,
  SnapshotError,
  type SnapshotManifest,
} from '../../core/snapshot/local-snapshot.ts';
import { describeUrl } from '../../core/sql/pg-client.ts';
import { loadStageConfig, STAGES, type StageConfig, StageConfigError } from '../../stacks/stage-config.ts';
import { rdsClient } from '../cloud.ts';
import {
  CloudRestoreIncompleteError,
  clusterSnapshotIdentifier,
  executeCloudRestore,
  planCloudRestore,
  type RestoreWaiting,
  rdsIdentifier,
  renderPlan,
  renderResult,
  repointSteps,
} from '../cloud-restore.ts';
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
  json: z.boolean().default(false),
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
      .argument(
        '[run-id]',
        'local: the run whose snapshot to restore (its report folder holds snapshot.json); omit it for AWS',
      ),
  )
    .description(
      "put a migration run's backup back. Local: `restore <run-id>` replaces the database with the run's " +
        'snapshot (<reports>/<run-id>/snapshot.json, or <reports>/<stage>/<run-id>/). AWS: `restore --stage S ' +
        '--snapshot ID --new-cluster NAME` restores the cluster snapshot into a new cluster with the stage ' +
        "cluster's settings, adds a writer instance, waits, and prints how to repoint the application; it " +
        'changes and deletes nothing else. Both say what they will do and do it only with --yes. ' +
        'Exit 0 restored, 2 refused or could not restore.',
    )
    .option('--reports <dir>', 'local: the folder the run wrote its reports to', 'reports')
    .option(
      '--stage <name>',
      'local: look in <reports>/<stage>/<run-id>/ only; AWS: the deployed stage (dev, staging, production)',
    )
    .option('--snapshot <id>', 'AWS: the cluster snapshot to restore (e.g. migration-<run-id>)')
    .option('--new-cluster <name>', 'AWS: the identifier of the cluster to create (must not exist)')
    .option('--new-instance <name>', 'AWS: the identifier of its writer instance (default: <new-cluster>-1)')
    .option(
      '--wait-minutes <n>',
      `AWS: give up waiting for the new cluster and instance after this long (default ${DEFAULT_WAIT_MINUTES})`,
    )
    .option('--json', 'print the outcome (or, without --yes, the plan) as JSON')
    .option('--yes', 'do it (without it, nothing is changed)')
    .action(async (runId: string | undefined, raw: Record<string, unknown>, command: Command) => {
      if (runId === undefined || isCloudForm(raw)) {
        await runCloudRestoreCommand(runId, raw, command, io);
        return;
      }
      await runRestore(runId, restoreOptions.parse(raw), io);
    });
}

/* ------------------------------------------------------------------------------------------------------------
 * AWS: restore --stage S --snapshot ID --new-cluster NAME
 * ---------------------------------------------------------------------------------------------------------- */

const DEFAULT_WAIT_MINUTES = 90;
const CLOUD_ONLY = ['snapshot', 'newCluster', 'newInstance', 'waitMinutes'] as const;
const LOCAL_ONLY = ['databaseUrl', 'dataDir', 'reports'] as const;
const FORMS =
  'restore <run-id> [--yes] for a local run, or restore --stage S --snapshot ID --new-cluster NAME [--yes] in AWS';

function isCloudForm(raw: Record<string, unknown>): boolean {
  return CLOUD_ONLY.some((name) => raw[name] !== undefined);
}

const cloudRestoreOptions = z.object({
  stage: z.enum(STAGES, { error: `must be a deployed stage: ${STAGES.join(', ')}` }),
  snapshot: clusterSnapshotIdentifier,
  newCluster: rdsIdentifier,
  newInstance: rdsIdentifier.optional(),
  waitMinutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(DEFAULT_WAIT_MINUTES),
  json: z.boolean().default(false),
  yes: z.boolean().default(false),
});

const flagOf = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

async function runCloudRestoreCommand(
  runId: string | undefined,
  raw: Record<string, unknown>,
  command: Command,
  io: CliIo,
): Promise<void> {
  if (runId !== undefined) {
    const given = CLOUD_ONLY.filter((name) => raw[name] !== undefined).map(flagOf);
    throw new CliError(`a run id and ${given.join(', ')} do not go together: ${FORMS}`);
  }
  if (!isCloudForm(raw)) throw new CliError(`name what to restore: ${FORMS}`);
  const local = LOCAL_ONLY.filter((name) => command.getOptionValueSource(name) === 'cli').map(flagOf);
  if (local.length > 0) {
    throw new CliError(
      `${local.join(', ')} ${local.length > 1 ? 'do' : 'does'} not apply to a restore in AWS: it restores ` +
        `into a new cluster; ${FORMS}`,
    );
  }
  const missing = (['stage', 'snapshot', 'newCluster'] as const).filter((name) => raw[name] === undefined);
  if (missing.length > 0) {
    throw new CliError(
      `a restore in AWS needs --stage, --snapshot and --new-cluster; missing ${missing.map(flagOf).join(', ')}`,
    );
  }
  const { reports: _reports, databaseUrl: _url, dataDir: _dir, ...cloudRaw } = raw;
  await restoreInCloud(cloudRaw, io);
}

/** Test seam: the clock of the waits, and where the stage configs are read from. */
export interface CloudRestoreDependencies {
  waiting?: Partial<RestoreWaiting>;
  configDir?: URL;
}
let cloudRestoreDependencies: CloudRestoreDependencies = {};

/** Replaces the waits' clock or the stage config folder (tests); no argument restores the defaults. */
export function setCloudRestoreDependencies(replacement: CloudRestoreDependencies = {}): void {
  cloudRestoreDependencies = replacement;
}

/**
 * Plans the restore (read-only checks), prints the plan; with --yes carries it out and prints the outcome and
 * the steps to repoint the application. Without --yes: exit 2 after the plan, as the local restore does.
 */
export async function restoreInCloud(raw: Record<string, unknown>, io: CliIo): Promise<void> {
  const options = cloudRestoreOptions.parse(raw);
  let config: StageConfig;
  try {
    config = loadStageConfig(options.stage, cloudRestoreDependencies.configDir);
  } catch (error) {
    if (error instanceof StageConfigError) throw new CliError(error.message);
    throw error;
  }
  const rds = rdsClient(config.region);
  const plan = await planCloudRestore(rds, {
    config,
    snapshotId: options.snapshot,
    newClusterId: options.newCluster,
    ...(options.newInstance ? { newInstanceId: options.newInstance } : {}),
  });
  const request = (extra: Record<string, unknown>) => ({
    stage: plan.stage,
    region: plan.region,
    source: plan.source,
    snapshot: plan.snapshot,
    requests: {
      restoreDBClusterFromSnapshot: plan.restoreCluster,
      createDBInstance: plan.createInstance,
      enableHttpEndpoint: plan.enableDataApi,
    },
    notes: plan.notes,
    ...extra,
  });
  if (!options.yes) {
    io.stdout(
      options.json
        ? `${JSON.stringify(request({ restored: false }), null, 2)}\n`
        : `${renderPlan(plan, options.waitMinutes)}\n`,
    );
    throw new CliError(
      `this creates the cluster ${plan.restoreCluster.DBClusterIdentifier} and its instance ` +
        `${plan.createInstance.DBInstanceIdentifier} from snapshot ${plan.snapshot.identifier} ` +
        `(nothing existing is changed); add --yes`,
    );
  }
  if (!options.json) io.stdout(`${renderPlan(plan, options.waitMinutes)}\n\n`);
  try {
    const result = await executeCloudRestore(rds, plan, {
      waiting: { timeoutMs: options.waitMinutes * 60_000, ...cloudRestoreDependencies.waiting },
      progress: (line) => io.stderr(`${line}\n`),
    });
    const steps = repointSteps(plan, result, config);
    io.stdout(
      options.json
        ? `${JSON.stringify(request({ restored: true, newCluster: result.cluster, writerInstance: result.instance, waitedSeconds: result.waitedSeconds, nextSteps: steps }), null, 2)}\n`
        : `${renderResult(plan, result, steps)}\n`,
    );
  } catch (error) {
    if (error instanceof CloudRestoreIncompleteError && options.json) {
      io.stdout(`${JSON.stringify(request({ restored: false, incomplete: error.partial }), null, 2)}\n`);
    }
    throw error;
  }
}

/* ------------------------------------------------------------------------------------------------------------
 * Local: restore <run-id>
 * ---------------------------------------------------------------------------------------------------------- */

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

  if (!options.json) {
    io.stdout(
      `snapshot: ${join(folder, manifest.file)} (${manifest.bytes} bytes), taken at ${manifest.createdAt} ` +
        `of ${manifest.database}\n` +
        `target:   ${targetDescription}\n`,
    );
  }
  const outcome: RestoreOutcome = {
    runId,
    snapshotFolder: folder,
    manifest,
    target: targetDescription,
    restored: false,
  };
  if (!options.yes) {
    if (options.json) io.stdout(`${JSON.stringify(outcome, null, 2)}\n`);
    throw new CliError(
      `this replaces the database (${targetDescription}) with the snapshot of run ${runId} taken at ` +
        `${manifest.createdAt}; add --yes`,
    );
  }
  const result = await withSnapshotErrors(() => restoreLocalSnapshot(folder, target));
  const restored = { ...outcome, restored: true };
  io.stdout(
    options.json
      ? `${JSON.stringify(restored, null, 2)}\n`
      : `restored ${result.restored} from the snapshot of run ${runId} taken at ${result.createdAt} ` +
          `(${result.snapshotId})\n`,
  );
  return restored;
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
