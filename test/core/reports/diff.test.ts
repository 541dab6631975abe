import { describe, expect, it } from 'vitest';
import {
  diffValidationReports,
  type ReportDiff,
  renderDiffHtml,
  renderDiffMarkdown,
  reportDiffSchema,
} from '../../../lib/core/reports/diff.ts';
import type { ValidationReport } from '../../../lib/core/validation/report-schema.ts';
import { exampleValidationReport } from '../../support/validation-report-fixture.ts';

/**
 * The fixture's next run: the blank name fixed, the projects step re-run (vendor links covered), the
 * orphans cleaned up — and one more company drifted, so one metric got worse.
 */
function improvedReport(): ValidationReport {
  const base = exampleValidationReport();
  return exampleValidationReport({
    runId: 'run-20261126-0001',
    generatedAt: '2026-11-26T07:00:00.000Z',
    passed: true,
    criteria: [
      { id: 'no-critical-issues', passed: true, actual: 0, threshold: 0, message: 'no critical issue' },
      { id: 'entity-counts-match', passed: true, actual: 'equal', threshold: 'equal', message: 'equal' },
      { id: 'project-coverage', passed: true, actual: 99.76, threshold: 95, message: 'ok' },
      { id: 'personnel-coverage', passed: true, actual: 99.13, threshold: 95, message: 'ok' },
    ],
    companyCoverage: {
      ...base.companyCoverage,
      operator: { total: 23, mapped: 23, missing: 0, missingSample: [] },
    },
    entityCounts: { ...base.entityCounts, operator: { legacy: 23, assignments: 23, stale: 0 } },
    projectRelationshipCoverage: {
      ...base.projectRelationshipCoverage,
      vendor: { total: 269, covered: 269, percent: 100 },
      overall: { total: 817, covered: 807, percent: 98.78 },
    },
    orphans: { personnelLinks: 4, projectLinks: 0, unifiedRows: 0, sample: [] },
    drift: { count: 2, sample: [] },
    unmigratable: { count: 0, sample: [] },
    issues: [
      { severity: 'warning', code: 'duplicate-names', message: '1 group', count: 1 },
      {
        severity: 'warning',
        code: 'legacy-orphans',
        message: '4 legacy links point at missing rows',
        count: 4,
      },
      { severity: 'warning', code: 'drift', message: '2 companies differ', count: 2 },
      { severity: 'warning', code: 'stale-assignments', message: '1 stale', count: 1 },
    ],
    statements: undefined,
  });
}

function metric(diff: ReportDiff, id: string) {
  const found = diff.metrics.find((m) => m.id === id);
  if (!found) throw new Error(`no metric ${id}`);
  return found;
}

/** Paths of every number in the report outside its lists (criteria, issues, samples, groups). */
function numericPaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'number') return [prefix];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, v]) => numericPaths(v, prefix ? `${prefix}.${key}` : key));
}

