import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_STEPS, runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import {
  lastCheckTime,
  MONITORING_METRICS,
  type MonitorReport,
  monitorCheck,
} from '../../../lib/core/pipeline/monitor.ts';
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
    for (const step of BACKFILL_STEPS) await runBackfillToEnd(database.client, step);
    reports = mkdtempSync(join(tmpdir(), 'monitor-'));
  });

  afterAll(async () => {
    await database?.dispose();
    rmSync(reports, { recursive: true, force: true });
  });

  it('reduces validation to the figures the alarms watch, and keeps the report', async () => {
    // Prepare
    const store = new LocalReportStore(reports);
    const now = new Date('2026-11-26T06:00:00Z');

    // Act
    const result = await monitorCheck({ sql: database.client, store, now: () => now }, { stage: 'staging' });

    // Assess
    expect(Object.keys(result.metrics).sort()).toEqual([...MONITORING_METRICS].sort());
    expect(result).toMatchObject({
      runId: 'monitor-20261126-060000',
      passed: false,
      healthy: false,
      since: null,
      dualWriteInstalled: false,
      reportKey: 'staging/monitor-20261126-060000/monitor.json',
      metrics: {
        MissingCompanies: 1, // the blank-named operator record
        UncoveredProjectLinks: 85,
        UncoveredPersonnelLinks: 4,
        ProjectCoveragePercent: 89.6,
        PersonnelCoveragePercent: 99.13,
        DuplicateNameGroups: 2,
        DriftedRecords: 1,
        CriticalIssues: 1,
        SyncErrors: 0,
      },
    });
    expect(result.metrics.QueryLatencyMs).toBeGreaterThan(0);
    expect(await readReport(store, result.validationReportKey)).toMatchObject({
      kind: 'validation',
      stage: 'staging',
    });
    const report = (await readReport(store, result.reportKey)) as MonitorReport;
    expect(report).toMatchObject({
      kind: 'monitor',
      since: null,
      syncErrors: { dualWriteInstalled: false, count: 0 },
      validationReportKey: 'staging/monitor-20261126-060000/validation.json',
    });
    expect(report.timings.map((t) => t.query)).toEqual(['dashboard-counts', 'company-list', 'network']);
    expect(report.unsynced.count).toBe(result.metrics.UnsyncedRecentRecords);
    expect(report.unsynced.sample.length).toBeGreaterThan(0);
  });

  it('checks only what changed since the last check, and counts the sync errors since then', async () => {
    // Prepare: the previous check (above) ran "2026-11-26 06:00"; plant records after it.
    const store = new LocalReportStore(reports);
    await monitorCheck(
      { sql: database.client, store, now: () => new Date('2026-11-26T06:00:00Z') },
      { stage: 'later' },
    );
    expect(await lastCheckTime(store, 'later')).toBe('2026-11-26T06:00:00.000Z');
    await database.client.query(
      `INSERT INTO technology_vendors (vendor_name, created_date) VALUES ('Planted Vendor', '2026-11-26 07:00:00')`,
    );
    await database.client.query(
      `CREATE TABLE company_migration_sync_errors (error_id bigserial PRIMARY KEY, occurred_at timestamptz NOT NULL,
         legacy_table text, legacy_id integer, operation text, sql_state text, message text)`,
    );
    await database.client.query(
      `INSERT INTO company_migration_sync_errors (occurred_at, legacy_table, legacy_id, operation, sql_state, message)
       VALUES ('2026-11-25 06:00:00+00', 'clients', 1, 'UPDATE', '23505', 'old'),
              ('2026-11-26 07:30:00+00', 'technology_vendors', 9, 'INSERT', '23505', :message)`,
      { message: 'x'.repeat(300) },
    );

    // Act
    const result = await monitorCheck(
      { sql: database.client, store, now: () => new Date('2026-11-27T06:00:00Z') },
      { stage: 'later' },
    );

    // Assess
    expect(result).toMatchObject({
      since: '2026-11-26T06:00:00.000Z',
      dualWriteInstalled: true,
      healthy: false,
      metrics: { SyncErrors: 1, UnsyncedRecentRecords: 1 },
    });
    const report = (await readReport(store, result.reportKey)) as MonitorReport;
    expect(report.unsynced.sample).toEqual([
      { table: 'technology_vendors', id: expect.any(Number), reason: 'no record assignment' },
    ]);
    expect(report.syncErrors.sample).toEqual([
      {
        legacyTable: 'technology_vendors',
        legacyId: 9,
        operation: 'INSERT',
        sqlState: '23505',
        message: 'x'.repeat(200),
      },
    ]);

    // Act: --since overrides the last check; null checks everything
    const all = await monitorCheck(
      { sql: database.client, store, now: () => new Date('2026-11-27T07:00:00Z') },
      { stage: 'later' },
      { since: null },
    );

    // Assess
    expect(all.metrics.SyncErrors).toBe(2);
    expect(all.metrics.UnsyncedRecentRecords).toBeGreaterThan(1);
    await database.client.query('DROP TABLE company_migration_sync_errors');
    await database.client.query(`DELETE FROM technology_vendors WHERE vendor_name = 'Planted Vendor'`);
  });

  it('runs a constant number of statements', async () => {
    // Prepare
    const store = new LocalReportStore(reports);
    const statements = async (stage: string) => {
      const result = await monitorCheck({ sql: database.client, store }, { stage }, { since: null });
      return ((await readReport(store, result.reportKey)) as MonitorReport).statements;
    };

    // Act / Assess
    expect(await statements('count-a')).toBe(await statements('count-b'));
  });

  it('reports cutover readiness daily, with its full report beside the monitor report', async () => {
    // Prepare
    const store = new LocalReportStore(reports);
    await database.client.query(
      'CREATE VIEW monitor_vendor_names AS SELECT vendor_id, vendor_name FROM technology_vendors',
    );

    try {
      // Act
      const result = await monitorCheck(
        { sql: database.client, store, now: () => new Date('2026-11-28T06:00:00Z') },
        { stage: 'cutover' },
      );

      // Assess
      expect(result.cutoverReady).toBe(false);
      const report = (await readReport(store, result.reportKey)) as MonitorReport;
      expect(report.cutover).toMatchObject({
        ready: false,
        reportKey: 'cutover/monitor-20261128-060000/cutover.json',
      });
      expect(report.cutover?.reasons).toContain(
        `1 view reads legacy tables: ${database.schema}.monitor_vendor_names (technology_vendors)`,
      );
      expect(report.cutover?.reasons.some((r) => r.startsWith('validation fails'))).toBe(true);
      expect(await readReport(store, report.cutover?.reportKey ?? '')).toMatchObject({
        kind: 'cutover',
        dependencies: { views: [{ name: 'monitor_vendor_names', depth: 1 }] },
      });
    } finally {
      await database.client.query('DROP VIEW monitor_vendor_names');
    }
  });

  it('keeps its own figures when the cutover check fails, and says why', async () => {
    // Prepare: a baseline table the cutover check cannot write (as with a foreign table of that name)
    const store = new LocalReportStore(reports);
    await database.client.query(
      'ALTER TABLE company_migration_cutover_baseline RENAME TO cutover_baseline_kept',
    );
    await database.client.query('CREATE TABLE company_migration_cutover_baseline (table_name text)');

    try {
      // Act
      const result = await monitorCheck(
        { sql: database.client, store, now: () => new Date('2026-11-29T06:00:00Z') },
        { stage: 'cutover-broken' },
      );

      // Assess
      expect(result.cutoverReady).toBe(false);
      expect(result.metrics.MissingCompanies).toBe(1);
      const report = (await readReport(store, result.reportKey)) as MonitorReport;
      expect(report.cutover?.reasons).toEqual([
        expect.stringMatching(/^the cutover check failed: .*n_tup_ins/),
      ]);
    } finally {
      await database.client.query('DROP TABLE company_migration_cutover_baseline');
      await database.client.query(
        'ALTER TABLE cutover_baseline_kept RENAME TO company_migration_cutover_baseline',
      );
    }
  });

  it('refuses an event without a valid stage', async () => {
    // Act / Assess
    await expect(
      monitorCheck({ sql: database.client, store: new LocalReportStore(reports) }, { stage: '../x' }),
    ).rejects.toThrow(/stage/);
  });
});
