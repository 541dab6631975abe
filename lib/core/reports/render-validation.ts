import { ROLE_MAPPINGS } from '../mapping/roles.ts';
import {
  type Criterion,
  ROLE_KEYS,
  type RoleKey,
  type ValidationIssue,
  type ValidationReport,
} from '../validation/report-schema.ts';
import {
  type CellContent,
  card,
  coverageBar,
  escapeHtml,
  type Html,
  htmlPage,
  htmlTable,
  pill,
  raw,
  type Tone,
} from './html.ts';

/**
 * The validation report for people: a Markdown summary (terminal, pull requests, tickets) and one
 * self-contained HTML page (opened from S3 or a folder, offline, printed). Both show the same things in
 * the same order: verdict, success criteria, issues, the sections V1–V8, indexes, and what to do.
 *
 * Every value taken from the report is escaped for its format (company names are user data); the
 * renderers read only the fields of the report contract, so nothing else a caller's object may carry
 * reaches the page.
 */

// ---------------------------------------------------------------------------------------------------
// Shared formatting

export const SEVERITY_ORDER: readonly ValidationIssue['severity'][] = ['critical', 'warning', 'info'];

const ROLE_LABELS = new Map<string, string>(ROLE_MAPPINGS.map((r) => [r.code, r.label]));