describe('diffValidationReports', () => {
  it('gives each metric before, after, the change and whether it is better', () => {
    // Act
    const diff = diffValidationReports(exampleValidationReport(), improvedReport());

    // Assess
    expect(diff.before).toEqual({
      runId: 'run-20261125-0001',
      stage: 'dev',
      generatedAt: '2026-11-25T07:00:00.000Z',
      passed: false,
    });
    expect(diff.after).toEqual({
      runId: 'run-20261126-0001',
      stage: 'dev',
      generatedAt: '2026-11-26T07:00:00.000Z',
      passed: true,
    });
    expect(metric(diff, 'projectRelationshipCoverage.vendor.percent')).toEqual({
      id: 'projectRelationshipCoverage.vendor.percent',
      label: 'V3 · Project-relationship coverage · Technology Vendor: coverage %',
      before: 68.77,
      after: 100,
      change: 31.23,
      better: true,
    });
    expect(metric(diff, 'projectRelationshipCoverage.overall.percent')).toMatchObject({
      before: 88.49,
      after: 98.78,
      change: 10.29,
      better: true,
    });
    expect(metric(diff, 'projectRelationshipCoverage.vendor.covered')).toMatchObject({
      change: 84,
      better: true,
    });
    expect(metric(diff, 'companyCoverage.operator.missing')).toMatchObject({
      before: 1,
      after: 0,
      change: -1,
      better: true,
    });
    expect(metric(diff, 'companyCoverage.operator.mapped')).toMatchObject({
      before: 22,
      after: 23,
      change: 1,
      better: true,
    });
    expect(metric(diff, 'orphans.projectLinks')).toMatchObject({
      before: 85,
      after: 0,
      change: -85,
      better: true,
    });
    expect(metric(diff, 'unmigratable.count')).toMatchObject({
      before: 1,
      after: 0,
      change: -1,
      better: true,
    });
    expect(metric(diff, 'issues.critical')).toMatchObject({ before: 1, after: 0, change: -1, better: true });
    expect(metric(diff, 'criteria.failed')).toMatchObject({ before: 3, after: 0, change: -3, better: true });
    expect(metric(diff, 'drift.count')).toEqual({
      id: 'drift.count',
      label: 'V7 · Drift · Companies that differ from their legacy records',
      before: 1,
      after: 2,
      change: 1,
      better: false,
    });
    // Totals have no better direction; unchanged figures are neither better nor worse.
    expect(metric(diff, 'entityCounts.operator.legacy')).toMatchObject({
      before: 23,
      after: 23,
      change: 0,
      better: null,
    });
    expect(metric(diff, 'entityCounts.operator.assignments')).toMatchObject({ change: 1, better: null });
    expect(metric(diff, 'personnelAffiliationCoverage.percent')).toMatchObject({ change: 0, better: null });
    // A metric one report lacks.
    expect(metric(diff, 'statements')).toMatchObject({ before: 9, after: null, change: null, better: null });
  });

  it('covers every numeric metric of the report', () => {
    // Prepare
    const report = exampleValidationReport();

    // Act
    const diff = diffValidationReports(report, report);
    const ids = diff.metrics.map((m) => m.id);

    // Assess
    const paths = numericPaths(report).filter((p) => p !== 'schemaVersion');
    expect(paths).toHaveLength(6 * 3 + 6 * 3 + 7 * 3 + 4 + 3 + 2 + 1);
    expect(paths.filter((p) => !ids.includes(p))).toEqual([]);
    expect(ids).toEqual(
      expect.arrayContaining(['duplicateNameGroups.count', 'issues.warning', 'issues.info']),
    );
    expect(new Set(ids).size).toBe(ids.length);
    expect(diff.metrics.every((m) => m.change === 0 || m.change === null)).toBe(true);
    expect(diff.metrics.every((m) => m.better === null)).toBe(true);
  });

  it('compares each criterion and each issue code on both sides', () => {
    // Prepare
    const after = improvedReport();
    after.criteria.push({ id: 'new-check', passed: false, actual: 1, threshold: 0, message: 'new' });

    // Act
    const diff = diffValidationReports(exampleValidationReport(), after);

    // Assess
    expect(diff.criteria).toEqual([
      { id: 'no-critical-issues', before: false, after: true },
      { id: 'entity-counts-match', before: false, after: true },
      { id: 'project-coverage', before: false, after: true },
      { id: 'personnel-coverage', before: true, after: true },
      { id: 'new-check', before: null, after: false },
    ]);
    expect(diff.issues).toEqual([
      { code: 'unmigratable-records', severity: 'critical', before: 1, after: 0 },
      { code: 'duplicate-names', severity: 'warning', before: 1, after: 1 },
      { code: 'legacy-orphans', severity: 'warning', before: 89, after: 4 },
      { code: 'drift', severity: 'warning', before: 1, after: 2 },
      { code: 'stale-assignments', severity: 'warning', before: 1, after: 1 },
    ]);
  });

  it('round-trips through reportDiffSchema as JSON', () => {
    // Act
    const diff = diffValidationReports(exampleValidationReport(), improvedReport());
    const parsed = reportDiffSchema.parse(JSON.parse(JSON.stringify(diff)));

    // Assess
    expect(parsed).toEqual(diff);
    expect(parsed.kind).toBe('diff');
    expect(parsed.schemaVersion).toBe(1);
    expect(() => reportDiffSchema.parse({ ...diff, kind: 'validation' })).toThrow();
  });
});

