import * as z from 'zod';
import { ROLE_KEYS, type ValidationIssue, type ValidationReport } from '../validation/report-schema.ts';
import { card, escapeHtml, htmlPage, htmlTable, pill, raw, type Tone } from './html.ts';
import {
  formatCount,
  type MdCell,
  mdInline,
  mdTable,
  roleLabel,
  SEVERITY_ORDER,
} from './render-validation.ts';

/**
 * Two validation reports compared (before → after): every numeric metric with its change and whether
 * the change is an improvement, each success criterion's result on both sides, and each issue code's
 * count on both sides. JSON for machines (`reportDiffSchema`), Markdown and HTML for people.
 */

const side = z.object({
  runId: z.string(),
  stage: z.string(),
  generatedAt: z.string(),
  passed: z.boolean(),
});

export const reportDiffSchema = z.object({
  kind: z.literal('diff'),
  schemaVersion: z.literal(1),
  before: side,
  after: side,
  metrics: z.array(
    z.object({
      /** Path in the report, e.g. 'projectRelationshipCoverage.vendor.percent'. */
      id: z.string(),
      label: z.string(),
      before: z.number().nullable(),
      after: z.number().nullable(),
      /** after − before; null when either side lacks the metric. */
      change: z.number().nullable(),
      /** Whether the change is an improvement; null when unchanged, missing or neither (e.g. totals). */
      better: z.boolean().nullable(),
    }),
  ),
  criteria: z.array(
    z.object({ id: z.string(), before: z.boolean().nullable(), after: z.boolean().nullable() }),
  ),
  issues: z.array(
    z.object({
      code: z.string(),
      severity: z.enum(['critical', 'warning', 'info']),
      before: z.number().int().min(0),
      after: z.number().int().min(0),
    }),
  ),
});
export type ReportDiff = z.infer<typeof reportDiffSchema>;
export type MetricDiff = ReportDiff['metrics'][number];

/** Which way is better: up (coverage), down (orphans, issues, missing) or neither (totals). */
type Direction = 'up' | 'down' | 'none';

interface MetricDefinition {
  id: string;
  label: string;
  direction: Direction;
  read: (report: ValidationReport) => number | undefined;
}

/** Groups of metrics, by the first segment of their id: headings of the rendered diff. */
export const METRIC_GROUPS: Readonly<Record<string, string>> = {
  criteria: 'Success criteria',
  issues: 'Issues',
  companyCoverage: 'V1 · Company coverage',
  entityCounts: 'V2 · Entity counts',
  projectRelationshipCoverage: 'V3 · Project-relationship coverage',
  personnelAffiliationCoverage: 'V4 · Personnel-affiliation coverage',
  duplicateNameGroups: 'V5 · Duplicate names',
  orphans: 'V6 · Orphans',
  drift: 'V7 · Drift',
  unmigratable: 'V8 · Unmigratable records',
  statements: 'Validation',
};

function groupOf(metricId: string): string {
  const head = metricId.split('.')[0] ?? metricId;
  return Object.hasOwn(METRIC_GROUPS, head) ? (METRIC_GROUPS[head] ?? head) : head;
}

const issueTotal = (severity: ValidationIssue['severity']) => (r: ValidationReport) =>
  r.issues.filter((i) => i.severity === severity).length;

