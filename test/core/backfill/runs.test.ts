import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKFILL_STEPS,
  type BackfillRequest,
  type BackfillResult,
  type BackfillStep,
  backfillCompanies,
  backfillPersonnelAffiliations,
  backfillProjectRelationships,
} from '../../../lib/core/backfill/index.ts';
import type { DemoOptions } from '../../../lib/core/demo/generate.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';
import { resetToDemo as resetDemo } from '../../support/demo-reset.ts';
import { instrument } from '../../support/instrumented-sql.ts';
import { legacyStateHash, unifiedNaturalState, unifiedStateHash } from '../../support/unified-state.ts';

/** R8 (idempotent, convergent), R9 (dry run predicts), resume, and the statement budget per chunk. */

const STEP_FUNCTIONS: Record<BackfillStep, typeof backfillCompanies> = {
  companies: backfillCompanies,
  personnel: backfillPersonnelAffiliations,
  projects: backfillProjectRelationships,
};

/** Runs one step to the end, call after call from the returned cursor, as the state machine does. */
async function runToEnd(
  sql: SqlClient,
  step: BackfillStep,
  request: BackfillRequest = {},
): Promise<BackfillResult[]> {
  const results: BackfillResult[] = [];
  let cursor: BackfillRequest['cursor'] = null;
  for (let call = 0; call < 10_000; call++) {
    const result = await STEP_FUNCTIONS[step](sql, { ...request, cursor });
    results.push(result);
    if (result.done) return results;
    cursor = result.cursor;
  }
  throw new Error(`${step} did not finish`);
}

function summed(results: BackfillResult[]) {
  const counts: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.counts)) counts[k] = (counts[k] ?? 0) + v;
  return {
    counts,
    orphans: results.reduce((n, r) => n + r.orphans.count, 0),
    conflicts: results.reduce((n, r) => n + r.conflicts.count, 0),
    unmigratable: results.reduce((n, r) => n + r.unmigratable.count, 0),
  };
}

async function runAll(sql: SqlClient, request: BackfillRequest = {}) {
  const outcome: Record<string, ReturnType<typeof summed>> = {};
  for (const step of BACKFILL_STEPS) outcome[step] = summed(await runToEnd(sql, step, request));
  return outcome;
}