describe('renderDiffMarkdown', () => {
  it('shows the verdicts, the criteria, the issues and every metric with arrows and better/worse', () => {
    // Prepare
    const diff = diffValidationReports(exampleValidationReport(), improvedReport());

    // Act
    const markdown = renderDiffMarkdown(diff);

    // Assess
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('# Validation diff: FAILED → PASSED');
    expect(lines).toContain('| Before | run-20261125-0001 | dev | 2026-11-25T07:00:00.000Z | FAILED |');
    expect(lines).toContain('| After | run-20261126-0001 | dev | 2026-11-26T07:00:00.000Z | PASSED |');
    expect(lines).toContain('| no-critical-issues | ❌ | ✅ | now met (better) |');
    expect(lines).toContain('| personnel-coverage | ✅ | ✅ | still met |');
    expect(lines).toContain('| unmigratable-records | critical | 1 | 0 | ▼ −1 (better) |');
    expect(lines).toContain('| legacy-orphans | warning | 89 | 4 | ▼ −85 (better) |');
    expect(lines).toContain('| drift | warning | 1 | 2 | ▲ +1 (worse) |');
    expect(lines).toContain('| duplicate-names | warning | 1 | 1 | = |');
    expect(lines).toContain('### V3 · Project-relationship coverage');
    expect(lines).toContain('| Technology Vendor: coverage % | 68.77 % | 100.00 % | ▲ +31.23 (better) |');
    expect(lines).toContain('| Overall: coverage % | 88.49 % | 98.78 % | ▲ +10.29 (better) |');
    expect(lines).toContain('| Statements sent | 9 | — | — |');
    const metricRows = lines
      .slice(lines.indexOf('## Metrics'))
      .filter((line) => line.startsWith('| ') && !line.startsWith('| Metric |') && !line.startsWith('| ---'));
    expect(metricRows).toHaveLength(diff.metrics.length);
  });

  it('escapes values from the reports', () => {
    // Prepare
    const before = exampleValidationReport({ runId: 'run|<script>x</script>' });
    const after = exampleValidationReport({
      criteria: [{ id: 'a|b*c*', passed: true, actual: 1, threshold: 1, message: 'm' }],
    });

    // Act
    const markdown = renderDiffMarkdown(diffValidationReports(before, after));

    // Assess
    expect(markdown).toContain('| Before | run\\|\\<script>x\\</script> | dev |');
    expect(markdown).toContain('| a\\|b\\*c\\* | — | ✅ | new, met (better) |');
    expect(markdown).not.toMatch(/(?<!\\)<script/);
  });
});

describe('renderDiffHtml', () => {
  it('is one self-contained page with the verdicts, colours and arrows for better and worse', () => {
    // Prepare
    const diff = diffValidationReports(exampleValidationReport(), improvedReport());

    // Act
    const html = renderDiffHtml(diff);

    // Assess
    expect(html.startsWith('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')).toBe(true);
    expect(html).toContain(
      '<title>Validation diff: FAILED → PASSED · run-20261125-0001 → run-20261126-0001</title>',
    );
    expect(html).toContain('<header class="verdict verdict-passed">\n<h1>FAILED → PASSED</h1>');
    expect(html).toContain(
      '<tr><th scope="row">Technology Vendor: coverage %</th><td class="num">68.77 %</td><td class="num">100.00 %</td><td class="num"><span class="good">▲ +31.23</span> <span class="judgement">better</span></td></tr>',
    );
    expect(html).toContain(
      '<tr><th scope="row">Companies that differ from their legacy records</th><td class="num">1</td><td class="num">2</td><td class="num"><span class="bad">▲ +1</span> <span class="judgement">worse</span></td></tr>',
    );
    expect(html).toContain(
      '<tr class="group"><th scope="rowgroup" colspan="4">V8 · Unmigratable records</th></tr>',
    );
    expect(html).toContain(
      '<div class="card-label">Project coverage</div><div class="card-value">98.78 %</div>',
    );
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|https?:\/\//i);
  });

  it('escapes values from the reports', () => {
    // Prepare
    const before = exampleValidationReport({ runId: '<script>alert(1)</script> & "Sons"' });
    const after = exampleValidationReport({
      issues: [{ severity: 'warning', code: '<img src=x>', message: 'x', count: 1 }],
    });

    // Act
    const html = renderDiffHtml(diffValidationReports(before, after));

    // Assess
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Sons&quot;');
    expect(html).toContain('<th scope="row">&lt;img src=x&gt;</th>');
    expect(html).not.toMatch(/<script|<img/i);
  });
});
