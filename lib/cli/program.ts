import { Command, CommanderError } from 'commander';
import { registerBackfillCommand } from './commands/backfill.ts';
import { registerStatusCommand } from './commands/cloud-run.ts';
import { registerCutoverCommand } from './commands/cutover.ts';
import { registerDbCommands } from './commands/db.ts';
import { registerDualWriteCommand } from './commands/dual-write.ts';
import { registerDuplicatesCommand } from './commands/duplicates.ts';
import { registerMonitorCommand } from './commands/monitor.ts';
import { registerOrphansCommand } from './commands/orphans.ts';
import { registerReportCommands } from './commands/report.ts';
import { registerRestoreCommand } from './commands/restore.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerSpotCheckCommand } from './commands/spot-check.ts';
import { registerUndoCommand } from './commands/undo.ts';
import { registerValidateCommand } from './commands/validate.ts';
import { describeError, EXIT } from './errors.ts';
import type { CliIo } from './output.ts';

export function createProgram(io: CliIo): Command {
  const program = new Command('company-migration')
    .description(
      'Migrate NukeWorks company data from the legacy role-specific tables to the unified company schema.\n' +
        'Runs against embedded PGlite by default, or a PostgreSQL server (--database-url or DATABASE_URL).',
    )
    .option('--verbose', 'print stack traces on errors')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerDbCommands(program, io);
  registerBackfillCommand(program, io);
  registerValidateCommand(program, io);
  registerMonitorCommand(program, io);
  registerSpotCheckCommand(program, io);
  registerDualWriteCommand(program, io);
  registerDuplicatesCommand(program, io);
  registerOrphansCommand(program, io);
  registerCutoverCommand(program, io);
  registerReportCommands(program, io);
  registerRunCommand(program, io);
  registerStatusCommand(program, io);
  registerUndoCommand(program, io);
  registerRestoreCommand(program, io);
  for (const command of program.commands)
    command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return program;
}

/** Runs the CLI and returns its exit code: 0 done, 1 a check failed, 2 could not do the job. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = createProgram({
    ...io,
    setExitCode: (code) => {
      exitCode = Math.max(exitCode, code);
    },
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with code 0; usage errors were already printed.
      return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    const verbose = argv.includes('--verbose');
    io.stderr(`${describeError(error, verbose)}\n`);
    return typeof (error as { exitCode?: unknown }).exitCode === 'number'
      ? ((error as { exitCode: number }).exitCode as number)
      : EXIT.error;
  }
}
