import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { loadMigrationDefinition } from '../../lib/cli/local-run.ts';
import { MIGRATION_ASL_FILE, MigrationStack } from '../../lib/stacks/migration-stack.ts';
import {
  loadStageConfig,
  parseStageConfig,
  STAGES,
  type Stage,
  StageConfigError,
} from '../../lib/stacks/stage-config.ts';

/** One stack per stage, synthesized without bundling (no esbuild run) and with cdk-nag on, as in the app. */
function synthesize(stage: Stage) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = loadStageConfig(stage);
  const stack = new MigrationStack(app, `CompanyMigration-${stage}`, {
    config,
    env: { account: config.account, region: config.region },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  return { app, stack, config, assembly, template: Template.fromStack(stack) };
}

const synthesized = Object.fromEntries(STAGES.map((stage) => [stage, synthesize(stage)])) as Record<
  Stage,
  ReturnType<typeof synthesize>
>;

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function policyStatements(template: Template): { policy: string; statement: Statement }[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies).flatMap(([policy, resource]) =>
    ((resource.Properties.PolicyDocument.Statement ?? []) as Statement[]).map((statement) => ({
      policy,
      statement,
    })),
  );
}

const WILDCARD_RESOURCE_ACTIONS =
  /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe.each(STAGES)('the %s stack', (stage) => {
  const { template, config, stack, assembly } = synthesized[stage];

  it('passes cdk-nag’s AWS Solutions checks (synthesis would have thrown on any finding)', () => {
    // Assess
    expect(assembly.getStackByName(stack.stackName).template).toBeDefined();
    expect(stack.stackName).toBe(`CompanyMigration-${stage}`);
  });

  it('runs every function on Node 22, arm64, with X-Ray, its own log group and the stage’s settings', () => {
    // Assess
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(9);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON', LogGroup: Match.anyValue() }),
      Environment: {
        Variables: Match.objectLike({
          STAGE: stage,
          DB_CLUSTER_ARN: config.clusterArn,
          DB_SECRET_ARN: config.secretArn,
          DB_NAME: config.databaseName,
          SNAPSHOTS_ENABLED: String(config.snapshots),
          POWERTOOLS_LOG_LEVEL: config.logLevel,
          POWERTOOLS_METRICS_NAMESPACE: 'CompanyMigration',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `company-migration-${stage}-backfill`,
      Timeout: 900,
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', {
      RetentionInDays: stage === 'production' ? 365 : 30,
    });
  });

  it('gives each function only what it uses: no managed policies, no wildcard actions', () => {
    // Assess
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    for (const { policy, statement } of policyStatements(template)) {
      for (const action of asList(statement.Action)) {
        expect(action, `${policy}: ${action}`).not.toMatch(/(^\*$|:\*$)/);
      }
      if (asList(statement.Resource).includes('*')) {
        // Only services without resource-level permissions: X-Ray, and the Logs delivery APIs Step Functions uses.
        for (const action of asList(statement.Action))
          expect(action, policy).toMatch(WILDCARD_RESOURCE_ACTIONS);
      }
    }
  });

  it('grants the Data API on the cluster, the secret, and the stage’s report prefix — and nothing to Diff', () => {
    // Assess
    const statements = policyStatements(template);
    const dataApi = statements.filter(({ statement }) =>
      asList(statement.Action).includes('rds-data:ExecuteStatement'),
    );
    expect(dataApi.length).toBe(6); // preflight, validate, backfill, undo, smoke, monitor
    for (const { statement } of dataApi) expect(statement.Resource).toBe(config.clusterArn);
    const secrets = statements.filter(({ statement }) =>
      asList(statement.Action).includes('secretsmanager:GetSecretValue'),
    );
    for (const { statement } of secrets) expect(statement.Resource).toBe(config.secretArn);
    const diffPolicy = statements.filter(({ policy }) => policy.startsWith('DiffFunction'));
    expect(
      diffPolicy.flatMap(({ statement }) => asList(statement.Action)).some((a) => a.startsWith('rds-data')),
    ).toBe(false);
    const readers = statements
      .filter(({ statement }) => asList(statement.Action).includes('s3:GetObject'))
      .map(({ policy }) => policy.replace(/Function.*$/, ''))
      .sort();
    // Backfill combines its parts, Diff and Evaluate read reports, Monitor reads its previous check.
    expect(readers).toEqual(['Backfill', 'Diff', 'Evaluate', 'Monitor']);
    const writes = statements.filter(({ statement }) => asList(statement.Action).includes('s3:PutObject'));
    expect(writes.length).toBe(8); // every function but preflight
    for (const { statement } of writes) {
      expect(JSON.stringify(statement.Resource)).toMatch(new RegExp(`/${stage}/\\*"`));
    }
  });

  it('deploys the ASL file with the stage’s ARNs, logs, tracing, and snapshot rights on the cluster only', () => {
    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: `company-migration-${stage}`,
      DefinitionS3Location: Match.anyValue(),
      DefinitionSubstitutions: Match.objectLike({
        ClusterIdentifier: config.clusterIdentifier,
        PreflightFunctionArn: Match.anyValue(),
        BackfillFunctionArn: Match.anyValue(),
        ReportFailureFunctionArn: Match.anyValue(),
      }),
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    const snapshotStatement = policyStatements(template).find(({ statement }) =>
      asList(statement.Action).includes('rds:CreateDBClusterSnapshot'),
    );
    expect(snapshotStatement?.statement.Resource).toEqual([
      config.clusterArn,
      {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            `:rds:${config.region}:${config.account}:cluster-snapshot:migration-*`,
          ],
        ],
      },
    ]);
  });

  it('keeps reports private, encrypted, TLS-only, versioned, expiring, logged — retained in production', () => {
    // Assess
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: Match.anyValue(),
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'reports/' }),
        LifecycleConfiguration: {
          Rules: [Match.objectLike({ ExpirationInDays: config.reportRetentionDays, Status: 'Enabled' })],
        },
      }),
      DeletionPolicy: stage === 'production' ? 'Retain' : 'Delete',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('runs the monitoring check daily on the stage’s schedule and time zone, with retries and a DLQ', () => {
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: config.schedule.expression,
      ScheduleExpressionTimezone: config.schedule.timeZone,
      Target: Match.objectLike({
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 7200 },
        DeadLetterConfig: { Arn: Match.anyValue() },
        Input: JSON.stringify({ stage }),
      }),
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('alarms on failed, timed-out and aborted executions, monitoring figures and Lambda errors, to an e-mail', () => {
    // Assess
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'AWS/States',
        Threshold: 1,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProjectCoveragePercent',
      Threshold: config.thresholds.projectCoveragePercent,
      ComparisonOperator: 'LessThanThreshold',
      Dimensions: Match.arrayWith([{ Name: 'stage', Value: stage }]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SyncErrors', Threshold: 0 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'DIFF(groups)' })]),
    });
    const lambdaAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.Namespace === 'AWS/Lambda',
    );
    expect(lambdaAlarms.map((a) => a.Properties.MetricName).sort()).toEqual([
      ...Array(9).fill('Errors'),
      ...Array(9).fill('Throttles'),
    ]);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
    }
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: config.alarmEmail,
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('publishes where the operator CLI finds the stage', () => {
    // Assess
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: `/company-migration/${stage}/state-machine-arn`,
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: `/company-migration/${stage}/report-bucket`,
    });
  });
});

