import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKFILL_STEPS,
  type BackfillRequest,
  type BackfillResult,
  runBackfillToEnd,
} from '../../../lib/core/backfill/index.ts';
import { ROLE_CODES, ROLE_MAPPINGS } from '../../../lib/core/mapping/roles.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';
import { resetToDemo as resetDemo } from '../../support/demo-reset.ts';
import { legacyStateHash, unifiedNaturalState } from '../../support/unified-state.ts';

/** Issue 11: `backfill --entity <role>` limits the run to one legacy table and the links to its records. */

describe.each(realDatabases)('backfill of one entity type: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  const resetToDemo = () => resetDemo(sql, { defects: true });

  async function backfillAll(request: BackfillRequest): Promise<BackfillResult[]> {
    const results: BackfillResult[] = [];
    for (const step of BACKFILL_STEPS) results.push(await runBackfillToEnd(sql, step, request));
    return results;
  }

  const summary = (results: BackfillResult[]) =>
    results.map((r) => ({
      step: r.step,
      counts: r.counts,
      orphans: r.orphans.count,
      conflicts: r.conflicts.count,
      unmigratable: r.unmigratable.count,
    }));

  /** Record assignments and project assignments per role, and affiliations: what the run touched. */
  async function assignmentsByRole(): Promise<Record<string, number>> {
    const { rows } = await sql.query<{ key: string; n: number }>(
      `SELECT r.role_code || ':' || CASE WHEN a.context_type = 'Project' THEN 'project' ELSE 'record' END AS key,
              count(*)::int AS n
         FROM company_role_assignments a JOIN company_roles r USING (role_id)
        GROUP BY 1
       UNION ALL
       SELECT 'affiliations', count(*)::int FROM person_company_affiliations`,
    );
    return Object.fromEntries(rows.map((r) => [r.key, r.n]));
  }

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('touches only that entity’s records and links, and its dry run predicts it exactly', async () => {
    // Prepare
    await resetToDemo();
    const before = await assignmentsByRole();
    const legacyBefore = await legacyStateHash(sql);

    // Act
    const dry = await backfillAll({ entity: 'operator', dryRun: true, chunkSize: 17 });
    const live = await backfillAll({ entity: 'operator', chunkSize: 17 });
    const after = await assignmentsByRole();

    // Assess
    expect(summary(live)).toEqual(summary(dry));
    expect(live[0]?.counts.recordAssignmentsInserted).toBeGreaterThan(0);
    expect(live[2]?.counts.assignmentsInserted).toBeGreaterThan(0);
    const changed = Object.keys(after).filter((key) => after[key] !== before[key]);
    expect(changed.sort()).toEqual(['affiliations', 'operator:project', 'operator:record']);
    expect(await legacyStateHash(sql)).toBe(legacyBefore);
  });

  it('entity by entity, each predicted exactly, ends where one full run ends', async () => {
    // Prepare
    await resetToDemo();
    await backfillAll({});
    const fullRun = await unifiedNaturalState(sql);
    await resetToDemo();

    // Act
    const mismatches: string[] = [];
    for (const entity of [...ROLE_CODES].reverse()) {
      const dry = await backfillAll({ entity, dryRun: true });
      const live = await backfillAll({ entity });
      if (JSON.stringify(summary(dry)) !== JSON.stringify(summary(live))) mismatches.push(entity);
    }

    // Assess
    expect(mismatches).toEqual([]);
    expect(await unifiedNaturalState(sql)).toEqual(fullRun);
    expect(ROLE_MAPPINGS).toHaveLength(ROLE_CODES.length);
  });

  it('rejects an unknown entity with a clear error', async () => {
    // Act
    const running = runBackfillToEnd(sql, 'companies', { entity: 'supplier' as never });

    // Assess
    await expect(running).rejects.toThrow(/entity/);
  });
});
