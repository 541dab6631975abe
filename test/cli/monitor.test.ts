import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMonitorCommand } from '../../lib/cli/commands/monitor.ts';
import { describeError, EXIT } from '../../lib/cli/errors.ts';
import type { CliIo } from '../../lib/cli/output.ts';
import { MONITORING_METRICS, type MonitorResult } from '../../lib/core/pipeline/monitor.ts';
import { PgliteSqlClient } from '../../lib/core/sql/pglite-client.ts';
import { type CliRun, runCliCaptured } from '../support/cli.ts';

/** `monitor` on a program of its own, with runCli's exit-code rules (the lead wires it into program.ts). */
async function runMonitorCli(argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let exitCode: number = EXIT.ok;
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    interactive: false,
    setExitCode: (code) => {
      exitCode = Math.max(exitCode, code);
    },
  };
  const program = new Command('company-migration')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerMonitorCommand(program, io);
  for (const command of program.commands)
    command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  try {
    await program.parseAsync(['monitor', ...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.error;
    else {
      io.stderr(`${describeError(error, false)}\n`);
      exitCode = EXIT.error;
    }
  }
  return { code: exitCode, stdout, stderr };
}

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-monitor-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('company-migration monitor', () => {
  const data = join(scratch, 'db');
  const out = join(scratch, 'reports');

  beforeAll(async () => {
    expect((await runCliCaptured(['db', 'init', '--demo', '--data-dir', data])).code).toBe(0);
    expect((await runCliCaptured(['backfill', '--data-dir', data])).code).toBe(0);
  });

  it('checks everything the first time, then only what changed since the last check', async () => {
    // Act
    const first = await runMonitorCli(['--json', '--stage', 'dev', '--out', out, '--data-dir', data]);

    // Assess
    expect(first.stderr).toMatch(/report written: .*dev\/monitor-\d{8}-\d{6}\/monitor\.json/);
    const result = JSON.parse(first.stdout) as MonitorResult;
    expect(Object.keys(result.metrics).sort()).toEqual([...MONITORING_METRICS].sort());
    expect(result).toMatchObject({ since: null, dualWriteInstalled: false, metrics: { SyncErrors: 0 } });
    // the demo's one drifted vendor (a company named after another of its records) counts on a full check
    expect(result).toMatchObject({ passed: true, healthy: false, metrics: { UnsyncedRecentRecords: 1 } });
    expect(first.code).toBe(1);
    expect(existsSync(join(out, result.reportKey))).toBe(true);
    expect(existsSync(join(out, result.validationReportKey))).toBe(true);

    // Prepare: a vendor created after the check (one second on, so the next check's run id differs)
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const client = await PgliteSqlClient.open({ dataDir: data });
    await client.query(`INSERT INTO technology_vendors (vendor_name) VALUES ('Late Vendor')`);
    await client.close();

    // Act
    const second = await runMonitorCli(['--stage', 'dev', '--out', out, '--data-dir', data]);

    // Assess: the table, since the last check, and exit 1 for the unsynced record
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(/NOT healthy/);
    expect(second.stdout).toMatch(/since: \d{4}-\d{2}-\d{2}T/);
    expect(second.stdout).toMatch(/UnsyncedRecentRecords\s+1\s+Count/);
    expect(second.stdout).toMatch(/QueryLatencyMs\s+[\d.]+\s+Milliseconds/);
    expect(second.stdout).toContain('dual-write: not installed');
    const cleanup = await PgliteSqlClient.open({ dataDir: data });
    await cleanup.query(`DELETE FROM technology_vendors WHERE vendor_name = 'Late Vendor'`);
    await cleanup.close();
  });

  it('takes --since over the last check, and exits 0 when nothing changed and validation passes', async () => {
    // Act
    const run = await runMonitorCli([
      '--json',
      '--since',
      '2099-01-01',
      '--stage',
      'fresh',
      '--out',
      out,
      '--data-dir',
      data,
    ]);

    // Assess
    const result = JSON.parse(run.stdout) as MonitorResult;
    expect(result).toMatchObject({
      since: '2099-01-01T00:00:00.000Z',
      metrics: { UnsyncedRecentRecords: 0 },
    });
    expect(run.code).toBe(0);
  });

  it('exits 2 on a malformed --since or a missing database', async () => {
    // Act
    const badSince = await runMonitorCli(['--since', 'yesterday', '--out', out, '--data-dir', data]);
    const noDatabase = await runMonitorCli(['--out', out, '--data-dir', join(scratch, 'none')]);

    // Assess
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toMatch(/--since/);
    expect(noDatabase.code).toBe(2);
    expect(noDatabase.stderr).toMatch(/no embedded database/);
  });
});
