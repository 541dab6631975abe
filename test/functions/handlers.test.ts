import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// The logger's level is fixed when it is created (each invocation resets to it): INFO here, to read the logs.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

import { createBackfillHandler } from '../../functions/backfill/handler.ts';
import { timeBudgetMs } from '../../functions/shared/handler.ts';
import { createValidateHandler } from '../../functions/validate/handler.ts';
import { fakeContext } from '../../lib/cli/local-run.ts';
import { generateDemoData } from '../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../lib/core/demo/load.ts';
import type { RunContext } from '../../lib/core/pipeline/contracts.ts';
import type { PipelineDeps } from '../../lib/core/pipeline/steps.ts';
import { S3ReportStore } from '../../lib/core/reports/s3-store.ts';
import { applySchemas } from '../../lib/core/schema/apply.ts';
import { RETRY_POLICY } from '../../scripts/build-migration-asl.ts';
import { createDataApiDouble, type DataApiDouble } from '../support/data-api-double.ts';
import { inMemoryBucket } from '../support/s3-bucket.ts';

/** The Lambda handlers as AWS runs them: Data API for SQL, S3 for reports, a Lambda context. */
describe('Lambda handlers', () => {
  let double: DataApiDouble;
  const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const s3Mock = mockClient(s3);
  let deps: PipelineDeps;
  const run: RunContext = {
    runId: 'run-handler-1',
    stage: 'test',
    dryRun: false,
    steps: ['companies', 'personnel', 'projects'],
    chunkSize: 100,
    takeSnapshot: false,
    undoOnFailure: false,
    snapshotId: 'migration-run-handler-1',
    startedAt: '2026-11-25T07:00:00.000Z',
  };

  beforeAll(async () => {
    double = await createDataApiDouble({ schema: 'handlers' });
    await applySchemas(double.sqlClient);
    await loadDemoData(double.sqlClient, generateDemoData());
    deps = {
      sql: double.sqlClient,
      store: new S3ReportStore({ client: s3, bucket: 'nukeworks-migration-reports-test' }),
    };
  });

  let logLines: string[] = [];
  beforeEach(() => {
    logLines = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      logLines.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    s3Mock.reset();
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await double?.close();
    s3Mock.restore();
  });

  it('validates through the Data API and writes its report to S3, returning a small result', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({});
    const handler = createValidateHandler(async () => deps);

    // Act
    const result = await handler({ run, phase: 'pre' }, fakeContext('validate', 60_000), {
      signal: new AbortController().signal,
    });

    // Assess
    expect(result).toMatchObject({
      phase: 'pre',
      passed: false,
      reportKey: 'test/run-handler-1/validation-pre.json',
    });
    expect(JSON.stringify(result).length).toBeLessThan(1_000);
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'nukeworks-migration-reports-test',
      Key: 'test/run-handler-1/validation-pre.json',
      ContentType: 'application/json; charset=utf-8',
    });
    expect(double.requests.length).toBeGreaterThan(5);
  });

  it('rejects a malformed event with an error naming the field, which the state machine does not retry', async () => {
    // Prepare
    const handler = createValidateHandler(async () => deps);

    // Act
    const outcome = handler({ run, phase: 'halfway' } as never, fakeContext('validate', 60_000), {
      signal: new AbortController().signal,
    });

    // Assess
    await expect(outcome).rejects.toSatisfy(
      (e) => e instanceof Error && e.name === 'InputValidationError' && /phase/.test(e.message),
    );
    expect(RETRY_POLICY.flatMap((r) => r.ErrorEquals)).not.toContain('InputValidationError');
  });

  it('logs structured JSON with the run id, stage and step', async () => {
    // Prepare: an in-memory bucket, since the step reads back the parts it wrote.
    inMemoryBucket(s3Mock);
    const handler = createBackfillHandler(async () => deps);

    // Act
    const result = await handler(
      { run: { ...run, dryRun: true }, step: 'projects', state: null },
      fakeContext('backfill', 120_000),
      {
        signal: new AbortController().signal,
      },
    );

    // Assess
    expect(result).toMatchObject({ step: 'projects', done: true });
    const entries = logLines
      .flatMap((line) => line.split('\n'))
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.find((e) => e.message === 'step finished')).toMatchObject({
      level: 'INFO',
      runId: 'run-handler-1',
      stage: 'test',
      step: 'backfill',
      function_name: 'backfill',
    });
  });

  it('gives a backfill invocation the Lambda’s remaining time less a margin', () => {
    // Act / Assess
    expect(timeBudgetMs(fakeContext('backfill', 300_000))).toBeGreaterThan(239_000);
    expect(timeBudgetMs(fakeContext('backfill', 300_000))).toBeLessThanOrEqual(240_000);
    expect(timeBudgetMs(fakeContext('backfill', 30_000))).toBe(0);
  });
});

describe('Lambda configuration from the environment', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    vi.resetModules();
  });

  it('builds the Data API client and the S3 store from the stack’s variables', async () => {
    // Prepare
    Object.assign(process.env, {
      STAGE: 'staging',
      DB_CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:nukeworks',
      DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nukeworks-AbCdEf',
      DB_NAME: 'nukeworks',
      REPORT_BUCKET: 'nukeworks-migration-reports-staging',
      SNAPSHOTS_ENABLED: 'false',
      AWS_REGION: 'eu-west-1',
    });
    const { lambdaDeps } = await import('../../functions/shared/lambda-deps.ts');

    // Act
    const deps = await lambdaDeps();

    // Assess
    expect(deps.sql.adapter).toBe('data-api');
    expect(deps.store.location).toMatch(/^s3:\/\/nukeworks-migration-reports-staging/);
    expect(deps.stage).toMatchObject({ snapshots: false, thresholds: { projectCoveragePercent: 95 } });
  });

  it('names the missing variable when the environment is incomplete', async () => {
    // Prepare
    for (const name of ['STAGE', 'DB_CLUSTER_ARN', 'DB_SECRET_ARN', 'DB_NAME', 'REPORT_BUCKET'])
      delete process.env[name];
    const { lambdaDeps } = await import('../../functions/shared/lambda-deps.ts');

    // Act / Assess
    await expect(lambdaDeps()).rejects.toThrow(/DB_CLUSTER_ARN/);
  });
});
