import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import * as z from 'zod';
import { renderUndoMarkdown } from '../../core/journal/render-undo.ts';
import { UndoBlockedError, UndoInputError, undoRun } from '../../core/journal/undo.ts';
import { combineUndoResults, UNDO_OUTCOMES, type UndoResult } from '../../core/journal/undo-contract.ts';
import { pathSegment } from '../../core/reports/store.ts';
import { openDatabase, withDatabaseOptions } from '../database.ts';
import { CliError, EXIT } from '../errors.ts';
import type { CliIo } from '../output.ts';

const undoOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  dryRun: z.boolean().default(false),
  keepDependents: z.boolean().default(false),
  chunkSize: z.coerce.number().int().min(1).max(50_000).default(2_000),
  sampleSize: z.coerce.number().int().min(0).max(1_000).default(10),
  json: z.boolean().default(false),
});
export type UndoCommandOptions = z.infer<typeof undoOptions>;

export function registerUndoCommand(program: Command, io: CliIo): void {
  withDatabaseOptions(
    program.command('undo').argument('<run-id>', 'the run to undo (as its backfill or `run` printed it)'),
  )
    .description(
      'reverse exactly one run from its journal: delete the rows it inserted and give the rows it updated ' +
        'their earlier values, newest first, one transaction per chunk. Rows changed by anyone after the run ' +
        'are left as they are (and listed). Rows that later rows depend on stop the undo, which then writes ' +
        'nothing and names them, unless --keep-dependents. Running it again changes nothing. ' +
        'Exit 0 undone (or planned), 1 stopped by dependent rows, 2 error.',
    )
    .option('--dry-run', 'report what the undo would do, writing nothing')
    .option('--keep-dependents', 'keep the rows later rows depend on, and undo the rest')
    .option('--chunk-size <n>', 'journaled rows per chunk (one transaction each)', '2000')
    .option('--sample-size <n>', 'rows named per list', '10')
    .option('--json', 'print the result as JSON')
    .action(async (runId: string, raw: Record<string, unknown>) => {
      const options = undoOptions.parse(raw);
      const result = await runUndo(runId, options, io);
      io.stdout(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderUndoMarkdown(result)}\n`);
      if (result.status === 'stopped') io.setExitCode?.(EXIT.checkFailed);
    });
}

export async function runUndo(runId: string, options: UndoCommandOptions, io: CliIo): Promise<UndoResult> {
  const id = pathSegment(80).safeParse(runId);
  if (!id.success)
    throw new CliError(`invalid run id ${JSON.stringify(runId)}: ${id.error.issues[0]?.message}`);
  const { client } = await openDatabase({ ...options, mustExist: true }, io.env);
  const display = progressDisplay(io, options);
  try {
    const results: UndoResult[] = [];
    for (;;) {
      // Calls of a few seconds each, so the display moves; the undo itself resumes from the journal.
      const result = await undoRun(client, {
        runId: id.data,
        dryRun: options.dryRun,
        keepDependents: options.keepDependents,
        chunkSize: options.chunkSize,
        sampleSize: options.sampleSize,
        timeBudgetMs: 2_000,
      });
      results.push(result);
      display.update(combineUndoResults(results, options.sampleSize));
      if (result.status !== 'in-progress') break;
    }
    return combineUndoResults(results, options.sampleSize);
  } catch (error) {
    if (error instanceof UndoInputError || error instanceof UndoBlockedError)
      throw new CliError(error.message);
    throw error;
  } finally {
    display.stop();
    await client.close();
  }
}

function progressDisplay(io: CliIo, options: UndoCommandOptions) {
  if (!io.interactive || options.dryRun || options.json)
    return { update: (_: UndoResult) => {}, stop: () => {} };
  const bar = new SingleBar({ format: 'undo {value} rows handled | {chunks} chunks', hideCursor: true });
  let running = false;
  return {
    update(result: UndoResult) {
      const handled = UNDO_OUTCOMES.reduce((n, o) => n + result.totals[o], 0);
      if (!running) bar.start(0, handled, { chunks: result.chunks });
      running = true;
      bar.update(handled, { chunks: result.chunks });
    },
    stop() {
      if (running) bar.stop();
    },
  };
}
