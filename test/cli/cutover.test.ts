import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CutoverReport } from '../../lib/core/cutover/report-schema.ts';
import { PgliteSqlClient } from '../../lib/core/sql/pglite-client.ts';
import { runCliCaptured } from '../support/cli.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-cutover-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('company-migration cutover check', () => {
  const data = join(scratch, 'db');

  beforeAll(async () => {
    expect((await runCliCaptured(['db', 'init', '--demo', '--data-dir', data])).code).toBe(0);
    expect((await runCliCaptured(['backfill', '--data-dir', data])).code).toBe(0);
  });

  it('is not ready without an earlier check; a dry run records nothing', async () => {
    // Act
    const dry = await runCliCaptured(['cutover', 'check', '--dry-run', '--json', '--data-dir', data]);
    const first = await runCliCaptured(['cutover', 'check', '--json', '--data-dir', data]);

    // Assess
    expect(dry.code).toBe(1);
    expect((JSON.parse(dry.stdout) as CutoverReport).writes.recorded).toBe(false);
    expect(first.code).toBe(1);
    const report = JSON.parse(first.stdout) as CutoverReport;
    expect(report).toMatchObject({ ready: false, writes: { recorded: true }, validation: { passed: true } });
    expect(report.reasons).toEqual([
      'no earlier check to compare writes with; baseline recorded now: check again after 24 h of normal application use',
    ]);
  });

  it('is ready when nothing depends on the legacy tables and nothing wrote them since, and writes the SQL', async () => {
    // Prepare
    const sqlFile = join(scratch, 'retire.sql');

    // Act
    const run = await runCliCaptured([
      'cutover',
      'check',
      '--min-quiet-hours',
      '0',
      '--sql-out',
      sqlFile,
      '--data-dir',
      data,
    ]);

    // Assess
    expect(run.stdout).toContain('# Cutover readiness of schema public: READY');
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`SQL written (not run): ${sqlFile}`);
    const sql = readFileSync(sqlFile, 'utf8');
    expect(sql).toContain('DROP TABLE "public"."technology_vendors";');
    expect(run.stdout).toContain(sql.trimEnd());
  });

  it('is not ready while a view reads a legacy table', async () => {
    // Prepare
    const client = await PgliteSqlClient.open({ dataDir: data });
    await client.query('CREATE VIEW client_names AS SELECT client_id, client_name FROM clients');
    await client.close();

    // Act
    const run = await runCliCaptured(['cutover', 'check', '--min-quiet-hours', '0', '--data-dir', data]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('NOT READY');
    expect(run.stdout).toContain('- 1 view reads legacy tables: public.client_names (clients)');
    expect(run.stdout).toContain('DROP VIEW "public"."client_names";');
  });

  it('refuses invalid options with one line and exit 2, and explains itself with --help', async () => {
    // Act
    const invalid = await runCliCaptured(['cutover', 'check', '--min-quiet-hours', '-3', '--data-dir', data]);
    const help = await runCliCaptured(['cutover', 'check', '--help']);

    // Assess
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^error: invalid options: --min-quiet-hours: /);
    expect(help.code).toBe(0);
    for (const option of ['--min-quiet-hours', '--sql-out', '--dry-run', '--json'])
      expect(help.stdout).toContain(option);
  });
});
