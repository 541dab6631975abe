import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { CliIo } from '../../lib/cli/output.ts';
import { runCli } from '../../lib/cli/program.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output and the given environment. */
export async function runCliCaptured(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
    interactive: false,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

/** Runs the installed entry point (bin/company-migration.js) in a fresh Node process. */
export function runCliProcess(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): CliRun {
  const result = spawnSync(process.execPath, [resolve('bin/company-migration.js'), ...argv], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
