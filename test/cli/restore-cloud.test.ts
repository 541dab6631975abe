import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CreateDBInstanceCommand,
  type DBCluster,
  DBClusterNotFoundFault,
  type DBClusterSnapshot,
  DBClusterSnapshotNotFoundFault,
  type DBInstance,
  DBInstanceNotFoundFault,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  EnableHttpEndpointCommand,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
} from '@aws-sdk/client-rds';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsClientConfig, setAwsClientFactories } from '../../lib/cli/cloud.ts';
import { setCloudRestoreDependencies } from '../../lib/cli/commands/restore.ts';
import { runCliCaptured } from '../support/cli.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-restore-cloud-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/* ------------------------------------------------------------------------------------------------------------
 * The staging stage (config/stages/staging.json) and an RDS account scripted around it
 * ---------------------------------------------------------------------------------------------------------- */

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const SOURCE = 'nukeworks-staging';
const SOURCE_ARN = `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:${SOURCE}`;
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:nukeworks-staging-db-AbCdEf`;
const SNAPSHOT = 'migration-run-20261125-071502';
const SNAPSHOT_TIME = new Date('2026-11-25T07:16:40.000Z');
const NEW = 'nukeworks-staging-restored';
const NEW_ARN = `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:${NEW}`;
const NEW_ENDPOINT = `${NEW}.cluster-c9akciq32.${REGION}.rds.amazonaws.com`;
const NEW_READER = `${NEW}.cluster-ro-c9akciq32.${REGION}.rds.amazonaws.com`;
const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const AWS_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

const RESTORE_ARGS = ['restore', '--stage', 'staging', '--snapshot', SNAPSHOT, '--new-cluster', NEW];

function sourceCluster(overrides: Partial<DBCluster> = {}): DBCluster {
  return {
    DBClusterIdentifier: SOURCE,
    DBClusterArn: SOURCE_ARN,
    Status: 'available',
    Engine: 'aurora-postgresql',
    EngineVersion: '16.4',
    EngineMode: 'provisioned',
    Port: 5432,
    DBSubnetGroup: 'nukeworks-staging-db',
    VpcSecurityGroups: [
      { VpcSecurityGroupId: 'sg-0a1b2c3d', Status: 'active' },
      { VpcSecurityGroupId: 'sg-4e5f6a7b', Status: 'active' },
    ],
    DBClusterParameterGroup: 'nukeworks-aurora-pg16',
    StorageEncrypted: true,
    KmsKeyId: KMS_KEY,
    ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
    HttpEndpointEnabled: true,
    IAMDatabaseAuthenticationEnabled: false,
    EnabledCloudwatchLogsExports: ['postgresql'],
    BackupRetentionPeriod: 7,
    CopyTagsToSnapshot: true,
    DeletionProtection: true,
    DBClusterMembers: [
      { DBInstanceIdentifier: 'nukeworks-staging-1', IsClusterWriter: true },
      { DBInstanceIdentifier: 'nukeworks-staging-2', IsClusterWriter: false },
    ],
    Endpoint: `${SOURCE}.cluster-c9akciq32.${REGION}.rds.amazonaws.com`,
    ...overrides,
  };
}

const sourceWriter: DBInstance = {
  DBInstanceIdentifier: 'nukeworks-staging-1',
  DBClusterIdentifier: SOURCE,
  DBInstanceClass: 'db.serverless',
  DBInstanceStatus: 'available',
  Engine: 'aurora-postgresql',
  DBParameterGroups: [
    { DBParameterGroupName: 'nukeworks-aurora-pg16-instance', ParameterApplyStatus: 'in-sync' },
  ],
  PubliclyAccessible: false,
  CACertificateIdentifier: 'rds-ca-rsa2048-g1',
};

function snapshotOf(overrides: Partial<DBClusterSnapshot> = {}): DBClusterSnapshot {
  return {
    DBClusterSnapshotIdentifier: SNAPSHOT,
    DBClusterSnapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:${SNAPSHOT}`,
    DBClusterIdentifier: SOURCE,
    Status: 'available',
    Engine: 'aurora-postgresql',
    EngineVersion: '16.4',
    SnapshotCreateTime: SNAPSHOT_TIME,
    StorageEncrypted: true,
    KmsKeyId: KMS_KEY,
    SnapshotType: 'manual',
    ...overrides,
  };
}

