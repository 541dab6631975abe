import { fileURLToPath } from 'node:url';
import {
  type CfnElement,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct, IConstruct } from 'constructs';
import { MigrationFunction } from './migration-function.ts';
import type { StageConfig } from './stage-config.ts';

export const MIGRATION_ASL_FILE = fileURLToPath(
  new URL('../../state-machines/migration.asl.json', import.meta.url),
);

/** The metrics namespace and the dimensions Powertools gives every metric the functions emit. */
export const METRICS_NAMESPACE = 'CompanyMigration';
const SERVICE_NAME = 'company-migration';

/** Functions of the state machine (substitution name → handler folder) and what each may touch. */
const STEP_FUNCTIONS = [
  { key: 'Preflight', handler: 'preflight', database: true, reports: [] },
  { key: 'Validate', handler: 'validate', database: true, reports: ['write'] },
  { key: 'Backfill', handler: 'backfill', database: true, reports: ['read', 'write'] },
  { key: 'Undo', handler: 'undo', database: true, reports: ['write'] },
  { key: 'Diff', handler: 'diff', database: false, reports: ['read', 'write'] },
  { key: 'Smoke', handler: 'smoke', database: true, reports: ['write'] },
  { key: 'Evaluate', handler: 'evaluate', database: false, reports: ['read', 'write'] },
  { key: 'ReportFailure', handler: 'report-failure', database: false, reports: ['write'] },
] as const;

/** cdk-nag 3 wants each wildcard finding acknowledged on its own, each with its reason. */
function acknowledgeWildcards(scope: IConstruct, resources: string[], reason: string): void {
  for (const resource of resources) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
  }
}

export interface MigrationStackProps extends StackProps {
  config: StageConfig;
}

