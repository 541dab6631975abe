import type * as z from 'zod';
import { ZodError } from 'zod';
import { type BackfillResult, backfillResultSchema, combineResults } from '../backfill/contract.ts';
import {
  type BackfillStep,
  backfillCompanies,
  backfillPersonnelAffiliations,
  backfillProjectRelationships,
} from '../backfill/index.ts';
import { renderUndoMarkdown } from '../journal/render-undo.ts';
import { ensureJournal } from '../journal/schema.ts';
import { undoRun } from '../journal/undo.ts';
import { combineUndoResults } from '../journal/undo-contract.ts';
import { diffValidationReports, renderDiffHtml, renderDiffMarkdown } from '../reports/diff.ts';
import { publishReport, readReport } from '../reports/publish.ts';
import { renderValidationHtml, renderValidationMarkdown } from '../reports/render-validation.ts';
import { pathSegment, type ReportStore, reportKey } from '../reports/store.ts';
import { requireSchemas } from '../schema/introspect.ts';
import { runSmokeChecks } from '../smoke/smoke.ts';
import { renderSpotCheckHtml, renderSpotCheckMarkdown } from '../spot-check/render.ts';
import { spotCheck } from '../spot-check/spot-check.ts';
import type { SqlClient } from '../sql/types.ts';
import {
  type SuccessThresholds,
  type ValidationReport,
  validationReportSchema,
} from '../validation/report-schema.ts';
import { validate } from '../validation/validate.ts';
import {
  type BackfillState,
  backfillEventSchema,
  type EvaluateResult,
  evaluateEventSchema,
  executionInputSchema,
  failureEventSchema,
  preflightEventSchema,
  type RunContext,
  runContextSchema,
  runEventSchema,
  type SmokeResult,
  type UndoState,
  undoEventSchema,
  type ValidateResult,
  validateEventSchema,
} from './contracts.ts';
import { type RunSummary, renderSummaryHtml, renderSummaryMarkdown } from './summary.ts';

/**
 * The migration's steps, one function per state of the state machine. Lambda handlers and the local
 * runner call these with their own SqlClient and report store; nothing here knows which.
 */

export interface StageSettings {
  /** The deployed stage these settings belong to (in Lambda); an execution must name the same one. */
  name?: string;
  /** Take the RDS snapshot (or, locally, the dump) before writing. */
  snapshots: boolean;
  thresholds?: Partial<SuccessThresholds>;
  appBaseUrl?: string | undefined;
}

export interface PipelineDeps {
  sql: SqlClient;
  store: ReportStore;
  stage?: StageSettings;
  now?: () => Date;
}

/** An execution input or event that does not fit its schema: retrying cannot help. */
export class InputValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputValidationError';
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  try {
    return schema.parse(value);
  } catch (error) {
    if (error instanceof ZodError) {
      const issues = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new InputValidationError(`invalid ${what}: ${issues}`);
    }
    throw error;
  }
}

const keyOf = (run: RunContext, name: string) => ({ stage: run.stage, runId: run.runId, name });

