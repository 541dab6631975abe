import { randomBytes } from 'node:crypto';
import { ensureJournal, type JournalTag, registerRun } from '../journal/schema.ts';
import type { RoleCode } from '../mapping/roles.ts';
import { timestampedRunId } from '../pipeline/run-id.ts';
import type { SqlClient, SqlSession } from '../sql/types.ts';
import {
  type BackfillOptions,
  type BackfillRequest,
  type BackfillResult,
  type BackfillStep,
  backfillRequestSchema,
  emptySample,
  mergeSample,
  type Sample,
} from './contract.ts';

/** What one chunk (or a whole dry run) did or would do. */
export interface StepOutcome {
  counts: Record<string, number>;
  orphans?: Sample;
  conflicts?: Sample;
  unmigratable?: Sample;
}

/** The next chunk: its last key, its row count, and whether it is the phase's last. */
export interface ChunkBounds {
  upto: number;
  rows: number;
  /** Nothing follows it: the phase ends without another (empty) transaction to find that out. */
  last: boolean;
}

/** The key range one chunk covers, and what its writes are journaled under. */
export interface ChunkContext {
  after: number;
  upto: number;
  sampleSize: number;
  journal: JournalTag;
}

/** One pass over one key range: a legacy table by its primary key, or companies by company_id. */
export interface BackfillPhase {
  /** Shown in progress displays: the table being read. */
  label: string;
  /**
   * A scalar query: the rows this phase will go through in all (for progress). The driver counts every
   * phase in one statement.
   */
  countSql: string;
  /** Count again when the phase starts: earlier phases change what it walks. */
  recountAtStart?: boolean;
  /** The last key of the next chunk after `after`, and how many rows it holds; null when none are left. */
  nextChunk(tx: SqlSession, after: number, limit: number): Promise<ChunkBounds | null>;
  /**
   * Does the chunk's work, all inside `tx`, journaling every row it writes in the same statement; a
   * constant number of statements whatever the chunk holds.
   */
  applyChunk(tx: SqlSession, chunk: ChunkContext): Promise<StepOutcome>;
}

export interface BackfillStepDefinition {
  step: BackfillStep;
  /** Counts every call reports, zero when nothing happened (so results always have the same shape). */
  countKeys: readonly string[];
  /** Runs once per live call before the chunks (e.g. creating missing roles); idempotent, journaled. */
  prepare?(sql: SqlClient, journal: JournalTag): Promise<StepOutcome>;
  /** `entity` limits the step to one role's legacy table (and the links pointing at its records). */
  phases(sql: SqlSession, entity: RoleCode | undefined): Promise<BackfillPhase[]>;
  /** The dry run: the exact numbers a live run would report, read-only. */
  predict(sql: SqlSession, sampleSize: number, entity: RoleCode | undefined): Promise<StepOutcome>;
}

export interface BackfillProgress {
  step: BackfillStep;
  label: string;
  processed: number;
  total: number;
}

