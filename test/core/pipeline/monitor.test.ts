import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_STEPS, runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { MONITORING_METRICS, monitorCheck } from '../../../lib/core/pipeline/monitor.ts';
import { LocalReportStore } from '../../../lib/core/reports/local-store.ts';
import { readReport } from '../../../lib/core/reports/publish.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { openPgliteDatabase, type TestDatabase } from '../../support/databases.ts';

describe('the daily monitoring check', () => {
  let database: TestDatabase;
  let reports: string;

  beforeAll(async () => {
    database = await openPgliteDatabase();
    await applySchemas(database.client);
    await loadDemoData(database.client, generateDemoData({ defects: true }));
    reports = mkdtempSync(join(tmpdir(), 'monitor-'));
  });

  afterAll(async () => {
    await database?.dispose();
    rmSync(reports, { recursive: true, force: true });
  });

  it('reduces validation to the figures the alarms watch, and keeps the report', async () => {
    // Prepare
    for (const step of BACKFILL_STEPS) await runBackfillToEnd(database.client, step);
    const store = new LocalReportStore(reports);
    const now = new Date('2026-11-26T06:00:00Z');

    // Act
    const result = await monitorCheck({ sql: database.client, store, now: () => now }, { stage: 'staging' });

    // Assess
    expect(Object.keys(result.metrics).sort()).toEqual([...MONITORING_METRICS].sort());
    expect(result).toMatchObject({
      runId: 'monitor-20261126-060000',
      passed: false,
      metrics: {
        MissingCompanies: 1, // the blank-named operator record
        UncoveredProjectLinks: 85,
        UncoveredPersonnelLinks: 4,
        ProjectCoveragePercent: 89.6,
        PersonnelCoveragePercent: 99.13,
        DuplicateNameGroups: 2,
        DriftedRecords: 1,
        CriticalIssues: 1,
      },
    });
    expect(await readReport(store, result.reportKey)).toMatchObject({ kind: 'validation', stage: 'staging' });
  });

  it('refuses an event without a valid stage', async () => {
    // Act / Assess
    await expect(
      monitorCheck({ sql: database.client, store: new LocalReportStore(reports) }, { stage: '../x' }),
    ).rejects.toThrow(/stage/);
  });
});
