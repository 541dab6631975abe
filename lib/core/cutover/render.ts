import type { CutoverReport } from './report-schema.ts';

/** The cutover report as text for people (the CLI prints it; the monitor keeps it as Markdown). */
export function renderCutoverMarkdown(report: CutoverReport): string {
  const d = report.dependencies;
  const bullet = (items: string[], none: string) =>
    items.length === 0 ? [`- ${none}`] : items.map((i) => `- ${i}`);
  const lines = [
    `# Cutover readiness of schema ${report.schema}: ${report.ready ? 'READY' : 'NOT READY'}`,
    '',
    `Checked at ${report.generatedAt}. Legacy tables to retire: ${report.legacyTables.join(', ') || 'none found'}. ` +
      `Kept: ${report.keptTables.join(', ')}.`,
    '',
    ...(report.ready
      ? ['Nothing depends on the legacy tables, nobody writes them, and validation passes.']
      : ['## Why not', '', ...bullet(report.reasons, '')]),
    '',
    '## What depends on the legacy tables',
    '',
    ...bullet(
      [
        ...d.views.map(
          (v) =>
            `${v.kind} ${v.schema}.${v.name} reads ${v.legacyTables.join(', ')}${v.depth > 1 ? ` (through ${v.depth - 1} other view(s))` : ''}`,
        ),
        ...d.rules.map(
          (r) => `rule ${r.name} on ${r.schema}.${r.table} touches ${r.legacyTables.join(', ')}`,
        ),
        ...d.foreignKeys.map(
          (k) => `foreign key ${k.schema}.${k.table}.${k.name} references ${k.references}`,
        ),
        ...d.triggers.map(
          (t) => `trigger ${t.name} on ${t.table} runs ${t.function}${t.enabled ? '' : ' (disabled)'}`,
        ),
        ...d.functions.map(
          (f) =>
            `${f.kind} ${f.schema}.${f.name}(${f.arguments}) uses ${f.legacyTables.join(', ')} (found by its ${f.foundBy === 'catalog' ? 'catalog dependency' : 'text'})`,
        ),
      ],
      'nothing found in the catalog',
    ),
    '',
    `Ours: ${report.ours.dualWriteTriggers} dual-write trigger(s) and ${report.ours.dualWriteFunctions} function(s) ` +
      `(dropped first by the SQL below). Foreign keys between legacy tables: ${d.legacyForeignKeys.length} (they only order the drops).`,
    '',
    `## Writes to legacy tables (${report.writes.recorded ? 'baseline recorded' : 'dry run: nothing recorded'})`,
    '',
    `Unwritten for ${report.writes.quietHours} h; ready needs ${report.writes.minQuietHours} h.`,
    '',
    '| Table | Status | Inserted | Updated | Deleted | Quiet since | Previous check |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
    ...report.writes.tables.map(
      (t) =>
        `| ${t.table} | ${t.status} | ${t.inserts ?? '—'} | ${t.updates ?? '—'} | ${t.deletes ?? '—'} | ${t.quietSince ?? '—'} | ${t.previousCheck ?? '—'} |`,
    ),
    '',
    `## Validation: ${report.validation.passed ? 'passed' : 'failed'} (${report.validation.critical} critical issue(s))`,
    '',
    ...report.validation.criteria.map((c) => `- ${c.passed ? '✅' : '❌'} ${c.id}: ${c.message}`),
    '',
    '## SQL a DBA would run (not run by this tool)',
    '',
    '```sql',
    report.dropSql.trimEnd(),
    '```',
    '',
  ];
  return lines.join('\n');
}
