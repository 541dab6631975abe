import type { SqlClient } from '../sql/types.ts';
import { companiesStep } from './companies.ts';
import { type BackfillRequest, type BackfillResult, type BackfillStep, combineResults } from './contract.ts';
import { type RunStepHooks, runBackfillStep } from './driver.ts';
import { personnelStep } from './personnel.ts';
import { projectsStep } from './projects.ts';

export { BACKFILL_STEPS, type BackfillRequest, type BackfillResult, type BackfillStep } from './contract.ts';
export type { BackfillProgress, RunStepHooks } from './driver.ts';

/** R1–R4: roles, one company per legacy company record, company fields, client profiles. */
export function backfillCompanies(
  sql: SqlClient,
  request: BackfillRequest = {},
  hooks?: RunStepHooks,
): Promise<BackfillResult> {
  return runBackfillStep(companiesStep, sql, request, hooks);
}

/** R6: one 'Project' role assignment per (company, role, project) the legacy project links give. */
export function backfillProjectRelationships(
  sql: SqlClient,
  request: BackfillRequest = {},
  hooks?: RunStepHooks,
): Promise<BackfillResult> {
  return runBackfillStep(projectsStep, sql, request, hooks);
}

/** R5: one affiliation per (person, company, title) the company-related personnel links give. */
export function backfillPersonnelAffiliations(
  sql: SqlClient,
  request: BackfillRequest = {},
  hooks?: RunStepHooks,
): Promise<BackfillResult> {
  return runBackfillStep(personnelStep, sql, request, hooks);
}

const STEP_RUNNERS = {
  companies: backfillCompanies,
  personnel: backfillPersonnelAffiliations,
  projects: backfillProjectRelationships,
} as const;

/**
 * Runs one step to the end in this process, call after call from the returned cursor (what the state
 * machine does across invocations), and returns the combined result.
 */
export async function runBackfillToEnd(
  sql: SqlClient,
  step: BackfillStep,
  request: BackfillRequest = {},
  hooks?: RunStepHooks,
): Promise<BackfillResult> {
  const results: BackfillResult[] = [];
  let cursor = request.cursor ?? null;
  let runId = request.runId;
  do {
    const result = await STEP_RUNNERS[step](sql, { ...request, cursor, ...(runId ? { runId } : {}) }, hooks);
    results.push(result);
    cursor = result.cursor;
    runId = result.runId ?? undefined;
    if (result.done) break;
  } while (cursor);
  return combineResults(results, request.sampleSize ?? 20);
}
