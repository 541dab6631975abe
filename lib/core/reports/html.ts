/**
 * Shared pieces of the HTML reports: escaping, the self-contained page shell (inline CSS, no scripts,
 * no external assets, readable offline and printed), tables and coverage bars.
 *
 * Everything that comes from a report goes through `escapeHtml`: company names are user data.
 */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for element content and (quoted) attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Trusted markup, built by these helpers from escaped parts. */
export interface Html {
  readonly html: string;
}

/** Marks markup as trusted: only for strings built here from escaped values. */
export function raw(html: string): Html {
  return { html };
}

/** A cell's content: plain values are escaped, `Html` is kept as it is. */
export type CellContent = string | number | boolean | null | undefined | Html;

export function cellHtml(value: CellContent): string {
  if (value === null || value === undefined) return '<span class="muted">—</span>';
  if (typeof value === 'object') return value.html;
  return escapeHtml(value);
}

export interface HtmlTableOptions {
  /** Column headers. */
  head: readonly string[];
  rows: readonly (readonly CellContent[])[];
  /** The first cell of each row is the row's header (`<th scope="row">`). */
  rowHeaders?: boolean;
  /** Indexes of columns to right-align (numbers). */
  numeric?: readonly number[];
  /** Visible caption, for screen readers and print. */
  caption?: string;
  /** Extra class per row (e.g. 'total'), same order as rows. */
  rowClasses?: readonly (string | undefined)[];
  /** Extra class per column index (e.g. 'bar-cell'). */
  columnClasses?: Readonly<Record<number, string>>;
}

export function htmlTable(options: HtmlTableOptions): string {
  const numeric = new Set(options.numeric ?? []);
  const cls = (i: number) => {
    const classes = [numeric.has(i) ? 'num' : '', options.columnClasses?.[i] ?? ''].filter(Boolean).join(' ');
    return classes ? ` class="${escapeHtml(classes)}"` : '';
  };
  const head = options.head.map((h, i) => `<th scope="col"${cls(i)}>${escapeHtml(h)}</th>`).join('');
  const body = options.rows
    .map((row, r) => {
      const rowClass = options.rowClasses?.[r];
      const cells = row
        .map((cell, i) =>
          i === 0 && options.rowHeaders
            ? `<th scope="row"${cls(i)}>${cellHtml(cell)}</th>`
            : `<td${cls(i)}>${cellHtml(cell)}</td>`,
        )
        .join('');
      return `<tr${rowClass ? ` class="${escapeHtml(rowClass)}"` : ''}>${cells}</tr>`;
    })
    .join('\n');
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : '';
  return `<div class="table-wrap"><table>${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

export type Tone = 'good' | 'bad' | 'warn' | 'neutral';

/**
 * A horizontal bar whose filled width is the percent (0–100), with an optional threshold marker. The
 * figure is also written as text, so the bar is decoration (hidden from screen readers).
 */
export function coverageBar(
  percent: number,
  { tone, threshold }: { tone: Tone; threshold?: number },
): string {
  const width = clampPercent(percent);
  const marker =
    threshold === undefined
      ? ''
      : `<span class="bar-threshold" style="left:${clampPercent(threshold)}%" title="threshold ${escapeHtml(threshold)} %"></span>`;
  return `<span class="bar bar-${tone}" aria-hidden="true"><span class="bar-fill" style="width:${width}%"></span>${marker}</span>`;
}

function clampPercent(value: number): string {
  const n = Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 0;
  return n.toFixed(2);
}

/** A key figure: a big value with a label and a detail line. */
export function card(label: string, value: string, detail: string, tone: Tone): string {
  return `<div class="card card-${tone}"><div class="card-label">${escapeHtml(label)}</div><div class="card-value">${escapeHtml(value)}</div><div class="card-detail">${escapeHtml(detail)}</div></div>`;
}

/** A status pill (e.g. ✅ passed). */
export function pill(text: string, tone: Tone): Html {
  return raw(`<span class="pill pill-${tone}">${escapeHtml(text)}</span>`);
}

/** The whole document: `<!doctype html>`, charset, title, inline CSS and the body in one `<main>`. */
export function htmlPage({ title, body }: { title: string; body: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

const PAGE_CSS = `
:root {
  --ink: #1d2330; --muted: #5d6675; --line: #d9dee7; --bg: #f4f6f9; --paper: #fff;
  --good: #1a7f37; --good-bg: #e7f5eb; --bad: #b42318; --bad-bg: #fdecea;
  --warn: #9a6700; --warn-bg: #fff6dd; --neutral: #5d6675; --neutral-bg: #eef1f5;
}
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1100px; margin: 0 auto; padding: 24px 24px 48px; }
h1, h2, h3 { line-height: 1.25; }
h2 { font-size: 1.3rem; margin: 0 0 12px; }
h3 { font-size: 1.05rem; margin: 20px 0 8px; }
p { margin: 8px 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em;
  background: var(--neutral-bg); padding: 1px 4px; border-radius: 4px; white-space: nowrap; }
