import * as z from 'zod';
import { cutoverCheck } from '../cutover/cutover-check.ts';
import { renderCutoverMarkdown } from '../cutover/render.ts';
import { ROLE_MAPPINGS, type RoleMapping, trimmedNameSql } from '../mapping/roles.ts';
import { publishReport, readReport } from '../reports/publish.ts';
import { renderValidationHtml, renderValidationMarkdown } from '../reports/render-validation.ts';
import type { ReportStore } from '../reports/store.ts';
import { pathSegment } from '../reports/store.ts';
import { requireSchemas } from '../schema/introspect.ts';
import { COMPANY_LIST_SQL, NETWORK_SQL } from '../smoke/smoke.ts';
import { SqlClientError } from '../sql/errors.ts';
import { type SqlClient, type SqlParams, sqlParam } from '../sql/types.ts';
import { ROLE_KEYS } from '../validation/report-schema.ts';
import { validate } from '../validation/validate.ts';
import { timestampedRunId } from './run-id.ts';
import type { PipelineDeps } from './steps.ts';

const stageSchema = pathSegment(80);

/**
 * What EventBridge Scheduler sends the daily check: the stage it runs for. `since` (ISO 8601) overrides
 * the time of the last check, which otherwise comes from the newest monitor report of the stage.
 */
export const monitorEventSchema = z.object({
  stage: stageSchema,
  since: z.iso.datetime({ offset: true }).optional(),
});

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
  'SyncErrors',
  'UnsyncedRecentRecords',
  'QueryLatencyMs',
] as const;
export type MonitoringMetric = (typeof MONITORING_METRICS)[number];

/** The CloudWatch unit of each metric (names as Powertools' MetricUnit values). */
export const MONITORING_METRIC_UNITS: Record<MonitoringMetric, 'Count' | 'Percent' | 'Milliseconds'> = {
  MissingCompanies: 'Count',
  UncoveredProjectLinks: 'Count',
  UncoveredPersonnelLinks: 'Count',
  ProjectCoveragePercent: 'Percent',
  PersonnelCoveragePercent: 'Percent',
  DuplicateNameGroups: 'Count',
  DriftedRecords: 'Count',
  CriticalIssues: 'Count',
  SyncErrors: 'Count',
  UnsyncedRecentRecords: 'Count',
  QueryLatencyMs: 'Milliseconds',
};

/** Where the dual-write (when installed) records the writes it could not mirror. */
export const SYNC_ERRORS_TABLE = 'company_migration_sync_errors';

/** The application's unified-schema queries whose latency the check measures. */
export const MONITORED_QUERIES = [
  {
    query: 'dashboard-counts',
    sql: `SELECT r.role_code, count(DISTINCT a.company_id)::int8 AS companies
            FROM company_roles r LEFT JOIN company_role_assignments a ON a.role_id = r.role_id
           GROUP BY r.role_code ORDER BY r.role_code`,
  },
  { query: 'company-list', sql: COMPANY_LIST_SQL },
  { query: 'network', sql: NETWORK_SQL },
] as const;

const sampleRow = z.object({ table: z.string(), id: z.number(), reason: z.string() });
const syncErrorRow = z.object({
  legacyTable: z.string().nullable(),
  legacyId: z.number().nullable(),
  operation: z.string().nullable(),
  sqlState: z.string().nullable(),
  message: z.string().nullable(),
});