/** Every numeric metric of the report, in report order. */
const METRICS: readonly MetricDefinition[] = [
  {
    id: 'criteria.failed',
    label: 'Not met',
    direction: 'down',
    read: (r) => r.criteria.filter((c) => !c.passed).length,
  },
  { id: 'issues.critical', label: 'Critical issues', direction: 'down', read: issueTotal('critical') },
  { id: 'issues.warning', label: 'Warnings', direction: 'down', read: issueTotal('warning') },
  { id: 'issues.info', label: 'Info', direction: 'none', read: issueTotal('info') },
  ...ROLE_KEYS.flatMap((role): MetricDefinition[] => [
    {
      id: `companyCoverage.${role}.total`,
      label: `${roleLabel(role)}: legacy records`,
      direction: 'none',
      read: (r) => r.companyCoverage[role].total,
    },
    {
      id: `companyCoverage.${role}.mapped`,
      label: `${roleLabel(role)}: mapped`,
      direction: 'up',
      read: (r) => r.companyCoverage[role].mapped,
    },
    {
      id: `companyCoverage.${role}.missing`,
      label: `${roleLabel(role)}: missing`,
      direction: 'down',
      read: (r) => r.companyCoverage[role].missing,
    },
  ]),
  ...ROLE_KEYS.flatMap((role): MetricDefinition[] => [
    {
      id: `entityCounts.${role}.legacy`,
      label: `${roleLabel(role)}: legacy rows`,
      direction: 'none',
      read: (r) => r.entityCounts[role].legacy,
    },
    {
      id: `entityCounts.${role}.assignments`,
      label: `${roleLabel(role)}: record assignments`,
      direction: 'none',
      read: (r) => r.entityCounts[role].assignments,
    },
    {
      id: `entityCounts.${role}.stale`,
      label: `${roleLabel(role)}: stale assignments`,
      direction: 'down',
      read: (r) => r.entityCounts[role].stale,
    },
  ]),
  ...[...ROLE_KEYS, 'overall' as const].flatMap((key): MetricDefinition[] => {
    const name = key === 'overall' ? 'Overall' : roleLabel(key);
    return [
      {
        id: `projectRelationshipCoverage.${key}.total`,
        label: `${name}: links`,
        direction: 'none',
        read: (r) => r.projectRelationshipCoverage[key].total,
      },
      {
        id: `projectRelationshipCoverage.${key}.covered`,
        label: `${name}: covered`,
        direction: 'up',
        read: (r) => r.projectRelationshipCoverage[key].covered,
      },
      {
        id: `projectRelationshipCoverage.${key}.percent`,
        label: `${name}: coverage %`,
        direction: 'up',
        read: (r) => r.projectRelationshipCoverage[key].percent,
      },
    ];
  }),
  {
    id: 'personnelAffiliationCoverage.total',
    label: 'Links',
    direction: 'none',
    read: (r) => r.personnelAffiliationCoverage.total,
  },
  {
    id: 'personnelAffiliationCoverage.covered',
    label: 'Covered',
    direction: 'up',
    read: (r) => r.personnelAffiliationCoverage.covered,
  },
  {
    id: 'personnelAffiliationCoverage.percent',
    label: 'Coverage %',
    direction: 'up',
    read: (r) => r.personnelAffiliationCoverage.percent,
  },
  {
    id: 'personnelAffiliationCoverage.outOfScope',
    label: 'Out of scope',
    direction: 'none',
    read: (r) => r.personnelAffiliationCoverage.outOfScope,
  },
  {
    id: 'duplicateNameGroups.count',
    label: 'Groups',
    direction: 'down',
    read: (r) => r.duplicateNameGroups.length,
  },
  {
    id: 'duplicateNameGroups.unacknowledged',
    label: 'Groups to review',
    direction: 'down',
    read: (r) => r.duplicateNameGroups.filter((g) => !g.acknowledged).length,
  },
  {
    id: 'orphans.personnelLinks',
    label: 'Legacy personnel links',
    direction: 'down',
    read: (r) => r.orphans.personnelLinks,
  },
  {
    id: 'orphans.projectLinks',
    label: 'Legacy project links',
    direction: 'down',
    read: (r) => r.orphans.projectLinks,
  },
  { id: 'orphans.unifiedRows', label: 'Unified rows', direction: 'down', read: (r) => r.orphans.unifiedRows },
  {
    id: 'drift.count',
    label: 'Companies that differ from their legacy records',
    direction: 'down',
    read: (r) => r.drift.count,
  },
  {
    id: 'unmigratable.count',
    label: 'Legacy records that cannot be migrated',
    direction: 'down',
    read: (r) => r.unmigratable.count,
  },
  { id: 'statements', label: 'Statements sent', direction: 'none', read: (r) => r.statements },
];

/** after − before, without floating-point noise (percents have two decimals). */
function changeOf(before: number | null, after: number | null): number | null {
  if (before === null || after === null) return null;
  return Math.round((after - before) * 1_000_000) / 1_000_000;
}

function betterOf(direction: Direction, change: number | null): boolean | null {
  if (change === null || change === 0 || direction === 'none') return null;
  return direction === 'up' ? change > 0 : change < 0;
}

function sideOf(report: ValidationReport): ReportDiff['before'] {
  return { runId: report.runId, stage: report.stage, generatedAt: report.generatedAt, passed: report.passed };
}