describe.each(realDatabases)('backfill runs: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  /** Empties every table (sequences too) and loads the demo data: each test starts from the same state. */
  const resetToDemo = (options: DemoOptions = { defects: true }) => resetDemo(sql, options);

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('R8: a second run inserts and updates nothing and leaves every unified row, ids included, as it was', async () => {
    // Prepare
    await resetToDemo();
    await runAll(sql);
    const afterFirst = await unifiedStateHash(sql);

    // Act
    const second = await runAll(sql, { chunkSize: 37 });

    // Assess
    const changes = Object.entries(second).flatMap(([step, s]) =>
      Object.entries(s.counts)
        .filter(([key, n]) => /Created|Inserted|Updated/.test(key) && n > 0)
        .map(([key]) => `${step}.${key}`),
    );
    expect(changes).toEqual([]);
    expect(await unifiedStateHash(sql)).toBe(afterFirst);
  });

  it('R8: a run on changed legacy data converges to what a first run on that data gives', async () => {
    // Prepare
    const changeLegacy = `
      UPDATE technology_vendors SET notes = 'notes changed after the first run' WHERE vendor_id = (SELECT min(vendor_id) FROM technology_vendors);
      INSERT INTO technology_vendors (vendor_id, vendor_name, notes) VALUES (90001, 'Newcomer Fusion Systems', 'added later');
      INSERT INTO clients (client_id, client_name, client_status) VALUES (90002, 'Newcomer Fusion Systems', 'Prospect');
      INSERT INTO project_vendor_relationships (relationship_id, project_id, vendor_id, is_confidential, notes)
        SELECT 90003, min(project_id), 90001, true, 'new link' FROM projects;
      UPDATE project_operator_relationships SET is_confidential = true
       WHERE relationship_id = (SELECT max(relationship_id) FROM project_operator_relationships WHERE NOT is_confidential);
      INSERT INTO personnel_entity_relationships (relationship_id, personnel_id, entity_type, entity_id, relationship_role)
        SELECT 90004, min(personnel_id), 'Client', 90002, NULL FROM personnel;`;
    await resetToDemo();
    await sql.runScript(changeLegacy);
    await runAll(sql);
    const fromScratch = await unifiedNaturalState(sql);
    await resetToDemo();
    await runAll(sql);

    // Act
    await sql.runScript(changeLegacy);
    await runAll(sql);

    // Assess
    expect(await unifiedNaturalState(sql)).toEqual(fromScratch);
  });

  it('R9: the dry runs report the numbers the live run then reports, and write nothing', async () => {
    // Prepare
    await resetToDemo();
    const unifiedBefore = await unifiedStateHash(sql);
    const legacyBefore = await legacyStateHash(sql);

    // Act
    const dry = await runAll(sql, { dryRun: true });
    const unifiedAfterDryRun = await unifiedStateHash(sql);
    const live = await runAll(sql, { chunkSize: 23 });

    // Assess
    expect(unifiedAfterDryRun).toBe(unifiedBefore);
    expect(dry).toEqual(live);
    expect(live.companies?.counts.companiesCreated).toBeGreaterThan(0);
    expect(live.projects?.orphans).toBeGreaterThan(0);
    expect(await legacyStateHash(sql)).toBe(legacyBefore);
  });

  it('resumes after every chunk (time budget spent) and ends identical to an uninterrupted run', async () => {
    // Prepare
    await resetToDemo();
    await runAll(sql, { chunkSize: 40 });
    const uninterrupted = await unifiedStateHash(sql, { withAuditTimes: false });
    await resetToDemo();

    // Act
    const callsPerStep: number[] = [];
    for (const step of BACKFILL_STEPS) {
      const calls = await runToEnd(sql, step, { chunkSize: 40, timeBudgetMs: 0 });
      callsPerStep.push(calls.length);
    }

    // Assess
    expect(Math.min(...callsPerStep)).toBeGreaterThan(3);
    expect(await unifiedStateHash(sql, { withAuditTimes: false })).toBe(uninterrupted);
  });

  it.each([2, 9, 31, 77, 140])(
    'resumes after a failure injected at statement %i inside a chunk, with no lost or duplicated row',
    async (failAt) => {
      // Prepare
      await resetToDemo();
      await runAll(sql, { chunkSize: 40 });
      const uninterrupted = await unifiedNaturalState(sql);
      await resetToDemo();
      const faulty = instrument(sql);
      faulty.failAt(failAt);

      // Act
      let failures = 0;
      for (const step of BACKFILL_STEPS) {
        let cursor: BackfillRequest['cursor'] = null;
        for (;;) {
          try {
            const result = await STEP_FUNCTIONS[step](
              faulty,
              { chunkSize: 40, cursor },
              {
                afterChunk: (c) => {
                  cursor = c;
                },
              },
            );
            if (result.done) break;
            cursor = result.cursor;
          } catch {
            failures++;
          }
        }
      }

      // Assess
      expect(failures).toBe(1);
      expect(await unifiedNaturalState(sql)).toEqual(uninterrupted);
    },
  );

  it('sends the same few statements per chunk whatever the data size', async () => {
    // Prepare
    const sizesAt = async (scale: number) => {
      await resetToDemo({ scale });
      const counted = instrument(sql);
      for (const step of BACKFILL_STEPS) await runToEnd(counted, step, { chunkSize: 100 });
      return counted.transactionSizes;
    };

    // Act
    const small = await sizesAt(1);
    const large = await sizesAt(10);

    // Assess
    expect(large.length).toBeGreaterThan(small.length * 3);
    expect([...new Set(large)].sort()).toEqual([...new Set(small)].sort());
    expect(Math.max(...large)).toBeLessThanOrEqual(6);
  });

  it('pauses between chunks when throttled and stops when its time budget is spent', async () => {
    // Prepare
    await resetToDemo();
    const pauses: number[] = [];
    let clock = 0;

    // Act
    const throttled = await backfillCompanies(
      sql,
      { chunkSize: 30, throttleMs: 250, timeBudgetMs: 1_000 },
      {
        sleep: async (ms) => {
          pauses.push(ms);
          clock += ms;
        },
        now: () => clock,
      },
    );

    // Assess
    expect(throttled.done).toBe(false);
    expect(throttled.chunks).toBe(4);
    expect(pauses).toEqual([250, 250, 250, 250]);
    expect(throttled.cursor).toEqual({ phase: expect.any(Number), after: expect.any(Number) });
  });

  it('reports progress that only grows and never passes its total', async () => {
    // Prepare
    await resetToDemo();
    const seen: { processed: number; total: number }[] = [];

    // Act
    await backfillCompanies(sql, { chunkSize: 20 }, { onProgress: (p) => seen.push(p) });

    // Assess
    expect(seen.length).toBeGreaterThan(5);
    for (const [i, p] of seen.entries()) {
      expect(p.processed).toBeLessThanOrEqual(p.total);
      if (i > 0) expect(p.processed).toBeGreaterThanOrEqual(seen[i - 1]?.processed ?? 0);
    }
    expect(seen.at(-1)?.processed).toBe(seen.at(-1)?.total);
  });
});
