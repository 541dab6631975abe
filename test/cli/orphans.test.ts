import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orphansListSchema } from '../../lib/core/remedies/orphans.ts';
import { validationReportSchema } from '../../lib/core/validation/report-schema.ts';
import { runCliCaptured } from '../support/cli.ts';

/**
 * `orphans list` through the CLI on the demo data with defects after the backfill: the same counts as
 * validation's V6, the default limit, --limit and --all, text output, and refusals with exit code 2.
 */

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-orphans-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('company-migration orphans list', () => {
  const data = join(scratch, 'db');
  const target = ['--data-dir', data];

  beforeAll(async () => {
    expect((await runCliCaptured(['db', 'init', '--demo', '--defects', ...target])).code).toBe(0);
    expect((await runCliCaptured(['backfill', ...target])).code).toBe(0);
  });

  it('lists the orphans validation counts under V6, all of them with --all, the first n with --limit', async () => {
    // Act
    const all = await runCliCaptured(['orphans', 'list', '--all', '--json', ...target]);
    const limited = await runCliCaptured(['orphans', 'list', '--limit', '2', '--json', ...target]);
    const validation = await runCliCaptured(['validate', '--json', ...target]);

    // Assess
    expect([all.code, limited.code]).toEqual([0, 0]);
    const list = orphansListSchema.parse(JSON.parse(all.stdout));
    const firstTwo = orphansListSchema.parse(JSON.parse(limited.stdout));
    const report = validationReportSchema.parse(JSON.parse(validation.stdout));
    const personnel = list.tables.find((t) => t.table === 'personnel_entity_relationships');
    expect(list.limit).toBeNull();
    expect(report.orphans).toMatchObject({
      personnelLinks: personnel?.count,
      projectLinks: list.legacyLinks - (personnel?.count ?? 0),
      unifiedRows: list.unifiedRows,
    });
    expect(list.legacyLinks).toBeGreaterThan(2);
    for (const table of list.tables) {
      expect(table.rows).toHaveLength(table.count);
      expect(table.truncated).toBe(false);
    }
    expect(firstTwo.limit).toBe(2);
    for (const [i, table] of firstTwo.tables.entries()) {
      expect(table.count).toBe(list.tables[i]?.count);
      expect(table.rows).toEqual(list.tables[i]?.rows.slice(0, 2));
      expect(table.truncated).toBe(table.count > 2);
    }
  });

  it('prints a table of counts and the rows of each table with orphans, saying how many are not shown', async () => {
    // Prepare
    const json = orphansListSchema.parse(
      JSON.parse((await runCliCaptured(['orphans', 'list', '--json', '--all', ...target])).stdout),
    );
    const largest = [...json.tables].sort((a, b) => b.count - a.count)[0];

    // Act
    const run = await runCliCaptured(['orphans', 'list', '--limit', '1', ...target]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${json.legacyLinks} legacy link(s)`);
    expect(run.stdout).toContain(`${largest?.table} (${largest?.count}):`);
    expect(run.stdout).toContain(`… and ${(largest?.count ?? 0) - 1} more (--all lists every one)`);
    expect(run.stdout).toMatch(/missing (project|vendor|entity|person)/);
  });

  it.each([
    [['--limit', '-1'], /--limit/],
    [['--limit', 'many'], /--limit/],
    [['--limit', '5', '--all'], /give --limit or --all, not both/],
    [['--data-dir', join(scratch, 'nowhere')], /no embedded database/],
  ])('refuses %j with exit code 2', async (argv, message) => {
    // Act
    const run = await runCliCaptured([
      'orphans',
      'list',
      ...argv,
      ...(argv.includes('--data-dir') ? [] : target),
    ]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