/** 'vendor' → 'Technology Vendor'; unknown codes as they are. */
export function roleLabel(code: string): string {
  return ROLE_LABELS.get(code) ?? code;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** Two decimals and a unit: 88.49 %. */
export function formatPercent(value: number): string {
  return `${value.toFixed(2)} %`;
}

export function formatCriterionValue(value: Criterion['actual']): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** Issues in severity order (critical first), report order within a severity. */
export function sortIssues(issues: readonly ValidationIssue[]): ValidationIssue[] {
  return [...issues].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
}

/** Keys of free-form sample entries that are never shown, should a sample ever carry free text. */
const HIDDEN_SAMPLE_KEYS = /^(notes?|comments?|remarks?|description|details?|free_?text)$/i;

type SampleEntry = Record<string, string | number | boolean | null>;

function sampleColumns(sample: readonly SampleEntry[]): string[] {
  const columns: string[] = [];
  for (const entry of sample) {
    for (const key of Object.keys(entry)) {
      if (!HIDDEN_SAMPLE_KEYS.test(key) && !columns.includes(key)) columns.push(key);
    }
  }
  return columns;
}

/** Columns whose values are all numbers (ids), right-aligned. */
function numericColumns(sample: readonly SampleEntry[], columns: readonly string[]): number[] {
  return columns.flatMap((key, i) =>
    sample.every((entry) => typeof entry[key] === 'number' || entry[key] === undefined) ? [i] : [],
  );
}

/** A threshold as written in the criterion: 95 %, 99.5 %. */
function formatThreshold(value: number): string {
  return `${value} %`;
}

function isBlank(value: string): boolean {
  return value.trim() === '';
}

function countIssues(report: ValidationReport, severity: ValidationIssue['severity']) {
  const issues = report.issues.filter((i) => i.severity === severity);
  return { entries: issues.length, records: issues.reduce((sum, i) => sum + i.count, 0) };
}

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

function numericThreshold(report: ValidationReport, criterionId: string): number | undefined {
  const threshold = report.criteria.find((c) => c.id === criterionId)?.threshold;
  return typeof threshold === 'number' ? threshold : undefined;
}

function criteriaSummary(report: ValidationReport): string {
  const failed = report.criteria.filter((c) => !c.passed).length;
  const total = report.criteria.length;
  return failed === 0
    ? `all ${formatCount(total)} success criteria met`
    : `${formatCount(failed)} of ${formatCount(total)} success criteria not met`;
}

// ---------------------------------------------------------------------------------------------------
// Remedies: the migration plan's appendix of common issues

export interface Remedy {
  /** What the issue means, in one line. */
  title: string;
  /** What to do; commands in backticks. */
  action: string;
}

export const REMEDIES: Readonly<Record<string, Remedy>> = {
  'missing-companies': {
    title: 'Legacy company records without a company',
    action:
      'Fix the legacy record (usually its name: blank or unusable) in NukeWorks, then re-run the companies backfill: `company-migration backfill --step companies`, then `company-migration validate`.',
  },
  'unmigratable-records': {
    title: 'Legacy records that cannot be migrated (blank names)',
    action:
      'Give each record listed under V8 a name in the legacy table, then re-run the companies backfill: `company-migration backfill --step companies`, then `company-migration validate`.',
  },
  'uncovered-project-links': {
    title: 'Legacy project links without their project assignment',
    action:
      'Re-run the projects backfill after the companies step has completed: `company-migration backfill --step companies`, then `company-migration backfill --step projects`, then validate again. Links that stay uncovered belong to records missing under V1.',
  },
  'uncovered-personnel-links': {
    title: 'Company-related personnel links without their affiliation',
    action:
      'Re-run the personnel backfill after the companies step has completed: `company-migration backfill --step personnel`, then validate again. Links that stay uncovered belong to records missing under V1.',
  },
  'legacy-orphans': {
    title: 'Legacy links that point at deleted rows',
    action:
      'Not migrated by design (there is nothing to link them to). List every one with `company-migration orphans list` (the V6 sample shows a few) and clean them up in the legacy data; no re-run is needed. When the data owner agrees they can go, `company-migration orphans archive` moves them into an archive table in one step (`orphans restore <archive-run-id>` puts them back exactly).',
  },
  'unified-orphans': {
    title: 'Unified rows that point at a missing company, role or person',
    action:
      'Something deleted rows after the migration or a step stopped half-way. List them with `company-migration orphans list`, restore or remove those rows, re-run `company-migration backfill` and validate again before switching the application over.',
  },
  'duplicate-names': {
    title: 'Companies with near-identical names',
    action:
      'Review each group under V5 (`company-migration duplicates list` adds counts, creation dates and a suggested survivor): merge the companies when they are one company, or record each pair that is legitimately distinct (e.g. a subsidiary and its parent) with `company-migration duplicates keep-apart <id> <id> --reason "…"`; a group whose pairs are all recorded is reported as acknowledged.',
  },
  'duplicate-names-acknowledged': {
    title: 'Near-identical names recorded as legitimately distinct',
    action:
      'Nothing to do: an operator recorded every pair of these groups as distinct companies (`company-migration duplicates keep-apart`); the reasons are listed under V5.',
  },
  drift: {
    title: 'Companies that differ from their legacy records',
    action:
      'A legacy record was renamed (or edited) after the migration. Review each company under V7 and decide which value is right; re-running `company-migration backfill --step companies` brings companies up to date with their legacy records.',
  },
  'stale-assignments': {
    title: 'Record assignments that point at deleted legacy rows',
    action:
      'The legacy record was deleted after the migration. Review the roles with stale assignments under V2: delete the assignment, or restore the legacy record if it was deleted by mistake.',
  },
  'confidentiality-lost': {
    title: 'Confidential project links migrated as non-confidential',
    action:
      'Do not switch the application over. Re-run `company-migration backfill --step projects`, validate again, and correct any assignment that stays non-confidential by hand.',
  },
  'missing-roles': {
    title: 'Roles missing from company_roles',
    action:
      'Re-run the companies backfill, which creates the six roles first: `company-migration backfill --step companies`, then the later steps and `company-migration validate`.',
  },
  'entity-count-mismatch': {
    title: 'Record assignments and legacy records differ in number',
    action:
      'Compare V1 and V2: re-run `company-migration backfill --step companies` for missing assignments; what remains is blank names (V8) or stale assignments, handled as described for those.',
  },
  'field-conflicts': {
    title: 'Legacy records of one company give different field values',
    action:
      'The first role’s record wins (Technology Vendor, Owner / Developer, MPR Client, Operator, Constructor, Off-taker). Review the conflicts and correct the legacy record whose value is wrong, then re-run `company-migration backfill --step companies`.',
  },
  'out-of-scope-links': {
    title: 'Personnel links that are not company links',
    action:
      'Nothing to do: these links point at something other than a company (e.g. a project) and are left as they are.',
  },
};

export const GENERIC_REMEDY: Remedy = {
  title: 'An issue this version of the report does not know',
  action:
    'Read its message and the samples above, and ask the migration owner before re-running anything; do not switch the application over while it is critical.',
};

/** The remedy for an issue code; the generic one for codes this version does not know. */
export function remedyFor(code: string): Remedy {
  return (isKnownIssueCode(code) && REMEDIES[code]) || GENERIC_REMEDY;
}

/** Own keys only: an issue code such as 'constructor' or 'toString' is not a known code. */
export function isKnownIssueCode(code: string): boolean {
  return Object.hasOwn(REMEDIES, code);
}

/** One entry per issue code present, critical first. */
function remediesOf(report: ValidationReport): { issue: ValidationIssue; remedy: Remedy; known: boolean }[] {
  const seen = new Set<string>();
  const out: { issue: ValidationIssue; remedy: Remedy; known: boolean }[] = [];
  for (const issue of sortIssues(report.issues)) {
    if (seen.has(issue.code)) continue;
    seen.add(issue.code);
    out.push({ issue, remedy: remedyFor(issue.code), known: isKnownIssueCode(issue.code) });
  }
  return out;
}

const INDEX_NOTE =
  'A slow company dashboard in the application is fixed by the indexes on company_role_assignments; the validation preflight creates them when they are missing (unless run with `--no-create-indexes`).';

// ---------------------------------------------------------------------------------------------------
// Markdown

/** Trusted Markdown, built here from escaped values. */
export interface Md {
  readonly md: string;
}

type DuplicateNameGroup = ValidationReport['duplicateNameGroups'][number];
type AcknowledgedPair = NonNullable<DuplicateNameGroup['acknowledgedPairs']>[number];

/** A V5 group's state; a group with some of its pairs recorded as distinct is still to review. */
function groupStatus(group: DuplicateNameGroup): string {
  if (group.acknowledged) return 'acknowledged: legitimately distinct';
  const recorded = (group.acknowledgedPairs ?? []).length;
  const n = group.companies.length;
  return recorded === 0
    ? 'to review'
    : `to review (${recorded} of ${(n * (n - 1)) / 2} pairs recorded as distinct)`;
}

const PAIR_COLUMNS = ['Companies', 'Reason', 'Recorded by', 'Recorded at'];

function pairCells(pair: AcknowledgedPair): string[] {
  return [`${pair.companyA} and ${pair.companyB}`, pair.reason, pair.recordedBy ?? '', pair.recordedAt ?? ''];
}

function mdRaw(md: string): Md {
  return { md };
}

/**
 * Escapes a value for inline Markdown (a table cell, a list item, a heading): the characters that would
 * start emphasis, code, links, strikethrough, HTML or entities are backslash-escaped, `|` too (table
 * cells), and line breaks become `<br>` so a value stays on its table row.
 */
export function mdInline(value: unknown): string {
  const text = String(value);
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const next = text[i + 1] ?? '';
    if (c === '\r') {
      out += '<br>';
      if (next === '\n') i++;
    } else if (c === '\n') {
      out += '<br>';
    } else if ('\\`*[]|~'.includes(c)) {
      out += `\\${c}`;
    } else if (c === '_') {
      // Inside a word (snake_case) an underscore cannot open or close emphasis.
      const prev = text[i - 1] ?? '';
      out += /[\p{L}\p{N}]/u.test(prev) && /[\p{L}\p{N}]/u.test(next) ? '_' : '\\_';
    } else if (c === '<' && /[A-Za-z/!?]/.test(next)) {
      out += '\\<';
    } else if (c === '&' && /^&#?[A-Za-z0-9]+;/.test(text.slice(i))) {
      out += '\\&';
    } else {
      out += c;
    }
  }
  return out;
}

