import { describe, expect, it } from 'vitest';
import {
  REMEDIES,
  renderValidationHtml,
  renderValidationMarkdown,
} from '../../../lib/core/reports/render-validation.ts';
import { validationReportSchema } from '../../../lib/core/validation/report-schema.ts';
import { exampleValidationReport } from '../../support/validation-report-fixture.ts';

/**
 * V5 in the rendered reports with pairs recorded by `duplicates keep-apart`: acknowledged groups, groups
 * with some pairs recorded, the reasons (operator text, escaped), and the remedy of the info issue.
 */

const company = (companyId: number, name: string) => ({
  companyId,
  name,
  roles: ['vendor'],
  contextTypes: ['VendorRecord'],
});

function reportWithPairs() {
  return exampleValidationReport({
    duplicateNameGroups: [
      {
        normalizedName: 'holtec international',
        acknowledged: true,
        acknowledgedPairs: [
          {
            companyA: 4,
            companyB: 5,
            reason: 'subsidiary | <b>parent</b>',
            recordedBy: 'operator',
            recordedAt: '2026-11-25T07:00:00Z',
          },
        ],
        companies: [company(4, 'Holtec International'), company(5, 'holtec  international')],
      },
      {
        normalizedName: 'x-energy',
        acknowledged: false,
        acknowledgedPairs: [{ companyA: 1, companyB: 2, reason: 'two firms' }],
        companies: [company(1, 'X-energy'), company(2, 'X-Energy'), company(3, 'x-energy')],
      },
    ],
    issues: [
      { severity: 'warning', code: 'duplicate-names', count: 1, message: '1 group(s)' },
      { severity: 'info', code: 'duplicate-names-acknowledged', count: 1, message: '1 group(s)' },
    ],
  });
}

function markdownSection(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(`## ${heading}`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? undefined : end).filter((line) => line !== '');
}

describe('acknowledged duplicate pairs in the validation report', () => {
  it('Markdown lists the recorded pairs with their reasons under each group, and which groups remain to review', () => {
    // Act
    const markdown = renderValidationMarkdown(reportWithPairs());

    // Assess
    expect(markdownSection(markdown, 'V5 · Duplicate names')).toEqual([
      '2 groups of companies whose names are equal once lower-cased and trimmed (1 to review, 1 acknowledged as legitimately distinct).',
      '### “holtec international” — acknowledged: legitimately distinct',
      '| Company id | Name | Roles | Contexts |',
      '| ---: | --- | --- | --- |',
      '| 4 | Holtec International | Technology Vendor | VendorRecord |',
      '| 5 | holtec  international | Technology Vendor | VendorRecord |',
      'Recorded as legitimately distinct:',
      '| Companies | Reason | Recorded by | Recorded at |',
      '| --- | --- | --- | --- |',
      '| 4 and 5 | subsidiary \\| \\<b>parent\\</b> | operator | 2026-11-25T07:00:00Z |',
      '### “x-energy” — to review (1 of 3 pairs recorded as distinct)',
      '| Company id | Name | Roles | Contexts |',
      '| ---: | --- | --- | --- |',
      '| 1 | X-energy | Technology Vendor | VendorRecord |',
      '| 2 | X-Energy | Technology Vendor | VendorRecord |',
      '| 3 | x-energy | Technology Vendor | VendorRecord |',
      'Recorded as legitimately distinct:',
      '| Companies | Reason | Recorded by | Recorded at |',
      '| --- | --- | --- | --- |',
      '| 1 and 2 | two firms | — | — |',
    ]);
    expect(markdownSection(markdown, 'What to do').join('\n')).toContain(
      REMEDIES['duplicate-names-acknowledged']?.action,
    );
  });

  it('HTML shows the same, with the operator text escaped', () => {
    // Act
    const html = renderValidationHtml(reportWithPairs());

    // Assess
    expect(html).toContain('<caption>Recorded as legitimately distinct</caption>');
    expect(html).toContain('subsidiary | &lt;b&gt;parent&lt;/b&gt;');
    expect(html).not.toContain('<b>parent</b>');
    expect(html).toContain('to review (1 of 3 pairs recorded as distinct)');
    expect(html.match(/Recorded as legitimately distinct/g)).toHaveLength(2);
  });

  it('reads a report from before keep-apart (no acknowledgedPairs) and renders it as before', () => {
    // Prepare
    const old = JSON.parse(JSON.stringify(exampleValidationReport()));

    // Act
    const report = validationReportSchema.parse(old);
    const markdown = renderValidationMarkdown(report);

    // Assess
    expect(report.duplicateNameGroups[0]?.acknowledgedPairs).toBeUndefined();
    expect(markdown).not.toContain('Recorded as legitimately distinct');
    expect(markdown).toContain('— to review');
  });
});