export const monitorReportSchema = z.object({
  kind: z.literal('monitor'),
  schemaVersion: z.literal(1),
  runId: z.string(),
  stage: z.string(),
  generatedAt: z.string(),
  /** Records and errors after this time were checked; null: the first check, which checks everything. */
  since: z.string().nullable(),
  validationPassed: z.boolean(),
  /** Validation passed, no sync error and no unsynced record. */
  healthy: z.boolean(),
  metrics: z.record(z.enum(MONITORING_METRICS), z.number()),
  unsynced: z.object({ count: z.number(), sample: z.array(sampleRow) }),
  syncErrors: z.object({ dualWriteInstalled: z.boolean(), count: z.number(), sample: z.array(syncErrorRow) }),
  timings: z.array(z.object({ query: z.string(), ms: z.number() })),
  validationReportKey: z.string(),
  /** Cutover readiness (its full report, with the DBA's SQL, is cutover.json beside this one). */
  cutover: z
    .object({
      ready: z.boolean(),
      reasons: z.array(z.string()),
      quietHours: z.number(),
      tablesWritten: z.array(z.string()),
      reportKey: z.string(),
    })
    .optional(),
  statements: z.number(),
});
export type MonitorReport = z.infer<typeof monitorReportSchema>;

export interface MonitorResult {
  runId: string;
  stage: string;
  /** The validation passed (its criteria). */
  passed: boolean;
  /** Validation passed, and there is no sync error and no unsynced record since the last check. */
  healthy: boolean;
  since: string | null;
  /** The monitor report (`<stage>/<runId>/monitor.json`). */
  reportKey: string;
  validationReportKey: string;
  dualWriteInstalled: boolean;
  /** The legacy tables could be retired: nothing depends on them, nobody writes them, validation passes. */
  cutoverReady: boolean;
  metrics: Record<MonitoringMetric, number>;
}

export interface MonitorOptions {
  /** Overrides the last check's time (and the event's `since`); null checks everything. */
  since?: Date | null;
  sampleSize?: number;
  /** Hours the legacy tables must stay unwritten for the cutover check to call them ready. */
  cutoverMinQuietHours?: number;
}

const MONITOR_KEY = /^[^/]+\/monitor-[^/]+\/monitor\.json$/;

/**
 * The time of the stage's last check: `generatedAt` of its newest monitor report (run ids sort by time),
 * or null when there is none. A report that cannot be read is skipped for the next older one.
 */
export async function lastCheckTime(store: ReportStore, stage: string): Promise<string | null> {
  const keys = (await store.list(`${stageSchema.parse(stage)}/monitor-`)).filter((k) => MONITOR_KEY.test(k));
  for (const key of keys.sort().reverse()) {
    try {
      const report = (await readReport(store, key)) as { kind?: unknown; generatedAt?: unknown };
      if (report.kind === 'monitor' && typeof report.generatedAt === 'string') {
        if (!Number.isNaN(Date.parse(report.generatedAt))) return new Date(report.generatedAt).toISOString();
      }
    } catch {
      // an unreadable report: fall back to the one before it
    }
  }
  return null;
}

/** Legacy timestamps are `timestamp` without zone, in UTC (every adapter's session runs in UTC). */
const utcTimestampText = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');

/** A legacy row created or modified after :since (every row when there is no since). */
const changedSince = (alias: string, since: boolean) =>
  since
    ? `(${alias}.created_date > CAST(:since AS timestamp) OR ${alias}.modified_date > CAST(:since AS timestamp))`
    : 'true';

const recordCompany = (role: RoleMapping, entityIdSql: string) =>
  `(SELECT a.company_id FROM company_role_assignments a JOIN company_roles r ON r.role_id = a.role_id
     WHERE r.role_code = '${role.code}' AND a.context_type = '${role.recordContextType}'
       AND a.context_id = ${entityIdSql} ORDER BY a.assignment_id LIMIT 1)`;

/**
 * (a) Sync lag, in one statement: legacy records changed since the last check without their record
 * assignment or whose company's name is not their trimmed name; project and personnel links changed since
 * then without their exact assignment or affiliation (as V3/V4). Orphan links and blank names (validation
 * reports those) are left out.
 */
