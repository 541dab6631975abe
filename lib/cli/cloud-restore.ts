import { setTimeout as sleepFor } from 'node:timers/promises';
import {
  CreateDBInstanceCommand,
  type CreateDBInstanceCommandInput,
  type DBCluster,
  type DBClusterSnapshot,
  type DBInstance,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  EnableHttpEndpointCommand,
  type RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  type RestoreDBClusterFromSnapshotCommandInput,
  type Tag,
} from '@aws-sdk/client-rds';
import * as z from 'zod';
import type { StageConfig } from '../stacks/stage-config.ts';
import { awsErrorName, awsFailure } from './cloud.ts';
import { CliError } from './errors.ts';

/**
 * The last resort in AWS: restore a cluster snapshot of a stage's cluster into a NEW cluster, with the
 * source cluster's settings, give it a writer instance, wait until both are available, and say how to
 * move the application onto it. RDS cannot restore a snapshot in place, and this module never changes
 * or deletes the source cluster: moving over and cleaning up stay with the operator.
 *
 * The RDS client is passed in (tests: aws-sdk-client-mock), and so is the clock of the waits.
 */

/* ------------------------------------------------------------------------------------------------------------
 * Names
 * ---------------------------------------------------------------------------------------------------------- */

/** RDS identifiers: 1–63 letters, digits and single hyphens, starting with a letter, not ending in a hyphen. */
export const rdsIdentifier = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-zA-Z](?:-?[a-zA-Z0-9])*$/, 'must be an RDS identifier: letters, digits, single hyphens');

/** A manual snapshot's identifier, an automated one (`rds:…`), or a snapshot ARN. */
export const clusterSnapshotIdentifier = z
  .string()
  .max(255)
  .regex(
    /^(?:arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster-snapshot:)?(?:rds:)?[a-zA-Z](?:-?[a-zA-Z0-9])*$/,
    'must be a cluster snapshot identifier (or its ARN)',
  );

/** The writer of the restored cluster, unless the operator names it. */
export function defaultInstanceIdentifier(newClusterId: string): string {
  return `${newClusterId}-1`;
}

/* ------------------------------------------------------------------------------------------------------------
 * The plan: everything read, checked and decided before anything is created
 * ---------------------------------------------------------------------------------------------------------- */

export interface CloudRestoreRequest {
  config: StageConfig;
  /** The snapshot to restore: its identifier or ARN. */
  snapshotId: string;
  newClusterId: string;
  /** Default: `<new cluster>-1`. */
  newInstanceId?: string;
}

export interface CloudRestorePlan {
  stage: string;
  region: string;
  source: {
    identifier: string;
    arn: string;
    status: string;
    engine: string;
    engineVersion: string;
    dataApi: boolean;
    writer: string;
  };
  snapshot: {
    identifier: string;
    arn: string | null;
    createdAt: string | null;
    engineVersion: string | null;
    encrypted: boolean;
  };
  /** Exactly what is sent: RestoreDBClusterFromSnapshot, CreateDBInstance, EnableHttpEndpoint (or not). */
  restoreCluster: RestoreDBClusterFromSnapshotCommandInput & { DBClusterIdentifier: string };
  createInstance: CreateDBInstanceCommandInput & { DBInstanceIdentifier: string };
  enableDataApi: boolean;
  /** What the operator should know before saying yes. */
  notes: string[];
}

/** Tags on the new cluster and its instance: where it came from, so nobody mistakes it for the original. */
export function restoreTags(stage: string, sourceCluster: string, snapshotId: string): Tag[] {
  return [
    { Key: 'restored-from-cluster', Value: sourceCluster },
    { Key: 'restored-from-snapshot', Value: snapshotId },
    { Key: 'stage', Value: stage },
    { Key: 'created-by', Value: 'company-migration restore' },
  ];
}

const SUPPORTED_ENGINE_MODES = new Set(['provisioned']);

/**
 * Reads the stage's cluster, its writer and the snapshot, checks that the restore can go ahead, and decides
 * the requests. Read-only: only Describe calls. Refuses (CliError) when the snapshot is missing, not
 * available or of another cluster, when the new names are taken, or when the source cannot be copied.
 */
