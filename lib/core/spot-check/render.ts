import { card, escapeHtml, htmlPage, htmlTable, pill, type Tone } from '../reports/html.ts';
import { mdInline, mdTable } from '../reports/render-validation.ts';
import type { SpotCheckField, SpotCheckRecord, SpotCheckReport } from './report-schema.ts';

/** The spot-check for people: a verdict table, then each record side by side with its company. */

const VERDICT_MARK: Record<SpotCheckRecord['verdict'], string> = {
  matches: '✅ matches',
  differs: '❌ differs',
  unmigratable: 'ℹ️ unmigratable',
};
/** Pills use plain glyphs: emoji fonts are missing on many servers where reports are opened or printed. */
const VERDICT_PILL: Record<SpotCheckRecord['verdict'], string> = {
  matches: '✓ matches',
  differs: '✗ differs',
  unmigratable: 'unmigratable',
};
const VERDICT_TONE: Record<SpotCheckRecord['verdict'], Tone> = {
  matches: 'good',
  differs: 'bad',
  unmigratable: 'warn',
};

const shown = (value: SpotCheckField['legacy'], redacted: boolean) =>
  redacted ? '(free text, not shown)' : value === null ? '—' : String(value);

const title = (record: SpotCheckRecord) => `${record.legacyTable}#${record.legacyId}`;

function companyLine(record: SpotCheckRecord): string {
  if (!record.company) return 'no company';
  return `company ${record.company.companyId} ${record.company.name === null ? '(missing)' : `"${record.company.name}"`}`;
}

function reproduce(report: SpotCheckReport): string {
  return `company-migration spot-check --per-role ${report.perRole} --seed ${report.seed}`;
}

/** One line per sampled record: what it is, its company and verdict. */
export function spotCheckRows(report: SpotCheckReport): (string | number)[][] {
  return report.records.map((r) => [
    title(r),
    r.legacyName ?? '',
    r.company?.companyId ?? '—',
    VERDICT_MARK[r.verdict],
    r.differences.length > 0 ? r.differences.join('; ') : '',
  ]);
}

export function renderSpotCheckMarkdown(report: SpotCheckReport): string {
  const { counts } = report;
  const lines = [
    `# ${report.passed ? '✅' : '❌'} Spot-check ${mdInline(report.runId)} (${mdInline(report.stage)})`,
    '',
    `${counts.sampled} legacy record(s), ${report.perRole} per role, seed \`${report.seed}\`: ` +
      `${counts.matching} match the rules, ${counts.differing} differ, ${counts.unmigratable} cannot be migrated (blank name).`,
    '',
    `Show the same sample again: \`${reproduce(report)}\``,
    '',
    mdTable(
      ['Record', 'Legacy name', 'Company', 'Verdict', 'Differences'],
      report.records.map((r) => [
        title(r),
        r.legacyName,
        r.company?.companyId ?? null,
        VERDICT_MARK[r.verdict],
        r.differences.join('; ') || null,
      ]),
    ),
    '',
  ];
  for (const record of report.records) {
    lines.push(
      `## ${mdInline(title(record))}: ${mdInline(companyLine(record))} — ${VERDICT_MARK[record.verdict]}`,
      '',
    );
    for (const d of record.differences) lines.push(`- ❌ ${mdInline(d)}`);
    for (const n of record.notes) lines.push(`- ℹ️ ${mdInline(n)}`);
    if (record.differences.length + record.notes.length > 0) lines.push('');
    if (record.fields.length > 0) {
      lines.push(
        mdTable(
          ['Field', 'This record', 'Rules give', 'Unified', 'From', 'Same'],
          record.fields.map((f) => [
            f.field,
            shown(f.legacy, f.redacted),
            shown(f.expected, f.redacted),
            shown(f.unified, f.redacted),
            f.source,
            f.matches ? '✅' : '❌',
          ]),
        ),
        '',
      );
    }
    lines.push(
      `Legacy records with this name: ${mdInline(record.roles.legacyRecords.map((r) => `${r.record} → ${r.companyId ?? 'none'}`).join(', ') || '—')}. ` +
        `Record assignments of the company: ${mdInline(record.roles.recordAssignments.map((a) => `${a.role} ${a.contextType}#${a.contextId}`).join(', ') || '—')}.`,
      '',
      `Personnel links: ${record.affiliations.total} (${record.affiliations.differing} without affiliation, ${record.affiliations.orphans} orphaned); ` +
        `the company has ${record.affiliations.companyAffiliations} affiliation(s). ` +
        `Project links: ${record.projects.total} (${record.projects.differing} without assignment, ${record.projects.orphans} orphaned).`,
      '',
    );
    const links = [
      ...record.affiliations.listed.map((l) => [
        'person',
        `${l.personId} ${l.personName ?? '(deleted)'}`,
        l.title,
        l.status,
        l.affiliationId === null ? null : `affiliation ${l.affiliationId}`,
      ]),
      ...record.projects.listed.map((l) => [
        'project',
        `${l.projectId} ${l.projectName ?? '(deleted)'}`,
        l.confidential ? 'confidential' : null,
        l.status,
        l.assignmentId === null ? null : `assignment ${l.assignmentId}`,
      ]),
    ];
    if (links.length > 0) {
      lines.push(mdTable(['Link', 'To', 'Title / flag', 'Status', 'Unified row'], links), '');
    }
  }
  return lines.join('\n');
}

