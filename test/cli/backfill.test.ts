import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackfillResult } from '../../lib/core/backfill/index.ts';
import { runCliCaptured } from '../support/cli.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-backfill-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function parse(stdout: string): BackfillResult[] {
  return JSON.parse(stdout) as BackfillResult[];
}

describe('company-migration backfill', () => {
  const dataDir = join(scratch, 'demo');

  beforeAll(async () => {
    const init = await runCliCaptured(['db', 'init', '--demo', '--data-dir', dataDir]);
    expect(init.code).toBe(0);
  });

  it('predicts with --dry-run exactly what the live run then does, and a re-run does nothing', async () => {
    // Act
    const dry = await runCliCaptured(['backfill', '--dry-run', '--json', '--data-dir', dataDir]);
    const live = await runCliCaptured(['backfill', '--json', '--chunk-size', '25', '--data-dir', dataDir]);
    const again = await runCliCaptured(['backfill', '--json', '--data-dir', dataDir]);

    // Assess
    expect([dry.code, live.code, again.code]).toEqual([0, 0, 0]);
    const countsOf = (results: BackfillResult[]) => results.map((r) => [r.step, r.counts, r.orphans.count]);
    expect(countsOf(parse(dry.stdout))).toEqual(countsOf(parse(live.stdout)));
    expect(parse(live.stdout).map((r) => r.step)).toEqual(['companies', 'personnel', 'projects']);
    expect(parse(live.stdout)[0]?.counts.companiesCreated).toBeGreaterThan(200);
    const writes = parse(again.stdout).flatMap((r) =>
      Object.entries(r.counts).filter(([key, n]) => /Created|Inserted|Updated/.test(key) && n > 0),
    );
    expect(writes).toEqual([]);
  });

  it('prints a summary table with the samples an operator acts on', async () => {
    // Act
    const run = await runCliCaptured(['backfill', '--step', 'projects', '--dry-run', '--data-dir', dataDir]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^DRY RUN: nothing was written/);
    expect(run.stdout).toMatch(/^projects\s+orphans\s+10$/m);
    expect(run.stdout).toMatch(/table=project_vendor_relationships id=\d+ reason=missing (vendor|project)/);
  });

  it.each([
    [['--chunk-size', '0'], /--chunk-size: Too small/],
    [['--step', 'everything'], /argument 'everything' is invalid/],
    [['--throttle-ms', '-5'], /--throttle-ms: Too small/],
  ])('rejects %j with exit code 2', async (argv, message) => {
    // Act
    const run = await runCliCaptured(['backfill', ...argv, '--data-dir', dataDir]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('names the missing tables instead of backfilling a database without the schemas', async () => {
    // Prepare
    const empty = join(scratch, 'empty');
    await runCliCaptured(['db', 'init', '--schema-only', '--data-dir', empty]);
    const { PgliteSqlClient } = await import('../../lib/core/sql/pglite-client.ts');
    const client = await PgliteSqlClient.open({ dataDir: empty });
    await client.query('DROP TABLE project_offtaker_relationships');
    await client.close();

    // Act
    const run = await runCliCaptured(['backfill', '--data-dir', empty]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/lacks 1 table\(s\): project_offtaker_relationships/);
  });
});
