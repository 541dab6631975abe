import { z } from 'zod';
import { publishReport } from '../reports/publish.ts';
import { renderValidationHtml, renderValidationMarkdown } from '../reports/render-validation.ts';
import { ROLE_KEYS } from '../validation/report-schema.ts';
import { validate } from '../validation/validate.ts';
import type { PipelineDeps } from './steps.ts';

/** What EventBridge Scheduler sends the daily check: the stage it runs for. */
export const monitorEventSchema = z.object({ stage: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/) });

/** The metrics the stack's alarms and dashboard watch (one CloudWatch metric each, per stage). */
export const MONITORING_METRICS = [
  'MissingCompanies',
  'UncoveredProjectLinks',
  'UncoveredPersonnelLinks',
  'ProjectCoveragePercent',
  'PersonnelCoveragePercent',
  'DuplicateNameGroups',
  'DriftedRecords',
  'CriticalIssues',
] as const;
export type MonitoringMetric = (typeof MONITORING_METRICS)[number];

export interface MonitorResult {
  runId: string;
  passed: boolean;
  reportKey: string;
  metrics: Record<MonitoringMetric, number>;
}

/** A check id people can sort: monitor-20261125-060000. */
function monitorRunId(now: Date): string {
  return `monitor-${now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}

/**
 * The daily monitoring check: validation of the current state, written to the report store, reduced to
 * the numbers the alarms watch. (Sync lag, sync errors and query latency join with the dual-write work.)
 */
export async function monitorCheck(deps: PipelineDeps, rawEvent: unknown): Promise<MonitorResult> {
  const { stage } = monitorEventSchema.parse(rawEvent);
  const now = deps.now?.() ?? new Date();
  const runId = monitorRunId(now);
  const report = await validate(deps.sql, {
    runId,
    stage,
    now: () => now,
    ...(deps.stage?.thresholds ? { thresholds: deps.stage.thresholds } : {}),
  });
  const [reportKey] = await publishReport(
    deps.store,
    { stage, runId, name: 'validation' },
    { json: report, markdown: renderValidationMarkdown(report), html: renderValidationHtml(report) },
  );
  const issue = (code: string) => report.issues.find((i) => i.code === code)?.count ?? 0;
  return {
    runId,
    passed: report.passed,
    reportKey: reportKey ?? '',
    metrics: {
      MissingCompanies: ROLE_KEYS.reduce((sum, role) => sum + report.companyCoverage[role].missing, 0),
      UncoveredProjectLinks:
        report.projectRelationshipCoverage.overall.total - report.projectRelationshipCoverage.overall.covered,
      UncoveredPersonnelLinks:
        report.personnelAffiliationCoverage.total - report.personnelAffiliationCoverage.covered,
      ProjectCoveragePercent: report.projectRelationshipCoverage.overall.percent,
      PersonnelCoveragePercent: report.personnelAffiliationCoverage.percent,
      DuplicateNameGroups: report.duplicateNameGroups.filter((g) => !g.acknowledged).length,
      DriftedRecords: report.drift.count,
      CriticalIssues:
        issue('missing-roles') +
        issue('unmigratable-records') +
        issue('missing-companies') +
        issue('confidentiality-lost') +
        issue('unified-orphans'),
    },
  };
}
