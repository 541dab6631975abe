import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MigrationStack } from '../lib/stacks/migration-stack.ts';
import { loadStageConfig, STAGES } from '../lib/stacks/stage-config.ts';

/** `cdk synth|deploy -c stage=dev|staging|production`: one stack per stage. */
const app = new App();
const stage = app.node.tryGetContext('stage') as string | undefined;
if (!stage) {
  throw new Error(`choose a stage: npx cdk synth -c stage=${STAGES.join('|')}`);
}
const config = loadStageConfig(stage);
new MigrationStack(app, `CompanyMigration-${config.stage}`, {
  config,
  env: { account: config.account, region: config.region },
  description: `NukeWorks company migration (${config.stage}): state machine, reports, monitoring, alarms`,
  tags: { project: 'company-migration', stage: config.stage },
});
// cdk-nag: any unacknowledged AWS Solutions finding fails synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