function unsyncedSql(titleColumn: string, since: boolean): string {
  const records = ROLE_MAPPINGS.map((role) => {
    const name = trimmedNameSql(`l.${role.nameColumn}`);
    return `SELECT '${role.legacyTable}' AS "table", l.${role.idColumn} AS id,
                   CASE WHEN x.company_id IS NULL THEN 'no record assignment'
                        ELSE 'company name differs' END AS reason
              FROM ${role.legacyTable} l
              LEFT JOIN LATERAL (
                SELECT a.company_id, c.company_name FROM company_role_assignments a
                  JOIN company_roles r ON r.role_id = a.role_id
                  LEFT JOIN companies c ON c.company_id = a.company_id
                 WHERE r.role_code = '${role.code}' AND a.context_type = '${role.recordContextType}'
                   AND a.context_id = l.${role.idColumn}
                 ORDER BY a.assignment_id LIMIT 1) AS x ON true
             WHERE ${changedSince('l', since)} AND ${name} <> ''
               AND (x.company_id IS NULL OR x.company_name IS DISTINCT FROM ${name})`;
  });
  const projectLinks = ROLE_MAPPINGS.map((role) => {
    const entity = `l.${role.projectLinkEntityColumn}`;
    return `SELECT '${role.projectLinkTable}', l.relationship_id, 'no project assignment'
              FROM ${role.projectLinkTable} l
             WHERE ${changedSince('l', since)}
               AND EXISTS (SELECT 1 FROM projects p WHERE p.project_id = l.project_id)
               AND EXISTS (SELECT 1 FROM ${role.legacyTable} e WHERE e.${role.idColumn} = ${entity})
               AND NOT EXISTS (
                 SELECT 1 FROM company_role_assignments pa JOIN company_roles r ON r.role_id = pa.role_id
                  WHERE r.role_code = '${role.code}' AND pa.company_id = ${recordCompany(role, entity)}
                    AND pa.context_type = 'Project' AND pa.context_id = l.project_id)`;
  });
  const byType = (value: (role: RoleMapping) => string, fallback: string) =>
    `CASE l.entity_type ${ROLE_MAPPINGS.flatMap((role) =>
      role.personnelEntityTypes.map((t) => `WHEN '${t}' THEN ${value(role)}`),
    ).join(' ')} ELSE ${fallback} END`;
  const inScope = ROLE_MAPPINGS.flatMap((r) => r.personnelEntityTypes.map((t) => `'${t}'`)).join(', ');
  const personnelLinks = `SELECT 'personnel_entity_relationships', l.relationship_id, 'no affiliation'
      FROM personnel_entity_relationships l
     WHERE ${changedSince('l', since)} AND l.entity_type IN (${inScope})
       AND EXISTS (SELECT 1 FROM personnel p WHERE p.personnel_id = l.personnel_id)
       AND ${byType((role) => `EXISTS (SELECT 1 FROM ${role.legacyTable} e WHERE e.${role.idColumn} = l.entity_id)`, 'false')}
       AND NOT EXISTS (
         SELECT 1 FROM person_company_affiliations f
          WHERE f.person_id = l.personnel_id
            AND f.company_id = ${byType((role) => recordCompany(role, 'l.entity_id'), 'NULL::int')}
            AND f.title IS NOT DISTINCT FROM l."${titleColumn}")`;
  return `WITH unsynced AS (${[...records, ...projectLinks, personnelLinks].join('\nUNION ALL\n')})
    SELECT (SELECT count(*) FROM unsynced)::int8 AS total,
           (SELECT json_agg(s) FROM (SELECT "table", id, reason FROM unsynced
                                      ORDER BY "table", id LIMIT :sample) AS s) AS sample`;
}

function syncErrorsSql(since: boolean): string {
  const where = since ? 'WHERE e.occurred_at > CAST(:since AS timestamptz)' : '';
  return `WITH recent AS (SELECT * FROM ${SYNC_ERRORS_TABLE} e ${where})
    SELECT (SELECT count(*) FROM recent)::int8 AS total,
           (SELECT json_agg(s) FROM (
              SELECT legacy_table AS "legacyTable", legacy_id AS "legacyId", operation, sql_state AS "sqlState",
                     left(message, 200) AS message
                FROM recent ORDER BY occurred_at DESC, error_id DESC LIMIT :sample) AS s) AS sample`;
}

