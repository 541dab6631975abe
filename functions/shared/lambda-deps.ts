import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { PipelineDeps } from '../../lib/core/pipeline/steps.ts';
import { S3ReportStore } from '../../lib/core/reports/s3-store.ts';
import { DataApiSqlClient } from '../../lib/core/sql/data-api-client.ts';

/** The configuration the CDK stack gives every function, through its environment. */
const environmentSchema = z.object({
  STAGE: z.string().min(1),
  DB_CLUSTER_ARN: z.string().min(1),
  DB_SECRET_ARN: z.string().min(1),
  DB_NAME: z.string().min(1),
  REPORT_BUCKET: z.string().min(1),
  SNAPSHOTS_ENABLED: z.enum(['true', 'false']).default('true'),
  PROJECT_COVERAGE_THRESHOLD: z.coerce.number().min(0).max(100).default(95),
  PERSONNEL_COVERAGE_THRESHOLD: z.coerce.number().min(0).max(100).default(95),
  APP_BASE_URL: z.url().optional(),
});

// Created once per container and reused across invocations, as the SDK recommends.
let cached: PipelineDeps | undefined;

/** The SqlClient (RDS Data API) and report store (S3) built from the environment, on first use. */
export async function lambdaDeps(): Promise<PipelineDeps> {
  if (cached) return cached;
  const env = environmentSchema.parse(process.env);
  cached = {
    sql: new DataApiSqlClient({
      client: new RDSDataClient({}),
      resourceArn: env.DB_CLUSTER_ARN,
      secretArn: env.DB_SECRET_ARN,
      database: env.DB_NAME,
    }),
    store: new S3ReportStore({ client: new S3Client({}), bucket: env.REPORT_BUCKET }),
    stage: {
      name: env.STAGE,
      snapshots: env.SNAPSHOTS_ENABLED === 'true',
      thresholds: {
        projectCoveragePercent: env.PROJECT_COVERAGE_THRESHOLD,
        personnelCoveragePercent: env.PERSONNEL_COVERAGE_THRESHOLD,
      },
      appBaseUrl: env.APP_BASE_URL,
    },
  };
  return cached;
}
