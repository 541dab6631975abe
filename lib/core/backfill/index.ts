import type { SqlClient } from '../sql/types.ts';
import { companiesStep } from './companies.ts';
import type { BackfillRequest, BackfillResult } from './contract.ts';
import { type RunStepHooks, runBackfillStep } from './driver.ts';
import { personnelStep } from './personnel.ts';
import { projectsStep } from './projects.ts';

export { BACKFILL_STEPS, type BackfillRequest, type BackfillResult, type BackfillStep } from './contract.ts';

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
