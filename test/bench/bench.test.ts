import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatResults } from '../../lib/bench/format.ts';
import { runBenchmark } from '../../lib/bench/run.ts';

const url = process.env.DATABASE_URL;

if (!url) {
  console.warn(
    'bench test skipped: set DATABASE_URL to a PostgreSQL server to run the benchmark at a tiny scale',
  );
}

/**
 * Runs the benchmark end to end at a tiny scale so it cannot rot: in a schema of its own in the
 * DATABASE_URL database (dropped afterwards), without the bundle measurement (slow, covered by the
 * stack tests' bundling).
 */
describe.runIf(url)('npm run bench at a tiny scale', () => {
  it('measures every method on the same data, and every end state matches ours', async () => {
    const results = await runBenchmark({
      scale: 0.0005,
      sampleScale: 0.0005,
      url: url as string,
      ownDatabase: false,
      schema: `bench_test_${process.pid}`,
      keep: false,
      bundles: false,
      dataApi: true,
      projectRoot: resolve(import.meta.dirname, '../..'),
      log: () => {},
    });
    expect(results.endStateChecks.lowerBoundVsOurs).toEqual({ matches: true, differingTables: [] });
    expect(results.endStateChecks.rowByRowVsOursOnSample).toEqual({ matches: true, differingTables: [] });
    expect(results.ours.validation.passed).toBe(true);
    expect(results.ours.backfill.statements).toBeGreaterThan(0);
    expect(results.lowerBound.statements).toBeGreaterThan(0);
    expect(results.rowByRow.sample.statements).toBeGreaterThan(results.ours.backfill.statements);
    expect(results.dataApi?.requests).toBeGreaterThan(0);
    expect(formatResults(results)).toContain('lower bound');
  });
});