export type MdCell = string | number | boolean | null | undefined | Md;

function mdCell(value: MdCell): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object') return value.md;
  const text = mdInline(value);
  return text.trim() === '' ? '—' : text;
}

/** A GitHub-flavoured table; plain cell values are escaped, `Md` cells kept. */
export function mdTable(
  head: readonly string[],
  rows: readonly (readonly MdCell[])[],
  numeric: readonly number[] = [],
) {
  const align = head.map((_, i) => (numeric.includes(i) ? '---:' : '---'));
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head.map(mdInline)), line(align), ...rows.map((row) => line(row.map(mdCell)))].join('\n');
}

function mdName(name: string): MdCell {
  return isBlank(name) ? mdRaw('*(blank name)*') : name;
}

function mdSample(sample: readonly SampleEntry[], total: number, what: string): string {
  if (sample.length === 0) return total > 0 ? `No sample of the ${what} in this report.` : '';
  const columns = sampleColumns(sample);
  const rows = sample.map((entry) =>
    columns.map((key): MdCell => {
      const value = entry[key];
      return typeof value === 'string' ? mdName(value) : value;
    }),
  );
  const table = mdTable(columns, rows, numericColumns(sample, columns));
  return sample.length < total
    ? `Sample (${formatCount(sample.length)} of ${formatCount(total)}):\n\n${table}`
    : table;
}

function mdCheck(passed: boolean): Md {
  return mdRaw(passed ? '✅' : '❌');
}