const n = (value: unknown) => Number(value ?? 0);

async function timeQueries(sql: SqlClient): Promise<{ query: string; ms: number }[]> {
  const timings: { query: string; ms: number }[] = [];
  for (const { query, sql: text } of MONITORED_QUERIES) {
    const started = performance.now();
    await sql.query(text);
    timings.push({ query, ms: Math.round((performance.now() - started) * 10) / 10 });
  }
  return timings;
}

/**
 * The daily monitoring check: validation of the current state, sync lag and sync errors since the last
 * check, and the latency of the application's unified queries; written to the report store (validation
 * and monitor reports), reduced to the numbers the alarms watch. A constant number of statements.
 */
export async function monitorCheck(
  deps: PipelineDeps,
  rawEvent: unknown,
  options: MonitorOptions = {},
): Promise<MonitorResult> {
  const event = monitorEventSchema.parse(rawEvent);
  const { stage } = event;
  const now = deps.now?.() ?? new Date();
  const runId = timestampedRunId('monitor', now);
  const sampleSize = options.sampleSize ?? 20;
  const statementsBefore = deps.sql.statementsIssued;

  const since =
    options.since !== undefined
      ? (options.since?.toISOString() ?? null)
      : event.since
        ? new Date(event.since).toISOString()
        : await lastCheckTime(deps.store, stage);

  const report = await validate(deps.sql, {
    runId,
    stage,
    now: () => now,
    sampleSize,
    ...(deps.stage?.thresholds ? { thresholds: deps.stage.thresholds } : {}),
  });
  const [validationReportKey = ''] = await publishReport(
    deps.store,
    { stage, runId, name: 'validation' },
    { json: report, markdown: renderValidationMarkdown(report), html: renderValidationHtml(report) },
  );

  const params: SqlParams = since
    ? { sample: sampleSize, since: sqlParam.timestamp(utcTimestampText(new Date(since))) }
    : { sample: sampleSize };
  const { personnelTitleColumn } = await requireSchemas(deps.sql);
  const unsyncedRow =
    (await deps.sql.query<Record<string, unknown>>(unsyncedSql(personnelTitleColumn, since !== null), params))
      .rows[0] ?? {};
  const installed = Boolean(
    (
      await deps.sql.query<{ installed: boolean }>(
        `SELECT to_regclass('${SYNC_ERRORS_TABLE}') IS NOT NULL AS installed`,
      )
    ).rows[0]?.installed,
  );
  const errorsRow = installed
    ? ((await deps.sql.query<Record<string, unknown>>(syncErrorsSql(since !== null), params)).rows[0] ?? {})
    : {};
  const timings = await timeQueries(deps.sql);
  // Cutover readiness, daily: the schedule's cadence is what makes "unwritten since the last check" mean
  // something. It records the legacy tables' write counters and reuses this check's validation. The
  // monitoring's own figures must not be lost to it: a non-retryable failure (e.g. a database user that
  // may not create the baseline table) is reported in the monitor report instead.
  let cutover: MonitorReport['cutover'];
  try {
    const check = await cutoverCheck(deps.sql, {
      validation: report,
      now: () => now,
      ...(options.cutoverMinQuietHours !== undefined ? { minQuietHours: options.cutoverMinQuietHours } : {}),
    });
    const [cutoverReportKey = ''] = await publishReport(
      deps.store,
      { stage, runId, name: 'cutover' },
      { json: check, markdown: renderCutoverMarkdown(check) },
    );
    cutover = {
      ready: check.ready,
      reasons: check.reasons,
      quietHours: check.writes.quietHours,
      tablesWritten: check.writes.tables.filter((t) => t.status === 'written').map((t) => t.table),
      reportKey: cutoverReportKey,
    };
  } catch (error) {
    if (error instanceof SqlClientError && error.retryable) throw error;
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    cutover = {
      ready: false,
      reasons: [`the cutover check failed: ${message}`],
      quietHours: 0,
      tablesWritten: [],
      reportKey: '',
    };
  }

  const unsynced = {
    count: n(unsyncedRow.total),
    sample: z.array(sampleRow).parse(unsyncedRow.sample ?? []),
  };
  const syncErrors = {
    dualWriteInstalled: installed,
    count: n(errorsRow.total),
    sample: z.array(syncErrorRow).parse(errorsRow.sample ?? []),
  };
  const issue = (code: string) => report.issues.find((i) => i.code === code)?.count ?? 0;
  const metrics: Record<MonitoringMetric, number> = {
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
    SyncErrors: syncErrors.count,
    UnsyncedRecentRecords: unsynced.count,
    QueryLatencyMs: Math.max(0, ...timings.map((t) => t.ms)),
  };
  const healthy = report.passed && syncErrors.count === 0 && unsynced.count === 0;
  const monitorReport = monitorReportSchema.parse({
    kind: 'monitor',
    schemaVersion: 1,
    runId,
    stage,
    generatedAt: now.toISOString(),
    since,
    validationPassed: report.passed,
    healthy,
    metrics,
    unsynced,
    syncErrors,
    timings,
    validationReportKey,
    cutover,
    statements: deps.sql.statementsIssued - statementsBefore,
  });
  const [reportKey = ''] = await publishReport(
    deps.store,
    { stage, runId, name: 'monitor' },
    { json: monitorReport, markdown: renderMonitorMarkdown(monitorReport) },
  );
  return {
    runId,
    stage,
    passed: report.passed,
    healthy,
    since,
    reportKey,
    validationReportKey,
    dualWriteInstalled: installed,
    cutoverReady: cutover?.ready ?? false,
    metrics,
  };
}