/** An RDS snapshot identifier for the run: a letter first, letters, digits and single hyphens, ≤ 63. */
export function snapshotIdFor(runId: string): string {
  const cleaned = `migration-${runId}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return cleaned.slice(0, 63).replace(/-+$/, '');
}

/** Preflight: validates the execution input, checks both schemas exist, decides on the snapshot. */
export async function preflight(deps: PipelineDeps, rawEvent: unknown): Promise<RunContext> {
  const event = parse(preflightEventSchema, rawEvent, 'preflight event');
  const input = parse(executionInputSchema, event.input, 'execution input');
  // The stage decides the report prefix, which is all the functions may write to.
  if (deps.stage?.name && input.stage !== deps.stage.name) {
    throw new InputValidationError(
      `invalid execution input: stage: this state machine belongs to stage ${deps.stage.name}, the input names ${input.stage}`,
    );
  }
  await requireSchemas(deps.sql);
  // The journal every live backfill write goes to (the backfill also creates it when run on its own).
  if (!input.dryRun) await ensureJournal(deps.sql);
  return {
    runId: event.runId,
    stage: input.stage,
    dryRun: input.dryRun,
    steps: input.steps,
    chunkSize: input.chunkSize,
    takeSnapshot: !input.dryRun && !input.skipSnapshot && (deps.stage?.snapshots ?? true),
    undoOnFailure: input.undoOnFailure && !input.dryRun,
    snapshotId: snapshotIdFor(event.runId),
    startedAt: (deps.now?.() ?? new Date()).toISOString(),
  };
}

export async function validationStep(deps: PipelineDeps, rawEvent: unknown): Promise<ValidateResult> {
  const { run, phase } = parse(validateEventSchema, rawEvent, 'validation event');
  const report = await validate(deps.sql, {
    runId: run.runId,
    stage: run.stage,
    createIndexes: !run.dryRun,
    ...(deps.stage?.thresholds ? { thresholds: deps.stage.thresholds } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const [key] = await publishReport(deps.store, keyOf(run, `validation-${phase}`), {
    json: report,
    markdown: renderValidationMarkdown(report),
    html: renderValidationHtml(report),
  });
  return {
    phase,
    passed: report.passed,
    critical: report.issues.filter((i) => i.severity === 'critical').length,
    warnings: report.issues.filter((i) => i.severity === 'warning').length,
    reportKey: key ?? reportKey(keyOf(run, `validation-${phase}`), 'json'),
  };
}

const BACKFILL_FUNCTIONS: Record<BackfillStep, typeof backfillCompanies> = {
  companies: backfillCompanies,
  personnel: backfillPersonnelAffiliations,
  projects: backfillProjectRelationships,
};

/**
 * One invocation of a backfill step: chunks until the time budget is spent. Each invocation's full
 * result is kept as a part report; when the step is done, the parts are combined into its report.
 */
export async function backfillStep(
  deps: PipelineDeps,
  rawEvent: unknown,
  timeBudgetMs: number,
): Promise<BackfillState> {
  const { run, step, state } = parse(backfillEventSchema, rawEvent, 'backfill event');
  if (!run.steps.includes(step)) {
    return {
      step,
      done: true,
      skipped: true,
      cursor: null,
      invocations: 0,
      rowsProcessed: 0,
      rowsTotal: 0,
      counts: {},
      orphans: 0,
      conflicts: 0,
      unmigratable: 0,
      reportKey: null,
    };
  }
  const invocation = (state?.invocations ?? 0) + 1;
  const result = await BACKFILL_FUNCTIONS[step](deps.sql, {
    runId: run.runId,
    cursor: state?.cursor ?? null,
    chunkSize: run.chunkSize,
    dryRun: run.dryRun,
    timeBudgetMs: Math.max(0, timeBudgetMs),
  });
  const partName = `backfill-${step}-part-${String(invocation).padStart(5, '0')}`;
  await publishReport(deps.store, keyOf(run, partName), { json: result });
  const counts = { ...(state?.counts ?? {}) };
  for (const [key, value] of Object.entries(result.counts)) counts[key] = (counts[key] ?? 0) + value;
  let reportKeyOfStep: string | null = null;
  if (result.done) reportKeyOfStep = await publishCombinedBackfill(deps, run, step);
  return {
    step,
    done: result.done,
    skipped: false,
    cursor: result.cursor,
    invocations: invocation,
    rowsProcessed: (state?.rowsProcessed ?? 0) + result.progress.processed,
    rowsTotal: Math.max(state?.rowsTotal ?? 0, result.progress.total),
    counts,
    orphans: (state?.orphans ?? 0) + result.orphans.count,
    conflicts: (state?.conflicts ?? 0) + result.conflicts.count,
    unmigratable: (state?.unmigratable ?? 0) + result.unmigratable.count,
    reportKey: reportKeyOfStep,
  };
}

async function publishCombinedBackfill(
  deps: PipelineDeps,
  run: RunContext,
  step: BackfillStep,
): Promise<string> {
  const prefix = `${run.stage}/${run.runId}/backfill-${step}-part-`;
  const parts: BackfillResult[] = [];
  for (const key of await deps.store.list(prefix)) {
    if (key.endsWith('.json')) parts.push(backfillResultSchema.parse(await readReport(deps.store, key)));
  }
  const combined = {
    kind: 'backfill',
    schemaVersion: 1,
    ...combineResults(parts),
    runId: run.runId,
    stage: run.stage,
  };
  const [key] = await publishReport(deps.store, keyOf(run, `backfill-${step}`), { json: combined });
  return key ?? reportKey(keyOf(run, `backfill-${step}`), 'json');
}

async function readValidation(
  store: ReportStore,
  run: RunContext,
  phase: 'pre' | 'post',
): Promise<ValidationReport> {
  return validationReportSchema.parse(
    await readReport(store, reportKey(keyOf(run, `validation-${phase}`), 'json')),
  );
}

/**
 * One invocation of the undo the execution asked for when post-validation failed: reverses this run's
 * journaled writes until the time budget is spent; the state machine loops until it is done (or stopped
 * by rows that depend on what the run created). The combined result goes to the `undo` report.
 */
export async function undoStep(
  deps: PipelineDeps,
  rawEvent: unknown,
  timeBudgetMs: number,
): Promise<UndoState> {
  const { run, state } = parse(undoEventSchema, rawEvent, 'undo event');
  const result = await undoRun(deps.sql, { runId: run.runId, timeBudgetMs: Math.max(0, timeBudgetMs) });
  let combined = result;
  let invocations = 1;
  if (state) {
    const { invocations: previous, reportKey: _none, ...before } = state;
    combined = combineUndoResults([before, result]);
    invocations = previous + 1;
  }
  let reportKeyOfUndo: string | null = null;
  if (combined.status !== 'in-progress') {
    const [key] = await publishReport(deps.store, keyOf(run, 'undo'), {
      json: { kind: 'undo', schemaVersion: 1, stage: run.stage, ...combined },
      markdown: renderUndoMarkdown(combined),
    });
    reportKeyOfUndo = key ?? reportKey(keyOf(run, 'undo'), 'json');
  }
  return { ...combined, invocations, reportKey: reportKeyOfUndo };
}

export async function diffStep(deps: PipelineDeps, rawEvent: unknown) {
  const { run } = parse(runEventSchema, rawEvent, 'diff event');
  const diff = diffValidationReports(
    await readValidation(deps.store, run, 'pre'),
    await readValidation(deps.store, run, 'post'),
  );
  const [key] = await publishReport(deps.store, keyOf(run, 'diff'), {
    json: diff,
    markdown: renderDiffMarkdown(diff),
    html: renderDiffHtml(diff),
  });
  const changed = diff.metrics.filter((m) => m.change !== null && m.change !== 0);
  return {
    reportKey: key ?? reportKey(keyOf(run, 'diff'), 'json'),
    changed: changed.length,
    better: changed.filter((m) => m.better === true).length,
    worse: changed.filter((m) => m.better === false).length,
  };
}

/** The verdict: post-validation, smoke, and complete backfills; names every reason it fails. */
export async function evaluateStep(deps: PipelineDeps, rawEvent: unknown): Promise<EvaluateResult> {
  const event = parse(evaluateEventSchema, rawEvent, 'evaluate event');
  const { run } = event;
  const post = await readValidation(deps.store, run, 'post');
  const failures: string[] = [];
  if (!run.dryRun) {
    for (const criterion of post.criteria)
      if (!criterion.passed) failures.push(`${criterion.id}: ${criterion.message}`);
    for (const issue of post.issues)
      if (issue.severity === 'critical') failures.push(`critical ${issue.code}: ${issue.message}`);
  }
  if (!event.smoke.passed) failures.push(`smoke: ${event.smoke.failures} check(s) failed`);
  for (const state of Object.values(event.backfill)) {
    if (!state.done) failures.push(`backfill ${state.step} did not finish`);
  }
  const passed = failures.length === 0;
  const verdict = run.dryRun
    ? `DRY RUN complete: nothing was written; ${post.passed ? 'the current data passes' : 'validation reports the current state'}`
    : passed
      ? `PASSED: stage ${run.stage} migrated and validated`
      : `FAILED: ${failures.length} reason(s): ${failures.join('; ')}`;
  const summary: RunSummary = {
    kind: 'summary',
    schemaVersion: 1,
    runId: run.runId,
    stage: run.stage,
    dryRun: run.dryRun,
    generatedAt: (deps.now?.() ?? new Date()).toISOString(),
    passed,
    verdict,
    failures,
    snapshot: event.snapshot,
    backfill: Object.values(event.backfill).map((s) => ({
      step: s.step,
      done: s.done,
      skipped: s.skipped,
      invocations: s.invocations,
      counts: s.counts,
      orphans: s.orphans,
      conflicts: s.conflicts,
      unmigratable: s.unmigratable,
    })),
    validation: { passed: post.passed, criteria: post.criteria, issues: post.issues },
    smoke: event.smoke,
  };
  const [key] = await publishReport(deps.store, keyOf(run, 'summary'), {
    json: summary,
    markdown: renderSummaryMarkdown(summary),
    html: renderSummaryHtml(summary),
  });
  return { passed, verdict, failures, reportKey: key ?? reportKey(keyOf(run, 'summary'), 'json') };
}

/** The Catch path: records what failed, where, and what the database state means for a re-run. */
export async function failureStep(deps: PipelineDeps, rawEvent: unknown) {
  const event = parse(failureEventSchema, rawEvent, 'failure event');
  const state = (typeof event.state === 'object' && event.state !== null ? event.state : {}) as Record<
    string,
    unknown
  >;
  const run = runContextSchema.safeParse(state.run);
  const rawStage = run.success ? run.data.stage : typeof state.stage === 'string' ? state.stage : 'unknown';
  const safeStage = pathSegment(80).safeParse(rawStage).success ? rawStage : 'unknown';
  const report = {
    kind: 'failure',
    schemaVersion: 1,
    runId: event.runId,
    stage: safeStage,
    generatedAt: (deps.now?.() ?? new Date()).toISOString(),
    failedState: event.failedState,
    error: event.error.Error,
    cause: event.error.Cause ?? null,
    advice:
      'Every backfill chunk commits on its own and the steps are idempotent: fix the cause and start a new ' +
      'execution; it resumes the work and changes nothing already done. The snapshot taken before the backfill ' +
      '(if any) is in the summary of this run.',
  };
  const markdown = [
    `# ❌ Run ${event.runId} failed in ${event.failedState}`,
    '',
    `- Error: \`${report.error}\``,
    `- Cause: ${report.cause ? report.cause.replace(/\n/g, ' ') : '(none given)'}`,
    '',
    report.advice,
  ].join('\n');
  const [key] = await publishReport(
    deps.store,
    { stage: safeStage, runId: event.runId, name: 'failure' },
    { json: report, markdown },
  );
  return { reportKey: key ?? '', failedState: event.failedState };
}

