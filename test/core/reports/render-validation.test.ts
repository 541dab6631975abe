import { describe, expect, it } from 'vitest';
import { ROLE_MAPPINGS } from '../../../lib/core/mapping/roles.ts';
import {
  GENERIC_REMEDY,
  mdInline,
  REMEDIES,
  renderValidationHtml,
  renderValidationMarkdown,
} from '../../../lib/core/reports/render-validation.ts';
import type { ValidationReport } from '../../../lib/core/validation/report-schema.ts';
import { exampleValidationReport } from '../../support/validation-report-fixture.ts';

/** The fixture after the defects were fixed: every criterion met, no issue left. */
function passingReport(): ValidationReport {
  const base = exampleValidationReport();
  return exampleValidationReport({
    passed: true,
    criteria: [
      { id: 'no-critical-issues', passed: true, actual: 0, threshold: 0, message: 'no critical issue' },
      {
        id: 'entity-counts-match',
        passed: true,
        actual: 'equal',
        threshold: 'equal',
        message: 'every role has one record assignment per legacy record',
      },
      {
        id: 'project-coverage',
        passed: true,
        actual: 97.92,
        threshold: 95,
        message: 'project-relationship coverage 97.92 % ≥ 95 %',
      },
      {
        id: 'personnel-coverage',
        passed: true,
        actual: 99.13,
        threshold: 95,
        message: 'personnel-affiliation coverage 99.13 % ≥ 95 %',
      },
    ],
    companyCoverage: {
      ...base.companyCoverage,
      operator: { total: 23, mapped: 23, missing: 0, missingSample: [] },
    },
    entityCounts: {
      ...base.entityCounts,
      vendor: { legacy: 20, assignments: 20, stale: 0 },
      operator: { legacy: 23, assignments: 23, stale: 0 },
    },
    projectRelationshipCoverage: {
      ...base.projectRelationshipCoverage,
      vendor: { total: 269, covered: 262, percent: 97.4 },
      overall: { total: 817, covered: 800, percent: 97.92 },
    },
    duplicateNameGroups: base.duplicateNameGroups.map((g) => ({ ...g, acknowledged: true })),
    orphans: { personnelLinks: 0, projectLinks: 0, unifiedRows: 0, sample: [] },
    drift: { count: 0, sample: [] },
    unmigratable: { count: 0, sample: [] },
    issues: [],
  });
}

/** Lines of the section under a `## heading`, up to the next `## `. */
function markdownSection(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(`## ${heading}`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? undefined : end).filter((line) => line !== '');
}

/** The cells of every Markdown table body row (split on unescaped pipes). */
function markdownCells(markdown: string): string[] {
  const lines = markdown.split('\n');
  return lines
    .filter(
      (line, i) => line.startsWith('| ') && !line.startsWith('| ---') && !lines[i + 1]?.startsWith('| ---'),
    )
    .flatMap((line) =>
      line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((cell) => cell.trim()),
    );
}

/** The text of every table cell of the page, tags removed and entities decoded. */
function htmlCells(html: string): string[] {
  return [...html.matchAll(/<t[dh]\b[^>]*>([\s\S]*?)<\/t[dh]>/g)].map((m) =>
    (m[1] ?? '')
      .replace(/<[^>]+>/g, '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&')
      .trim(),
  );
}

/** Every string and number in the report, as the renderers may print it. */
function reportValues(report: ValidationReport): Set<string> {
  const values = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string' || typeof value === 'number') values.add(String(value));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(report);
  return values;
}

/** A copy of the report with a `notes` key (and a confidential value) added to every object in it. */
function withNotesEverywhere(report: ValidationReport): ValidationReport {
  let n = 0;
  const add = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(add);
    if (value && typeof value === 'object') {
      const copy = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, add(v)]));
      n++;
      return { ...copy, notes: `LEAKED-NOTE-${n}`, comment: `LEAKED-COMMENT-${n}` };
    }
    return value;
  };
  return add(report) as ValidationReport;
}

const INJECTED_NAME = '<script>alert(1)</script> & "Sons"';