export function renderSpotCheckHtml(report: SpotCheckReport): string {
  const { counts } = report;
  const banner = `<header class="verdict verdict-${report.passed ? 'passed' : 'failed'}">
<h1>Spot-check: ${report.passed ? 'every sampled record matches the rules' : `${counts.differing} record(s) differ`}</h1>
<p>${escapeHtml(report.runId)} · stage ${escapeHtml(report.stage)} · seed ${escapeHtml(report.seed)} · ${escapeHtml(report.generatedAt)}</p>
</header>`;
  const cards = `<div class="cards">
${card('Sampled', String(counts.sampled), `${report.perRole} per role`, 'neutral')}
${card('Match', String(counts.matching), 'as the rules give', 'good')}
${card('Differ', String(counts.differing), 'from the rules', counts.differing === 0 ? 'good' : 'bad')}
${card('Unmigratable', String(counts.unmigratable), 'blank names', counts.unmigratable === 0 ? 'good' : 'warn')}
</div>`;
  const overview = htmlTable({
    head: ['Record', 'Legacy name', 'Company', 'Verdict', 'Differences'],
    rows: report.records.map((r) => [
      title(r),
      r.legacyName ?? '',
      r.company?.companyId ?? '—',
      pill(VERDICT_PILL[r.verdict], VERDICT_TONE[r.verdict]),
      r.differences.join('; '),
    ]),
    rowHeaders: true,
  });
  const details = report.records.map((record) => {
    const items = [
      ...record.differences.map((d) => `<li><strong>differs:</strong> ${escapeHtml(d)}</li>`),
      ...record.notes.map((n) => `<li>note: ${escapeHtml(n)}</li>`),
    ].join('');
    const fields =
      record.fields.length === 0
        ? ''
        : htmlTable({
            head: ['Field', 'This record', 'Rules give', 'Unified', 'From', 'Same'],
            rows: record.fields.map((f) => [
              f.field,
              shown(f.legacy, f.redacted),
              shown(f.expected, f.redacted),
              shown(f.unified, f.redacted),
              f.source ?? '',
              pill(f.matches ? '✓' : '✗', f.matches ? 'good' : 'bad'),
            ]),
            rowHeaders: true,
          });
    const links = htmlTable({
      head: ['Link', 'To', 'Title / flag', 'Status', 'Unified row'],
      rows: [
        ...record.affiliations.listed.map((l) => [
          `person link ${l.relationshipId}`,
          `${l.personId} ${l.personName ?? '(deleted)'}`,
          l.title ?? '',
          pill(l.status, l.status === 'migrated' ? 'good' : l.status === 'orphan' ? 'warn' : 'bad'),
          l.affiliationId === null ? '' : `affiliation ${l.affiliationId}`,
        ]),
        ...record.projects.listed.map((l) => [
          `project link ${l.relationshipId}`,
          `${l.projectId} ${l.projectName ?? '(deleted)'}`,
          l.confidential ? 'confidential' : '',
          pill(l.status, l.status === 'migrated' ? 'good' : l.status === 'orphan' ? 'warn' : 'bad'),
          l.assignmentId === null ? '' : `assignment ${l.assignmentId}`,
        ]),
      ],
      rowHeaders: true,
    });
    return `<section><h2>${escapeHtml(title(record))} — ${escapeHtml(companyLine(record))} ${pill(VERDICT_PILL[record.verdict], VERDICT_TONE[record.verdict]).html}</h2>
${items ? `<ul>${items}</ul>` : ''}
${fields}
<p>Legacy records with this name: ${escapeHtml(record.roles.legacyRecords.map((r) => `${r.record} → ${r.companyId ?? 'none'}`).join(', ') || '—')}.
Record assignments of the company: ${escapeHtml(record.roles.recordAssignments.map((a) => `${a.role} ${a.contextType}#${a.contextId}`).join(', ') || '—')}.
Personnel links ${record.affiliations.total} (${record.affiliations.differing} differ, ${record.affiliations.orphans} orphaned; the company has ${record.affiliations.companyAffiliations} affiliations); project links ${record.projects.total} (${record.projects.differing} differ, ${record.projects.orphans} orphaned).</p>
${record.affiliations.listed.length + record.projects.listed.length > 0 ? links : ''}
</section>`;
  });
  return htmlPage({
    title: `Spot-check ${report.runId} (${report.stage})`,
    body: [
      banner,
      cards,
      `<section><h2>Sampled records</h2><p>Show the same sample again: <code>${escapeHtml(reproduce(report))}</code></p>${overview}</section>`,
      ...details,
    ].join('\n'),
  });
}