/** What the account holds, and the statuses the new cluster and instance go through, one per Describe. */
interface World {
  clusters: Map<string, DBCluster>;
  instances: Map<string, DBInstance>;
  snapshots: Map<string, DBClusterSnapshot>;
  newClusterStatuses: string[];
  newInstanceStatuses: string[];
}

let world: World;
let rds: AwsClientStub<RDSClient>;
let clientConfigs: AwsClientConfig[];
let now: number;
let sleeps: number[];

const TAG_LIST = [
  { Key: 'restored-from-cluster', Value: SOURCE },
  { Key: 'restored-from-snapshot', Value: SNAPSHOT },
  { Key: 'stage', Value: 'staging' },
  { Key: 'created-by', Value: 'company-migration restore' },
];

/** The next scripted status; the last one stays. */
function next(statuses: string[]): string {
  return (statuses.length > 1 ? statuses.shift() : statuses[0]) ?? 'available';
}

beforeEach(() => {
  world = {
    clusters: new Map([[SOURCE, sourceCluster()]]),
    instances: new Map([[sourceWriter.DBInstanceIdentifier ?? '', sourceWriter]]),
    snapshots: new Map([[SNAPSHOT, snapshotOf()]]),
    newClusterStatuses: ['creating', 'creating', 'available', 'available'],
    newInstanceStatuses: ['creating', 'configuring-enhanced-monitoring', 'available'],
  };
  const client = new RDSClient({ region: REGION, credentials: AWS_CREDENTIALS });
  rds = mockClient(client);
  clientConfigs = [];
  setAwsClientFactories({
    rds: (config) => {
      clientConfigs.push(config);
      return client;
    },
  });
  now = 0;
  sleeps = [];
  setCloudRestoreDependencies({
    waiting: {
      intervalMs: 15_000,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
      now: () => now,
    },
  });

  rds.on(DescribeDBClustersCommand).callsFake((input) => {
    const id = String(input.DBClusterIdentifier);
    const cluster = world.clusters.get(id);
    if (!cluster) {
      throw new DBClusterNotFoundFault({ message: `DBCluster ${id} not found.`, $metadata: {} });
    }
    if (id === NEW) cluster.Status = next(world.newClusterStatuses);
    return { DBClusters: [{ ...cluster }] };
  });
  rds.on(DescribeDBInstancesCommand).callsFake((input) => {
    const id = String(input.DBInstanceIdentifier);
    const instance = world.instances.get(id);
    if (!instance)
      throw new DBInstanceNotFoundFault({ message: `DBInstance ${id} not found.`, $metadata: {} });
    if (instance.DBClusterIdentifier === NEW) instance.DBInstanceStatus = next(world.newInstanceStatuses);
    return { DBInstances: [{ ...instance }] };
  });
  rds.on(DescribeDBClusterSnapshotsCommand).callsFake((input) => {
    const id = String(input.DBClusterSnapshotIdentifier);
    const snapshot = world.snapshots.get(id);
    if (!snapshot) {
      throw new DBClusterSnapshotNotFoundFault({
        message: `DBClusterSnapshot ${id} not found.`,
        $metadata: {},
      });
    }
    return { DBClusterSnapshots: [snapshot] };
  });
  rds.on(RestoreDBClusterFromSnapshotCommand).callsFake((input) => {
    const cluster: DBCluster = {
      DBClusterIdentifier: input.DBClusterIdentifier,
      DBClusterArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:${input.DBClusterIdentifier}`,
      Status: 'creating',
      Engine: input.Engine,
      EngineVersion: input.EngineVersion,
      Port: input.Port,
      Endpoint: NEW_ENDPOINT,
      ReaderEndpoint: NEW_READER,
      HttpEndpointEnabled: false,
    };
    world.clusters.set(String(input.DBClusterIdentifier), cluster);
    return { DBCluster: { ...cluster } };
  });
  rds.on(CreateDBInstanceCommand).callsFake((input) => {
    const instance: DBInstance = {
      DBInstanceIdentifier: input.DBInstanceIdentifier,
      DBClusterIdentifier: input.DBClusterIdentifier,
      DBInstanceClass: input.DBInstanceClass,
      DBInstanceStatus: 'creating',
    };
    world.instances.set(String(input.DBInstanceIdentifier), instance);
    return { DBInstance: { ...instance } };
  });
  rds.on(EnableHttpEndpointCommand).callsFake((input) => {
    const cluster = [...world.clusters.values()].find((c) => c.DBClusterArn === input.ResourceArn);
    if (cluster) cluster.HttpEndpointEnabled = true;
    return { ResourceArn: input.ResourceArn, HttpEndpointEnabled: true };
  });
});

afterEach(() => {
  setAwsClientFactories();
  setCloudRestoreDependencies();
  rds.restore();
});

/** The names of the RDS calls made, in order. */
const callNames = () => rds.calls().map((call) => (call.args[0] as object).constructor.name);
/** Calls that would change something in the account: none may be made but the restore's own. */
const mutatingCalls = () => callNames().filter((name) => !name.startsWith('Describe'));
const lines = (text: string) => text.split('\n').filter((line) => line !== '');

const expectedRestoreRequest = {
  DBClusterIdentifier: NEW,
  SnapshotIdentifier: SNAPSHOT,
  Engine: 'aurora-postgresql',
  EngineVersion: '16.4',
  Port: 5432,
  DBSubnetGroupName: 'nukeworks-staging-db',
  VpcSecurityGroupIds: ['sg-0a1b2c3d', 'sg-4e5f6a7b'],
  DBClusterParameterGroupName: 'nukeworks-aurora-pg16',
  KmsKeyId: KMS_KEY,
  ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
  EnableIAMDatabaseAuthentication: false,
  EnableCloudwatchLogsExports: ['postgresql'],
  BackupRetentionPeriod: 7,
  CopyTagsToSnapshot: true,
  DeletionProtection: true,
  Tags: TAG_LIST,
};

const expectedInstanceRequest = {
  DBInstanceIdentifier: `${NEW}-1`,
  DBClusterIdentifier: NEW,
  Engine: 'aurora-postgresql',
  DBInstanceClass: 'db.serverless',
  DBParameterGroupName: 'nukeworks-aurora-pg16-instance',
  PubliclyAccessible: false,
  CACertificateIdentifier: 'rds-ca-rsa2048-g1',
  Tags: TAG_LIST,
};

describe('company-migration restore --stage S --snapshot ID --new-cluster NAME (AWS)', () => {
  it('without --yes prints the plan, makes only Describe calls, and exits 2', async () => {
    // Act
    const run = await runCliCaptured(RESTORE_ARGS);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `error: this creates the cluster ${NEW} and its instance ${NEW}-1 from snapshot ${SNAPSHOT} ` +
        '(nothing existing is changed); add --yes\n',
    );
    expect(lines(run.stdout)).toEqual([
      `restore in AWS: stage staging, ${REGION}`,
      `  source       ${SOURCE} (aurora-postgresql 16.4, available, Data API on) — not changed`,
      `  snapshot     ${SNAPSHOT} (available, taken 2026-11-25T07:16:40.000Z, aurora-postgresql 16.4, encrypted)`,
      `  new cluster  ${NEW}: aurora-postgresql 16.4, port 5432, subnet group nukeworks-staging-db, ` +
        `security groups sg-0a1b2c3d sg-4e5f6a7b, parameter group nukeworks-aurora-pg16, KMS key ${KMS_KEY}, ` +
        'Serverless v2 0.5–16 ACU, deletion protection',
      `  writer       ${NEW}-1: db.serverless, parameter group nukeworks-aurora-pg16-instance`,
      '  then         wait until both are available (at most 90 min), enable the Data API',
      `  tags         restored-from-cluster=${SOURCE}, restored-from-snapshot=${SNAPSHOT}, stage=staging, ` +
        'created-by=company-migration restore',
      '  note: the source has 1 reader instance(s); only a writer is created: add readers later if the ' +
        'application uses them',
      `  note: everything written to ${SOURCE} after the snapshot (2026-11-25T07:16:40.000Z) is not in the new cluster`,
    ]);
    expect(mutatingCalls()).toEqual([]);
    expect(callNames()).toEqual([
      'DescribeDBClustersCommand',
      'DescribeDBInstancesCommand',
      'DescribeDBClusterSnapshotsCommand',
      'DescribeDBClustersCommand',
      'DescribeDBInstancesCommand',
    ]);
    expect(rds).toHaveReceivedNthCommandWith(DescribeDBClustersCommand, 1, { DBClusterIdentifier: SOURCE });
    expect(rds).toHaveReceivedNthCommandWith(DescribeDBClustersCommand, 2, { DBClusterIdentifier: NEW });
    expect(rds).toHaveReceivedNthCommandWith(DescribeDBInstancesCommand, 1, {
      DBInstanceIdentifier: 'nukeworks-staging-1',
    });
    expect(rds).toHaveReceivedNthCommandWith(DescribeDBInstancesCommand, 2, {
      DBInstanceIdentifier: `${NEW}-1`,
    });
    expect(rds).toHaveReceivedCommandExactlyOnceWith(DescribeDBClusterSnapshotsCommand, {
      DBClusterSnapshotIdentifier: SNAPSHOT,
    });
    expect(clientConfigs).toEqual([{ region: REGION }]);
    expect(world.clusters.has(NEW)).toBe(false);
  });

  it('with --yes restores the snapshot with the source cluster’s settings, adds the writer, waits, enables the Data API and says how to repoint', async () => {
    // Act
    const run = await runCliCaptured([...RESTORE_ARGS, '--yes']);

    // Assess
    expect(run.code).toBe(0);
    expect(mutatingCalls()).toEqual([
      'RestoreDBClusterFromSnapshotCommand',
      'CreateDBInstanceCommand',
      'EnableHttpEndpointCommand',
    ]);
    expect(rds.commandCalls(RestoreDBClusterFromSnapshotCommand)[0]?.args[0].input).toEqual(
      expectedRestoreRequest,
    );
    expect(rds.commandCalls(CreateDBInstanceCommand)[0]?.args[0].input).toEqual(expectedInstanceRequest);
    expect(rds).toHaveReceivedCommandWith(EnableHttpEndpointCommand, { ResourceArn: NEW_ARN });
    expect(rds).toHaveReceivedCommandTimes(EnableHttpEndpointCommand, 1);
    // The order: the instance only once the cluster is available, the Data API once both are.
    const names = callNames();
    expect(names.slice(5)).toEqual([
      'RestoreDBClusterFromSnapshotCommand',
      'DescribeDBClustersCommand', // creating
      'DescribeDBClustersCommand', // creating
      'DescribeDBClustersCommand', // available
      'CreateDBInstanceCommand',
      'DescribeDBInstancesCommand', // creating
      'DescribeDBInstancesCommand', // configuring-enhanced-monitoring
      'DescribeDBInstancesCommand', // available
      'DescribeDBClustersCommand', // available
      'DescribeDBClustersCommand', // for the ARN and endpoints
      'EnableHttpEndpointCommand',
    ]);
    expect(sleeps).toEqual([15_000, 15_000, 15_000, 15_000]);
    expect(lines(run.stderr)).toEqual([
      `restoring cluster ${NEW} from snapshot ${SNAPSHOT} (RestoreDBClusterFromSnapshot)`,
      `[  0m00s] cluster ${NEW}: creating`,
      `[  0m30s] cluster ${NEW}: available`,
      `creating writer instance ${NEW}-1 (db.serverless) in ${NEW}`,
      `[  0m30s] instance ${NEW}-1: creating`,
      `[  0m45s] instance ${NEW}-1: configuring-enhanced-monitoring`,
      `[  1m00s] instance ${NEW}-1: available`,
      `[  1m00s] cluster ${NEW}: available`,
      `enabled the Data API on ${NEW}`,
    ]);
    const out = lines(run.stdout);
    const result = out.slice(
      out.indexOf(
        `restored cluster ${NEW} from snapshot ${SNAPSHOT} of ${SOURCE} in 1 min 0 s; ${SOURCE} was not changed`,
      ),
    );
    expect(result.slice(0, 6)).toEqual([
      `restored cluster ${NEW} from snapshot ${SNAPSHOT} of ${SOURCE} in 1 min 0 s; ${SOURCE} was not changed`,
      `  cluster arn  ${NEW_ARN}`,
      `  endpoint     ${NEW_ENDPOINT}:5432 (reader: ${NEW_READER})`,
      `  writer       ${NEW}-1 (db.serverless): available`,
      '  Data API     enabled',
      `next, to move onto ${NEW}:`,
    ]);
    const steps = result.slice(6);
    expect(steps.map((step) => step.split(':')[0])).toEqual([
      '  1. Secret',
      '  2. Data API',
      '  3. Application',
      '  4. Migration tooling',
      '  5. Verify',
      '  6. Later',
    ]);
    expect(steps[0]).toContain(
      `aws rds-data execute-statement --resource-arn ${NEW_ARN} --secret-arn ${SECRET_ARN} --database nukeworks`,
    );
    expect(steps[2]).toContain(`point its database host at ${NEW_ENDPOINT}:5432 (readers: ${NEW_READER})`);
    expect(steps[3]).toContain(
      `in config/stages/staging.json set "clusterArn": "${NEW_ARN}" and "clusterIdentifier": "${NEW}"`,
    );
    expect(steps[3]).toContain('npx cdk deploy -c stage=staging');
    expect(steps[4]).toContain('npx company-migration validate --no-create-indexes --stage staging');
    expect(steps[5]).toContain(`aws rds delete-db-cluster --db-cluster-identifier ${SOURCE}`);
    expect(steps[5]).toContain('This command deletes nothing.');
    expect(world.clusters.get(NEW)?.HttpEndpointEnabled).toBe(true);
  });

  it('with --json prints the outcome for scripts: requests, the new cluster and the next steps', async () => {
    // Act
    const run = await runCliCaptured([...RESTORE_ARGS, '--yes', '--json', '--new-instance', 'writer-a']);

    // Assess
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.stdout);
    expect(outcome).toEqual({
      stage: 'staging',
      region: REGION,
      source: {
        identifier: SOURCE,
        arn: SOURCE_ARN,
        status: 'available',
        engine: 'aurora-postgresql',
        engineVersion: '16.4',
        dataApi: true,
        writer: 'nukeworks-staging-1',
      },
      snapshot: {
        identifier: SNAPSHOT,
        arn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:${SNAPSHOT}`,
        createdAt: SNAPSHOT_TIME.toISOString(),
        engineVersion: '16.4',
        encrypted: true,
      },
      requests: {
        restoreDBClusterFromSnapshot: expectedRestoreRequest,
        createDBInstance: { ...expectedInstanceRequest, DBInstanceIdentifier: 'writer-a' },
        enableHttpEndpoint: true,
      },
      notes: expect.any(Array),
      restored: true,
      newCluster: {
        identifier: NEW,
        arn: NEW_ARN,
        endpoint: NEW_ENDPOINT,
        readerEndpoint: NEW_READER,
        port: 5432,
        status: 'available',
        dataApi: true,
      },
      writerInstance: { identifier: 'writer-a', instanceClass: 'db.serverless', status: 'available' },
      waitedSeconds: 60,
      nextSteps: expect.any(Array),
    });
    expect(outcome.nextSteps).toHaveLength(6);
    expect(rds).toHaveReceivedCommandWith(CreateDBInstanceCommand, { DBInstanceIdentifier: 'writer-a' });
    expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'writer-a' });
  });

  it('with --json and without --yes prints the plan as JSON and changes nothing', async () => {
    // Act
    const run = await runCliCaptured([...RESTORE_ARGS, '--json']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/add --yes\n$/);
    const plan = JSON.parse(run.stdout);
    expect(plan.restored).toBe(false);
    expect(plan.requests.restoreDBClusterFromSnapshot).toEqual(expectedRestoreRequest);
    expect(plan.requests.createDBInstance).toEqual(expectedInstanceRequest);
    expect(mutatingCalls()).toEqual([]);
  });

  it('copies a provisioned writer and leaves the Data API off when the source has none', async () => {
    // Prepare
    world.clusters.set(
      SOURCE,
      sourceCluster({
        HttpEndpointEnabled: false,
        ServerlessV2ScalingConfiguration: undefined,
        StorageEncrypted: false,
        KmsKeyId: undefined,
        DeletionProtection: false,
        DBClusterMembers: [{ DBInstanceIdentifier: 'nukeworks-staging-1', IsClusterWriter: true }],
      }),
    );
    world.instances.set('nukeworks-staging-1', { ...sourceWriter, DBInstanceClass: 'db.r6g.large' });
    world.snapshots.set(
      SNAPSHOT,
      snapshotOf({ StorageEncrypted: false, KmsKeyId: undefined, EngineVersion: '16.3' }),
    );

    // Act
    const run = await runCliCaptured([...RESTORE_ARGS, '--yes']);

    // Assess
    expect(run.code).toBe(0);
    const restoreRequest = rds.commandCalls(RestoreDBClusterFromSnapshotCommand)[0]?.args[0].input;
    expect(restoreRequest).toEqual({
      ...expectedRestoreRequest,
      KmsKeyId: undefined,
      ServerlessV2ScalingConfiguration: undefined,
      DeletionProtection: false,
    });
    expect(restoreRequest).not.toHaveProperty('KmsKeyId');
    expect(restoreRequest).not.toHaveProperty('ServerlessV2ScalingConfiguration');
    expect(rds).toHaveReceivedCommandWith(CreateDBInstanceCommand, { DBInstanceClass: 'db.r6g.large' });
    expect(rds).not.toHaveReceivedCommand(EnableHttpEndpointCommand);
    expect(run.stdout).toContain(
      "  note: the snapshot is of aurora-postgresql 16.3; it is restored at the source's current version 16.4, " +
        'which upgrades it during the restore',
    );
    expect(run.stdout).toContain('  note: the source cluster has no Data API (HTTP endpoint)');
    expect(run.stdout).toContain('  Data API     not enabled');
    expect(run.stdout).toContain(`aws rds enable-http-endpoint --resource-arn ${NEW_ARN} --region ${REGION}`);
  });

  it('prints a progress line at each status change and every minute while the status stays', async () => {
    // Prepare
    world.newClusterStatuses = [
      'creating',
      'creating',
      'creating',
      'creating',
      'creating',
      'creating',
      'available',
    ];

    // Act
    const run = await runCliCaptured([...RESTORE_ARGS, '--yes']);

    // Assess
    expect(run.code).toBe(0);
    expect(lines(run.stderr).filter((line) => line.includes(`cluster ${NEW}:`))).toEqual([
      `[  0m00s] cluster ${NEW}: creating`,
      `[  1m00s] cluster ${NEW}: creating`,
      `[  1m30s] cluster ${NEW}: available`,
      `[  2m00s] cluster ${NEW}: available`,
    ]);
  });

  describe('refuses, changing nothing', () => {
    async function refused(args: string[]): Promise<string> {
      const run = await runCliCaptured(args);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(mutatingCalls()).toEqual([]);
      return run.stderr;
    }

    it('a snapshot that does not exist', async () => {
      expect(
        await refused([
          ...RESTORE_ARGS.slice(0, 3),
          '--snapshot',
          'migration-run-x',
          '--new-cluster',
          NEW,
          '--yes',
        ]),
      ).toBe(
        `error: no cluster snapshot migration-run-x in ${REGION}; list the cluster's snapshots with aws rds ` +
          `describe-db-cluster-snapshots --db-cluster-identifier ${SOURCE} --region ${REGION}\n`,
      );
    });

    it('a snapshot that is not available yet', async () => {
      // Prepare
      world.snapshots.set(SNAPSHOT, snapshotOf({ Status: 'creating', PercentProgress: 40 }));

      // Act
      const stderr = await refused([...RESTORE_ARGS, '--yes']);

      // Assess
      expect(stderr).toBe(
        `error: snapshot ${SNAPSHOT} is creating (40% done), not available: only an available snapshot can be restored\n`,
      );
    });

    it('a snapshot of another cluster', async () => {
      // Prepare
      world.snapshots.set(SNAPSHOT, snapshotOf({ DBClusterIdentifier: 'nukeworks-production' }));

      // Act
      const stderr = await refused([...RESTORE_ARGS, '--yes']);

      // Assess
      expect(stderr).toBe(
        `error: snapshot ${SNAPSHOT} is of the cluster nukeworks-production, not of ${SOURCE}, the cluster of ` +
          `stage staging (config/stages/staging.json) in ${REGION}\n`,
      );
    });

    it('a new cluster name that is taken, or the stage’s own cluster, or a taken instance name', async () => {
      // Prepare
      world.clusters.set(NEW, { DBClusterIdentifier: NEW, Status: 'available' });
      world.newClusterStatuses = ['available'];
      world.instances.set('taken-1', { DBInstanceIdentifier: 'taken-1', DBClusterIdentifier: 'other' });

      // Act
      const exists = await refused([...RESTORE_ARGS, '--yes']);
      const own = await refused([...RESTORE_ARGS.slice(0, 5), '--new-cluster', SOURCE, '--yes']);
      const instanceTaken = await refused([...RESTORE_ARGS.slice(0, 5), '--new-cluster', 'taken', '--yes']);

      // Assess
      expect(exists).toBe(
        `error: a cluster named ${NEW} already exists in ${REGION} (available): choose another --new-cluster\n`,
      );
      expect(own).toBe(
        `error: ${SOURCE} is the stage's own cluster: a snapshot is restored into a new cluster\n`,
      );
      expect(instanceTaken).toBe(
        `error: an instance named taken-1 already exists in ${REGION}: choose another --new-cluster or --new-instance\n`,
      );
    });

    it('a stage cluster that is missing or belongs to another account', async () => {
      // Prepare
      world.clusters.delete(SOURCE);

      // Act
      const missing = await refused([...RESTORE_ARGS, '--yes']);
      world.clusters.set(
        SOURCE,
        sourceCluster({ DBClusterArn: `arn:aws:rds:${REGION}:999999999999:cluster:${SOURCE}` }),
      );
      const otherAccount = await refused([...RESTORE_ARGS, '--yes']);

      // Assess
      expect(missing).toBe(
        `error: the cluster ${SOURCE} of stage staging (config/stages/staging.json) in ${REGION} does not exist\n`,
      );
      expect(otherAccount).toBe(
        `error: the cluster ${SOURCE} found is arn:aws:rds:${REGION}:999999999999:cluster:${SOURCE}, but stage ` +
          `staging (config/stages/staging.json) in ${REGION} names ${SOURCE_ARN}: are the AWS credentials for ` +
          'the right account?\n',
      );
    });

    it('a bad stage, a stage with an invalid config, and bad names', async () => {
      // Prepare
      const configDir = join(scratch, 'stages');
      mkdirSync(configDir, { recursive: true });
      writeFileSync(join(configDir, 'dev.json'), JSON.stringify({ account: '1' }));

      // Act
      const unknown = await refused([
        'restore',
        '--stage',
        'qa',
        '--snapshot',
        SNAPSHOT,
        '--new-cluster',
        NEW,
        '--yes',
      ]);
      setCloudRestoreDependencies({ configDir: pathToFileURL(`${configDir}/`) });
      const invalid = await refused([
        'restore',
        '--stage',
        'dev',
        '--snapshot',
        SNAPSHOT,
        '--new-cluster',
        NEW,
      ]);
      setCloudRestoreDependencies();
      const badName = await refused([...RESTORE_ARGS.slice(0, 5), '--new-cluster', 'new--cluster']);
      const badSnapshot = await refused([
        ...RESTORE_ARGS.slice(0, 3),
        '--snapshot',
        '../x',
        '--new-cluster',
        NEW,
      ]);
      const tooLong = await refused([...RESTORE_ARGS.slice(0, 5), '--new-cluster', `a${'b'.repeat(61)}`]);

      // Assess
      expect(unknown).toBe(
        'error: invalid options: --stage: must be a deployed stage: dev, staging, production\n',
      );
      expect(invalid).toMatch(
        /^error: invalid config for stage dev: account: must be a 12-digit AWS account id; /,
      );
      expect(badName).toBe(
        'error: invalid options: --new-cluster: must be an RDS identifier: letters, digits, single hyphens\n',
      );
      expect(badSnapshot).toBe(
        'error: invalid options: --snapshot: must be a cluster snapshot identifier (or its ARN)\n',
      );
      expect(tooLong).toBe(
        `error: the writer instance would be named a${'b'.repeat(61)}-1, which must be at most 63 characters: ` +
          'choose a shorter --new-cluster or name it with --new-instance\n',
      );
      expect(rds.calls()).toHaveLength(0);
    });

    it('a run id mixed with the AWS options, an incomplete AWS form, local options in the AWS form, nothing to restore', async () => {
      // Act
      const mixed = await refused([
        'restore',
        'run-1',
        '--snapshot',
        SNAPSHOT,
        '--new-cluster',
        NEW,
        '--yes',
      ]);
      const incomplete = await refused(['restore', '--snapshot', SNAPSHOT, '--yes']);
      const local = await refused([...RESTORE_ARGS, '--data-dir', '/tmp/x', '--reports', 'r']);
      const nothing = await refused(['restore', '--stage', 'staging', '--yes']);

      // Assess
      const forms =
        'restore <run-id> [--yes] for a local run, or restore --stage S --snapshot ID --new-cluster NAME [--yes] in AWS';
      expect(mixed).toBe(`error: a run id and --snapshot, --new-cluster do not go together: ${forms}\n`);
      expect(incomplete).toBe(
        'error: a restore in AWS needs --stage, --snapshot and --new-cluster; missing --stage, --new-cluster\n',
      );
      expect(local).toBe(
        `error: --data-dir, --reports do not apply to a restore in AWS: it restores into a new cluster; ${forms}\n`,
      );
      expect(nothing).toBe(`error: name what to restore: ${forms}\n`);
      expect(rds.calls()).toHaveLength(0);
    });

    it('AWS denying the restore: one line, nothing created', async () => {
      // Prepare
      rds.on(RestoreDBClusterFromSnapshotCommand).rejects(
        Object.assign(new Error('User is not authorized to perform: rds:RestoreDBClusterFromSnapshot'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        }),
      );

      // Act
      const run = await runCliCaptured([...RESTORE_ARGS, '--yes']);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(
        `error: access denied: your AWS identity may not rds:RestoreDBClusterFromSnapshot on ${SNAPSHOT}\n`,
      );
      expect(mutatingCalls()).toEqual(['RestoreDBClusterFromSnapshotCommand']);
    });
  });

  describe('when the wait ends without a usable cluster', () => {
    it('times out with what was created, how to check it and how to clean it up', async () => {
      // Prepare
      world.newClusterStatuses = ['creating'];

      // Act
      const run = await runCliCaptured([...RESTORE_ARGS, '--yes', '--wait-minutes', '1']);

      // Assess
      expect(run.code).toBe(2);
      expect(mutatingCalls()).toEqual(['RestoreDBClusterFromSnapshotCommand']);
      expect(sleeps).toEqual([15_000, 15_000, 15_000, 15_000]);
      expect(lines(run.stderr)).toEqual([
        `restoring cluster ${NEW} from snapshot ${SNAPSHOT} (RestoreDBClusterFromSnapshot)`,
        `[  0m00s] cluster ${NEW}: creating`,
        `[  1m00s] cluster ${NEW}: creating`,
        `error: the restore did not finish: gave up after 1 min 0 s waiting for cluster ${NEW}, still creating`,
        `created so far: cluster ${NEW} (creating); AWS goes on with what it started, and nothing else was changed`,
        `not done yet: cluster ${NEW} available, writer instance ${NEW}-1 created, Data API enabled`,
        `check: aws rds describe-db-clusters --db-cluster-identifier ${NEW} --region ${REGION} --query 'DBClusters[0].Status'`,
        `       aws rds describe-db-instances --db-instance-identifier ${NEW}-1 --region ${REGION} --query 'DBInstances[0].DBInstanceStatus'`,
        'finish it by hand with docs/rollback-runbook.md section 4 (4c the instance, 4d the Data API), or clean it up:',
        `  aws rds modify-db-cluster --db-cluster-identifier ${NEW} --no-deletion-protection --apply-immediately --region ${REGION}`,
        `  aws rds delete-db-cluster --db-cluster-identifier ${NEW} --skip-final-snapshot --region ${REGION}`,
      ]);
    });

    it('reports an instance that failed, with both to clean up; --json prints the partial outcome', async () => {
      // Prepare
      world.newInstanceStatuses = ['creating', 'incompatible-parameters'];

      // Act
      const run = await runCliCaptured([...RESTORE_ARGS, '--yes', '--json']);

      // Assess
      expect(run.code).toBe(2);
      expect(mutatingCalls()).toEqual(['RestoreDBClusterFromSnapshotCommand', 'CreateDBInstanceCommand']);
      expect(JSON.parse(run.stdout)).toMatchObject({
        restored: false,
        incomplete: {
          reason: 'failed',
          cluster: { identifier: NEW, arn: NEW_ARN, status: 'available' },
          instance: { identifier: `${NEW}-1`, status: 'incompatible-parameters' },
          dataApiEnabled: false,
          remaining: [`writer instance ${NEW}-1 available`, 'Data API enabled'],
        },
      });
      const errorLines = lines(run.stderr).slice(lines(run.stderr).findIndex((l) => l.startsWith('error:')));
      expect(errorLines[0]).toBe(
        `error: the restore did not finish: instance ${NEW}-1 is incompatible-parameters`,
      );
      expect(errorLines).toContain(
        `  aws rds delete-db-instance --db-instance-identifier ${NEW}-1 --region ${REGION}`,
      );
      expect(errorLines).toContain(
        `  aws rds delete-db-cluster --db-cluster-identifier ${NEW} --skip-final-snapshot --region ${REGION}`,
      );
    });
  });

  it('documents both forms in --help', async () => {
    // Act
    const run = await runCliCaptured(['restore', '--help']);

    // Assess
    expect(run.code).toBe(0);
    for (const flag of [
      '[run-id]',
      '--snapshot <id>',
      '--new-cluster <name>',
      '--new-instance <name>',
      '--wait-minutes <n>',
      '--json',
      '--yes',
    ]) {
      expect(run.stdout).toContain(flag);
    }
  });
});