export interface RunStepHooks {
  onProgress?: (progress: BackfillProgress) => void;
  /** Test seam: called after each committed chunk (an injected failure here must leave a resumable state). */
  afterChunk?: (cursor: { phase: number; after: number }) => Promise<void> | void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Where a phase starts: keys are read after this one. One below the lowest int4, not 0: legacy keys of
 * zero or below (rows imported with explicit ids), down to -2147483648 itself, must be migrated too, as
 * the dry run (whole range) predicts. The chunk SQL compares keys with `:after::int8` to hold it.
 */
export const PHASE_START = -2_147_483_649;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs one backfill step from its cursor: chunk after chunk, each in its own transaction, until the
 * step is done or the time budget is spent (at least one chunk runs, so every call makes progress).
 */
export async function runBackfillStep(
  definition: BackfillStepDefinition,
  sql: SqlClient,
  request: BackfillRequest,
  hooks: RunStepHooks = {},
): Promise<BackfillResult> {
  const options: BackfillOptions = backfillRequestSchema.parse(request);
  const now = hooks.now ?? Date.now;
  const started = now();
  const statementsBefore = sql.statementsIssued;
  const result = emptyResult(definition, options);

  if (options.dryRun) {
    result.runId = null;
    add(result, await definition.predict(sql, options.sampleSize, options.entity), options.sampleSize);
    result.done = true;
    return finish(result, sql, statementsBefore, now() - started);
  }

  const runId = options.runId ?? adHocRunId(new Date(started));
  result.runId = runId;
  const journal: JournalTag = { journal_run_id: runId, journal_step: definition.step };
  await ensureJournal(sql);
  await registerRun(sql, runId);
  if (definition.prepare) add(result, await definition.prepare(sql, journal), options.sampleSize);
  const phases = await definition.phases(sql, options.entity);
  let cursor = options.cursor ?? { phase: 0, after: PHASE_START };
  // Totals are counted up front, in one statement; a phase that walks what earlier phases create (the
  // company-field phase) is counted again when it starts.
  const totals = await countPhases(sql, phases);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  result.progress.total = sum(totals);
  let processedBefore = sum(totals.slice(0, cursor.phase));
  let processedInPhase = 0;

  const nextPhase = async () => {
    processedBefore += Math.max(totals[cursor.phase] ?? 0, processedInPhase);
    processedInPhase = 0;
    cursor = { phase: cursor.phase + 1, after: PHASE_START };
    const next = phases[cursor.phase];
    if (next) {
      if (next.recountAtStart) totals[cursor.phase] = (await countPhases(sql, [next]))[0] ?? 0;
      result.progress.total = Math.max(processedBefore + sum(totals.slice(cursor.phase)), processedBefore);
    }
  };

  while (cursor.phase < phases.length) {
    const phase = phases[cursor.phase] as BackfillPhase;
    if (result.chunks > 0 && now() - started >= options.timeBudgetMs) break;
    const chunk = await sql.transaction(async (tx) => {
      const bounds = await phase.nextChunk(tx, cursor.after, options.chunkSize);
      if (!bounds) return null;
      const outcome = await phase.applyChunk(tx, {
        after: cursor.after,
        upto: bounds.upto,
        sampleSize: options.sampleSize,
        journal,
      });
      return { bounds, outcome };
    });
    if (!chunk) {
      await nextPhase();
      continue;
    }
    add(result, chunk.outcome, options.sampleSize);
    result.chunks++;
    result.progress.processed += chunk.bounds.rows;
    processedInPhase += chunk.bounds.rows;
    cursor = { phase: cursor.phase, after: chunk.bounds.upto };
    hooks.onProgress?.({
      step: definition.step,
      label: phase.label,
      processed: processedBefore + processedInPhase,
      total: Math.max(result.progress.total, processedBefore + processedInPhase),
    });
    await hooks.afterChunk?.(cursor);
    if (chunk.bounds.last) await nextPhase();
    if (options.throttleMs > 0) await (hooks.sleep ?? defaultSleep)(options.throttleMs);
  }
  result.done = cursor.phase >= phases.length;
  result.cursor = result.done ? null : cursor;
  return finish(result, sql, statementsBefore, now() - started);
}

async function countPhases(sql: SqlSession, phases: BackfillPhase[]): Promise<number[]> {
  if (phases.length === 0) return [];
  const { rows } = await sql.query<Record<string, number | bigint>>(
    `SELECT ${phases.map((phase, i) => `(${phase.countSql})::int8 AS c${i}`).join(', ')}`,
  );
  return phases.map((_, i) => Number(rows[0]?.[`c${i}`] ?? 0));
}

/** A run id for a backfill called outside a run: readable, and unique even within one second. */
function adHocRunId(now: Date): string {
  return `${timestampedRunId('backfill', now)}-${randomBytes(3).toString('hex')}`;
}

function emptyResult(definition: BackfillStepDefinition, options: BackfillOptions): BackfillResult {
  return {
    step: definition.step,
    runId: options.runId ?? null,
    dryRun: options.dryRun,
    done: false,
    cursor: options.cursor,
    counts: Object.fromEntries(definition.countKeys.map((k) => [k, 0])),
    orphans: emptySample(),
    conflicts: emptySample(),
    unmigratable: emptySample(),
    progress: { processed: 0, total: 0 },
    chunks: 0,
    statements: 0,
    elapsedMs: 0,
  };
}

function add(result: BackfillResult, outcome: StepOutcome, sampleSize: number): void {
  for (const [key, value] of Object.entries(outcome.counts))
    result.counts[key] = (result.counts[key] ?? 0) + value;
  if (outcome.orphans) mergeSample(result.orphans, outcome.orphans, sampleSize);
  if (outcome.conflicts) mergeSample(result.conflicts, outcome.conflicts, sampleSize);
  if (outcome.unmigratable) mergeSample(result.unmigratable, outcome.unmigratable, sampleSize);
}

function finish(
  result: BackfillResult,
  sql: SqlClient,
  statementsBefore: number,
  elapsedMs: number,
): BackfillResult {
  result.statements = sql.statementsIssued - statementsBefore;
  result.elapsedMs = elapsedMs;
  return result;
}
