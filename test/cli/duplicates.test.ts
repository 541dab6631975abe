import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UndoResult } from '../../lib/core/journal/undo-contract.ts';
import {
  type DuplicatesList,
  duplicatesListSchema,
  keepApartResultSchema,
} from '../../lib/core/remedies/duplicates.ts';
import { mergeResultSchema } from '../../lib/core/remedies/merge.ts';
import { PgSqlClient } from '../../lib/core/sql/pg-client.ts';
import { PgliteSqlClient } from '../../lib/core/sql/pglite-client.ts';
import { validationReportSchema } from '../../lib/core/validation/report-schema.ts';
import { runCliCaptured } from '../support/cli.ts';
import { serverUrl, uniqueSchemaName } from '../support/databases.ts';
import { unifiedStateHash } from '../support/unified-state.ts';

/**
 * `duplicates list`, `keep-apart` and `merge` through the CLI on the demo data after the backfill (its
 * two groups: “holtec international” and “x-energy”): JSON and text output, the dry run, validation
 * afterwards, the merge undone by `undo <run-id>`, the refusals with exit code 2, and the same on a
 * PostgreSQL server.
 */

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-duplicates-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function groupIds(list: DuplicatesList, name: string): [number, number] {
  const ids = list.groups.find((g) => g.normalizedName === name)?.companies.map((c) => c.companyId) ?? [];
  expect(ids).toHaveLength(2);
  return ids as [number, number];
}

async function listJson(target: string[]): Promise<DuplicatesList> {
  const run = await runCliCaptured(['duplicates', 'list', '--json', ...target]);
  expect(run.code).toBe(0);
  return duplicatesListSchema.parse(JSON.parse(run.stdout));
}

async function validateJson(target: string[]) {
  const run = await runCliCaptured(['validate', '--json', ...target]);
  return validationReportSchema.parse(JSON.parse(run.stdout));
}