export async function planCloudRestore(
  rds: RDSClient,
  request: CloudRestoreRequest,
): Promise<CloudRestorePlan> {
  const { config, snapshotId, newClusterId } = request;
  const newInstanceId = request.newInstanceId ?? defaultInstanceIdentifier(newClusterId);
  const instanceName = rdsIdentifier.safeParse(newInstanceId);
  if (!instanceName.success) {
    throw new CliError(
      `the writer instance would be named ${newInstanceId}, which ${instanceName.error.issues[0]?.message}: ` +
        'choose a shorter --new-cluster or name it with --new-instance',
    );
  }
  const sourceId = config.clusterIdentifier;
  const where = `stage ${config.stage} (config/stages/${config.stage}.json) in ${config.region}`;

  const source = await describeCluster(rds, sourceId);
  if (!source) throw new CliError(`the cluster ${sourceId} of ${where} does not exist`);
  if (source.DBClusterArn && source.DBClusterArn !== config.clusterArn) {
    throw new CliError(
      `the cluster ${sourceId} found is ${source.DBClusterArn}, but ${where} names ${config.clusterArn}: ` +
        'are the AWS credentials for the right account?',
    );
  }
  const engineMode = source.EngineMode ?? 'provisioned';
  if (!SUPPORTED_ENGINE_MODES.has(engineMode)) {
    throw new CliError(
      `the cluster ${sourceId} runs in engine mode ${engineMode}; only provisioned clusters (including ` +
        'Aurora Serverless v2) can be restored by this command: follow docs/rollback-runbook.md',
    );
  }
  const writerId = source.DBClusterMembers?.find((member) => member.IsClusterWriter)?.DBInstanceIdentifier;
  if (!writerId) {
    throw new CliError(
      `the cluster ${sourceId} has no writer instance to copy the instance class from; ` +
        'follow docs/rollback-runbook.md (section 4c) for the instance',
    );
  }
  const writer = await describeInstance(rds, writerId);
  if (!writer?.DBInstanceClass) {
    throw new CliError(`the writer instance ${writerId} of the cluster ${sourceId} could not be described`);
  }

  const snapshot = await describeSnapshot(rds, snapshotId);
  if (!snapshot) {
    throw new CliError(
      `no cluster snapshot ${snapshotId} in ${config.region}; list the cluster's snapshots with ` +
        `aws rds describe-db-cluster-snapshots --db-cluster-identifier ${sourceId} --region ${config.region}`,
    );
  }
  if (snapshot.DBClusterIdentifier !== sourceId) {
    throw new CliError(
      `snapshot ${snapshotId} is of the cluster ${snapshot.DBClusterIdentifier ?? '(unknown)'}, not of ` +
        `${sourceId}, the cluster of ${where}`,
    );
  }
  if (snapshot.Status !== 'available') {
    const progress = snapshot.PercentProgress === undefined ? '' : ` (${snapshot.PercentProgress}% done)`;
    throw new CliError(
      `snapshot ${snapshotId} is ${snapshot.Status ?? 'in an unknown state'}${progress}, not available: ` +
        'only an available snapshot can be restored',
    );
  }

  if (newClusterId === sourceId) {
    throw new CliError(
      `${newClusterId} is the stage's own cluster: a snapshot is restored into a new cluster`,
    );
  }
  const existing = await describeCluster(rds, newClusterId);
  if (existing) {
    throw new CliError(
      `a cluster named ${newClusterId} already exists in ${config.region} (${existing.Status ?? 'unknown status'}): ` +
        'choose another --new-cluster',
    );
  }
  const existingInstance = await describeInstance(rds, newInstanceId);
  if (existingInstance) {
    throw new CliError(
      `an instance named ${newInstanceId} already exists in ${config.region}: ` +
        'choose another --new-cluster or --new-instance',
    );
  }

  const engine = source.Engine ?? snapshot.Engine ?? 'aurora-postgresql';
  const engineVersion = source.EngineVersion ?? snapshot.EngineVersion;
  if (!engineVersion) throw new CliError(`the engine version of the cluster ${sourceId} is unknown`);
  const tags = restoreTags(config.stage, sourceId, snapshotId);
  const scaling = source.ServerlessV2ScalingConfiguration;
  const securityGroups = (source.VpcSecurityGroups ?? [])
    .map((group) => group.VpcSecurityGroupId)
    .filter((id): id is string => Boolean(id));
  const restoreCluster = definedOnly({
    DBClusterIdentifier: newClusterId,
    SnapshotIdentifier: snapshotId,
    Engine: engine,
    EngineVersion: engineVersion,
    Port: source.Port,
    DBSubnetGroupName: source.DBSubnetGroup,
    VpcSecurityGroupIds: securityGroups.length > 0 ? securityGroups : undefined,
    DBClusterParameterGroupName: source.DBClusterParameterGroup,
    KmsKeyId: source.StorageEncrypted ? source.KmsKeyId : undefined,
    ServerlessV2ScalingConfiguration:
      scaling?.MinCapacity !== undefined && scaling.MaxCapacity !== undefined
        ? definedOnly({
            MinCapacity: scaling.MinCapacity,
            MaxCapacity: scaling.MaxCapacity,
            SecondsUntilAutoPause: scaling.SecondsUntilAutoPause,
          })
        : undefined,
    EnableIAMDatabaseAuthentication: source.IAMDatabaseAuthenticationEnabled,
    EnableCloudwatchLogsExports:
      source.EnabledCloudwatchLogsExports && source.EnabledCloudwatchLogsExports.length > 0
        ? source.EnabledCloudwatchLogsExports
        : undefined,
    BackupRetentionPeriod: source.BackupRetentionPeriod,
    CopyTagsToSnapshot: source.CopyTagsToSnapshot,
    DeletionProtection: source.DeletionProtection,
    Tags: tags,
  });
  const createInstance = definedOnly({
    DBInstanceIdentifier: newInstanceId,
    DBClusterIdentifier: newClusterId,
    Engine: engine,
    DBInstanceClass: writer.DBInstanceClass,
    DBParameterGroupName: writer.DBParameterGroups?.[0]?.DBParameterGroupName,
    PubliclyAccessible: writer.PubliclyAccessible,
    CACertificateIdentifier: writer.CACertificateIdentifier,
    Tags: tags,
  });

  const dataApi = source.HttpEndpointEnabled === true;
  const notes: string[] = [];
  if (snapshot.EngineVersion && snapshot.EngineVersion !== engineVersion) {
    notes.push(
      `the snapshot is of ${engine} ${snapshot.EngineVersion}; it is restored at the source's current version ` +
        `${engineVersion}, which upgrades it during the restore`,
    );
  }
  if (!dataApi) {
    notes.push(
      `the source cluster has no Data API (HTTP endpoint); neither will the new one, and the stage's Lambda ` +
        'functions need it: enable it later with aws rds enable-http-endpoint',
    );
  }
  if (source.DBClusterMembers && source.DBClusterMembers.length > 1) {
    notes.push(
      `the source has ${source.DBClusterMembers.length - 1} reader instance(s); only a writer is created: add ` +
        'readers later if the application uses them',
    );
  }
  notes.push(
    `everything written to ${sourceId} after the snapshot (${snapshot.SnapshotCreateTime?.toISOString() ?? 'time unknown'}) ` +
      'is not in the new cluster',
  );

  return {
    stage: config.stage,
    region: config.region,
    source: {
      identifier: sourceId,
      arn: source.DBClusterArn ?? config.clusterArn,
      status: source.Status ?? 'unknown',
      engine,
      engineVersion,
      dataApi,
      writer: writerId,
    },
    snapshot: {
      identifier: snapshotId,
      arn: snapshot.DBClusterSnapshotArn ?? null,
      createdAt: snapshot.SnapshotCreateTime?.toISOString() ?? null,
      engineVersion: snapshot.EngineVersion ?? null,
      encrypted: snapshot.StorageEncrypted === true,
    },
    restoreCluster,
    createInstance,
    enableDataApi: dataApi,
    notes,
  };
}

