import * as z from 'zod';
import {
  BACKFILL_STEPS,
  backfillCursorSchema,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
} from '../backfill/contract.ts';
import { undoResultSchema } from '../journal/undo-contract.ts';
import { pathSegment } from '../reports/store.ts';

/**
 * What flows between the states of the migration state machine. Every Task's event and result has a
 * schema here; results stay small (a few hundred bytes — far below Step Functions' 256 KiB), and the
 * details go to the report store.
 */

const segment = pathSegment(80);

/** The execution's input, as an operator starts it. */
export const executionInputSchema = z
  .object({
    stage: segment,
    dryRun: z.boolean().default(false),
    steps: z
      .array(z.enum(BACKFILL_STEPS))
      .min(1)
      .default([...BACKFILL_STEPS]),
    chunkSize: z.number().int().min(1).max(MAX_CHUNK_SIZE).default(DEFAULT_CHUNK_SIZE),
    skipSnapshot: z.boolean().default(false),
    /** When post-validation fails, undo what this run wrote (from its journal) before failing. */
    undoOnFailure: z.boolean().default(false),
  })
  .strict();
export type ExecutionInput = z.input<typeof executionInputSchema>;

/** The run as every later state sees it: the validated input plus the run id and decisions. */
export const runContextSchema = z.object({
  runId: segment,
  stage: segment,
  dryRun: z.boolean(),
  steps: z.array(z.enum(BACKFILL_STEPS)).min(1),
  // The backfill's own limit: a larger value would fail inside the step with a raw schema error.
  chunkSize: z.number().int().min(1).max(MAX_CHUNK_SIZE),
  /** A backup is taken unless the run is a dry run, the input skips it, or the stage turns it off. */
  takeSnapshot: z.boolean(),
  /** Undo the run when post-validation fails (never in a dry run: it wrote nothing). */
  undoOnFailure: z.boolean().default(false),
  /** The RDS cluster snapshot's identifier (letters, digits, single hyphens; at most 63). */
  snapshotId: z
    .string()
    .regex(/^[a-z](?:-?[a-z0-9])*$/)
    .max(63),
  startedAt: z.iso.datetime(),
});
export type RunContext = z.infer<typeof runContextSchema>;

export const preflightEventSchema = z.object({ runId: segment, input: z.unknown() });
export type PreflightEvent = z.infer<typeof preflightEventSchema>;

export const validateEventSchema = z.object({ run: runContextSchema, phase: z.enum(['pre', 'post']) });
export const validateResultSchema = z.object({
  phase: z.enum(['pre', 'post']),
  passed: z.boolean(),
  critical: z.number().int(),
  warnings: z.number().int(),
  reportKey: z.string(),
});
export type ValidateResult = z.infer<typeof validateResultSchema>;

/** A backfill step's progress as it travels from one invocation to the next. */
export const backfillStateSchema = z.object({
  step: z.enum(BACKFILL_STEPS),
  done: z.boolean(),
  skipped: z.boolean().default(false),
  cursor: backfillCursorSchema.nullable(),
  invocations: z.number().int().min(0),
  /** Legacy rows gone through so far, and in all (for progress displays). */
  rowsProcessed: z.number().int().min(0).default(0),
  rowsTotal: z.number().int().min(0).default(0),
  counts: z.record(z.string(), z.number().int()),
  orphans: z.number().int(),
  conflicts: z.number().int(),
  unmigratable: z.number().int(),
  reportKey: z.string().nullable(),
});
export type BackfillState = z.infer<typeof backfillStateSchema>;

export const backfillEventSchema = z.object({
  run: runContextSchema,
  step: z.enum(BACKFILL_STEPS),
  /** null on the first invocation of the step. */
  state: backfillStateSchema.nullable().default(null),
});

export const runEventSchema = z.object({ run: runContextSchema });

/** The undo's progress between invocations: the combined result so far and where its report went. */
export const undoStateSchema = undoResultSchema.extend({
  invocations: z.number().int().min(0),
  reportKey: z.string().nullable(),
});
export type UndoState = z.infer<typeof undoStateSchema>;

/** `state` is null on the first invocation. */
export const undoEventSchema = z.object({
  run: runContextSchema,
  state: undoStateSchema.nullable().default(null),
});

export const diffResultSchema = z.object({
  reportKey: z.string(),
  changed: z.number().int(),
  better: z.number().int(),
  worse: z.number().int(),
});

/** The spot-check the smoke state runs after the checks: its figures, the rest is in its report. */
export const spotCheckSummarySchema = z.object({
  seed: z.string(),
  sampled: z.number().int().min(0),
  matching: z.number().int().min(0),
  differing: z.number().int().min(0),
  unmigratable: z.number().int().min(0),
  /** The first records that differ from the rules (table#id), at most 10. */
  differingRecords: z.array(z.string()).max(10),
  reportKey: z.string(),
});
export type SpotCheckSummary = z.infer<typeof spotCheckSummarySchema>;

export const smokeResultSchema = z.object({
  passed: z.boolean(),
  warnings: z.number().int(),
  failures: z.number().int(),
  reportKey: z.string(),
  /** Absent in results of versions before the spot-check. */
  spotCheck: spotCheckSummarySchema.optional(),
});
export type SmokeResult = z.infer<typeof smokeResultSchema>;

export const evaluateEventSchema = z.object({
  run: runContextSchema,
  validatePost: validateResultSchema,
  smoke: smokeResultSchema,
  backfill: z.object({
    companies: backfillStateSchema,
    personnel: backfillStateSchema,
    projects: backfillStateSchema,
  }),
  snapshot: z.object({ snapshotId: z.string().nullable(), status: z.string() }).nullable().default(null),
});

export const evaluateResultSchema = z.object({
  passed: z.boolean(),
  verdict: z.string(),
  failures: z.array(z.string()),
  reportKey: z.string(),
});
export type EvaluateResult = z.infer<typeof evaluateResultSchema>;

/** What a Catch hands to the failure-report state: the error Step Functions caught, and where. */
export const failureEventSchema = z.object({
  // A path segment like every run id: it names the folder (or S3 prefix) the failure report goes to.
  runId: segment,
  failedState: z.string(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }),
  /** The execution's state when it failed: holds `run` once preflight has passed, else the raw input. */
  state: z.unknown().optional(),
});
export const failureResultSchema = z.object({ reportKey: z.string(), failedState: z.string() });

/**
 * The Fail states that mean "the run worked, its result did not meet the criteria" (exit 1), as opposed
 * to an error (exit 2): the verdict failed, or post-validation failed and the run was undone as asked.
 */
export const CRITERIA_NOT_MET_ERRORS: readonly string[] = [
  'MigrationCriteriaNotMet',
  'PostValidationFailedRunUndone',
];