describe('company-migration duplicates', () => {
  const data = join(scratch, 'db');
  const target = ['--data-dir', data];

  beforeAll(async () => {
    expect((await runCliCaptured(['db', 'init', '--demo', ...target])).code).toBe(0);
    expect((await runCliCaptured(['backfill', ...target])).code).toBe(0);
  });

  it('list prints every V5 group with counts and a suggested survivor, as JSON and as text', async () => {
    // Act
    const list = await listJson(target);
    const text = await runCliCaptured(['duplicates', 'list', ...target]);

    // Assess
    expect(list.groups.map((g) => g.normalizedName)).toEqual(['holtec international', 'x-energy']);
    expect(list).toMatchObject({ schema: 'public', toReview: 2, acknowledged: 0 });
    for (const group of list.groups) {
      const ids = group.companies.map((c) => c.companyId);
      expect(ids).toContain(group.suggestion?.survivorId);
      expect([group.suggestion?.survivorId, ...(group.suggestion?.absorb ?? [])].sort()).toEqual(
        [...ids].sort(),
      );
      for (const company of group.companies) {
        expect(company.recordAssignments).toBeGreaterThanOrEqual(1);
        expect(company.createdDate).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      }
    }
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('2 to review, 0 acknowledged');
    expect(text.stdout).toContain('“holtec international” — to review');
    expect(text.stdout).toMatch(/suggested survivor: \d+ \(/);
  });

  it('keep-apart: a dry run writes nothing; the live run makes validation list that group as acknowledged and only that one', async () => {
    // Prepare
    const [a, b] = groupIds(await listJson(target), 'holtec international');
    const args = ['duplicates', 'keep-apart', String(b), String(a), '--reason', 'subsidiary and parent'];

    // Act
    const dryRun = await runCliCaptured([...args, '--dry-run', '--json', ...target]);
    const afterDryRun = await listJson(target);
    const live = await runCliCaptured([...args, ...target]);
    const again = await runCliCaptured([...args, '--json', ...target]);
    const report = await validateJson(target);
    const afterwards = await listJson(target);

    // Assess
    expect(dryRun.code).toBe(0);
    expect(keepApartResultSchema.parse(JSON.parse(dryRun.stdout))).toMatchObject({
      status: 'recorded',
      dryRun: true,
      companyA: { companyId: Math.min(a, b) },
      groupAcknowledged: true,
    });
    expect(afterDryRun.acknowledged).toBe(0);
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(/^recorded \d+ "Holtec/);
    expect(live.stdout).toContain('group “holtec international” (2 companies) is acknowledged');
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'unchanged' });
    expect(report.duplicateNameGroups.map((g) => [g.normalizedName, g.acknowledged])).toEqual([
      ['holtec international', true],
      ['x-energy', false],
    ]);
    expect(report.issues.filter((i) => i.code.startsWith('duplicate-names'))).toMatchObject([
      { code: 'duplicate-names', count: 1 },
      { code: 'duplicate-names-acknowledged', count: 1 },
    ]);
    expect(afterwards).toMatchObject({ toReview: 1, acknowledged: 1 });
  });

  it.each<[string, (holtec: [string, string], xEnergy: [string, string]) => string[], RegExp]>([
    ['A = B', ([h]) => [h, h, '--reason', 'x'], /A and B are the same company \(\d+\)/],
    ['an unknown id', ([h]) => [h, '999999', '--reason', 'x'], /unknown company id 999999/],
    ['an empty reason', ([h, h2]) => [h, h2, '--reason', '  '], /--reason must say why/],
    ['no reason', ([h, h2]) => [h, h2], /required option '--reason <text>'/],
    [
      'a non-numeric id',
      ([h]) => [h, 'x-energy', '--reason', 'x'],
      /company id B must be a positive whole number/,
    ],
    [
      'names that are not near-identical',
      ([h], [x]) => [h, x, '--reason', 'x'],
      /do not have near-identical names/,
    ],
  ])('keep-apart refuses %s with exit code 2', async (_what, argv, message) => {
    // Prepare
    const list = await listJson(target);
    const ids = (name: string) => groupIds(list, name).map(String) as [string, string];

    // Act
    const run = await runCliCaptured([
      'duplicates',
      'keep-apart',
      ...argv(ids('holtec international'), ids('x-energy')),
      ...target,
    ]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('every subcommand answers --help with its options', async () => {
    // Act
    const list = await runCliCaptured(['duplicates', 'list', '--help']);
    const keep = await runCliCaptured(['duplicates', 'keep-apart', '--help']);
    const merge = await runCliCaptured(['duplicates', 'merge', '--help']);

    // Assess
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('--json');
    expect(keep.code).toBe(0);
    expect(keep.stdout).toMatch(/--reason <text>[\s\S]*--dry-run[\s\S]*--json/);
    expect(merge.code).toBe(0);
    expect(merge.stdout).toMatch(
      /--keep <id>[\s\S]*--merge <id>[\s\S]*--force[\s\S]*--dry-run[\s\S]*--run-id <id>[\s\S]*--json/,
    );
  });
});

describe('company-migration duplicates merge', () => {
  const data = join(scratch, 'merge');
  const target = ['--data-dir', data];

  /** The unified rows' hash, ids and audit times included (the CLI has closed the data directory). */
  async function stateHash(): Promise<string> {
    const sql = await PgliteSqlClient.open({ dataDir: data });
    try {
      return await unifiedStateHash(sql);
    } finally {
      await sql.close();
    }
  }

  beforeAll(async () => {
    expect((await runCliCaptured(['db', 'init', '--demo', ...target])).code).toBe(0);
    expect((await runCliCaptured(['backfill', ...target])).code).toBe(0);
  });

  it('merges the suggested pair (dry run first, as JSON), prints the run id, and `undo <run-id>` restores the exact earlier state', async () => {
    // Prepare
    const group = (await listJson(target)).groups.find((g) => g.normalizedName === 'x-energy');
    const keep = String(group?.suggestion?.survivorId);
    const merge = String(group?.suggestion?.absorb[0]);
    const before = await stateHash();
    const args = ['duplicates', 'merge', '--keep', keep, '--merge', merge, ...target];

    // Act
    const dryRun = await runCliCaptured([...args, '--dry-run', '--json']);
    const afterDryRun = await stateHash();
    const live = await runCliCaptured(args);
    const afterMerge = await listJson(target);
    const runId = /journaled as run (merge-\d{8}-\d{6}-[0-9a-f]{6})/.exec(live.stdout)?.[1] ?? '';
    const undo = await runCliCaptured(['undo', runId, '--json', ...target]);

    // Assess
    expect(dryRun.code).toBe(0);
    const planned = mergeResultSchema.parse(JSON.parse(dryRun.stdout));
    expect(planned).toMatchObject({
      runId: null,
      dryRun: true,
      survivor: { companyId: Number(keep), normalizedName: 'x-energy' },
      merged: { companyId: Number(merge), normalizedName: 'x-energy' },
    });
    expect(planned.assignments.moved + planned.assignments.collapsed).toBeGreaterThan(0);
    expect(afterDryRun).toBe(before);
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(new RegExp(`^merged ${merge} "X-[Ee]nergy" into ${keep} "X-[Ee]nergy"`));
    expect(live.stdout).toContain(
      `role assignments  ${String(planned.assignments.moved).padStart(21)}  ${String(planned.assignments.collapsed).padStart(29)}`,
    );
    expect(live.stdout).toContain(`  company-migration undo ${runId}`);
    expect(afterMerge.groups.map((g) => g.normalizedName)).toEqual(['holtec international']);
    expect(undo.code).toBe(0);
    expect((JSON.parse(undo.stdout) as UndoResult).totals.reinserted).toBeGreaterThan(0);
    expect(await stateHash()).toBe(before);
  });

  it.each<[string, (holtec: [string, string], xEnergy: [string, string]) => string[], RegExp]>([
    ['--keep = --merge', ([h]) => ['--keep', h, '--merge', h], /are the same company \(\d+\)/],
    ['an unknown id', ([h]) => ['--keep', h, '--merge', '999999'], /unknown company id 999999/],
    ['a non-numeric id', ([h]) => ['--keep', h, '--merge', 'x'], /company id --merge must be a positive/],
    ['no --merge', ([h]) => ['--keep', h], /required option '--merge <id>'/],
    [
      'names that are not near-identical',
      ([h], [x]) => ['--keep', h, '--merge', x],
      /do not have near-identical names.*--force merges them anyway/,
    ],
    ['an invalid run id', ([h, h2]) => ['--keep', h, '--merge', h2, '--run-id', '../x'], /./],
  ])('refuses %s with exit code 2 and writes nothing', async (_what, argv, message) => {
    // Prepare
    const list = await listJson(target);
    const ids = (name: string): [string, string] => {
      const found = list.groups.find((g) => g.normalizedName === name)?.companies.map((c) => c.companyId);
      return [String(found?.[0] ?? 1), String(found?.[1] ?? 2)];
    };
    const before = await stateHash();

    // Act
    const run = await runCliCaptured([
      'duplicates',
      'merge',
      ...argv(ids('holtec international'), ids('x-energy')),
      ...target,
    ]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(await stateHash()).toBe(before);
  });

  it('refuses a pair recorded as kept apart unless --force, then merges it', async () => {
    // Prepare
    const [a, b] = groupIds(await listJson(target), 'holtec international');
    await runCliCaptured(['duplicates', 'keep-apart', String(a), String(b), '--reason', 'parent', ...target]);
    const args = ['duplicates', 'merge', '--keep', String(a), '--merge', String(b), '--json', ...target];

    // Act
    const refused = await runCliCaptured(args);
    const forced = await runCliCaptured([...args, '--force']);

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /recorded as legitimately distinct \(“parent”\); --force merges them anyway/,
    );
    expect(forced.code).toBe(0);
    expect(mergeResultSchema.parse(JSON.parse(forced.stdout))).toMatchObject({
      forcedOver: ['kept-apart'],
      keptApartReason: 'parent',
      runId: expect.stringMatching(/^merge-/),
    });
  });
});

describe.runIf(serverUrl)('company-migration duplicates (PostgreSQL server)', () => {
  const database = uniqueSchemaName('dups');
  const admin = serverUrl ? new PgSqlClient({ url: serverUrl, maxConnections: 1 }) : undefined;

  afterAll(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin?.close();
  });

  it('records a pair with --database-url, creating the company_migration schema, and validation acknowledges it', async () => {
    // Prepare
    await admin?.query(`CREATE DATABASE "${database}"`);
    const url = new URL(serverUrl as string);
    url.pathname = `/${database}`;
    const target = ['--database-url', url.toString()];
    expect((await runCliCaptured(['db', 'init', '--demo', ...target])).code).toBe(0);
    expect((await runCliCaptured(['backfill', ...target])).code).toBe(0);
    const [a, b] = groupIds(await listJson(target), 'x-energy');

    // Act
    const run = await runCliCaptured([
      'duplicates',
      'keep-apart',
      String(a),
      String(b),
      '--reason',
      'two firms',
      ...target,
    ]);
    const report = await validateJson(target);

    // Assess
    expect(run.code).toBe(0);
    expect(report.duplicateNameGroups.map((g) => [g.normalizedName, g.acknowledged])).toEqual([
      ['holtec international', false],
      ['x-energy', true],
    ]);
    expect(report.duplicateNameGroups[1]?.acknowledgedPairs).toMatchObject([
      {
        companyA: Math.min(a, b),
        companyB: Math.max(a, b),
        reason: 'two firms',
        recordedBy: expect.any(String),
      },
    ]);
  });

  it('merges with --database-url and undoes the merge', async () => {
    // Prepare: the database the previous test created and backfilled.
    const url = new URL(serverUrl as string);
    url.pathname = `/${database}`;
    const target = ['--database-url', url.toString()];
    const [a, b] = groupIds(await listJson(target), 'holtec international');

    // Act
    const merged = await runCliCaptured([
      'duplicates',
      'merge',
      '--keep',
      String(a),
      '--merge',
      String(b),
      '--run-id',
      'merge-on-server',
      '--json',
      ...target,
    ]);
    const afterMerge = await listJson(target);
    const undo = await runCliCaptured(['undo', 'merge-on-server', ...target]);
    const afterUndo = await listJson(target);

    // Assess
    expect(merged.code).toBe(0);
    expect(JSON.parse(merged.stdout)).toMatchObject({ runId: 'merge-on-server', dryRun: false });
    expect(afterMerge.groups.map((g) => g.normalizedName)).toEqual(['x-energy']);
    expect(undo.code).toBe(0);
    expect(undo.stdout).toMatch(/^Run merge-on-server undone\./);
    expect(afterUndo.groups.map((g) => g.normalizedName)).toEqual(['holtec international', 'x-energy']);
  });
});
