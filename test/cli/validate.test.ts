import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validationReportSchema } from '../../lib/core/validation/report-schema.ts';
import { runCliCaptured } from '../support/cli.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-validate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('company-migration validate', () => {
  const healthy = join(scratch, 'healthy');
  const defective = join(scratch, 'defective');

  beforeAll(async () => {
    for (const [dir, extra] of [
      [healthy, []],
      [defective, ['--defects']],
    ] as const) {
      expect((await runCliCaptured(['db', 'init', '--demo', ...extra, '--data-dir', dir])).code).toBe(0);
    }
  });

  it('exits 1 before the backfill and 0 after it on the default demo', async () => {
    // Act
    const before = await runCliCaptured(['validate', '--data-dir', healthy]);
    await runCliCaptured(['backfill', '--data-dir', healthy]);
    const after = await runCliCaptured(['validate', '--data-dir', healthy]);

    // Assess
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/^# ❌ FAILED/);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^# ✅ PASSED/);
  });

  it('exits 1 on the demo with defects after the backfill, naming each failed criterion', async () => {
    // Prepare
    await runCliCaptured(['backfill', '--data-dir', defective]);

    // Act
    const run = await runCliCaptured(['validate', '--json', '--data-dir', defective]);

    // Assess
    expect(run.code).toBe(1);
    const report = validationReportSchema.parse(JSON.parse(run.stdout));
    expect(report.criteria.filter((c) => !c.passed).map((c) => c.id)).toEqual([
      'no-critical-issues',
      'entity-counts-match',
      'project-coverage',
    ]);
    expect(report.issues.filter((i) => i.severity === 'critical').map((i) => i.code)).toEqual([
      'unmigratable-records',
    ]);
  });

  it('writes the report as JSON, Markdown and HTML under <out>/<stage>/<run-id>/', async () => {
    // Prepare
    const out = join(scratch, 'reports');

    // Act
    const run = await runCliCaptured([
      'validate',
      '--stage',
      'staging',
      '--run-id',
      'run-7',
      '--out',
      out,
      '--data-dir',
      defective,
    ]);

    // Assess
    expect(run.code).toBe(1);
    const folder = join(out, 'staging', 'run-7');
    for (const file of ['validation.json', 'validation.md', 'validation.html']) {
      expect(existsSync(join(folder, file))).toBe(true);
    }
    const report = validationReportSchema.parse(
      JSON.parse(readFileSync(join(folder, 'validation.json'), 'utf8')),
    );
    expect(report).toMatchObject({ stage: 'staging', runId: 'run-7', passed: false });
    expect(readFileSync(join(folder, 'validation.html'), 'utf8')).toMatch(/<html[\s>]/);
  });

  it.each([
    [['--stage', '../etc'], /--stage/],
    [['--project-threshold', '101'], /--project-threshold/],
    [['--data-dir', join(scratch, 'nowhere')], /no embedded database/],
  ])('refuses %j with exit code 2', async (argv, message) => {
    // Act
    const run = await runCliCaptured([
      'validate',
      ...argv,
      ...(argv.includes('--data-dir') ? [] : ['--data-dir', healthy]),
    ]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
