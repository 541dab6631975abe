import * as z from 'zod';
import { ROLE_CODES, type RoleCode } from '../mapping/roles.ts';
import { pathSegment } from '../reports/store.ts';

/** The three backfill steps, in the order a migration runs them. */
export const BACKFILL_STEPS = ['companies', 'personnel', 'projects'] as const;
export type BackfillStep = (typeof BACKFILL_STEPS)[number];

/**
 * Where a step stopped: the phase (a legacy table, or the company-field sync) and the last legacy key
 * it finished. Small and JSON-safe: it travels through the state machine between invocations.
 */
export const backfillCursorSchema = z.object({
  phase: z.number().int().min(0),
  after: z.number().int(),
});
export type BackfillCursor = z.infer<typeof backfillCursorSchema>;

/**
 * Legacy rows per chunk (one transaction each) unless told otherwise. Larger chunks insert in longer
 * runs of index order (measured at scale 1: 10,000 → 50,000 rows per chunk took the projects step from
 * 32 s to 24 s) and send fewer requests; a chunk still takes about a second here, far inside the Data
 * API's 45 s statement limit, and holds its locks that long.
 */
export const DEFAULT_CHUNK_SIZE = 50_000;

/** The most a caller may ask for: a chunk must stay well inside the Data API's 45 s per statement. */
export const MAX_CHUNK_SIZE = 100_000;

export const backfillRequestSchema = z.object({
  /**
   * The run the journal files this call's writes under (what `undo` reverses). Absent: the call makes
   * up one and returns it; pass it on to later calls of the same run.
   */
  runId: pathSegment(80).optional(),
  /** null or absent: start from the beginning. */
  cursor: backfillCursorSchema.nullable().default(null),
  /**
   * Only this role's legacy table: the company step migrates its records (and syncs the companies they
   * belong to), the link steps only the links that point at such records. For re-running one entity type
   * when its relationships are missing.
   */
  entity: z.enum(ROLE_CODES as [RoleCode, ...RoleCode[]]).optional(),
  /** Legacy rows per chunk (one transaction each). */
  chunkSize: z.number().int().min(1).max(MAX_CHUNK_SIZE).default(DEFAULT_CHUNK_SIZE),
  /** Stop starting new chunks after this long; the caller resumes from the cursor. */
  timeBudgetMs: z.number().int().min(0).default(600_000),
  /** Predict the live run's numbers without writing anything. */
  dryRun: z.boolean().default(false),
  /** Pause between chunks, to leave the database room for the application. */
  throttleMs: z.number().int().min(0).max(60_000).default(0),
  /** At most this many ids in each sample. */
  sampleSize: z.number().int().min(0).max(1_000).default(20),
});
export type BackfillRequest = z.input<typeof backfillRequestSchema>;
export type BackfillOptions = z.output<typeof backfillRequestSchema>;

export const sampleSchema = z.object({
  count: z.number().int().min(0),
  sample: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))),
});
export type Sample = z.infer<typeof sampleSchema>;

export const backfillResultSchema = z.object({
  step: z.enum(BACKFILL_STEPS),
  /** The run the writes are journaled under; null for a dry run, which writes nothing. */
  runId: z.string().nullable(),
  dryRun: z.boolean(),
  done: z.boolean(),
  cursor: backfillCursorSchema.nullable(),
  /** Exact counts of what was (or, in a dry run, would be) done; keys depend on the step. */
  counts: z.record(z.string(), z.number().int().min(0)),
  orphans: sampleSchema,
  conflicts: sampleSchema,
  /** Legacy rows that cannot be migrated (blank or over-long names): critical. */
  unmigratable: sampleSchema,
  /** Legacy rows seen, for progress: processed so far in this call, and in all (when known). */
  progress: z.object({ processed: z.number().int().min(0), total: z.number().int().min(0) }),
  chunks: z.number().int().min(0),
  statements: z.number().int().min(0),
  elapsedMs: z.number().min(0),
});
export type BackfillResult = z.infer<typeof backfillResultSchema>;

export function emptySample(): Sample {
  return { count: 0, sample: [] };
}

/** Adds `more` to `into`, keeping at most `limit` sample entries. */
export function mergeSample(into: Sample, more: Sample, limit: number): void {
  into.count += more.count;
  for (const entry of more.sample) {
    if (into.sample.length >= limit) break;
    into.sample.push(entry);
  }
}

/** Sums the results of successive calls of one step (what the state machine and the CLI show). */
export function combineResults(results: BackfillResult[], sampleSize = 20): BackfillResult {
  const [first, ...rest] = results;
  if (!first) throw new Error('combineResults needs at least one result');
  const total: BackfillResult = structuredClone(first);
  for (const next of rest) {
    for (const [key, value] of Object.entries(next.counts))
      total.counts[key] = (total.counts[key] ?? 0) + value;
    mergeSample(total.orphans, next.orphans, sampleSize);
    mergeSample(total.conflicts, next.conflicts, sampleSize);
    mergeSample(total.unmigratable, next.unmigratable, sampleSize);
    total.done = next.done;
    total.cursor = next.cursor;
    total.chunks += next.chunks;
    total.statements += next.statements;
    total.elapsedMs += next.elapsedMs;
    total.progress = {
      processed: total.progress.processed + next.progress.processed,
      total: Math.max(total.progress.total, next.progress.total),
    };
  }
  return total;
}