/** The plan for people: what will be created, and how. */
export function renderPlan(plan: CloudRestorePlan, waitMinutes: number): string {
  const cluster = plan.restoreCluster;
  const instance = plan.createInstance;
  const scaling = cluster.ServerlessV2ScalingConfiguration;
  const settings = [
    `${cluster.Engine} ${cluster.EngineVersion}`,
    cluster.Port !== undefined ? `port ${cluster.Port}` : undefined,
    cluster.DBSubnetGroupName ? `subnet group ${cluster.DBSubnetGroupName}` : undefined,
    cluster.VpcSecurityGroupIds ? `security groups ${cluster.VpcSecurityGroupIds.join(' ')}` : undefined,
    cluster.DBClusterParameterGroupName
      ? `parameter group ${cluster.DBClusterParameterGroupName}`
      : undefined,
    cluster.KmsKeyId ? `KMS key ${cluster.KmsKeyId}` : 'not encrypted',
    scaling ? `Serverless v2 ${scaling.MinCapacity}–${scaling.MaxCapacity} ACU` : undefined,
    cluster.DeletionProtection ? 'deletion protection' : undefined,
  ].filter(Boolean);
  const rows: [string, string][] = [
    [
      'source',
      `${plan.source.identifier} (${plan.source.engine} ${plan.source.engineVersion}, ${plan.source.status}, ` +
        `Data API ${plan.source.dataApi ? 'on' : 'off'}) — not changed`,
    ],
    [
      'snapshot',
      `${plan.snapshot.identifier} (available, taken ${plan.snapshot.createdAt ?? 'at an unknown time'}` +
        `${plan.snapshot.engineVersion ? `, ${plan.source.engine} ${plan.snapshot.engineVersion}` : ''}` +
        `${plan.snapshot.encrypted ? ', encrypted' : ''})`,
    ],
    ['new cluster', `${cluster.DBClusterIdentifier}: ${settings.join(', ')}`],
    [
      'writer',
      `${instance.DBInstanceIdentifier}: ${instance.DBInstanceClass}` +
        `${instance.DBParameterGroupName ? `, parameter group ${instance.DBParameterGroupName}` : ''}`,
    ],
    [
      'then',
      `wait until both are available (at most ${waitMinutes} min)` +
        `${plan.enableDataApi ? ', enable the Data API' : ''}`,
    ],
    ['tags', (cluster.Tags ?? []).map((tag) => `${tag.Key}=${tag.Value}`).join(', ')],
  ];
  return [
    `restore in AWS: stage ${plan.stage}, ${plan.region}`,
    ...rows.map(([label, text]) => `  ${label.padEnd(12)} ${text}`),
    ...plan.notes.map((note) => `  note: ${note}`),
  ].join('\n');
}

