import * as z from 'zod';
import { sampleSchema } from '../backfill/contract.ts';
import { pathSegment } from '../reports/store.ts';

export const undoRequestSchema = z.object({
  runId: pathSegment(80),
  /** Report what an undo would do, write nothing. */
  dryRun: z.boolean().default(false),
  /**
   * Rows the run created that later writes depend on (e.g. an assignment the application hung on a
   * company the run created) stop the undo; with this, those rows are kept and the rest is undone.
   */
  keepDependents: z.boolean().default(false),
  /** Journaled rows per chunk (one transaction each). */
  chunkSize: z.number().int().min(1).max(50_000).default(2_000),
  /** Stop starting new chunks after this long; calling again continues. */
  timeBudgetMs: z.number().int().min(0).default(600_000),
  sampleSize: z.number().int().min(0).max(1_000).default(20),
});
export type UndoRequest = z.input<typeof undoRequestSchema>;
export type UndoOptions = z.output<typeof undoRequestSchema>;

/**
 * What happens to each row the run wrote:
 * - deleted: the run inserted it, nobody changed it since, nothing else refers to it;
 * - restored: the run updated it, nobody changed it since: it gets its earlier values back;
 * - reinserted: the run deleted it (a merge): it is put back with its key and earlier values;
 * - keptChanged: someone changed (or re-wrote) it after the run: their write stays — for a row the run
 *   deleted, someone wrote a row with its key (or its unique name) since, so it cannot be put back;
 * - keptDependent: the run inserted it but later rows refer to it (only with keepDependents);
 * - gone: someone deleted it after the run: nothing to do.
 */
export const UNDO_OUTCOMES = [
  'deleted',
  'restored',
  'reinserted',
  'keptChanged',
  'keptDependent',
  'gone',
] as const;
export type UndoOutcome = (typeof UNDO_OUTCOMES)[number];

const outcomeCountsSchema = z.object(
  Object.fromEntries(UNDO_OUTCOMES.map((o) => [o, z.number().int().min(0)])) as Record<
    UndoOutcome,
    z.ZodNumber
  >,
);
export type OutcomeCounts = z.infer<typeof outcomeCountsSchema>;

export const undoResultSchema = z.object({
  runId: z.string(),
  dryRun: z.boolean(),
  /**
   * - undone: everything the run wrote is reversed or accounted for (this call or earlier ones);
   * - in-progress: the time budget ran out; call again to continue;
   * - stopped: later rows depend on rows the run created; nothing was written (see `dependents`);
   * - planned: a dry run.
   */
  status: z.enum(['undone', 'in-progress', 'stopped', 'planned']),
  done: z.boolean(),
  /** Per unified table, what this call did (or, in a dry run or when stopped, would do). */
  tables: z.record(z.string(), outcomeCountsSchema),
  totals: outcomeCountsSchema,
  /** Journal entries an earlier undo of this run already handled. */
  alreadyUndone: z.number().int().min(0),
  /** The later rows that depend on rows the run created, naming both. */
  dependents: sampleSchema,
  /** Rows left as someone changed them after the run. */
  changedSince: sampleSchema,
  chunks: z.number().int().min(0),
  statements: z.number().int().min(0),
  elapsedMs: z.number().min(0),
});
export type UndoResult = z.infer<typeof undoResultSchema>;

export function emptyOutcomeCounts(): OutcomeCounts {
  return { deleted: 0, restored: 0, reinserted: 0, keptChanged: 0, keptDependent: 0, gone: 0 };
}

/** Sums successive calls of one undo (what the state machine's loop and the CLI show). */
export function combineUndoResults(results: UndoResult[], sampleSize = 20): UndoResult {
  const [first, ...rest] = results;
  if (!first) throw new Error('combineUndoResults needs at least one result');
  const total: UndoResult = structuredClone(first);
  for (const next of rest) {
    for (const [table, counts] of Object.entries(next.tables)) {
      const into = total.tables[table] ?? emptyOutcomeCounts();
      total.tables[table] = into;
      for (const outcome of UNDO_OUTCOMES) into[outcome] += counts[outcome];
    }
    for (const outcome of UNDO_OUTCOMES) total.totals[outcome] += next.totals[outcome];
    total.changedSince.count += next.changedSince.count;
    for (const entry of next.changedSince.sample) {
      if (total.changedSince.sample.length < sampleSize) total.changedSince.sample.push(entry);
    }
    total.status = next.status;
    total.done = next.done;
    total.chunks += next.chunks;
    total.statements += next.statements;
    total.elapsedMs += next.elapsedMs;
  }
  return total;
}
