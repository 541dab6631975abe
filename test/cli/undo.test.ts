import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UndoResult } from '../../lib/core/journal/undo-contract.ts';
import { runCliCaptured } from '../support/cli.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-undo-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('company-migration undo', () => {
  const dataDir = join(scratch, 'demo');
  const status = async () => (await runCliCaptured(['db', 'status', '--json', '--data-dir', dataDir])).stdout;

  beforeAll(async () => {
    const init = await runCliCaptured(['db', 'init', '--demo', '--data-dir', dataDir]);
    expect(init.code).toBe(0);
  });

  it('reverses the backfill it names: dry run first, then the undo, then again with nothing left', async () => {
    // Prepare
    const before = await status();
    const backfill = await runCliCaptured(['backfill', '--run-id', 'cli-undo-1', '--data-dir', dataDir]);
    expect(backfill.code).toBe(0);
    expect(backfill.stderr).toContain('journaled as run cli-undo-1: `company-migration undo cli-undo-1`');
    const afterBackfill = await status();

    // Act
    const dry = await runCliCaptured(['undo', 'cli-undo-1', '--dry-run', '--json', '--data-dir', dataDir]);
    const afterDryRun = await status();
    const undo = await runCliCaptured(['undo', 'cli-undo-1', '--data-dir', dataDir]);
    const again = await runCliCaptured(['undo', 'cli-undo-1', '--json', '--data-dir', dataDir]);

    // Assess
    expect([dry.code, undo.code, again.code]).toEqual([0, 0, 0]);
    expect(afterDryRun).toBe(afterBackfill);
    expect(await status()).toBe(before);
    const planned = JSON.parse(dry.stdout) as UndoResult;
    expect(planned.status).toBe('planned');
    expect(planned.totals.deleted).toBeGreaterThan(1_000);
    expect(undo.stdout).toMatch(/^Run cli-undo-1 undone\./);
    expect(undo.stdout).toMatch(
      new RegExp(`^\\| companies \\| ${planned.tables.companies?.deleted} \\|`, 'm'),
    );
    const repeated = JSON.parse(again.stdout) as UndoResult;
    expect(repeated.totals.deleted + repeated.totals.restored).toBe(0);
    expect(repeated.alreadyUndone).toBeGreaterThan(1_000);
  });

  it('exits 1 and names the dependent row when the application hung a row on what the run created', async () => {
    // Prepare
    const backfill = await runCliCaptured(['backfill', '--run-id', 'cli-undo-2', '--data-dir', dataDir]);
    expect(backfill.code).toBe(0);
    const { PgliteSqlClient } = await import('../../lib/core/sql/pglite-client.ts');
    const sql = await PgliteSqlClient.open({ dataDir });
    try {
      await sql.query(
        `INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id)
         SELECT min(row_key)::int, (SELECT min(role_id) FROM company_roles), 'Project', 777
           FROM company_migration_journal WHERE run_id = 'cli-undo-2' AND table_name = 'companies' AND op = 'insert'`,
      );
    } finally {
      await sql.close();
    }

    // Act
    const stopped = await runCliCaptured(['undo', 'cli-undo-2', '--data-dir', dataDir]);
    const kept = await runCliCaptured([
      'undo',
      'cli-undo-2',
      '--keep-dependents',
      '--json',
      '--data-dir',
      dataDir,
    ]);

    // Assess
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toMatch(/^STOPPED: 1 later row\(s\) depend on rows run cli-undo-2 created/);
    expect(stopped.stdout).toMatch(
      /table=company_role_assignments id=\d+ column=company_id references=companies/,
    );
    expect(kept.code).toBe(0);
    expect((JSON.parse(kept.stdout) as UndoResult).totals.keptDependent).toBe(1);
  });

  it.each([
    [['undo', 'no-such-run'], /error: run no-such-run is not in the journal/],
    [['undo', '../etc'], /error: invalid run id "..\/etc"/],
    [['undo', 'x', '--chunk-size', '0'], /--chunk-size: Too small/],
  ])('refuses %j with exit code 2 and one clear line', async (argv, message) => {
    // Act
    const run = await runCliCaptured([...argv, '--data-dir', dataDir]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