describe('cdk-nag in these tests', () => {
  it('is really on: a public, unencrypted bucket fails synthesis', () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'NotCompliant');
    new s3.Bucket(stack, 'Careless');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act / Assess
    expect(() => app.synth()).toThrow();
  });
});

describe('stable templates (asset hashes stripped)', () => {
  it.each(STAGES)('the %s template matches its snapshot', (stage) => {
    // Act
    const text = JSON.stringify(synthesized[stage].template.toJSON(), null, 1).replace(
      /[a-f0-9]{64}/g,
      '<asset-hash>',
    );

    // Assess
    expect(JSON.parse(text)).toMatchSnapshot();
  });
});

describe('the deployed definition', () => {
  it('is, after substitution, exactly the definition the local runner executes', () => {
    // Prepare
    const { template, assembly } = synthesized.staging;
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const key = machine?.Properties.DefinitionS3Location.Key as string;
    const deployedText = readFileSync(join(assembly.directory, `asset.${key}`), 'utf8');
    const substitutions = Object.fromEntries(
      Object.keys(machine?.Properties.DefinitionSubstitutions ?? {}).map((name) => [
        name,
        `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
      ]),
    );

    // Act
    const deployed = JSON.parse(
      deployedText.replace(/\$\{(\w+)\}/g, (_m, name: string) => substitutions[name] ?? `\${${name}}`),
    );
    const local = loadMigrationDefinition(substitutions);

    // Assess
    expect(deployedText).toBe(readFileSync(MIGRATION_ASL_FILE, 'utf8'));
    expect(deployed).toEqual(local);
    expect(JSON.stringify(deployed)).not.toContain('${');
  });
});

describe('stage configuration', () => {
  it('names the field and the stage when a value is invalid or missing', () => {
    // Prepare
    const valid = JSON.parse(
      readFileSync(new URL('../../config/stages/staging.json', import.meta.url), 'utf8'),
    );

    // Act / Assess
    expect(() => parseStageConfig('staging', { ...valid, clusterArn: 'nukeworks' })).toThrow(
      /invalid config for stage staging: clusterArn: must be an rds cluster ARN/,
    );
    const { alarmEmail: _omitted, ...withoutEmail } = valid;
    expect(() => parseStageConfig('staging', withoutEmail)).toThrow(/stage staging: alarmEmail/);
    expect(() =>
      parseStageConfig('staging', { ...valid, schedule: { ...valid.schedule, timeZone: 'Mars/Olympus' } }),
    ).toThrow(/schedule\.timeZone: must be an IANA time zone/);
    expect(() => parseStageConfig('qa', valid)).toThrow(StageConfigError);
  });

  it('reads every stage’s file', () => {
    // Act / Assess
    for (const stage of STAGES) expect(loadStageConfig(stage).stage).toBe(stage);
    expect(loadStageConfig('production').snapshots).toBe(true);
  });
});
