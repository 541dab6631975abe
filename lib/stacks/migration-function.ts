import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from './stage-config.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface MigrationFunctionProps {
  config: StageConfig;
  /** The folder under functions/ whose handler.ts this function runs. */
  handler: string;
  /** What the function is for (the console shows it). */
  description: string;
  environment: Record<string, string>;
  timeout?: Duration;
  memorySize?: number;
}

/**
 * Every migration function the same way: esbuild bundle (never Docker), Node 22 on arm64, its own role
 * with no managed policy, its own log group with the stage's retention, X-Ray, Powertools settings.
 */
export class MigrationFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: MigrationFunctionProps) {
    super(scope, id);
    const { config } = props;
    const functionName = `company-migration-${config.stage}-${props.handler}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: config.stage === 'production' ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
      removalPolicy: config.stage === 'production' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${functionName}: only what this step uses`,
    });
    this.function = new NodejsFunction(this, 'Function', {
      functionName,
      description: props.description,
      entry: `${PROJECT_ROOT}functions/${props.handler}/handler.ts`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(5),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        STAGE: config.stage,
        POWERTOOLS_SERVICE_NAME: 'company-migration',
        POWERTOOLS_METRICS_NAMESPACE: 'CompanyMigration',
        POWERTOOLS_LOG_LEVEL: config.logLevel,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // The ES-module builds of the AWS SDK tree-shake; its CommonJS builds (the default for Node) do not.
        mainFields: ['module', 'main'],
        // ESM bundles of CommonJS dependencies need require(); the runtime gives ESM none.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        // The embedded database and the local runner never run in Lambda.
        externalModules: ['@electric-sql/pglite', 'pg-native', 'aws-local-stepfunctions'],
        forceDockerBundling: false,
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node 22 is the runtime the code is built and tested on (package.json pins node 22 for every script); ' +
        'moving to a newer runtime is a deliberate upgrade, tested first.',
    });
    this.logGroup.grantWrite(this.role);
    // X-Ray takes trace segments only on `*`: the service has no resource-level permissions for them.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      }),
    );
  }
}
