import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalRunOptions,
  loadMigrationDefinition,
  runMigrationLocally,
} from '../../lib/cli/local-run.ts';
import { InputValidationError } from '../../lib/core/pipeline/steps.ts';
import { LocalReportStore } from '../../lib/core/reports/local-store.ts';
import { readReport } from '../../lib/core/reports/publish.ts';
import { applySchemas } from '../../lib/core/schema/apply.ts';
import { DatabaseResumingError, QueryError } from '../../lib/core/sql/errors.ts';
import type { SqlClient } from '../../lib/core/sql/types.ts';
import { validationReportSchema } from '../../lib/core/validation/report-schema.ts';
import { realDatabases, type TestDatabase } from '../support/databases.ts';
import { resetToDemo as resetDemo } from '../support/demo-reset.ts';
import { legacyStateHash, unifiedNaturalState, unifiedStateHash } from '../support/unified-state.ts';

/**
 * The real ASL file, run by the local interpreter, each Task served by the same handlers the Lambdas
 * run — on PGlite and, when DATABASE_URL is set, on the PostgreSQL server.
 */

const TASK_STATES = Object.entries(loadMigrationDefinition().States)
  .filter(([, state]) => state.Type === 'Task')
  .map(([name]) => name);

describe.each(realDatabases)('the migration state machine, run locally: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;
  let reports: string;
  let runs = 0;
  const snapshotsTaken: string[] = [];

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
    reports = mkdtempSync(join(tmpdir(), 'migration-e2e-'));
  });

  afterAll(async () => {
    await database?.dispose();
    rmSync(reports, { recursive: true, force: true });
  });

  const resetToDemo = (defects = false) => resetDemo(sql, { defects });

  function run(overrides: Partial<LocalRunOptions> & { input?: LocalRunOptions['input'] } = {}) {
    runs++;
    return runMigrationLocally({
      deps: { sql, store: new LocalReportStore(reports), stage: { snapshots: true } },
      runId: `run-e2e-${runs}`,
      input: { stage: 'test', chunkSize: 100 },
      takeSnapshot: async (snapshotId) => {
        snapshotsTaken.push(snapshotId);
        return { snapshotId, status: 'available' };
      },
      retryPauseMs: 0,
      ...overrides,
    });
  }

  const store = () => new LocalReportStore(reports);

  it('a clean run takes the snapshot, migrates, validates and succeeds, with every report', async () => {
    // Prepare
    await resetToDemo();
    const taken = snapshotsTaken.length;

    // Act
    const result = await run();

    // Assess
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(snapshotsTaken.length).toBe(taken + 1);
    const prefix = `test/${result.runId}/`;
    const keys = await store().list(prefix);
    for (const name of ['validation-pre', 'validation-post', 'diff', 'smoke', 'summary']) {
      expect(keys).toContain(`${prefix}${name}.json`);
    }
    for (const step of ['companies', 'personnel', 'projects'])
      expect(keys).toContain(`${prefix}backfill-${step}.json`);
    const post = validationReportSchema.parse(await readReport(store(), `${prefix}validation-post.json`));
    expect(post.passed).toBe(true);
    expect(await readReport(store(), `${prefix}summary.json`)).toMatchObject({
      passed: true,
      runId: result.runId,
      smoke: {
        spotCheck: {
          seed: result.runId,
          sampled: 18,
          matching: 18,
          differing: 0,
          reportKey: `${prefix}spot-check.json`,
        },
      },
    });
    for (const format of ['json', 'md', 'html']) expect(keys).toContain(`${prefix}spot-check.${format}`);
    expect(await readFile(join(reports, prefix, 'summary.html'), 'utf8')).toContain(
      '<a href="spot-check.html">spot-check.html</a>',
    );
  });

  it('a dry run takes no snapshot, writes nothing to the database and still produces every report', async () => {
    // Prepare
    await resetToDemo();
    const unified = await unifiedStateHash(sql);
    const legacy = await legacyStateHash(sql);
    const taken = snapshotsTaken.length;

    // Act
    const result = await run({ input: { stage: 'test', dryRun: true } });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(snapshotsTaken.length).toBe(taken);
    expect(await unifiedStateHash(sql)).toBe(unified);
    expect(await legacyStateHash(sql)).toBe(legacy);
    const summary = (await readReport(store(), `test/${result.runId}/summary.json`)) as {
      dryRun: boolean;
      backfill: { counts: Record<string, number> }[];
    };
    expect(summary.dryRun).toBe(true);
    expect(summary.backfill[0]?.counts.companiesCreated).toBeGreaterThan(0);
  });

  it('a second run changes nothing', async () => {
    // Prepare
    await resetToDemo();
    await run();
    const afterFirst = await unifiedStateHash(sql);

    // Act
    const second = await run({ input: { stage: 'test', skipSnapshot: true } });

    // Assess
    expect(second.status).toBe('SUCCEEDED');
    expect(await unifiedStateHash(sql)).toBe(afterFirst);
    const summary = (await readReport(store(), `test/${second.runId}/summary.json`)) as {
      backfill: { counts: Record<string, number> }[];
    };
    const writes = summary.backfill.flatMap((b) =>
      Object.entries(b.counts).filter(([k, n]) => /Created|Inserted|Updated/.test(k) && n > 0),
    );
    expect(writes).toEqual([]);
  });

  it('loops a backfill step over many invocations when each has little time', async () => {
    // Prepare
    await resetToDemo();

    // Act
    const result = await run({
      invocationBudgetMs: 0,
      input: { stage: 'test', chunkSize: 50, skipSnapshot: true },
    });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.invocations.BackfillCompanies).toBeGreaterThan(3);
    expect(result.invocations.BackfillProjects).toBeGreaterThan(3);
  });

  it('works through many chunks in one invocation, so history grows with time, not with rows', async () => {
    // Prepare
    await resetToDemo();
    const events: string[] = [];

    // Act
    const result = await run({
      input: { stage: 'test', chunkSize: 10, skipSnapshot: true },
      onEvent: (event) => events.push(event.type),
    });

    // Assess: dozens of chunks per step, one invocation each, and a bounded number of state events.
    const summary = (await readReport(store(), `test/${result.runId}/backfill-companies.json`)) as {
      chunks: number;
    };
    expect(summary.chunks).toBeGreaterThan(20);
    expect(result.invocations).toMatchObject({
      BackfillCompanies: 1,
      BackfillPersonnel: 1,
      BackfillProjects: 1,
    });
    expect(events.length).toBeLessThan(100);
  });

  it('retries a transient database error and succeeds', async () => {
    // Prepare
    await resetToDemo();

    // Act
    const result = await run({
      faults: [
        {
          state: 'BackfillPersonnel',
          times: 2,
          error: () => new DatabaseResumingError('cluster resuming', { adapter: 'data-api' }),
        },
      ],
    });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.retries.BackfillPersonnel).toBe(2);
  });

  it('fails at once, without retrying, on an invalid execution input', async () => {
    // Act
    const result = await run({ input: { stage: 'test', chunkSize: -5 } as never });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('InputValidationError');
    expect(result.error?.cause).toMatch(/chunkSize/);
    expect(result.retries.Preflight ?? 0).toBe(0);
  });

  it.each(TASK_STATES.filter((s) => !['ReportFailure', 'DescribeSnapshot', 'UndoRun'].includes(s)))(
    'a failure in %s ends Failed with a failure report, and a fresh run then completes the migration',
    async (state) => {
      // Prepare
      await resetToDemo();
      const error =
        state === 'Preflight'
          ? new InputValidationError('injected')
          : new QueryError('injected failure', { adapter: 'pglite' });

      // Act
      const failed = await run({ faults: [{ state, times: 1, error: () => error }] });
      const rerun = await run();

      // Assess
      expect(failed.status).toBe('FAILED');
      expect(failed.error?.name).toBe(error.name);
      const report = (await readReport(store(), `test/${failed.runId}/failure.json`)) as {
        failedState: string;
      };
      expect(report.failedState).toBe(state);
      expect(rerun.status).toBe('SUCCEEDED');
    },
  );

  it('a run on the demo with defects ends Failed, naming each defect', async () => {
    // Prepare
    await resetToDemo(true);

    // Act
    const result = await run();

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('MigrationCriteriaNotMet');
    expect(result.error?.cause).toMatch(/no-critical-issues/);
    expect(result.error?.cause).toMatch(/entity-counts-match/);
    expect(result.error?.cause).toMatch(/project-coverage/);
    expect(result.error?.cause).toMatch(/unmigratable-records/);
  });

  it('undoes exactly the run when post-validation fails and the input asks for it, then ends Failed', async () => {
    // Prepare
    await resetToDemo(true);
    const unifiedBefore = await unifiedStateHash(sql);
    const legacyBefore = await legacyStateHash(sql);

    // Act
    const result = await run({
      input: { stage: 'test', chunkSize: 100, undoOnFailure: true },
      invocationBudgetMs: 0,
    });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PostValidationFailedRunUndone');
    expect(result.invocations.UndoRun).toBeGreaterThan(1); // no time budget: one chunk per invocation
    expect(await unifiedStateHash(sql)).toBe(unifiedBefore);
    expect(await legacyStateHash(sql)).toBe(legacyBefore);
    const undo = (await readReport(store(), `test/${result.runId}/undo.json`)) as {
      status: string;
      totals: { deleted: number; restored: number; keptChanged: number };
    };
    expect(undo.status).toBe('undone');
    expect(undo.totals.deleted).toBeGreaterThan(1_000);
    expect(undo.totals.keptChanged).toBe(0);
    const keys = await store().list(`test/${result.runId}/`);
    expect(keys).toContain(`test/${result.runId}/undo.md`);
  });

  it('a failure in UndoRun ends Failed with a failure report; the undo can be finished afterwards', async () => {
    // Prepare
    await resetToDemo(true);
    const unifiedBefore = await unifiedStateHash(sql);

    // Act
    const failed = await run({
      input: { stage: 'test', chunkSize: 100, undoOnFailure: true },
      faults: [
        { state: 'UndoRun', times: 1, error: () => new QueryError('injected', { adapter: 'pglite' }) },
      ],
    });
    const { undoRun } = await import('../../lib/core/journal/undo.ts');
    const finished = await undoRun(sql, { runId: failed.runId });

    // Assess
    expect(failed.error?.name).toBe('QueryError');
    const report = (await readReport(store(), `test/${failed.runId}/failure.json`)) as {
      failedState: string;
    };
    expect(report.failedState).toBe('UndoRun');
    expect(finished.status).toBe('undone');
    expect(await unifiedStateHash(sql)).toBe(unifiedBefore);
  });

  it('without undoOnFailure a failed post-validation leaves the run’s rows for the operator to decide', async () => {
    // Prepare
    await resetToDemo(true);
    const unifiedBefore = await unifiedStateHash(sql);

    // Act
    const result = await run();

    // Assess
    expect(result.error?.name).toBe('MigrationCriteriaNotMet');
    expect(result.invocations.UndoRun ?? 0).toBe(0);
    expect(await unifiedStateHash(sql)).not.toBe(unifiedBefore);
  });

  it('ends a failed run in the same state a clean run reaches, once re-run', async () => {
    // Prepare
    await resetToDemo();
    await run({ input: { stage: 'test', skipSnapshot: true } });
    const clean = await unifiedNaturalState(sql);
    await resetToDemo();

    // Act
    await run({
      faults: [
        { state: 'BackfillProjects', times: 1, error: () => new QueryError('x', { adapter: 'pglite' }) },
      ],
    });
    await run({ input: { stage: 'test', skipSnapshot: true } });

    // Assess
    expect(await unifiedNaturalState(sql)).toEqual(clean);
  });
});
