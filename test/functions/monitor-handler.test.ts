import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// EMF on stdout is what this file checks: metrics on (the setup turns them off), before the handler loads.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'CompanyMigration';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

import { createMonitorHandler } from '../../functions/monitor/handler.ts';
import { SERVICE_NAME } from '../../functions/shared/powertools.ts';
import { fakeContext } from '../../lib/cli/local-run.ts';
import { BACKFILL_STEPS, runBackfillToEnd } from '../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../lib/core/demo/load.ts';
import { MONITORING_METRICS, type MonitorResult } from '../../lib/core/pipeline/monitor.ts';
import type { PipelineDeps } from '../../lib/core/pipeline/steps.ts';
import { S3ReportStore } from '../../lib/core/reports/s3-store.ts';
import { applySchemas } from '../../lib/core/schema/apply.ts';
import { createDataApiDouble, type DataApiDouble } from '../support/data-api-double.ts';
import { inMemoryBucket } from '../support/s3-bucket.ts';

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** The monitor function as the schedule runs it: Data API for SQL, S3 for reports, EMF on stdout. */
describe('the monitoring handler', () => {
  let double: DataApiDouble;
  const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const s3Mock = mockClient(s3);
  const bucket = new Map<string, string>();
  let store: S3ReportStore;

  beforeAll(async () => {
    double = await createDataApiDouble({ schema: 'monitor_handler' });
    await applySchemas(double.sqlClient);
    await loadDemoData(double.sqlClient, generateDemoData());
    for (const step of BACKFILL_STEPS) await runBackfillToEnd(double.sqlClient, step);
    store = new S3ReportStore({ client: s3, bucket: 'nukeworks-migration-reports-test' });
  });

  let stdout: string[] = [];
  beforeEach(() => {
    stdout = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout.push(String(chunk));
      return true;
    });
    inMemoryBucket(s3Mock, bucket);
  });

  afterEach(() => {
    s3Mock.reset();
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await double?.close();
    s3Mock.restore();
  });

  const emf = () =>
    stdout
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('CloudWatchMetrics'))
      .map((line) => JSON.parse(line) as EmfDocument);

  const invoke = (deps: PipelineDeps) =>
    createMonitorHandler(async () => deps)({ stage: 'test' }, fakeContext('monitor', 60_000), {
      signal: new AbortController().signal,
    }) as Promise<MonitorResult>;

  it('emits every monitoring metric as EMF with the stage and service dimensions', async () => {
    // Prepare: a previous check an hour ago, then an unsynced vendor, a drifted company and a sync error.
    const anHourAgo = new Date(Date.now() - 3_600_000);
    const previous = await invoke({ sql: double.sqlClient, store, now: () => anHourAgo });
    expect(previous).toMatchObject({ since: null, dualWriteInstalled: false, metrics: { SyncErrors: 0 } });
    await double.sqlClient.query(
      `INSERT INTO technology_vendors (vendor_name) VALUES ('Unsynced Vendor Ltd')`,
    );
    await double.sqlClient.query(
      `UPDATE companies SET company_name = company_name || ' (renamed)'
        WHERE company_id = (SELECT min(company_id) FROM companies)`,
    );
    await double.sqlClient.query(
      `CREATE TABLE company_migration_sync_errors (error_id bigserial PRIMARY KEY,
         occurred_at timestamptz NOT NULL DEFAULT now(), legacy_table text, legacy_id integer, operation text,
         sql_state text, message text)`,
    );
    await double.sqlClient.query(
      `INSERT INTO company_migration_sync_errors (legacy_table, legacy_id, operation, sql_state, message)
       VALUES ('technology_vendors', 1, 'UPDATE', '23505', 'duplicate key value violates unique constraint')`,
    );
    stdout = [];

    // Act
    const result = await invoke({ sql: double.sqlClient, store });

    // Assess
    expect(result).toMatchObject({
      since: anHourAgo.toISOString(),
      dualWriteInstalled: true,
      healthy: false,
    });
    const documents = emf();
    expect(documents.length).toBeGreaterThan(0);
    const values: Record<string, unknown> = {};
    const units: Record<string, string> = {};
    for (const document of documents) {
      const [directive] = document._aws.CloudWatchMetrics;
      expect(directive?.Namespace).toBe('CompanyMigration');
      expect(directive?.Dimensions.map((set) => [...set].sort())).toEqual([['service', 'stage']]);
      expect(document).toMatchObject({ service: SERVICE_NAME, stage: 'test' });
      for (const metric of directive?.Metrics ?? []) {
        values[metric.Name] = document[metric.Name];
        units[metric.Name] = metric.Unit;
      }
    }
    for (const name of MONITORING_METRICS) expect(values[name], name).toBe(result.metrics[name]);
    expect(values).toMatchObject({
      SyncErrors: 1,
      UnsyncedRecentRecords: 1,
      DriftedRecords: previous.metrics.DriftedRecords + 1,
      MissingCompanies: previous.metrics.MissingCompanies + 1,
    });
    expect(values.QueryLatencyMs).toBeGreaterThan(0);
    expect(units).toMatchObject({
      SyncErrors: 'Count',
      ProjectCoveragePercent: 'Percent',
      QueryLatencyMs: 'Milliseconds',
    });
    expect(bucket.get(result.reportKey)).toContain('"kind": "monitor"');
    expect(result.reportKey).toMatch(/^test\/monitor-\d{8}-\d{6}\/monitor\.json$/);
    // The cutover check ran through the Data API too (it reports its own failure in the monitor report).
    expect(bucket.get(result.reportKey.replace(/monitor\.json$/, 'cutover.json'))).toContain(
      '"kind": "cutover"',
    );
    expect(bucket.get(result.reportKey)).not.toContain('the cutover check failed');
  });
});