/** One stage of the migration: functions, state machine, reports, daily monitoring, alarms. */
export class MigrationStack extends Stack {
  readonly reportBucket: s3.Bucket;
  readonly stateMachine: sfn.StateMachine;
  readonly functions: Record<string, MigrationFunction> = {};
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: MigrationStackProps) {
    super(scope, id, props);
    const { config } = props;
    const production = config.stage === 'production';
    const removalPolicy = production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Reports: private, encrypted, TLS only, versioned, expiring per stage, with access logs.
    const accessLogs = new s3.Bucket(this, 'ReportAccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(config.reportRetentionDays) }],
      removalPolicy,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket receives the report bucket’s server access logs; logging it into itself would loop.',
    });
    this.reportBucket = new s3.Bucket(this, 'Reports', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'reports/',
      lifecycleRules: [
        {
          expiration: Duration.days(config.reportRetentionDays),
          noncurrentVersionExpiration: Duration.days(Math.min(30, config.reportRetentionDays)),
        },
      ],
      removalPolicy,
    });

    const environment = {
      DB_CLUSTER_ARN: config.clusterArn,
      DB_SECRET_ARN: config.secretArn,
      DB_NAME: config.databaseName,
      REPORT_BUCKET: this.reportBucket.bucketName,
      SNAPSHOTS_ENABLED: String(config.snapshots),
      PROJECT_COVERAGE_THRESHOLD: String(config.thresholds.projectCoveragePercent),
      PERSONNEL_COVERAGE_THRESHOLD: String(config.thresholds.personnelCoveragePercent),
      ...(config.appBaseUrl ? { APP_BASE_URL: config.appBaseUrl } : {}),
    };

    const stepFunctions = STEP_FUNCTIONS.map((spec) => {
      const fn = new MigrationFunction(this, `${spec.key}Function`, {
        config,
        handler: spec.handler,
        description: `Company migration (${config.stage}): the ${spec.handler} step`,
        environment,
        timeout: spec.key === 'Backfill' || spec.key === 'Undo' ? Duration.minutes(15) : Duration.minutes(5),
      });
      this.grantAccess(fn, config, spec.database, spec.reports);
      this.functions[spec.key] = fn;
      return { ...spec, fn };
    });
    const monitor = new MigrationFunction(this, 'MonitorFunction', {
      config,
      handler: 'monitor',
      description: `Company migration (${config.stage}): the daily monitoring check`,
      environment,
      timeout: Duration.minutes(5),
    });
    // Reads its previous report to know since when to look for unsynced records.
    this.grantAccess(monitor, config, true, ['read', 'write']);
    this.functions.Monitor = monitor;

    // The state machine: the very ASL file the local runner executes, with this stage's ARNs.
    const stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/company-migration-${config.stage}`,
      retention: production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Migration', {
      stateMachineName: `company-migration-${config.stage}`,
      definitionBody: sfn.DefinitionBody.fromFile(MIGRATION_ASL_FILE),
      definitionSubstitutions: {
        ...Object.fromEntries(stepFunctions.map((s) => [`${s.key}FunctionArn`, s.fn.function.functionArn])),
        ClusterIdentifier: config.clusterIdentifier,
      },
      tracingEnabled: true,
      logs: { destination: stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    for (const { fn } of stepFunctions) fn.function.grantInvoke(this.stateMachine);
    const snapshotArn = `arn:${this.partition}:rds:${config.region}:${config.account}:cluster-snapshot:migration-*`;
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['rds:CreateDBClusterSnapshot', 'rds:AddTagsToResource'],
        resources: [config.clusterArn, snapshotArn],
      }),
    );
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['rds:DescribeDBClusterSnapshots'],
        resources: [config.clusterArn, snapshotArn],
      }),
    );
    acknowledgeWildcards(
      this.stateMachine,
      [
        ...stepFunctions.map((s) => `<${this.logicalIdOf(s.fn.function)}.Arn>:*`),
        `arn:<AWS::Partition>:rds:${config.region}:${config.account}:cluster-snapshot:migration-*`,
        '*',
      ],
      'Snapshots are created under names known only at run time (migration-<run-id>), limited to the migration-* ' +
        'snapshots of this account and region; invoking a step function includes its versions (<arn>:*); X-Ray ' +
        'tracing and the CloudWatch Logs delivery APIs need * (they have no resource-level permissions).',
    );

    // Daily monitoring on the stage's schedule and time zone, retried, with a dead-letter queue.
    const deadLetters = new sqs.Queue(this, 'MonitorDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the monitoring schedule; it has no dead-letter queue of its own.',
    });
    const schedule = new scheduler.Schedule(this, 'DailyMonitoring', {
      scheduleName: `company-migration-${config.stage}-monitoring`,
      description: 'Daily monitoring check of the unified company schema',
      schedule: scheduler.ScheduleExpression.expression(
        config.schedule.expression,
        TimeZone.of(config.schedule.timeZone),
      ),
      target: new schedulerTargets.LambdaInvoke(monitor.function, {
        input: scheduler.ScheduleTargetInput.fromObject({ stage: config.stage }),
        deadLetterQueue: deadLetters,
        retryAttempts: 3,
        maxEventAge: Duration.hours(2),
      }),
    });
    const schedulerRole = this.node.children.find((c) => c.node.id.startsWith('SchedulerRoleForTarget'));
    if (schedulerRole) {
      acknowledgeWildcards(
        schedulerRole,
        [`<${this.logicalIdOf(monitor.function)}.Arn>:*`],
        'The scheduler invokes the monitoring function, including its versions (<arn>:*).',
      );
    }
    void schedule;

    // Alarms reach a person: an encrypted topic with the stage's e-mail subscription.
    const topicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: `Company migration (${config.stage}): alarm topic encryption`,
      enableKeyRotation: true,
      removalPolicy,
    });
    topicKey.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      topicName: `company-migration-${config.stage}-alarms`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    const notify = new cwActions.SnsAction(this.alarmTopic);
    const alarm = (id: string, props: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, id, props);
      created.addAlarmAction(notify);
      return created;
    };

    const executionAlarms: [string, cloudwatch.IMetric, string][] = [
      ['ExecutionFailed', this.stateMachine.metricFailed(), 'A migration execution failed'],
      ['ExecutionTimedOut', this.stateMachine.metricTimedOut(), 'A migration execution timed out'],
      ['ExecutionAborted', this.stateMachine.metricAborted(), 'A migration execution was aborted'],
    ];
    for (const [id, metric, description] of executionAlarms) {
      alarm(id, {
        alarmName: `company-migration-${config.stage}-${id}`,
        alarmDescription: `${description} (stage ${config.stage}): read ${config.stage}/<run-id>/failure.md in the report bucket`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const monitoring = (metricName: string, statistic = 'Maximum') =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME, stage: config.stage },
        statistic,
        period: Duration.days(1),
      });
    const daily = { evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING };
    alarm('MissingCompanies', {
      alarmName: `company-migration-${config.stage}-inconsistencies`,
      alarmDescription: 'Legacy company records without their unified company, or critical validation issues',
      metric: new cloudwatch.MathExpression({
        expression: 'missing + critical',
        usingMetrics: { missing: monitoring('MissingCompanies'), critical: monitoring('CriticalIssues') },
        period: Duration.days(1),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...daily,
    });
    for (const [id, metricName, threshold] of [
      ['ProjectCoverage', 'ProjectCoveragePercent', config.thresholds.projectCoveragePercent],
      ['PersonnelCoverage', 'PersonnelCoveragePercent', config.thresholds.personnelCoveragePercent],
    ] as const) {
      alarm(`${id}BelowThreshold`, {
        alarmName: `company-migration-${config.stage}-${id}`,
        alarmDescription: `${metricName} below the stage's ${threshold} % success threshold`,
        metric: monitoring(metricName, 'Minimum'),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        ...daily,
      });
    }
    alarm('DuplicateGroupsIncreasing', {
      alarmName: `company-migration-${config.stage}-duplicates-increasing`,
      alarmDescription: 'More groups of near-identical company names than the day before',
      metric: new cloudwatch.MathExpression({
        expression: 'DIFF(groups)',
        usingMetrics: { groups: monitoring('DuplicateNameGroups') },
        period: Duration.days(1),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...daily,
    });
    alarm('SyncErrors', {
      alarmName: `company-migration-${config.stage}-sync-errors`,
      alarmDescription: 'The dual-write recorded sync errors since the last check',
      metric: monitoring('SyncErrors', 'Sum'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...daily,
    });
    for (const [key, fn] of Object.entries(this.functions)) {
      alarm(`${key}Errors`, {
        alarmName: `company-migration-${config.stage}-${fn.function.node.id}-${key}-errors`.replace(
          '-Function',
          '',
        ),
        alarmDescription: `The ${key} function reported errors`,
        metric: fn.function.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm(`${key}Throttles`, {
        alarmName: `company-migration-${config.stage}-${key}-throttles`,
        alarmDescription: `The ${key} function was throttled`,
        metric: fn.function.metricThrottles({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `company-migration-${config.stage}`,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Coverage (%)',
            left: [
              monitoring('ProjectCoveragePercent', 'Minimum'),
              monitoring('PersonnelCoveragePercent', 'Minimum'),
            ],
            leftYAxis: { min: 0, max: 100 },
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Inconsistencies',
            left: [
              'MissingCompanies',
              'CriticalIssues',
              'DriftedRecords',
              'DuplicateNameGroups',
              'SyncErrors',
            ].map((m) => monitoring(m)),
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Step durations (ms)',
            left: STEP_FUNCTIONS.map(
              (s) =>
                new cloudwatch.Metric({
                  namespace: METRICS_NAMESPACE,
                  metricName: 'StepDuration',
                  dimensionsMap: { service: SERVICE_NAME, stage: config.stage },
                  statistic: 'Maximum',
                  label: s.handler,
                }),
            ).slice(0, 1),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Executions',
            left: [
              this.stateMachine.metricSucceeded(),
              this.stateMachine.metricFailed(),
              this.stateMachine.metricTime({ statistic: 'Maximum' }),
            ],
            width: 12,
          }),
        ],
      ],
    });

    // Where the operator CLI finds this stage.
    new ssm.StringParameter(this, 'StateMachineArnParameter', {
      parameterName: `/company-migration/${config.stage}/state-machine-arn`,
      stringValue: this.stateMachine.stateMachineArn,
      description: 'The company migration state machine of this stage',
    });
    new ssm.StringParameter(this, 'ReportBucketParameter', {
      parameterName: `/company-migration/${config.stage}/report-bucket`,
      stringValue: this.reportBucket.bucketName,
      description: 'The company migration report bucket of this stage',
    });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ReportBucketName', { value: this.reportBucket.bucketName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }

  /** The logical id CloudFormation gives a construct's main resource (what cdk-nag names in findings). */
  private logicalIdOf(construct: Construct): string {
    return this.getLogicalId(construct.node.defaultChild as CfnElement);
  }

  /** Data API on the cluster and the secret, and reports under this stage's prefix only. */
  private grantAccess(
    fn: MigrationFunction,
    config: StageConfig,
    database: boolean,
    reports: readonly string[],
  ) {
    if (database) {
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          actions: [
            'rds-data:ExecuteStatement',
            'rds-data:BatchExecuteStatement',
            'rds-data:BeginTransaction',
            'rds-data:CommitTransaction',
            'rds-data:RollbackTransaction',
          ],
          resources: [config.clusterArn],
        }),
      );
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [config.secretArn],
        }),
      );
    }
    const objects = this.reportBucket.arnForObjects(`${config.stage}/*`);
    if (reports.includes('write')) {
      fn.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] }));
    }
    if (reports.includes('read')) {
      fn.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }));
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.reportBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${config.stage}/*`] } },
        }),
      );
    }
    acknowledgeWildcards(
      fn.role,
      [
        ...(reports.length > 0 ? [`<${this.logicalIdOf(this.reportBucket)}.Arn>/${config.stage}/*`] : []),
        '*',
      ],
      'Reports are written under keys known only at run time, limited to this stage’s prefix (<stage>/*); X-Ray ' +
        'accepts trace segments only on * (it has no resource-level permissions).',
    );
  }
}
