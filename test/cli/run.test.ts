import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validationReportSchema } from '../../lib/core/validation/report-schema.ts';
import { runCliCaptured, runCliProcess } from '../support/cli.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-run-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function onlyRunFolder(reports: string, stage = 'local'): string {
  const runs = readdirSync(join(reports, stage));
  expect(runs).toHaveLength(1);
  return join(reports, stage, runs[0] as string);
}

describe('company-migration run', () => {
  it('runs the whole migration on the demo database, prints the verdict and exits 0', () => {
    // Prepare: the installed entry point, in a fresh process, as `npm start` runs it.
    const dataDir = join(scratch, 'demo');
    const reports = join(scratch, 'reports-demo');
    expect(runCliProcess(['db', 'init', '--demo', '--data-dir', dataDir]).code).toBe(0);

    // Act
    const run = runCliProcess(['run', '--data-dir', dataDir, '--reports', reports]);

    // Assess
    expect(run.stderr).toMatch(/BackfillCompanies/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/PASSED: stage local migrated and validated/);
    const folder = onlyRunFolder(reports);
    expect(run.stdout).toContain(join(folder, 'summary.html'));
    for (const file of [
      'validation-pre.json',
      'validation-post.json',
      'diff.json',
      'smoke.json',
      'summary.html',
      'snapshot.tar.gz',
    ]) {
      expect(existsSync(join(folder, file)), file).toBe(true);
    }
    expect(
      validationReportSchema.parse(JSON.parse(readFileSync(join(folder, 'validation-post.json'), 'utf8')))
        .passed,
    ).toBe(true);
  });

  it('exits 1 on the demo with defects, with a verdict naming each defect', async () => {
    // Prepare
    const dataDir = join(scratch, 'defects');
    await runCliCaptured(['db', 'init', '--demo', '--defects', '--data-dir', dataDir]);

    // Act
    const run = await runCliCaptured([
      'run',
      '--data-dir',
      dataDir,
      '--reports',
      join(scratch, 'reports-defects'),
    ]);

    // Assess
    expect(run.code).toBe(1);
    for (const defect of [
      'no-critical-issues',
      'entity-counts-match',
      'project-coverage',
      'unmigratable-records',
    ]) {
      expect(run.stdout).toContain(defect);
    }
  });

  it('a dry run writes nothing, takes no backup and still writes every report', async () => {
    // Prepare
    const dataDir = join(scratch, 'dry');
    const reports = join(scratch, 'reports-dry');
    await runCliCaptured(['db', 'init', '--demo', '--data-dir', dataDir]);
    const before = await runCliCaptured(['db', 'status', '--json', '--data-dir', dataDir]);

    // Act
    const run = await runCliCaptured([
      'run',
      '--dry-run',
      '--json',
      '--data-dir',
      dataDir,
      '--reports',
      reports,
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'SUCCEEDED', summary: { dryRun: true } });
    const after = await runCliCaptured(['db', 'status', '--json', '--data-dir', dataDir]);
    expect(JSON.parse(after.stdout).tables).toEqual(JSON.parse(before.stdout).tables);
    const folder = onlyRunFolder(reports);
    expect(existsSync(join(folder, 'snapshot.tar.gz'))).toBe(false);
    expect(existsSync(join(folder, 'summary.json'))).toBe(true);
  });

  it('runs a deployed stage name in AWS, unless --local says otherwise', async () => {
    // Prepare
    const dataDir = join(scratch, 'demo');
    const reports = join(scratch, 'reports-local-staging');
    const savedRegion = { region: process.env.AWS_REGION, defaultRegion: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;

    // Act
    const cloud = await runCliCaptured(['run', '--stage', 'staging', '--dry-run'], { HOME: scratch });
    const local = await runCliCaptured([
      'run',
      '--stage',
      'staging',
      '--local',
      '--dry-run',
      '--data-dir',
      dataDir,
      '--reports',
      reports,
    ]);

    // Assess
    if (savedRegion.region) process.env.AWS_REGION = savedRegion.region;
    if (savedRegion.defaultRegion) process.env.AWS_DEFAULT_REGION = savedRegion.defaultRegion;
    expect(cloud.code).toBe(2);
    expect(cloud.stderr).toMatch(/region|credentials/i);
    expect(local.code).toBe(0);
    expect(existsSync(join(reports, 'staging'))).toBe(true);
  });

  it.each([
    [['--steps', 'companies,everything'], /--steps/],
    [['--chunk-size', '0'], /--chunk-size/],
    [['--stage', '../up'], /--stage/],
  ])('refuses %j with exit code 2', async (argv, message) => {
    // Act
    const run = await runCliCaptured(['run', ...argv, '--data-dir', join(scratch, 'demo')]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