/* ------------------------------------------------------------------------------------------------------------
 * Carrying it out
 * ---------------------------------------------------------------------------------------------------------- */

export interface RestoreWaiting {
  /** Between status polls: 15 s by default (a restore takes minutes to hours). */
  intervalMs: number;
  /** How long to wait for the cluster and its instance together before giving up. */
  timeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

export const defaultRestoreWaiting: RestoreWaiting = {
  intervalMs: 15_000,
  timeoutMs: 90 * 60_000,
  sleep: (ms) => sleepFor(ms),
  now: () => Date.now(),
};

export interface CloudRestoreResult {
  cluster: {
    identifier: string;
    arn: string;
    endpoint: string | null;
    readerEndpoint: string | null;
    port: number | null;
    status: string;
    dataApi: boolean;
  };
  instance: { identifier: string; instanceClass: string; status: string };
  /** From the restore request to both being available. */
  waitedSeconds: number;
}

/** What exists after a restore that stopped part-way: for the message, and for --json. */
export interface PartialRestore {
  reason: 'timed-out' | 'failed';
  cluster: { identifier: string; arn: string | null; status: string | null } | null;
  instance: { identifier: string; status: string | null } | null;
  dataApiEnabled: boolean;
  remaining: string[];
}

/** A restore that created something and then timed out or failed: says what exists and what to do. */
export class CloudRestoreIncompleteError extends CliError {
  override readonly multiline = true;