/** The metrics as rows: name, value, unit. */
export function metricRows(metrics: Record<MonitoringMetric, number>): [string, number, string][] {
  return MONITORING_METRICS.map((name) => [name, metrics[name], MONITORING_METRIC_UNITS[name]]);
}

export function renderMonitorMarkdown(report: MonitorReport): string {
  const lines = [
    `# Monitoring check ${report.runId} (${report.stage})`,
    '',
    `- Generated: ${report.generatedAt}`,
    `- Since: ${report.since ?? 'first check: everything checked'}`,
    `- Validation: ${report.validationPassed ? 'passed' : 'failed'} (${report.validationReportKey})`,
    `- Healthy: ${report.healthy ? 'yes' : 'no'}`,
    `- Dual-write: ${report.syncErrors.dualWriteInstalled ? 'installed' : `not installed (no ${SYNC_ERRORS_TABLE} table)`}`,
    '',
    '| Metric | Value | Unit |',
    '| --- | ---: | --- |',
    ...metricRows(report.metrics as Record<MonitoringMetric, number>).map(
      ([name, value, unit]) => `| ${name} | ${value} | ${unit} |`,
    ),
    '',
    `## Unsynced records (${report.unsynced.count})`,
    '',
    ...report.unsynced.sample.map((s) => `- ${s.table}#${s.id}: ${s.reason}`),
    '',
    `## Sync errors (${report.syncErrors.count})`,
    '',
    ...report.syncErrors.sample.map(
      (e) =>
        `- ${e.legacyTable ?? '?'}#${e.legacyId ?? '?'} ${e.operation ?? ''} ${e.sqlState ?? ''}: ${(e.message ?? '').replace(/\s+/g, ' ')}`,
    ),
    '',
    '## Query timings',
    '',
    ...report.timings.map((t) => `- ${t.query}: ${t.ms} ms`),
    '',
    ...(report.cutover
      ? [
          `## Cutover readiness: ${report.cutover.ready ? 'ready' : 'not ready'} (${report.cutover.reportKey})`,
          '',
          `Legacy tables unwritten for ${report.cutover.quietHours} h.`,
          '',
          ...report.cutover.reasons.map((r) => `- ${r}`),
          '',
        ]
      : []),
  ];
  return lines.join('\n');
}