export function diffValidationReports(before: ValidationReport, after: ValidationReport): ReportDiff {
  const metrics = METRICS.map((m): MetricDiff => {
    const b = m.read(before) ?? null;
    const a = m.read(after) ?? null;
    const change = changeOf(b, a);
    return {
      id: m.id,
      label: `${groupOf(m.id)} · ${m.label}`,
      before: b,
      after: a,
      change,
      better: betterOf(m.direction, change),
    };
  });

  const criterionIds = unique([...before.criteria.map((c) => c.id), ...after.criteria.map((c) => c.id)]);
  const criteria = criterionIds.map((id) => ({
    id,
    before: before.criteria.find((c) => c.id === id)?.passed ?? null,
    after: after.criteria.find((c) => c.id === id)?.passed ?? null,
  }));

  const issueCount = (report: ValidationReport, code: string) =>
    report.issues.filter((i) => i.code === code).reduce((sum, i) => sum + i.count, 0);
  const severityOf = (code: string): ValidationIssue['severity'] =>
    (after.issues.find((i) => i.code === code) ?? before.issues.find((i) => i.code === code))?.severity ??
    'info';
  const issues = unique([...before.issues.map((i) => i.code), ...after.issues.map((i) => i.code)])
    .map((code) => ({
      code,
      severity: severityOf(code),
      before: issueCount(before, code),
      after: issueCount(after, code),
    }))
    .sort((x, y) => SEVERITY_ORDER.indexOf(x.severity) - SEVERITY_ORDER.indexOf(y.severity));

  return reportDiffSchema.parse({
    kind: 'diff',
    schemaVersion: 1,
    before: sideOf(before),
    after: sideOf(after),
    metrics,
    criteria,
    issues,
  });
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

// ---------------------------------------------------------------------------------------------------
// Rendering

/** Metrics by section heading, in report order. */
function metricsByGroup(diff: ReportDiff): Map<string, MetricDiff[]> {
  const groups = new Map<string, MetricDiff[]>();
  for (const m of diff.metrics) {
    const group = groupOf(m.id);
    groups.set(group, [...(groups.get(group) ?? []), m]);
  }
  return groups;
}

/** The label without its section, which the heading above it gives. */
function shortLabel(m: MetricDiff): string {
  const prefix = `${groupOf(m.id)} · `;
  return m.label.startsWith(prefix) ? m.label.slice(prefix.length) : m.label;
}

function isPercentMetric(id: string): boolean {
  return id.endsWith('.percent');
}

function formatValue(id: string, value: number | null): string {
  if (value === null) return '—';
  return isPercentMetric(id) ? `${value.toFixed(2)} %` : formatCount(value);
}

/** ▲ +6.61 / ▼ −2 / = ; the sign and arrow say the direction, `better` says whether that is good. */
function formatChange(change: number | null, percent = false): string {
  if (change === null) return '—';
  if (change === 0) return '=';
  const magnitude = percent ? Math.abs(change).toFixed(2) : formatCount(Math.abs(change));
  return change > 0 ? `▲ +${magnitude}` : `▼ −${magnitude}`;
}

function verdict(passed: boolean): string {
  return passed ? 'PASSED' : 'FAILED';
}

/** How a criterion moved: fixed, broken, still passing… */
function criterionMove(c: ReportDiff['criteria'][number]): { text: string; better: boolean | null } {
  if (c.before === c.after)
    return { text: c.after ? 'still met' : c.after === false ? 'still not met' : '—', better: null };
  if (c.after === null) return { text: 'no longer checked', better: null };
  if (c.before === null) return { text: c.after ? 'new, met' : 'new, not met', better: c.after };
  return c.after ? { text: 'now met', better: true } : { text: 'no longer met', better: false };
}

function issueBetter(i: ReportDiff['issues'][number]): boolean | null {
  return i.after === i.before ? null : i.after < i.before;
}

function mdCheck(passed: boolean | null): string {
  return passed === null ? '—' : passed ? '✅' : '❌';
}

function mdJudgement(better: boolean | null): string {
  return better === null ? '' : better ? ' (better)' : ' (worse)';
}

function changedCount(diff: ReportDiff) {
  const better = diff.metrics.filter((m) => m.better === true).length;
  const worse = diff.metrics.filter((m) => m.better === false).length;
  const changed = diff.metrics.filter((m) => m.change !== null && m.change !== 0).length;
  return { better, worse, changed };
}

/** Metrics whose value changed, or that one report lacks. */
function changedMetricsOf(diff: ReportDiff): MetricDiff[] {
  return diff.metrics.filter((m) => m.change !== 0 && !(m.before === null && m.after === null));
}

export function renderDiffMarkdown(diff: ReportDiff): string {
  const { before, after } = diff;
  const counts = changedCount(diff);
  const changedMetrics = changedMetricsOf(diff);
  const out: string[] = [
    `# Validation diff: ${verdict(before.passed)} → ${verdict(after.passed)}`,
    mdTable(
      ['', 'Run', 'Stage', 'Generated at', 'Verdict'],
      [
        ['Before', before.runId, before.stage, before.generatedAt, verdict(before.passed)],
        ['After', after.runId, after.stage, after.generatedAt, verdict(after.passed)],
      ],
    ),
    `${formatCount(counts.changed)} of ${formatCount(diff.metrics.length)} metrics changed: ${formatCount(counts.better)} better, ${formatCount(counts.worse)} worse.`,
    '## Success criteria',
    diff.criteria.length === 0
      ? 'No criteria in either report.'
      : mdTable(
          ['Criterion', 'Before', 'After', 'Change'],
          diff.criteria.map((c): MdCell[] => {
            const move = criterionMove(c);
            return [
              c.id,
              { md: mdCheck(c.before) },
              { md: mdCheck(c.after) },
              `${move.text}${mdJudgement(move.better)}`,
            ];
          }),
        ),
    '## Issues',
    diff.issues.length === 0
      ? 'No issues in either report.'
      : mdTable(
          ['Code', 'Severity', 'Before', 'After', 'Change'],
          diff.issues.map((i) => [
            i.code,
            i.severity,
            formatCount(i.before),
            formatCount(i.after),
            `${formatChange(i.after - i.before)}${mdJudgement(issueBetter(i))}`,
          ]),
          [2, 3],
        ),
    '## What changed',
    changedMetrics.length === 0
      ? 'No metric changed.'
      : mdTable(
          ['Metric', 'Before', 'After', 'Change'],
          changedMetrics.map((m) => [
            m.label,
            formatValue(m.id, m.before),
            formatValue(m.id, m.after),
            `${formatChange(m.change, isPercentMetric(m.id))}${mdJudgement(m.better)}`,
          ]),
          [1, 2],
        ),
    '## Metrics',
    'Every figure of the two reports; ▲ up, ▼ down, = unchanged, and whether that is better or worse.',
    ...[...metricsByGroup(diff)].map(
      ([group, metrics]) =>
        `### ${mdInline(group)}\n\n${mdTable(
          ['Metric', 'Before', 'After', 'Change'],
          metrics.map((m) => [
            shortLabel(m),
            formatValue(m.id, m.before),
            formatValue(m.id, m.after),
            `${formatChange(m.change, isPercentMetric(m.id))}${mdJudgement(m.better)}`,
          ]),
          [1, 2],
        )}`,
    ),
  ];
  return `${out.join('\n\n')}\n`;
}

function tone(better: boolean | null): Tone {
  return better === null ? 'neutral' : better ? 'good' : 'bad';
}

function changeHtml(text: string, better: boolean | null) {
  const label = better === null ? '' : ` <span class="judgement">${better ? 'better' : 'worse'}</span>`;
  return raw(`<span class="${tone(better)}">${escapeHtml(text)}</span>${label}`);
}

function criterionPill(passed: boolean | null) {
  return passed === null
    ? pill('absent', 'neutral')
    : passed
      ? pill('✓ passed', 'good')
      : pill('✗ failed', 'bad');
}

export function renderDiffHtml(diff: ReportDiff): string {
  const { before, after } = diff;
  const counts = changedCount(diff);
  const overall = diff.metrics.find((m) => m.id === 'projectRelationshipCoverage.overall.percent');
  const personnel = diff.metrics.find((m) => m.id === 'personnelAffiliationCoverage.percent');
  const critical = diff.metrics.find((m) => m.id === 'issues.critical');
  const metricCard = (label: string, m: MetricDiff | undefined) =>
    m
      ? card(
          label,
          formatValue(m.id, m.after),
          `before ${formatValue(m.id, m.before)} · ${m.change === 0 ? 'unchanged' : formatChange(m.change, isPercentMetric(m.id))}`,
          tone(m.better),
        )
      : '';

  const banner = `<header class="verdict verdict-${after.passed ? 'passed' : 'failed'}">
<h1>${escapeHtml(verdict(before.passed))} → ${escapeHtml(verdict(after.passed))}</h1>
<p>Validation diff · before: run <strong>${escapeHtml(before.runId)}</strong> (${escapeHtml(before.stage)}, ${escapeHtml(before.generatedAt)})</p>
<p>after: run <strong>${escapeHtml(after.runId)}</strong> (${escapeHtml(after.stage)}, ${escapeHtml(after.generatedAt)})</p>
<p class="verdict-sub">${escapeHtml(`${formatCount(counts.changed)} of ${formatCount(diff.metrics.length)} metrics changed: ${formatCount(counts.better)} better, ${formatCount(counts.worse)} worse`)}</p>
</header>`;

  const cards = `<div class="cards">
${metricCard('Project coverage', overall)}
${metricCard('Personnel coverage', personnel)}
${metricCard('Critical issues', critical)}
${card('Better / worse', `${formatCount(counts.better)} / ${formatCount(counts.worse)}`, `of ${formatCount(diff.metrics.length)} metrics; ${formatCount(counts.changed)} changed`, counts.worse > 0 ? (counts.better > 0 ? 'warn' : 'bad') : counts.better > 0 ? 'good' : 'neutral')}
</div>`;

  const criteria = `<section aria-labelledby="criteria"><h2 id="criteria">Success criteria</h2>
${
  diff.criteria.length === 0
    ? '<p class="muted">No criteria in either report.</p>'
    : htmlTable({
        head: ['Criterion', 'Before', 'After', 'Change'],
        rowHeaders: true,
        rows: diff.criteria.map((c) => {
          const move = criterionMove(c);
          return [c.id, criterionPill(c.before), criterionPill(c.after), changeHtml(move.text, move.better)];
        }),
      })
}
</section>`;

  const issues = `<section aria-labelledby="issues"><h2 id="issues">Issues</h2>
${
  diff.issues.length === 0
    ? '<p class="muted">No issues in either report.</p>'
    : htmlTable({
        head: ['Code', 'Severity', 'Before', 'After', 'Change'],
        rowHeaders: true,
        numeric: [2, 3, 4],
        rows: diff.issues.map((i) => [
          i.code,
          pill(i.severity, i.severity === 'critical' ? 'bad' : i.severity === 'warning' ? 'warn' : 'neutral'),
          formatCount(i.before),
          formatCount(i.after),
          changeHtml(formatChange(i.after - i.before), issueBetter(i)),
        ]),
      })
}
</section>`;

  const metricRow = (m: MetricDiff, label: string) =>
    `<tr${m.change === 0 ? ' class="unchanged"' : ''}><th scope="row">${escapeHtml(label)}</th><td class="num">${escapeHtml(formatValue(m.id, m.before))}</td><td class="num">${escapeHtml(formatValue(m.id, m.after))}</td><td class="num">${changeHtml(formatChange(m.change, isPercentMetric(m.id)), m.better).html}</td></tr>`;
  const metricsHead =
    '<thead><tr><th scope="col">Metric</th><th scope="col" class="num">Before</th><th scope="col" class="num">After</th><th scope="col" class="num">Change</th></tr></thead>';
  const changedMetrics = changedMetricsOf(diff);
  const changed = `<section aria-labelledby="changed"><h2 id="changed">What changed</h2>
${
  changedMetrics.length === 0
    ? '<p class="muted">No metric changed.</p>'
    : `<div class="table-wrap"><table>${metricsHead}\n<tbody>\n${changedMetrics.map((m) => metricRow(m, m.label)).join('\n')}\n</tbody></table></div>`
}
</section>`;
  const metricRows = [...metricsByGroup(diff)].flatMap(([group, metrics]) => [
    `<tr class="group"><th scope="rowgroup" colspan="4">${escapeHtml(group)}</th></tr>`,
    ...metrics.map((m) => metricRow(m, shortLabel(m))),
  ]);
  const metrics = `<section aria-labelledby="metrics"><h2 id="metrics">Metrics</h2>
<p class="muted">Every figure of the two reports. ▲ up, ▼ down; green is better, red is worse, grey is neither.</p>
<div class="table-wrap"><table>${metricsHead}
<tbody>
${metricRows.join('\n')}
</tbody></table></div>
</section>`;

  return htmlPage({
    title: `Validation diff: ${verdict(before.passed)} → ${verdict(after.passed)} · ${before.runId} → ${after.runId}`,
    body: [banner, cards, criteria, issues, changed, metrics].join('\n'),
  });
}