  constructor(
    message: string,
    readonly partial: PartialRestore,
  ) {
    super(message);
    this.name = 'CloudRestoreIncompleteError';
  }
}

class WaitTimedOut extends Error {
  constructor(
    readonly what: string,
    readonly status: string,
    readonly waitedMs: number,
  ) {
    super(`gave up after ${minutes(waitedMs)} waiting for ${what}, still ${status}`);
  }
}

const CLUSTER_FAILED = new Set([
  'failed',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'incompatible-network',
  'incompatible-parameters',
  'incompatible-restore',
]);
const INSTANCE_FAILED = new Set([
  'failed',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'incompatible-network',
  'incompatible-option-group',
  'incompatible-parameters',
  'incompatible-restore',
  'restore-error',
  'storage-full',
]);
/** A progress line at least this often while the status stays the same. */
const PROGRESS_EVERY_MS = 60_000;

/**
 * RestoreDBClusterFromSnapshot, wait for the cluster; CreateDBInstance, wait for it (and the cluster again);
 * EnableHttpEndpoint when the source has the Data API. A progress line on each status change (and every
 * minute). On a timeout or failure after the cluster was requested: CloudRestoreIncompleteError.
 */
export async function executeCloudRestore(
  rds: RDSClient,
  plan: CloudRestorePlan,
  options: { waiting?: Partial<RestoreWaiting>; progress?: (line: string) => void } = {},
): Promise<CloudRestoreResult> {
  const waiting = { ...defaultRestoreWaiting, ...options.waiting };
  const progress = options.progress ?? (() => {});
  const clusterId = plan.restoreCluster.DBClusterIdentifier;
  const instanceId = plan.createInstance.DBInstanceIdentifier;
  const partial: PartialRestore = {
    reason: 'failed',
    cluster: null,
    instance: null,
    dataApiEnabled: false,
    remaining: [],
  };
  const started = waiting.now();
  const deadline = started + waiting.timeoutMs;
  const elapsed = () => waiting.now() - started;

  /** Polls `describe` until it says available; a line when the status changes and every minute. */
  async function waitUntilAvailable(
    what: string,
    describe: () => Promise<string | undefined>,
    failed: ReadonlySet<string>,
    record: (status: string) => void,
  ): Promise<void> {
    let shown: string | undefined;
    let shownAt = Number.NEGATIVE_INFINITY;
    for (;;) {
      const status = (await describe()) ?? 'missing';
      record(status);
      if (status !== shown || elapsed() - shownAt >= PROGRESS_EVERY_MS) {
        progress(`[${clock(elapsed())}] ${what}: ${status}`);
        shown = status;
        shownAt = elapsed();
      }
      if (status === 'available') return;
      if (failed.has(status) || status === 'missing') {
        throw new Error(`${what} is ${status === 'missing' ? 'gone' : status}`);
      }
      const left = deadline - waiting.now();
      if (left <= 0) throw new WaitTimedOut(what, status, elapsed());
      await waiting.sleep(Math.min(waiting.intervalMs, left));
    }
  }
  const clusterStatus = async () => (await describeCluster(rds, clusterId))?.Status;
  const instanceStatus = async () => (await describeInstance(rds, instanceId))?.DBInstanceStatus;
  const recordCluster = (status: string) => {
    if (partial.cluster) partial.cluster.status = status;
  };
  const recordInstance = (status: string) => {
    if (partial.instance) partial.instance.status = status;
  };

  let clusterArn: string | undefined;
  try {
    const restored = await attempt(
      () => rds.send(new RestoreDBClusterFromSnapshotCommand(plan.restoreCluster)),
      'rds:RestoreDBClusterFromSnapshot',
      plan.snapshot.identifier,
    );
    clusterArn = restored.DBCluster?.DBClusterArn;
    partial.cluster = {
      identifier: clusterId,
      arn: clusterArn ?? null,
      status: restored.DBCluster?.Status ?? 'creating',
    };
    progress(
      `restoring cluster ${clusterId} from snapshot ${plan.snapshot.identifier} (RestoreDBClusterFromSnapshot)`,
    );
    await waitUntilAvailable(`cluster ${clusterId}`, clusterStatus, CLUSTER_FAILED, recordCluster);

    const created = await attempt(
      () => rds.send(new CreateDBInstanceCommand(plan.createInstance)),
      'rds:CreateDBInstance',
      instanceId,
    );
    partial.instance = { identifier: instanceId, status: created.DBInstance?.DBInstanceStatus ?? 'creating' };
    progress(
      `creating writer instance ${instanceId} (${plan.createInstance.DBInstanceClass}) in ${clusterId}`,
    );
    await waitUntilAvailable(`instance ${instanceId}`, instanceStatus, INSTANCE_FAILED, recordInstance);
    await waitUntilAvailable(`cluster ${clusterId}`, clusterStatus, CLUSTER_FAILED, recordCluster);

    const described = await describeCluster(rds, clusterId);
    clusterArn = described?.DBClusterArn ?? clusterArn;
    if (plan.enableDataApi) {
      if (!clusterArn) throw new Error(`RDS did not say the ARN of ${clusterId}`);
      const arn = clusterArn;
      await attempt(
        () => rds.send(new EnableHttpEndpointCommand({ ResourceArn: arn })),
        'rds:EnableHttpEndpoint',
        arn,
      );
      partial.dataApiEnabled = true;
      progress(`enabled the Data API on ${clusterId}`);
    }
    if (!clusterArn || !described) throw new Error(`cluster ${clusterId} could not be described`);
    return {
      cluster: {
        identifier: clusterId,
        arn: clusterArn,
        endpoint: described.Endpoint ?? null,
        readerEndpoint: described.ReaderEndpoint ?? null,
        port: described.Port ?? plan.restoreCluster.Port ?? null,
        status: described.Status ?? 'available',
        dataApi: partial.dataApiEnabled || described.HttpEndpointEnabled === true,
      },
      instance: {
        identifier: instanceId,
        instanceClass: plan.createInstance.DBInstanceClass ?? 'unknown',
        status: partial.instance.status ?? 'available',
      },
      waitedSeconds: Math.round(elapsed() / 1000),
    };
  } catch (error) {
    // Nothing was created: the error as it is.
    if (!partial.cluster) throw error;
    if (error instanceof WaitTimedOut) partial.reason = 'timed-out';
    partial.remaining = remainingSteps(plan, partial);
    throw new CloudRestoreIncompleteError(incompleteMessage(plan, partial, error), partial);
  }
}

function remainingSteps(plan: CloudRestorePlan, partial: PartialRestore): string[] {
  const remaining: string[] = [];
  if (partial.cluster?.status !== 'available')
    remaining.push(`cluster ${partial.cluster?.identifier} available`);
  if (!partial.instance)
    remaining.push(`writer instance ${plan.createInstance.DBInstanceIdentifier} created`);
  else if (partial.instance.status !== 'available') {
    remaining.push(`writer instance ${partial.instance.identifier} available`);
  }
  if (plan.enableDataApi && !partial.dataApiEnabled) remaining.push('Data API enabled');
  return remaining;
}

function incompleteMessage(plan: CloudRestorePlan, partial: PartialRestore, error: unknown): string {
  const region = ` --region ${plan.region}`;
  const clusterId = plan.restoreCluster.DBClusterIdentifier;
  const instanceId = plan.createInstance.DBInstanceIdentifier;
  const reason = error instanceof Error ? error.message : String(error);
  const created = [
    `cluster ${clusterId} (${partial.cluster?.status ?? 'unknown'})`,
    ...(partial.instance ? [`writer instance ${instanceId} (${partial.instance.status ?? 'unknown'})`] : []),
  ];
  const cleanUp = [
    ...(partial.instance
      ? [`aws rds delete-db-instance --db-instance-identifier ${instanceId}${region}`]
      : []),
    ...(plan.restoreCluster.DeletionProtection
      ? [
          `aws rds modify-db-cluster --db-cluster-identifier ${clusterId} --no-deletion-protection --apply-immediately${region}`,
        ]
      : []),
    `aws rds delete-db-cluster --db-cluster-identifier ${clusterId} --skip-final-snapshot${region}`,
  ];
  return [
    `the restore did not finish: ${reason}`,
    `created so far: ${created.join(', ')}; AWS goes on with what it started, and nothing else was changed`,
    `not done yet: ${partial.remaining.join(', ') || 'nothing'}`,
    `check: aws rds describe-db-clusters --db-cluster-identifier ${clusterId}${region} --query 'DBClusters[0].Status'`,
    `       aws rds describe-db-instances --db-instance-identifier ${instanceId}${region} --query 'DBInstances[0].DBInstanceStatus'`,
    'finish it by hand with docs/rollback-runbook.md section 4 (4c the instance, 4d the Data API), or clean it up:',
    ...cleanUp.map((command) => `  ${command}`),
  ].join('\n');
}

/* ------------------------------------------------------------------------------------------------------------
 * Afterwards: how to move onto the new cluster
 * ---------------------------------------------------------------------------------------------------------- */

/** The operator's steps to repoint the application and the stage, verify, and retire the old cluster later. */
export function repointSteps(
  plan: CloudRestorePlan,
  result: CloudRestoreResult,
  config: StageConfig,
): string[] {
  const region = ` --region ${plan.region}`;
  const newId = result.cluster.identifier;
  const oldId = plan.source.identifier;
  const endpoint = result.cluster.endpoint
    ? `${result.cluster.endpoint}${result.cluster.port ? `:${result.cluster.port}` : ''}`
    : `(aws rds describe-db-clusters --db-cluster-identifier ${newId} --query 'DBClusters[0].Endpoint')`;
  const file = `config/stages/${plan.stage}.json`;
  return [
    `Secret: the database users and passwords are as they were when the snapshot was taken. Through the ` +
      `Data API, the stage's secret (${config.secretArn}) works for the new cluster as long as its password ` +
      `was not rotated since; test it: aws rds-data execute-statement --resource-arn ${result.cluster.arn} ` +
      `--secret-arn ${config.secretArn} --database ${config.databaseName} --sql "SELECT count(*) FROM companies"` +
      `${region}. If that fails, create a secret for the new cluster (docs/rollback-runbook.md, 4e).`,
    result.cluster.dataApi
      ? `Data API: enabled on ${newId}.`
      : `Data API: not enabled on ${newId} (the source had none); the stage's functions need it: ` +
        `aws rds enable-http-endpoint --resource-arn ${result.cluster.arn}${region}`,
    `Application: point its database host at ${endpoint}` +
      `${result.cluster.readerEndpoint ? ` (readers: ${result.cluster.readerEndpoint})` : ''}` +
      ' (if it reads the host from a secret: a secret with the new host, docs/rollback-runbook.md 4e), then ' +
      'restart it. Keep it in maintenance mode until the checks below pass.',
    `Migration tooling: in ${file} set "clusterArn": "${result.cluster.arn}" and "clusterIdentifier": ` +
      `"${newId}" (and "secretArn" if you made a new secret), then redeploy: npx cdk diff -c stage=${plan.stage} ` +
      `&& npx cdk deploy -c stage=${plan.stage}. Until then the stage's functions and alarms still watch ${oldId}.`,
    `Verify: npx company-migration run --cloud --stage ${plan.stage} --dry-run, then compare its validation-pre ` +
      `with the failed run's (company-migration report diff); or, with DATABASE_URL pointing at ${endpoint}, ` +
      `npx company-migration validate --no-create-indexes --stage ${plan.stage} --run-id restore-check-1 --out ` +
      'reports (expect exit 1 on a database from before the migration, exactly as its validation-pre).',
    `Later: keep ${oldId} until the application is verified on ${newId} (it holds every write made after the ` +
      `snapshot). Then snapshot and stop it: aws rds create-db-cluster-snapshot --db-cluster-identifier ${oldId} ` +
      `--db-cluster-snapshot-identifier ${oldId}-after-rollback${region}; aws rds stop-db-cluster ` +
      `--db-cluster-identifier ${oldId}${region}. Delete it only when agreed: delete its instances ` +
      `(aws rds delete-db-instance), aws rds modify-db-cluster --db-cluster-identifier ${oldId} ` +
      `--no-deletion-protection --apply-immediately, aws rds delete-db-cluster --db-cluster-identifier ${oldId} ` +
      `--final-db-snapshot-identifier ${oldId}-final${region}. This command deletes nothing.`,
  ];
}

export function renderResult(plan: CloudRestorePlan, result: CloudRestoreResult, steps: string[]): string {
  const cluster = result.cluster;
  const rows: [string, string][] = [
    ['cluster arn', cluster.arn],
    [
      'endpoint',
      `${cluster.endpoint ?? 'unknown'}${cluster.port ? `:${cluster.port}` : ''}` +
        `${cluster.readerEndpoint ? ` (reader: ${cluster.readerEndpoint})` : ''}`,
    ],
    ['writer', `${result.instance.identifier} (${result.instance.instanceClass}): ${result.instance.status}`],
    ['Data API', cluster.dataApi ? 'enabled' : 'not enabled'],
  ];
  return [
    `restored cluster ${cluster.identifier} from snapshot ${plan.snapshot.identifier} of ${plan.source.identifier} ` +
      `in ${minutes(result.waitedSeconds * 1000)}; ${plan.source.identifier} was not changed`,
    ...rows.map(([label, text]) => `  ${label.padEnd(12)} ${text}`),
    '',
    `next, to move onto ${cluster.identifier}:`,
    ...steps.map((step, index) => `  ${index + 1}. ${step}`),
  ].join('\n');
}

/* ------------------------------------------------------------------------------------------------------------
 * RDS calls
 * ---------------------------------------------------------------------------------------------------------- */

/** One mutating call; its failure as one line naming the call (awsFailure). */
async function attempt<T>(work: () => Promise<T>, action: string, resource: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw awsFailure(error, action, resource);
  }
}

