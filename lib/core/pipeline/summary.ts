import { card, escapeHtml, htmlPage, htmlTable, pill } from '../reports/html.ts';
import { mdInline, mdTable } from '../reports/render-validation.ts';
import type { Criterion, ValidationIssue } from '../validation/report-schema.ts';
import type { SmokeResult } from './contracts.ts';

/** The run's summary: the verdict first, then what each step did. Ids, names and counts only. */
export interface RunSummary {
  kind: 'summary';
  schemaVersion: 1;
  runId: string;
  stage: string;
  dryRun: boolean;
  generatedAt: string;
  passed: boolean;
  verdict: string;
  failures: string[];
  snapshot: { snapshotId: string | null; status: string } | null;
  backfill: {
    step: string;
    done: boolean;
    skipped: boolean;
    invocations: number;
    counts: Record<string, number>;
    orphans: number;
    conflicts: number;
    unmigratable: number;
  }[];
  validation: { passed: boolean; criteria: Criterion[]; issues: ValidationIssue[] };
  smoke: SmokeResult;
}

const OTHER_REPORTS = [
  'validation-pre',
  'backfill-companies',
  'backfill-personnel',
  'backfill-projects',
  'validation-post',
  'diff',
  'smoke',
  'spot-check',
];

/** Reports written as JSON only; the others also come as Markdown and HTML. */
const jsonOnly = (name: string) => name.startsWith('backfill') || name === 'smoke';

/** What a backfill step did, in one line: the non-zero counts. */
function describeCounts(counts: Record<string, number>): string {
  const done = Object.entries(counts).filter(([, n]) => n > 0);
  return done.length === 0 ? 'nothing to do' : done.map(([k, n]) => `${k} ${n}`).join(', ');
}

/** The spot-check in one line, or why there is none. */
function describeSpotCheck(summary: RunSummary): string {
  const sample = summary.smoke.spotCheck;
  if (!sample) return 'No spot-check in this run.';
  const differing =
    sample.differing === 0
      ? ''
      : `: ${sample.differingRecords.join(', ')}${sample.differing > sample.differingRecords.length ? ', …' : ''}`;
  // A dry run writes nothing: its spot-check shows the data as it is before the migration.
  return (
    (summary.dryRun ? 'Before the migration (dry run): ' : '') +
    `${sample.sampled} legacy record(s) sampled (seed ${sample.seed}): ${sample.matching} match the rules, ` +
    `${sample.differing} differ${differing}; ${sample.unmigratable} cannot be migrated (blank name).`
  );
}

function headline(summary: RunSummary): string {
  if (summary.dryRun) return 'DRY RUN';
  return summary.passed ? 'PASSED' : 'FAILED';
}

export function renderSummaryMarkdown(summary: RunSummary): string {
  const mark = summary.dryRun ? 'ℹ️' : summary.passed ? '✅' : '❌';
  const lines = [
    `# ${mark} ${headline(summary)} — migration run ${mdInline(summary.runId)} on stage ${mdInline(summary.stage)}`,
    '',
    mdInline(summary.verdict),
    '',
  ];
  if (summary.failures.length > 0) {
    lines.push('## Why it failed', '', ...summary.failures.map((f) => `- ${mdInline(f)}`), '');
  }
  lines.push(
    '## Backup',
    '',
    summary.snapshot
      ? `Snapshot \`${summary.snapshot.snapshotId ?? '—'}\`: ${mdInline(summary.snapshot.status)}`
      : 'No snapshot was taken (dry run, skipped by the input, or turned off for this stage).',
    '',
    '## Backfill',
    '',
    mdTable(
      ['Step', 'Status', 'Invocations', 'What it did', 'Orphans', 'Conflicts', 'Unmigratable'],
      summary.backfill.map((b) => [
        b.step,
        b.skipped ? 'skipped' : b.done ? 'done' : 'not finished',
        b.invocations,
        describeCounts(b.counts),
        b.orphans,
        b.conflicts,
        b.unmigratable,
      ]),
      [2, 4, 5, 6],
    ),
    '',
    '## Validation after the backfill',
    '',
    mdTable(
      ['Criterion', 'Actual', 'Threshold', 'Passed'],
      summary.validation.criteria.map((c) => [
        c.id,
        String(c.actual),
        String(c.threshold),
        c.passed ? '✅' : '❌',
      ]),
    ),
    '',
    `## Smoke checks: ${summary.smoke.passed ? 'passed' : 'failed'} (${summary.smoke.warnings} warning(s), ${summary.smoke.failures} failure(s))`,
    '',
    '## Spot-check',
    '',
    `${mdInline(describeSpotCheck(summary))}${summary.smoke.spotCheck ? ' Side by side, record by record: spot-check.md / spot-check.html.' : ''}`,
    '',
    '## Reports of this run',
    '',
    ...OTHER_REPORTS.map((name) => `- ${name}.json${jsonOnly(name) ? '' : ' (.md, .html)'}`),
    '',
  );
  return lines.join('\n');
}