describe('renderValidationMarkdown', () => {
  it('starts with the verdict line, then the criteria, issues, the sections V1–V8 and what to do', () => {
    // Prepare
    const report = exampleValidationReport();

    // Act
    const markdown = renderValidationMarkdown(report);

    // Assess
    const lines = markdown.split('\n');
    expect(lines[0]).toBe(
      '# ❌ FAILED — validation of stage dev, run run-20261125-0001, generated at 2026-11-25T07:00:00.000Z',
    );
    expect(lines[2]).toBe('3 of 4 success criteria not met · 1 critical issue · 4 warnings');
    expect(lines.filter((line) => line.startsWith('## '))).toEqual([
      '## Success criteria',
      '## Issues',
      '## V1 · Company coverage per role',
      '## V2 · Entity counts',
      '## V3 · Project-relationship coverage',
      '## V4 · Personnel-affiliation coverage',
      '## V5 · Duplicate names',
      '## V6 · Orphans',
      '## V7 · Drift',
      '## V8 · Unmigratable records',
      '## Indexes',
      '## What to do',
    ]);
    expect(markdown.endsWith('\n')).toBe(true);
  });

  it('lists the success criteria with actual, threshold and ✅/❌', () => {
    // Act
    const markdown = renderValidationMarkdown(exampleValidationReport());

    // Assess
    expect(markdownSection(markdown, 'Success criteria')).toEqual([
      '| Criterion | Actual | Threshold | Passed | Detail |',
      '| --- | --- | --- | --- | --- |',
      '| no-critical-issues | 1 | 0 | ❌ | 1 critical issue |',
      '| entity-counts-match | operator: 25 legacy, 24 assigned | equal | ❌ | operator counts differ |',
      '| project-coverage | 89.6 | 95 | ❌ | project-relationship coverage 89.6 % < 95 % |',
      '| personnel-coverage | 99.13 | 95 | ✅ | personnel-affiliation coverage 99.13 % ≥ 95 % |',
    ]);
  });

  it('lists the issues critical first, with their counts', () => {
    // Prepare: an info issue first and a critical one last in the report
    const report = exampleValidationReport();
    const reordered = exampleValidationReport({
      issues: [
        { severity: 'info', code: 'out-of-scope-links', message: '3 links are not company links', count: 3 },
        ...report.issues.filter((i) => i.severity !== 'critical'),
        ...report.issues.filter((i) => i.severity === 'critical'),
      ],
    });

    // Act
    const markdown = renderValidationMarkdown(reordered);

    // Assess
    expect(markdownSection(markdown, 'Issues')).toEqual([
      'Critical: 1 · Warnings: 4 · Info: 1',
      '| Severity | Code | Count | Message |',
      '| --- | --- | ---: | --- |',
      '| critical | unmigratable-records | 1 | 1 legacy record has a blank name |',
      '| warning | duplicate-names | 1 | 1 group of companies with near-identical names |',
      '| warning | legacy-orphans | 89 | 89 legacy links point at missing rows |',
      '| warning | drift | 1 | 1 company differs from its legacy records |',
      '| warning | stale-assignments | 1 | 1 record assignment points at a deleted legacy row |',
      '| info | out-of-scope-links | 3 | 3 links are not company links |',
    ]);
  });

  it('shows company coverage per role with the missing sample, and project coverage per role and overall', () => {
    // Act
    const markdown = renderValidationMarkdown(exampleValidationReport());

    // Assess
    expect(markdownSection(markdown, 'V1 · Company coverage per role')).toEqual([
      'Legacy company records and whether each has its record assignment (and so a company).',
      '| Role | Legacy records | Mapped | Missing |',
      '| --- | ---: | ---: | ---: |',
      '| Technology Vendor | 20 | 20 | 0 |',
      '| Owner / Developer | 21 | 21 | 0 |',
      '| MPR Client | 22 | 22 | 0 |',
      '| Operator | 23 | 22 | 1 |',
      '| Constructor | 24 | 24 | 0 |',
      '| Off-taker | 25 | 25 | 0 |',
      '| **All roles** | **135** | **134** | **1** |',
      'Missing records (sample):',
      '| Role | Legacy id | Name |',
      '| --- | ---: | --- |',
      '| Operator | 30 | *(blank name)* |',
    ]);
    expect(markdownSection(markdown, 'V3 · Project-relationship coverage')).toEqual([
      'Legacy project links covered by their exact project assignment.',
      '| Role | Links | Covered | Uncovered | Coverage |',
      '| --- | ---: | ---: | ---: | ---: |',
      '| Technology Vendor | 269 | 185 | 84 | 68.77 % |',
      '| Owner / Developer | 138 | 136 | 2 | 98.55 % |',
      '| MPR Client | 119 | 117 | 2 | 98.32 % |',
      '| Operator | 105 | 103 | 2 | 98.10 % |',
      '| Constructor | 95 | 93 | 2 | 97.89 % |',
      '| Off-taker | 91 | 89 | 2 | 97.80 % |',
      '| **Overall** | **817** | **723** | **94** | **88.49 %** |',
    ]);
  });

  it('shows entity counts, personnel coverage, orphans, drift and unmigratable records', () => {
    // Act
    const markdown = renderValidationMarkdown(exampleValidationReport());

    // Assess
    expect(markdownSection(markdown, 'V2 · Entity counts')).toContain(
      '| Technology Vendor | 20 | 20 | 1 | ✅ |',
    );
    expect(markdownSection(markdown, 'V2 · Entity counts')).toContain('| Operator | 23 | 22 | 0 | ❌ |');
    expect(markdownSection(markdown, 'V4 · Personnel-affiliation coverage').slice(1)).toEqual([
      '| Links | Covered | Uncovered | Coverage | Out of scope |',
      '| ---: | ---: | ---: | ---: | ---: |',
      '| 461 | 457 | 4 | 99.13 % | 3 |',
    ]);
    expect(markdownSection(markdown, 'V6 · Orphans').slice(1)).toEqual([
      '| Legacy personnel links | Legacy project links | Unified rows |',
      '| ---: | ---: | ---: |',
      '| 4 | 85 | 0 |',
      'Sample (2 of 89):',
      '| table | id | reason |',
      '| --- | ---: | --- |',
      '| project_vendor_relationships | 8 | missing vendor |',
      '| personnel_entity_relationships | 16 | missing person |',
    ]);
    expect(markdownSection(markdown, 'V7 · Drift')).toEqual([
      '1 company differs from its legacy records.',
      '| companyId | field | company | legacy |',
      '| ---: | --- | --- | --- |',
      '| 4 | company_name | GE Hitachi Nuclear Energy | technology_vendors#9 |',
    ]);
    expect(markdownSection(markdown, 'V8 · Unmigratable records')).toEqual([
      '1 legacy record cannot be migrated (blank names).',
      '| table | id |',
      '| --- | ---: |',
      '| operators | 30 |',
    ]);
  });

  it('marks acknowledged duplicate groups as such', () => {
    // Prepare
    const report = exampleValidationReport({
      duplicateNameGroups: [
        ...exampleValidationReport().duplicateNameGroups,
        {
          normalizedName: 'nuscale power',
          acknowledged: true,
          companies: [
            { companyId: 3, name: 'NuScale Power', roles: ['vendor'], contextTypes: ['VendorRecord'] },
            {
              companyId: 9,
              name: 'Nuscale power',
              roles: ['developer', 'offtaker'],
              contextTypes: ['OwnerRecord'],
            },
          ],
        },
      ],
    });

    // Act
    const markdown = renderValidationMarkdown(report);

    // Assess
    expect(markdownSection(markdown, 'V5 · Duplicate names')).toEqual([
      '2 groups of companies whose names are equal once lower-cased and trimmed (1 to review, 1 acknowledged as legitimately distinct).',
      '### “x-energy” — to review',
      '| Company id | Name | Roles | Contexts |',
      '| ---: | --- | --- | --- |',
      '| 12 | X-energy | Technology Vendor | VendorRecord, Project |',
      '| 57 | X-Energy | MPR Client | ClientRecord |',
      '### “nuscale power” — acknowledged: legitimately distinct',
      '| Company id | Name | Roles | Contexts |',
      '| ---: | --- | --- | --- |',
      '| 3 | NuScale Power | Technology Vendor | VendorRecord |',
      '| 9 | Nuscale power | Owner / Developer, Off-taker | OwnerRecord |',
    ]);
  });

  it('gives the remedy of each issue code present, and of no other', () => {
    // Act
    const markdown = renderValidationMarkdown(exampleValidationReport());

    // Assess
    const todo = markdownSection(markdown, 'What to do');
    expect(todo.map((line) => /^- \*\*(.+?)\*\*/.exec(line)?.[1])).toEqual([
      'unmigratable-records',
      'duplicate-names',
      'legacy-orphans',
      'drift',
      'stale-assignments',
    ]);
    expect(todo[0]).toBe(
      `- **unmigratable-records** (critical) — ${REMEDIES['unmigratable-records']?.title}: ${REMEDIES['unmigratable-records']?.action}`,
    );
    expect(todo[0]).toContain('`company-migration backfill --step companies`');
    const absent = Object.keys(REMEDIES).filter(
      (code) => !todo.some((line) => line.startsWith(`- **${code}**`)),
    );
    expect(absent).toHaveLength(Object.keys(REMEDIES).length - 5);
    for (const code of absent) expect(markdown).not.toContain(REMEDIES[code]?.action);
    expect(markdown).not.toContain(GENERIC_REMEDY.action);
  });

  it.each(Object.keys(REMEDIES))('gives the remedy for %s when it is the only issue', (code) => {
    // Prepare
    const report = exampleValidationReport({
      issues: [{ severity: 'warning', code, message: `3 things about ${code}`, count: 3 }],
    });

    // Act
    const markdown = renderValidationMarkdown(report);

    // Assess
    expect(markdownSection(markdown, 'What to do')).toEqual([
      `- **${mdInline(code)}** (warning) — ${REMEDIES[code]?.title}: ${REMEDIES[code]?.action}`,
    ]);
  });

  it('names the remedies of the plan: backfill steps for missing companies and uncovered project links', () => {
    // Assess
    expect(REMEDIES['missing-companies']?.action).toContain('`company-migration backfill --step companies`');
    expect(REMEDIES['uncovered-project-links']?.action).toContain(
      '`company-migration backfill --step projects`',
    );
    expect(REMEDIES['legacy-orphans']?.action).toContain('Not migrated by design');
  });

  it('gives the generic remedy for an unknown code, including codes that are names of object properties', () => {
    // Prepare
    const report = exampleValidationReport({
      issues: [
        { severity: 'critical', code: 'new-kind-of-problem', message: '2 rows look odd', count: 2 },
        { severity: 'warning', code: 'constructor', message: '1 thing', count: 1 },
      ],
    });

    // Act
    const markdown = renderValidationMarkdown(report);

    // Assess
    expect(markdownSection(markdown, 'What to do')).toEqual([
      `- **new-kind-of-problem** (critical) — 2 rows look odd: ${GENERIC_REMEDY.action}`,
      `- **constructor** (warning) — 1 thing: ${GENERIC_REMEDY.action}`,
    ]);
  });

  it('says there is nothing to do for a passing report without issues, whose verdict is PASSED', () => {
    // Act
    const markdown = renderValidationMarkdown(passingReport());

    // Assess
    expect(markdown.split('\n')[0]).toBe(
      '# ✅ PASSED — validation of stage dev, run run-20261125-0001, generated at 2026-11-25T07:00:00.000Z',
    );
    expect(markdown.split('\n')[2]).toBe('all 4 success criteria met · 0 critical issues · 0 warnings');
    expect(markdownSection(markdown, 'What to do')).toEqual(['Nothing: no issues.']);
    expect(markdown).not.toContain('FAILED');
    expect(markdown).not.toContain('❌');
    expect(markdownSection(markdown, 'V5 · Duplicate names')[1]).toBe(
      '### “x-energy” — acknowledged: legitimately distinct',
    );
  });

  it('escapes pipes, emphasis, HTML and line breaks in names, so every row keeps its columns', () => {
    // Prepare
    const report = exampleValidationReport({
      duplicateNameGroups: [
        {
          normalizedName: 'a | b',
          acknowledged: false,
          companies: [
            {
              companyId: 1,
              name: `A | B *Nuclear* _Power_ [x](y) ${INJECTED_NAME}\nSecond line`,
              roles: ['vendor'],
              contextTypes: ['VendorRecord'],
            },
            { companyId: 2, name: 'a|b', roles: ['client'], contextTypes: ['ClientRecord'] },
          ],
        },
      ],
    });

    // Act
    const markdown = renderValidationMarkdown(report);

    // Assess
    const section = markdownSection(markdown, 'V5 · Duplicate names');
    expect(section[1]).toBe('### “a \\| b” — to review');
    expect(section[4]).toBe(
      '| 1 | A \\| B \\*Nuclear\\* \\_Power\\_ \\[x\\](y) \\<script>alert(1)\\</script> & "Sons"<br>Second line | Technology Vendor | VendorRecord |',
    );
    expect(section[5]).toBe('| 2 | a\\|b | MPR Client | ClientRecord |');
    for (const row of section.filter((line) => line.startsWith('| '))) {
      expect(row.split(/(?<!\\)\|/).length - 2).toBe(4);
    }
    expect(markdown).not.toMatch(/(?<!\\)<script/);
  });

  it('escapes Markdown inline syntax but leaves plain text and snake_case alone', () => {
    // Assess
    expect(mdInline('project_vendor_relationships')).toBe('project_vendor_relationships');
    expect(mdInline('AT&T Nuclear, 89.6 % < 95 %')).toBe('AT&T Nuclear, 89.6 % < 95 %');
    expect(mdInline('&amp; &#60; `code` ~x~ \\')).toBe('\\&amp; \\&#60; \\`code\\` \\~x\\~ \\\\');
    expect(mdInline('<!-- x --> </b> <https://x>')).toBe('\\<!-- x --> \\</b> \\<https://x>');
    expect(mdInline('a\r\nb\rc\nd')).toBe('a<br>b<br>c<br>d');
  });

  it('prints only values that are in the report, never notes or other keys it does not know', () => {
    // Prepare
    const report = withNotesEverywhere(exampleValidationReport());
    const allowed = new Set([
      ...reportValues(exampleValidationReport()),
      ...ROLE_MAPPINGS.map((r) => r.label),
      'Operator, MPR Client',
      'VendorRecord, Project',
    ]);
    const vocabulary = new Set([
      '✅',
      '❌',
      '—',
      '*(blank name)*',
      'All roles',
      'Overall',
      'already present',
    ]);

    // Act
    const markdown = renderValidationMarkdown(report);

    // Assess
    expect(markdown).not.toMatch(/LEAKED|notes|comment/i);
    const unknown = markdownCells(markdown)
      .map((cell) => cell.replace(/^\*\*(.*)\*\*$/, '$1').replace(/\\(.)/g, '$1'))
      .filter((cell) => !allowed.has(cell) && !vocabulary.has(cell) && !/^\d[\d,]*(\.\d\d %)?$/.test(cell));
    expect(unknown).toEqual([]);
  });
});