section { background: var(--paper); border: 1px solid var(--line); border-radius: 10px;
  padding: 20px 22px; margin: 18px 0; }
.muted { color: var(--muted); }
.verdict { border-radius: 12px; padding: 22px 26px; color: #fff; margin: 0 0 18px; }
.verdict-passed { background: var(--good); }
.verdict-failed { background: var(--bad); }
.verdict h1 { font-size: 2.6rem; letter-spacing: 0.04em; margin: 0 0 6px; }
.verdict p { margin: 2px 0; font-size: 1.02rem; overflow-wrap: anywhere; }
.verdict .verdict-sub { opacity: 0.92; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 14px; margin: 0 0 18px; }
.card { background: var(--paper); border: 1px solid var(--line); border-left: 6px solid var(--neutral);
  border-radius: 10px; padding: 14px 16px; }
.card-good { border-left-color: var(--good); }
.card-bad { border-left-color: var(--bad); }
.card-warn { border-left-color: var(--warn); }
.card-label { color: var(--muted); font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.05em; }
.card-value { font-size: 2rem; font-weight: 700; line-height: 1.2; margin: 4px 0; }
.card-good .card-value { color: var(--good); }
.card-bad .card-value { color: var(--bad); }
.card-warn .card-value { color: var(--warn); }
.card-detail { color: var(--muted); font-size: 0.88rem; }
.table-wrap { max-width: 100%; }
table { width: 100%; border-collapse: collapse; margin: 6px 0 4px; table-layout: auto; }
caption { text-align: left; color: var(--muted); font-size: 0.88rem; padding: 0 0 6px; }
th, td { text-align: left; vertical-align: top; padding: 7px 10px; border-bottom: 1px solid var(--line);
  overflow-wrap: anywhere; }
thead th { background: var(--neutral-bg); font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.03em;
  color: var(--muted); border-bottom: 2px solid var(--line); overflow-wrap: normal; }
tbody th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; width: 1%; }
tbody th { min-width: 13em; }
tr.unchanged th, tr.unchanged td { color: var(--muted); font-weight: normal; }
tr.total th, tr.total td { font-weight: 700; border-top: 2px solid var(--line); }
tr.group th { background: var(--bg); font-size: 0.9rem; text-transform: none; letter-spacing: 0; color: var(--ink); }
tr { break-inside: avoid; }
.pill { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 0.85rem; font-weight: 600;
  white-space: nowrap; }
.pill-good { background: var(--good-bg); color: var(--good); }
.pill-bad { background: var(--bad-bg); color: var(--bad); }
.pill-warn { background: var(--warn-bg); color: var(--warn); }
.pill-neutral { background: var(--neutral-bg); color: var(--neutral); }
.bar { position: relative; display: block; width: 100%; min-width: 120px; height: 14px; border-radius: 7px;
  background: var(--neutral-bg); overflow: hidden; margin-top: 4px; }
.bar-fill { display: block; height: 100%; border-radius: 7px 0 0 7px; background: var(--neutral); }
.bar-good .bar-fill { background: var(--good); }
.bar-bad .bar-fill { background: var(--bad); }
.bar-warn .bar-fill { background: var(--warn); }
.bar-threshold { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; background: var(--ink); opacity: 0.7; }
.bar-cell { width: 34%; }
.remedies { margin: 0; padding: 0; list-style: none; }
.remedies li { border-left: 4px solid var(--neutral); padding: 6px 12px; margin: 10px 0; background: var(--bg);
  border-radius: 0 8px 8px 0; }
.remedies li.sev-critical { border-left-color: var(--bad); }
.remedies li.sev-warning { border-left-color: var(--warn); }
.remedies .remedy-head { font-weight: 600; }
.good { color: var(--good); }
.bad { color: var(--bad); }
.neutral { color: var(--muted); }
.judgement { color: var(--muted); font-size: 0.8rem; }
footer { color: var(--muted); font-size: 0.85rem; margin-top: 18px; }
@media print {
  html, body { font-size: 10.5pt; }
  body { background: #fff; }
  main { max-width: none; padding: 0; }
  section { border: none; padding: 0; margin: 14px 0; break-inside: auto; }
  .cards { grid-template-columns: repeat(4, 1fr); }
  h2, h3 { break-after: avoid; }
}
`;
