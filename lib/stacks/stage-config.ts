import { readFileSync } from 'node:fs';
import * as z from 'zod';

/**
 * A stage's deployment settings, one JSON file per stage in config/stages/. Everything the stack needs
 * is here and validated before any resource is defined, so a wrong value fails synth naming the field.
 */
export const STAGES = ['dev', 'staging', 'production'] as const;
export type Stage = (typeof STAGES)[number];

const arn = (service: string, resource: string) =>
  z
    .string()
    .regex(
      new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:${resource}:[A-Za-z0-9/_+=.@:-]+$`),
      `must be an ${service} ${resource} ARN (arn:aws:${service}:<region>:<account>:${resource}:<name>)`,
    );

export const stageConfigSchema = z
  .object({
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1'),
    clusterArn: arn('rds', 'cluster'),
    clusterIdentifier: z
      .string()
      .regex(
        /^[a-zA-Z](?:-?[a-zA-Z0-9])*$/,
        'must be an RDS cluster identifier (letters, digits, single hyphens)',
      ),
    secretArn: arn('secretsmanager', 'secret'),
    databaseName: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be a PostgreSQL database name'),
    /** Take an RDS cluster snapshot before every live run. */
    snapshots: z.boolean(),
    schedule: z.object({
      expression: z
        .string()
        .regex(/^(cron|rate)\(.+\)$/, 'must be an EventBridge Scheduler expression: cron(…) or rate(…)'),
      timeZone: z.string().refine((zone) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, 'must be an IANA time zone such as Europe/London'),
    }),
    alarmEmail: z.email('must be an e-mail address'),
    thresholds: z
      .object({
        projectCoveragePercent: z.number().min(0).max(100).default(95),
        personnelCoveragePercent: z.number().min(0).max(100).default(95),
      })
      .default({ projectCoveragePercent: 95, personnelCoveragePercent: 95 }),
    reportRetentionDays: z.number().int().min(1).max(3650),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    /** For the smoke step's HTTP checks; none when absent. */
    appBaseUrl: z.url().optional(),
  })
  .strict();

export type StageConfig = z.infer<typeof stageConfigSchema> & { stage: Stage };

export class StageConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageConfigError';
  }
}

/** Validates a stage's settings; the message names the stage and every bad field. */
export function parseStageConfig(stage: string, raw: unknown): StageConfig {
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new StageConfigError(`unknown stage "${stage}": use -c stage=${STAGES.join('|')}`);
  }
  const result = stageConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new StageConfigError(`invalid config for stage ${stage}: ${problems.join('; ')}`);
  }
  return { ...result.data, stage: stage as Stage };
}

export const STAGE_CONFIG_DIR = new URL('../../config/stages/', import.meta.url);

/** Reads config/stages/<stage>.json. */
export function loadStageConfig(stage: string, dir: URL = STAGE_CONFIG_DIR): StageConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(new URL(`${stage}.json`, dir), 'utf8'));
  } catch (error) {
    if (!(STAGES as readonly string[]).includes(stage)) return parseStageConfig(stage, {});
    throw new StageConfigError(`cannot read config/stages/${stage}.json: ${(error as Error).message}`);
  }
  return parseStageConfig(stage, raw);
}
