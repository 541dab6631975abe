import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_STEPS, runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import { createDataApiDouble, type DataApiDouble } from '../../support/data-api-double.ts';
import { openPgliteDatabase, type TestDatabase } from '../../support/databases.ts';
import { unifiedStateHash } from '../../support/unified-state.ts';

/** The backfill's SQL through the RDS Data API adapter: same results as through PGlite directly. */
describe('backfill through the Data API adapter', () => {
  let double: DataApiDouble;
  let reference: TestDatabase;

  async function backfillAll(sql: SqlClient, dryRun: boolean) {
    const results = [];
    for (const step of BACKFILL_STEPS) {
      results.push(await runBackfillToEnd(sql, step, { dryRun, chunkSize: 60, sampleSize: 50 }));
    }
    return results.map((r) => ({
      step: r.step,
      counts: r.counts,
      orphans: r.orphans,
      unmigratable: r.unmigratable,
    }));
  }

  beforeAll(async () => {
    double = await createDataApiDouble({ schema: 'backfill_data_api' });
    reference = await openPgliteDatabase();
    const dataset = generateDemoData({ defects: true });
    for (const sql of [double.sqlClient, reference.client]) {
      await applySchemas(sql);
      await loadDemoData(sql, dataset);
    }
  });

  afterAll(async () => {
    await double?.close();
    await reference?.dispose();
  });

  it('predicts, backfills and ends in the same state as a direct PostgreSQL connection', async () => {
    // Act
    const dryViaDataApi = await backfillAll(double.sqlClient, true);
    const viaDataApi = await backfillAll(double.sqlClient, false);
    const direct = await backfillAll(reference.client, false);

    // Assess
    expect(viaDataApi).toEqual(direct);
    expect(dryViaDataApi).toEqual(viaDataApi);
    expect(await unifiedStateHash(double.sqlClient, { withAuditTimes: false })).toBe(
      await unifiedStateHash(reference.client, { withAuditTimes: false }),
    );
    expect(Math.max(...double.responseSizes)).toBeLessThan(1024 * 1024);
  });
});