export function renderValidationMarkdown(report: ValidationReport): string {
  const verdict = report.passed ? 'PASSED' : 'FAILED';
  const critical = countIssues(report, 'critical');
  const warnings = countIssues(report, 'warning');
  const info = countIssues(report, 'info');
  const out: string[] = [];
  const push = (...blocks: string[]) => out.push(...blocks.filter((b) => b !== ''));

  push(
    `# ${report.passed ? '✅' : '❌'} ${verdict} — validation of stage ${mdInline(report.stage)}, run ${mdInline(report.runId)}, generated at ${mdInline(report.generatedAt)}`,
    `${criteriaSummary(report)} · ${plural(critical.entries, 'critical issue', 'critical issues')} · ${plural(warnings.entries, 'warning', 'warnings')}`,
  );

  push(
    '## Success criteria',
    report.criteria.length === 0
      ? 'No criteria in this report.'
      : mdTable(
          ['Criterion', 'Actual', 'Threshold', 'Passed', 'Detail'],
          report.criteria.map((c) => [
            c.id,
            formatCriterionValue(c.actual),
            formatCriterionValue(c.threshold),
            mdCheck(c.passed),
            c.message,
          ]),
        ),
  );

  push(
    '## Issues',
    `Critical: ${formatCount(critical.entries)} · Warnings: ${formatCount(warnings.entries)} · Info: ${formatCount(info.entries)}`,
    report.issues.length === 0
      ? 'No issues.'
      : mdTable(
          ['Severity', 'Code', 'Count', 'Message'],
          sortIssues(report.issues).map((i) => [i.severity, i.code, formatCount(i.count), i.message]),
          [2],
        ),
  );

  const cc = report.companyCoverage;
  const missingSamples = ROLE_KEYS.flatMap((role) =>
    cc[role].missingSample.map((s): MdCell[] => [roleLabel(role), s.id, mdName(s.name)]),
  );
  push(
    '## V1 · Company coverage per role',
    'Legacy company records and whether each has its record assignment (and so a company).',
    mdTable(
      ['Role', 'Legacy records', 'Mapped', 'Missing'],
      [
        ...ROLE_KEYS.map((role) => [
          roleLabel(role),
          formatCount(cc[role].total),
          formatCount(cc[role].mapped),
          formatCount(cc[role].missing),
        ]),
        [
          mdRaw('**All roles**'),
          mdRaw(`**${formatCount(sum(ROLE_KEYS.map((r) => cc[r].total)))}**`),
          mdRaw(`**${formatCount(sum(ROLE_KEYS.map((r) => cc[r].mapped)))}**`),
          mdRaw(`**${formatCount(sum(ROLE_KEYS.map((r) => cc[r].missing)))}**`),
        ],
      ],
      [1, 2, 3],
    ),
    missingSamples.length === 0
      ? ''
      : `Missing records (sample):\n\n${mdTable(['Role', 'Legacy id', 'Name'], missingSamples, [1])}`,
  );

  const ec = report.entityCounts;
  push(
    '## V2 · Entity counts',
    'Legacy rows against record assignments pointing at existing rows; stale assignments point at deleted legacy rows.',
    mdTable(
      ['Role', 'Legacy rows', 'Record assignments', 'Stale assignments', 'Match'],
      ROLE_KEYS.map((role) => [
        roleLabel(role),
        formatCount(ec[role].legacy),
        formatCount(ec[role].assignments),
        formatCount(ec[role].stale),
        mdCheck(ec[role].legacy === ec[role].assignments),
      ]),
      [1, 2, 3],
    ),
  );

  const pc = report.projectRelationshipCoverage;
  const coverageRow = (
    label: MdCell,
    c: { total: number; covered: number; percent: number },
    bold = false,
  ) => {
    const b = (s: string): MdCell => (bold ? mdRaw(`**${mdInline(s)}**`) : s);
    return [
      label,
      b(formatCount(c.total)),
      b(formatCount(c.covered)),
      b(formatCount(c.total - c.covered)),
      b(formatPercent(c.percent)),
    ];
  };
  push(
    '## V3 · Project-relationship coverage',
    'Legacy project links covered by their exact project assignment.',
    mdTable(
      ['Role', 'Links', 'Covered', 'Uncovered', 'Coverage'],
      [
        ...ROLE_KEYS.map((role) => coverageRow(roleLabel(role), pc[role])),
        coverageRow(mdRaw('**Overall**'), pc.overall, true),
      ],
      [1, 2, 3, 4],
    ),
  );

  const pa = report.personnelAffiliationCoverage;
  push(
    '## V4 · Personnel-affiliation coverage',
    'Company-related personnel links covered by their exact affiliation; out of scope: links to something other than a company (e.g. a project).',
    mdTable(
      ['Links', 'Covered', 'Uncovered', 'Coverage', 'Out of scope'],
      [
        [
          formatCount(pa.total),
          formatCount(pa.covered),
          formatCount(pa.total - pa.covered),
          formatPercent(pa.percent),
          formatCount(pa.outOfScope),
        ],
      ],
      [0, 1, 2, 3, 4],
    ),
  );

  const groups = report.duplicateNameGroups;
  const acknowledged = groups.filter((g) => g.acknowledged).length;
  push(
    '## V5 · Duplicate names',
    groups.length === 0
      ? 'No companies with near-identical names.'
      : `${plural(groups.length, 'group', 'groups')} of companies whose names are equal once lower-cased and trimmed (${formatCount(groups.length - acknowledged)} to review, ${formatCount(acknowledged)} acknowledged as legitimately distinct).`,
    ...groups.map(
      (g) =>
        `### “${mdInline(g.normalizedName)}” — ${groupStatus(g)}\n\n${mdTable(
          ['Company id', 'Name', 'Roles', 'Contexts'],
          g.companies.map((c) => [
            c.companyId,
            mdName(c.name),
            c.roles.map(roleLabel).join(', '),
            c.contextTypes.join(', '),
          ]),
          [0],
        )}${
          (g.acknowledgedPairs ?? []).length === 0
            ? ''
            : `\n\nRecorded as legitimately distinct:\n\n${mdTable(
                PAIR_COLUMNS,
                (g.acknowledgedPairs ?? []).map(pairCells),
              )}`
        }`,
    ),
  );

  const o = report.orphans;
  push(
    '## V6 · Orphans',
    'Legacy links to rows that no longer exist are not migrated (warning); unified rows pointing at missing rows are critical.',
    mdTable(
      ['Legacy personnel links', 'Legacy project links', 'Unified rows'],
      [[formatCount(o.personnelLinks), formatCount(o.projectLinks), formatCount(o.unifiedRows)]],
      [0, 1, 2],
    ),
    mdSample(o.sample, o.personnelLinks + o.projectLinks + o.unifiedRows, 'orphans'),
  );

  push(
    '## V7 · Drift',
    report.drift.count === 0
      ? 'No company differs from its legacy records.'
      : plural(
          report.drift.count,
          'company differs from its legacy records.',
          'companies differ from their legacy records.',
        ),
    mdSample(report.drift.sample, report.drift.count, 'drifted companies'),
  );

  push(
    '## V8 · Unmigratable records',
    report.unmigratable.count === 0
      ? 'Every legacy record can be migrated.'
      : `${plural(report.unmigratable.count, 'legacy record', 'legacy records')} cannot be migrated (blank names).`,
    mdSample(report.unmigratable.sample, report.unmigratable.count, 'unmigratable records'),
  );

  push(
    '## Indexes',
    report.indexes.length === 0
      ? 'The checks found none of the indexes they rely on, and created none.'
      : mdTable(
          ['Index', 'Status'],
          report.indexes.map((ix) => [ix.name, ix.created ? 'created by this run' : 'already present']),
        ),
    report.statements === undefined
      ? ''
      : `Statements sent by the validation: ${formatCount(report.statements)}.`,
    INDEX_NOTE,
  );

  const remedies = remediesOf(report);
  push(
    '## What to do',
    remedies.length === 0
      ? 'Nothing: no issues.'
      : remedies
          .map(
            ({ issue, remedy, known }) =>
              `- **${mdInline(issue.code)}** (${issue.severity}) — ${known ? remedy.title : mdInline(issue.message)}: ${remedy.action}`,
          )
          .join('\n'),
  );

  return `${out.join('\n\n')}\n`;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------------------------------------------
// HTML

function htmlName(name: string): CellContent {
  return isBlank(name) ? raw('<em class="muted">(blank name)</em>') : name;
}

function htmlCheck(passed: boolean): Html {
  return pill(passed ? '✓ passed' : '✗ failed', passed ? 'good' : 'bad');
}

const SEVERITY_TONE: Record<ValidationIssue['severity'], Tone> = {
  critical: 'bad',
  warning: 'warn',
  info: 'neutral',
};

/** Commands written in backticks in the remedy text become `<code>`. */
function remedyHtml(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function htmlSample(sample: readonly SampleEntry[], total: number, what: string): string {
  if (sample.length === 0)
    return total > 0 ? `<p class="muted">No sample of the ${escapeHtml(what)} in this report.</p>` : '';
  const columns = sampleColumns(sample);
  return htmlTable({
    ...(sample.length < total
      ? { caption: `Sample: ${formatCount(sample.length)} of ${formatCount(total)}` }
      : {}),
    head: columns,
    numeric: numericColumns(sample, columns),
    rows: sample.map((entry) =>
      columns.map((key): CellContent => {
        const value = entry[key];
        return typeof value === 'string' ? htmlName(value) : value;
      }),
    ),
  });
}

function section(id: string, title: string, ...parts: string[]): string {
  return `<section aria-labelledby="${id}">\n<h2 id="${id}">${escapeHtml(title)}</h2>\n${parts.filter((p) => p !== '').join('\n')}\n</section>`;
}

function para(text: string, className = ''): string {
  return `<p${className ? ` class="${className}"` : ''}>${escapeHtml(text)}</p>`;
}

export function renderValidationHtml(report: ValidationReport): string {
  const verdict = report.passed ? 'PASSED' : 'FAILED';
  const critical = countIssues(report, 'critical');
  const warnings = countIssues(report, 'warning');
  const info = countIssues(report, 'info');
  const pc = report.projectRelationshipCoverage;
  const pa = report.personnelAffiliationCoverage;
  const projectThreshold = numericThreshold(report, 'project-coverage');
  const personnelThreshold = numericThreshold(report, 'personnel-coverage');
  const toneFor = (percent: number, threshold: number | undefined): Tone =>
    threshold === undefined ? 'neutral' : percent >= threshold ? 'good' : 'bad';
  // The criterion decides (on the exact counts); the rounded percent only when there is none.
  const criterionTone = (id: string, fallback: Tone): Tone => {
    const criterion = report.criteria.find((c) => c.id === id);
    return criterion === undefined ? fallback : criterion.passed ? 'good' : 'bad';
  };
  const thresholdText = (t: number | undefined) =>
    t === undefined ? '' : ` · threshold ${formatThreshold(t)}`;

  const banner = `<header class="verdict verdict-${report.passed ? 'passed' : 'failed'}">
<h1>${verdict}</h1>
<p>Company migration validation · stage <strong>${escapeHtml(report.stage)}</strong> · run <strong>${escapeHtml(report.runId)}</strong></p>
<p class="verdict-sub">${escapeHtml(criteriaSummary(report))} · generated at ${escapeHtml(report.generatedAt)}</p>
</header>`;

  const cards = `<div class="cards">
${card('Project coverage', formatPercent(pc.overall.percent), `${formatCount(pc.overall.covered)} of ${formatCount(pc.overall.total)} links${thresholdText(projectThreshold)}`, criterionTone('project-coverage', toneFor(pc.overall.percent, projectThreshold)))}
${card('Personnel coverage', formatPercent(pa.percent), `${formatCount(pa.covered)} of ${formatCount(pa.total)} links${thresholdText(personnelThreshold)}`, criterionTone('personnel-coverage', toneFor(pa.percent, personnelThreshold)))}
${card('Critical issues', formatCount(critical.entries), `${plural(critical.records, 'record', 'records')} affected`, critical.entries > 0 ? 'bad' : 'good')}
${card('Warnings', formatCount(warnings.entries), `${plural(warnings.records, 'record', 'records')} affected`, warnings.entries > 0 ? 'warn' : 'good')}
</div>`;

  const criteria = section(
    'criteria',
    'Success criteria',
    report.criteria.length === 0
      ? para('No criteria in this report.', 'muted')
      : htmlTable({
          head: ['Criterion', 'Actual', 'Threshold', 'Result', 'Detail'],
          rowHeaders: true,
          rows: report.criteria.map((c) => [
            c.id,
            formatCriterionValue(c.actual),
            formatCriterionValue(c.threshold),
            htmlCheck(c.passed),
            c.message,
          ]),
        }),
  );

  const issues = section(
    'issues',
    'Issues',
    para(
      `Critical: ${formatCount(critical.entries)} · Warnings: ${formatCount(warnings.entries)} · Info: ${formatCount(info.entries)}`,
    ),
    report.issues.length === 0
      ? para('No issues.', 'muted')
      : htmlTable({
          head: ['Severity', 'Code', 'Count', 'Message'],
          numeric: [2],
          rows: sortIssues(report.issues).map((i) => [
            pill(i.severity, SEVERITY_TONE[i.severity]),
            i.code,
            formatCount(i.count),
            i.message,
          ]),
        }),
  );

  const cc = report.companyCoverage;
  const missingSamples = ROLE_KEYS.flatMap((role) =>
    cc[role].missingSample.map((s): CellContent[] => [roleLabel(role), s.id, htmlName(s.name)]),
  );
  const v1 = section(
    'v1',
    'V1 · Company coverage per role',
    para('Legacy company records and whether each has its record assignment (and so a company).', 'muted'),
    htmlTable({
      head: ['Role', 'Legacy records', 'Mapped', 'Missing'],
      rowHeaders: true,
      numeric: [1, 2, 3],
      rows: [
        ...ROLE_KEYS.map((role) => [
          roleLabel(role),
          formatCount(cc[role].total),
          formatCount(cc[role].mapped),
          cc[role].missing > 0
            ? raw(`<strong class="bad">${escapeHtml(formatCount(cc[role].missing))}</strong>`)
            : formatCount(0),
        ]),
        [
          'All roles',
          formatCount(sum(ROLE_KEYS.map((r) => cc[r].total))),
          formatCount(sum(ROLE_KEYS.map((r) => cc[r].mapped))),
          formatCount(sum(ROLE_KEYS.map((r) => cc[r].missing))),
        ],
      ],
      rowClasses: [...ROLE_KEYS.map(() => undefined), 'total'],
    }),
    missingSamples.length === 0
      ? ''
      : `<h3>Missing records (sample)</h3>\n${htmlTable({ head: ['Role', 'Legacy id', 'Name'], numeric: [1], rows: missingSamples })}`,
  );

  const ec = report.entityCounts;
  const v2 = section(
    'v2',
    'V2 · Entity counts',
    para(
      'Legacy rows against record assignments pointing at existing rows; stale assignments point at deleted legacy rows.',
      'muted',
    ),
    htmlTable({
      head: ['Role', 'Legacy rows', 'Record assignments', 'Stale assignments', 'Match'],
      rowHeaders: true,
      numeric: [1, 2, 3],
      rows: ROLE_KEYS.map((role) => [
        roleLabel(role),
        formatCount(ec[role].legacy),
        formatCount(ec[role].assignments),
        ec[role].stale > 0
          ? raw(`<strong class="bad">${escapeHtml(formatCount(ec[role].stale))}</strong>`)
          : formatCount(0),
        ec[role].legacy === ec[role].assignments ? pill('✓ equal', 'good') : pill('✗ differ', 'bad'),
      ]),
    }),
  );

  const coverageRow = (
    label: string,
    c: { total: number; covered: number; percent: number },
    threshold: number | undefined,
  ) => [
    label,
    formatCount(c.total),
    formatCount(c.covered),
    formatCount(c.total - c.covered),
    formatPercent(c.percent),
    raw(
      coverageBar(
        c.percent,
        threshold === undefined
          ? { tone: toneFor(c.percent, threshold) }
          : { tone: toneFor(c.percent, threshold), threshold },
      ),
    ),
  ];
  const coverageHead = ['Role', 'Links', 'Covered', 'Uncovered', 'Coverage', 'Coverage bar'];
  const v3 = section(
    'v3',
    'V3 · Project-relationship coverage',
    para(
      `Legacy project links covered by their exact project assignment${projectThreshold === undefined ? '' : `; the line on each bar marks the ${formatThreshold(projectThreshold)} threshold`}.`,
      'muted',
    ),
    htmlTable({
      head: coverageHead,
      rowHeaders: true,
      numeric: [1, 2, 3, 4],
      rows: [
        ...ROLE_KEYS.map((role: RoleKey) => coverageRow(roleLabel(role), pc[role], projectThreshold)),
        coverageRow('Overall', pc.overall, projectThreshold),
      ],
      rowClasses: [...ROLE_KEYS.map(() => undefined), 'total'],
      columnClasses: { 5: 'bar-cell' },
    }),
  );

  const v4 = section(
    'v4',
    'V4 · Personnel-affiliation coverage',
    para(
      'Company-related personnel links covered by their exact affiliation; out of scope: links to something other than a company (e.g. a project).',
      'muted',
    ),
    htmlTable({
      head: ['Links', 'Covered', 'Uncovered', 'Coverage', 'Coverage bar', 'Out of scope'],
      numeric: [0, 1, 2, 3, 5],
      rows: [
        [
          formatCount(pa.total),
          formatCount(pa.covered),
          formatCount(pa.total - pa.covered),
          formatPercent(pa.percent),
          raw(
            coverageBar(
              pa.percent,
              personnelThreshold === undefined
                ? { tone: 'neutral' }
                : { tone: toneFor(pa.percent, personnelThreshold), threshold: personnelThreshold },
            ),
          ),
          formatCount(pa.outOfScope),
        ],
      ],
      columnClasses: { 4: 'bar-cell' },
    }),
  );

  const groups = report.duplicateNameGroups;
  const acknowledged = groups.filter((g) => g.acknowledged).length;
  const v5 = section(
    'v5',
    'V5 · Duplicate names',
    groups.length === 0
      ? para('No companies with near-identical names.', 'muted')
      : para(
          `${plural(groups.length, 'group', 'groups')} of companies whose names are equal once lower-cased and trimmed (${formatCount(groups.length - acknowledged)} to review, ${formatCount(acknowledged)} acknowledged as legitimately distinct).`,
          'muted',
        ),
    ...groups.map(
      (g) =>
        `<h3>“${escapeHtml(g.normalizedName)}” ${pill(groupStatus(g), g.acknowledged ? 'neutral' : 'warn').html}</h3>\n${htmlTable(
          {
            head: ['Company id', 'Name', 'Roles', 'Contexts'],
            numeric: [0],
            rows: g.companies.map((c) => [
              c.companyId,
              htmlName(c.name),
              c.roles.map(roleLabel).join(', '),
              c.contextTypes.join(', '),
            ]),
          },
        )}${
          (g.acknowledgedPairs ?? []).length === 0
            ? ''
            : `\n${htmlTable({
                caption: 'Recorded as legitimately distinct',
                head: PAIR_COLUMNS,
                rows: (g.acknowledgedPairs ?? []).map(pairCells),
              })}`
        }`,
    ),
  );

  const o = report.orphans;
  const v6 = section(
    'v6',
    'V6 · Orphans',
    para(
      'Legacy links to rows that no longer exist are not migrated (warning); unified rows pointing at missing rows are critical.',
      'muted',
    ),
    htmlTable({
      head: ['Legacy personnel links', 'Legacy project links', 'Unified rows'],
      numeric: [0, 1, 2],
      rows: [
        [
          formatCount(o.personnelLinks),
          formatCount(o.projectLinks),
          o.unifiedRows > 0
            ? raw(`<strong class="bad">${escapeHtml(formatCount(o.unifiedRows))}</strong>`)
            : formatCount(0),
        ],
      ],
    }),
    htmlSample(o.sample, o.personnelLinks + o.projectLinks + o.unifiedRows, 'orphans'),
  );

  const v7 = section(
    'v7',
    'V7 · Drift',
    para(
      report.drift.count === 0
        ? 'No company differs from its legacy records.'
        : plural(
            report.drift.count,
            'company differs from its legacy records.',
            'companies differ from their legacy records.',
          ),
    ),
    htmlSample(report.drift.sample, report.drift.count, 'drifted companies'),
  );

  const v8 = section(
    'v8',
    'V8 · Unmigratable records',
    para(
      report.unmigratable.count === 0
        ? 'Every legacy record can be migrated.'
        : `${plural(report.unmigratable.count, 'legacy record', 'legacy records')} cannot be migrated (blank names).`,
    ),
    htmlSample(report.unmigratable.sample, report.unmigratable.count, 'unmigratable records'),
  );

  const indexes = section(
    'indexes',
    'Indexes',
    report.indexes.length === 0
      ? para('The checks found none of the indexes they rely on, and created none.', 'muted')
      : htmlTable({
          head: ['Index', 'Status'],
          rows: report.indexes.map((ix) => [
            ix.name,
            ix.created ? pill('created by this run', 'neutral') : pill('already present', 'good'),
          ]),
        }),
    report.statements === undefined
      ? ''
      : para(`Statements sent by the validation: ${formatCount(report.statements)}.`),
    `<p class="muted">${remedyHtml(INDEX_NOTE)}</p>`,
  );

  const remedies = remediesOf(report);
  const todo = section(
    'todo',
    'What to do',
    remedies.length === 0
      ? para('Nothing: no issues.', 'muted')
      : `<ul class="remedies">\n${remedies
          .map(
            ({ issue, remedy, known }) =>
              `<li class="sev-${escapeHtml(issue.severity)}"><div class="remedy-head">${escapeHtml(issue.code)} · ${escapeHtml(issue.severity)} · ${escapeHtml(known ? remedy.title : issue.message)}</div><div>${remedyHtml(remedy.action)}</div></li>`,
          )
          .join('\n')}\n</ul>`,
  );

  return htmlPage({
    title: `${verdict} · validation · ${report.stage} · ${report.runId}`,
    body: [
      banner,
      cards,
      criteria,
      issues,
      v1,
      v2,
      v3,
      v4,
      v5,
      v6,
      v7,
      v8,
      indexes,
      todo,
      `<footer>Validation report, schema version ${escapeHtml(report.schemaVersion)} · run ${escapeHtml(report.runId)} · stage ${escapeHtml(report.stage)}</footer>`,
    ].join('\n'),
  });
}