function spotCheckCard(summary: RunSummary): string {
  const sample = summary.smoke.spotCheck;
  if (!sample) return card('Spot-check', 'none', 'not in this run', 'neutral');
  return card(
    'Spot-check',
    `${sample.matching}/${sample.sampled}`,
    sample.differing === 0 ? 'match the rules' : `${sample.differing} differ`,
    sample.differing === 0 ? 'good' : 'warn',
  );
}

export function renderSummaryHtml(summary: RunSummary): string {
  const tone = summary.dryRun ? 'neutral' : summary.passed ? 'good' : 'bad';
  const banner = `<header class="verdict verdict-${summary.passed || summary.dryRun ? 'passed' : 'failed'}">
<h1>${escapeHtml(headline(summary))}</h1>
<p>Migration run ${escapeHtml(summary.runId)} · stage ${escapeHtml(summary.stage)}</p>
<p class="verdict-sub">${escapeHtml(summary.verdict)} · generated at ${escapeHtml(summary.generatedAt)}</p>
</header>`;
  const failed = summary.validation.criteria.filter((c) => !c.passed).length;
  const cards = `<div class="cards">
${card('Verdict', headline(summary), `${summary.failures.length} reason(s) to fail`, tone)}
${card('Criteria not met', String(failed), `of ${summary.validation.criteria.length}`, failed === 0 ? 'good' : 'bad')}
${card('Smoke', summary.smoke.passed ? 'passed' : 'failed', `${summary.smoke.warnings} warning(s)`, summary.smoke.passed ? 'good' : 'bad')}
${spotCheckCard(summary)}
${card('Backup', summary.snapshot?.status ?? 'none', summary.snapshot?.snapshotId ?? 'no snapshot taken', summary.snapshot ? 'good' : 'warn')}
</div>`;
  const failures =
    summary.failures.length === 0
      ? ''
      : `<section><h2>Why it failed</h2><ul>${summary.failures.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul></section>`;
  const backfill = htmlTable({
    head: ['Step', 'Status', 'Invocations', 'What it did', 'Orphans', 'Conflicts', 'Unmigratable'],
    rows: summary.backfill.map((b) => [
      b.step,
      pill(b.skipped ? 'skipped' : b.done ? 'done' : 'not finished', b.done ? 'good' : 'bad'),
      b.invocations,
      describeCounts(b.counts),
      b.orphans,
      b.conflicts,
      b.unmigratable,
    ]),
    rowHeaders: true,
    numeric: [2, 4, 5, 6],
  });
  const criteria = htmlTable({
    head: ['Criterion', 'Actual', 'Threshold', 'Passed'],
    rows: summary.validation.criteria.map((c) => [
      c.id,
      String(c.actual),
      String(c.threshold),
      pill(c.passed ? '✓ passed' : '✗ failed', c.passed ? 'good' : 'bad'),
    ]),
    rowHeaders: true,
  });
  const reports = `<ul>${OTHER_REPORTS.map((name) => `<li>${escapeHtml(name)}.json${jsonOnly(name) ? '' : `, <a href="${escapeHtml(name)}.html">${escapeHtml(name)}.html</a>`}</li>`).join('')}</ul>`;
  return htmlPage({
    title: `${headline(summary)} — migration run ${summary.runId} (${summary.stage})`,
    body: [
      banner,
      cards,
      failures,
      `<section><h2>Backfill</h2>${backfill}</section>`,
      `<section><h2>Validation after the backfill</h2>${criteria}</section>`,
      `<section><h2>Spot-check</h2><p>${escapeHtml(describeSpotCheck(summary))}${summary.smoke.spotCheck ? ' Side by side, record by record: <a href="spot-check.html">spot-check.html</a>.' : ''}</p></section>`,
      `<section><h2>Reports of this run</h2>${reports}</section>`,
    ].join('\n'),
  });
}
