import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpotCheckReport } from '../../lib/core/spot-check/report-schema.ts';
import { runCliCaptured } from '../support/cli.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-spot-check-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('company-migration spot-check', () => {
  const data = join(scratch, 'db');

  beforeAll(async () => {
    expect((await runCliCaptured(['db', 'init', '--demo', '--data-dir', data])).code).toBe(0);
    expect((await runCliCaptured(['backfill', '--data-dir', data])).code).toBe(0);
  });

  it('shows the same records for the same seed, as JSON, and exits 0 when they all match', async () => {
    // Act
    const args = ['spot-check', '--json', '--seed', 'abc', '--per-role', '2', '--roles', 'operator,offtaker'];
    const first = await runCliCaptured([...args, '--data-dir', data]);
    const again = await runCliCaptured([...args, '--data-dir', data]);

    // Assess
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as SpotCheckReport;
    expect(report).toMatchObject({ seed: 'abc', perRole: 2, roles: ['operator', 'offtaker'], passed: true });
    expect(report.counts).toMatchObject({ sampled: 4, differing: 0 });
    const ids = (r: SpotCheckReport) => r.records.map((x) => `${x.legacyTable}#${x.legacyId}`);
    expect(ids(JSON.parse(again.stdout) as SpotCheckReport)).toEqual(ids(report));
  });

  it('exits 1 and names the record that differs, and writes the side-by-side report with --out', async () => {
    // Prepare: every vendor, which includes the demo's one drifted vendor (renamed after its company)
    const out = join(scratch, 'reports');

    // Act
    const run = await runCliCaptured([
      'spot-check',
      '--roles',
      'vendor',
      '--per-role',
      '1000',
      '--seed',
      'all',
      '--out',
      out,
      '--data-dir',
      data,
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/Spot-check \(seed all, 1000 per role\): \d+ match, 1 differ, 0 unmigratable/);
    expect(run.stdout).toMatch(/technology_vendors#\d+ .*❌ differs\s+company_name is/);
    expect(run.stdout).toContain(
      'same sample again: company-migration spot-check --per-role 1000 --seed all --roles vendor',
    );
    const written = /report written: (\S+\.json), (\S+\.md), (\S+\.html)/.exec(run.stderr);
    expect(written).not.toBeNull();
    const html = written?.[3] ?? '';
    expect(existsSync(html)).toBe(true);
    expect(readFileSync(html, 'utf8')).toContain('Spot-check: 1 record(s) differ');
  });

  it('refuses invalid options and a missing database with one line and exit 2', async () => {
    // Act
    const zero = await runCliCaptured(['spot-check', '--per-role', '0', '--data-dir', data]);
    const role = await runCliCaptured(['spot-check', '--roles', 'vendor,nope', '--data-dir', data]);
    const missing = await runCliCaptured(['spot-check', '--data-dir', join(scratch, 'absent')]);

    // Assess
    expect(zero).toMatchObject({ code: 2, stdout: '' });
    expect(zero.stderr).toMatch(/^error: invalid options: --per-role: /);
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/--roles.*vendor, developer, client, operator, constructor, offtaker/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^error: no embedded database at .*absent: run `company-migration db init` first/,
    );
  });

  it('explains itself with --help', async () => {
    // Act
    const help = await runCliCaptured(['spot-check', '--help']);

    // Assess
    expect(help.code).toBe(0);
    for (const option of ['--per-role', '--seed', '--roles', '--out', '--json'])
      expect(help.stdout).toContain(option);
  });
});