/** The cluster, or undefined when there is none by that name. */
async function describeCluster(rds: RDSClient, identifier: string): Promise<DBCluster | undefined> {
  try {
    const answer = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
    return answer.DBClusters?.[0];
  } catch (error) {
    if (awsErrorName(error) === 'DBClusterNotFoundFault') return undefined;
    throw awsFailure(error, 'rds:DescribeDBClusters', identifier);
  }
}

async function describeInstance(rds: RDSClient, identifier: string): Promise<DBInstance | undefined> {
  try {
    const answer = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
    return answer.DBInstances?.[0];
  } catch (error) {
    if (awsErrorName(error) === 'DBInstanceNotFound' || awsErrorName(error) === 'DBInstanceNotFoundFault') {
      return undefined;
    }
    throw awsFailure(error, 'rds:DescribeDBInstances', identifier);
  }
}

async function describeSnapshot(rds: RDSClient, identifier: string): Promise<DBClusterSnapshot | undefined> {
  try {
    const answer = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: identifier }),
    );
    return answer.DBClusterSnapshots?.[0];
  } catch (error) {
    if (awsErrorName(error) === 'DBClusterSnapshotNotFoundFault') return undefined;
    throw awsFailure(error, 'rds:DescribeDBClusterSnapshots', identifier);
  }
}

/* ------------------------------------------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------------------------------------------- */

/** The object without its undefined fields: the requests say only what was decided. */
function definedOnly<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** `12m05s` */
function clock(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `${String(Math.floor(seconds / 60)).padStart(3)}m${String(seconds % 60).padStart(2, '0')}s`;
}

function minutes(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(seconds / 60);
  return m > 0 ? `${m} min ${seconds % 60} s` : `${seconds} s`;
}