describe('renderValidationHtml', () => {
  it('is one self-contained page with charset, a title naming verdict, stage and run, and no script', () => {
    // Act
    const html = renderValidationHtml(exampleValidationReport());

    // Assess
    expect(html.startsWith('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')).toBe(true);
    expect(html).toContain('<title>FAILED · validation · dev · run-20261125-0001</title>');
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|@import|url\(/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('shows the verdict banner, the key figures and the criteria', () => {
    // Act
    const html = renderValidationHtml(exampleValidationReport());

    // Assess
    expect(html).toContain('<header class="verdict verdict-failed">\n<h1>FAILED</h1>');
    expect(html).toContain(
      '<div class="card card-bad"><div class="card-label">Project coverage</div><div class="card-value">88.49 %</div><div class="card-detail">723 of 817 links · threshold 95 %</div></div>',
    );
    expect(html).toContain(
      '<div class="card-label">Personnel coverage</div><div class="card-value">99.13 %</div>',
    );
    expect(html).toContain('<div class="card-label">Critical issues</div><div class="card-value">1</div>');
    expect(html).toContain('<div class="card-label">Warnings</div><div class="card-value">4</div>');
    expect(html).toContain(
      '<tr><th scope="row">project-coverage</th><td>89.6</td><td>95</td><td><span class="pill pill-bad">✗ failed</span></td><td>project-relationship coverage 89.6 % &lt; 95 %</td></tr>',
    );
    expect(html).toContain(
      '<tr><th scope="row">personnel-coverage</th><td>99.13</td><td>95</td><td><span class="pill pill-good">✓ passed</span></td>',
    );
    expect(html).toContain('<th scope="col">Criterion</th>');
  });

  it('draws a coverage bar per role, as wide as the percent, with the threshold marked', () => {
    // Act
    const html = renderValidationHtml(exampleValidationReport());

    // Assess
    const bars = [
      ...html.matchAll(/<span class="bar bar-(\w+)"[^>]*><span class="bar-fill" style="width:([\d.]+)%">/g),
    ].map((m) => [m[1], m[2]]);
    expect(bars).toEqual([
      ['bad', '68.77'],
      ['good', '98.55'],
      ['good', '98.32'],
      ['good', '98.10'],
      ['good', '97.89'],
      ['good', '97.80'],
      ['bad', '88.49'],
      ['good', '99.13'],
    ]);
    expect(html).toContain('<span class="bar-threshold" style="left:95.00%"');
    expect(html).toContain('<tr class="total"><th scope="row">Overall</th><td class="num">817</td>');
  });

  it('escapes every value from the report: a company name cannot inject a script', () => {
    // Prepare
    const base = exampleValidationReport();
    const report = exampleValidationReport({
      runId: 'run-<b>1</b>',
      duplicateNameGroups: [
        {
          normalizedName: '<script>alert(1)</script> & "sons"',
          acknowledged: false,
          companies: [
            { companyId: 1, name: INJECTED_NAME, roles: ['vendor'], contextTypes: ['VendorRecord'] },
            {
              companyId: 2,
              name: "<img src=x onerror='alert(2)'>",
              roles: ['<i>x</i>'],
              contextTypes: ['ClientRecord'],
            },
          ],
        },
      ],
      issues: [
        ...base.issues,
        { severity: 'warning', code: '<svg onload=alert(3)>', message: '<b>bold</b>', count: 1 },
      ],
      drift: { count: 1, sample: [{ '<th>key</th>': '<script>x</script>', company: INJECTED_NAME }] },
    });

    // Act
    const html = renderValidationHtml(report);

    // Assess
    expect(html).toContain('<td>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Sons&quot;</td>');
    expect(html).toContain('&lt;img src=x onerror=&#39;alert(2)&#39;&gt;');
    expect(html).toContain('<title>FAILED · validation · dev · run-&lt;b&gt;1&lt;/b&gt;</title>');
    expect(html).toContain('&lt;svg onload=alert(3)&gt;');
    expect(html).toContain('<th scope="col">&lt;th&gt;key&lt;/th&gt;</th>');
    expect(html).not.toMatch(/<script|<img|<svg|<b>|<i>/i);
  });

  it('shows a passing report as PASSED in a green banner', () => {
    // Act
    const html = renderValidationHtml(passingReport());

    // Assess
    expect(html).toContain('<title>PASSED · validation · dev · run-20261125-0001</title>');
    expect(html).toContain('<header class="verdict verdict-passed">\n<h1>PASSED</h1>');
    expect(html).toContain('all 4 success criteria met');
    expect(html).toContain('<p class="muted">Nothing: no issues.</p>');
    expect(html).not.toContain('FAILED');
  });

  it('lists the remedies of the codes present, critical first', () => {
    // Act
    const html = renderValidationHtml(exampleValidationReport());

    // Assess
    const heads = [...html.matchAll(/<li class="sev-(\w+)"><div class="remedy-head">([^<]*)<\/div>/g)].map(
      (m) => [m[1], m[2]],
    );
    expect(heads).toEqual([
      ['critical', 'unmigratable-records · critical · Legacy records that cannot be migrated (blank names)'],
      ['warning', 'duplicate-names · warning · Companies with near-identical names'],
      ['warning', 'legacy-orphans · warning · Legacy links that point at deleted rows'],
      ['warning', 'drift · warning · Companies that differ from their legacy records'],
      ['warning', 'stale-assignments · warning · Record assignments that point at deleted legacy rows'],
    ]);
    expect(html).toContain('<code>company-migration backfill --step companies</code>');
    expect(html).not.toContain('Re-run the projects backfill');
  });

  it('prints only values that are in the report, never notes or other keys it does not know', () => {
    // Prepare
    const report = withNotesEverywhere(exampleValidationReport());
    const allowed = new Set([
      ...reportValues(exampleValidationReport()),
      ...ROLE_MAPPINGS.map((r) => r.label),
      'VendorRecord, Project',
      'All roles',
      'Overall',
    ]);
    const vocabulary = new Set([
      '✓ passed',
      '✗ failed',
      '✓ equal',
      '✗ differ',
      '(blank name)',
      'already present',
      '',
    ]);
    const html = renderValidationHtml(report);
    const headers = new Set([...html.matchAll(/<th scope="col"[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]));

    // Act
    const unknown = htmlCells(html).filter(
      (cell) =>
        !allowed.has(cell) &&
        !vocabulary.has(cell) &&
        !headers.has(cell) &&
        !/^\d[\d,]*(\.\d\d %)?$/.test(cell),
    );

    // Assess
    expect(html).not.toMatch(/LEAKED|notes|comment/i);
    expect(unknown).toEqual([]);
  });
});