/** Legacy records per role the run's spot-check samples (18 in all, as the checklist asks for). */
export const RUN_SPOT_CHECK_PER_ROLE = 3;

/**
 * Smoke checks after the backfill: the rolled-back probe, dashboard sanity, and HTTP when configured;
 * then the spot-check, seeded with the run id (so `spot-check --seed <run-id>` shows the same records).
 * The spot-check informs the people reading the summary; the criteria of the validation decide the run.
 */
export async function smokeStep(deps: PipelineDeps, rawEvent: unknown): Promise<SmokeResult> {
  const { run } = parse(runEventSchema, rawEvent, 'smoke event');
  const report = await runSmokeChecks(deps.sql, {
    runId: run.runId,
    stage: run.stage,
    dryRun: run.dryRun,
    ...(deps.stage?.appBaseUrl ? { appBaseUrl: deps.stage.appBaseUrl } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const [key] = await publishReport(deps.store, keyOf(run, 'smoke'), { json: report });
  const sample = await spotCheck(deps.sql, {
    runId: run.runId,
    stage: run.stage,
    seed: run.runId,
    perRole: RUN_SPOT_CHECK_PER_ROLE,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const [spotCheckKey] = await publishReport(deps.store, keyOf(run, 'spot-check'), {
    json: sample,
    markdown: renderSpotCheckMarkdown(sample),
    html: renderSpotCheckHtml(sample),
  });
  return {
    passed: report.passed,
    warnings: report.checks.filter((c) => c.status === 'warn').length,
    failures: report.checks.filter((c) => c.status === 'fail').length,
    reportKey: key ?? reportKey(keyOf(run, 'smoke'), 'json'),
    spotCheck: {
      seed: sample.seed,
      ...sample.counts,
      differingRecords: sample.records
        .filter((r) => r.verdict === 'differs')
        .slice(0, 10)
        .map((r) => `${r.legacyTable}#${r.legacyId}`),
      reportKey: spotCheckKey ?? reportKey(keyOf(run, 'spot-check'), 'json'),
    },
  };
}
