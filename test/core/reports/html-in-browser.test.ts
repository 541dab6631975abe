import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffValidationReports, renderDiffHtml } from '../../../lib/core/reports/diff.ts';
import { renderValidationHtml } from '../../../lib/core/reports/render-validation.ts';
import { renderSpotCheckHtml } from '../../../lib/core/spot-check/render.ts';
import { type SpotCheckRecord, spotCheckReportSchema } from '../../../lib/core/spot-check/report-schema.ts';
import type { ValidationReport } from '../../../lib/core/validation/report-schema.ts';
import { exampleValidationReport } from '../../support/validation-report-fixture.ts';

/**
 * What a person sees: the rendered pages opened from disk (file://, as from a downloaded report) in
 * headless Chromium at a laptop's width. Screenshots go to test-artifacts/ (git-ignored) for review.
 * Needs /usr/bin/chromium (`apt-get install chromium`); without it these tests are skipped.
 */

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const VIEWPORT = { width: 1280, height: 900 };

/** The text as rendered (layout and CSS applied): what a person reads, unlike textContent. */
function visibleText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point of this test
  return locator.innerText();
}

/** The few browser globals the page functions use (the project compiles without the DOM library). */
interface BrowserGlobals {
  document: {
    documentElement: { scrollWidth: number };
    querySelector(selector: string): { scrollWidth: number; clientWidth: number } | null;
  };
  innerWidth: number;
  getComputedStyle(element: unknown): { backgroundColor: string; color: string };
}

describe(
  hasChromium
    ? 'report HTML in headless Chromium'
    : `report HTML in headless Chromium: skipped: ${CHROMIUM} not installed`,
  () => {
    let browser: Browser | undefined;
    let folder: string;

    beforeAll(async () => {
      if (!hasChromium) return;
      folder = await mkdtemp(join(tmpdir(), 'report-html-'));
      await mkdir(ARTIFACTS, { recursive: true });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
    });

    afterAll(async () => {
      await browser?.close();
      if (folder) await rm(folder, { recursive: true, force: true });
    });

    /** Writes the page to a file and opens it from there; fails on any request leaving the file. */
    async function open(name: string, html: string): Promise<{ page: Page; requests: string[] }> {
      if (!browser) throw new Error('no browser');
      const file = join(folder, name);
      await writeFile(file, html, 'utf8');
      const page = await browser.newPage({ viewport: VIEWPORT });
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      return { page, requests };
    }

    /** Widths of the page and of its main column against the viewport. */
    function widths(page: Page) {
      return page.evaluate(() => {
        const browser = globalThis as unknown as BrowserGlobals;
        const main = browser.document.querySelector('main');
        return {
          viewport: browser.innerWidth,
          document: browser.document.documentElement.scrollWidth,
          mainScroll: main?.scrollWidth ?? Number.NaN,
          mainClient: main?.clientWidth ?? Number.NaN,
        };
      });
    }

    it.skipIf(!hasChromium)(
      'shows the verdict, the key figures and the criteria, fitting 1280 px',
      async () => {
        // Prepare
        const report = exampleValidationReport();

        // Act
        const { page, requests } = await open('validation.html', renderValidationHtml(report));
        await page.screenshot({ path: join(ARTIFACTS, 'validation-report.png'), fullPage: true });

        // Assess
        expect(await page.title()).toBe('FAILED · validation · dev · run-20261125-0001');
        const text = await visibleText(page.locator('body'));
        expect(text).toContain('FAILED');
        expect(text).toContain('88.49 %');
        expect(text).toContain('99.13 %');
        for (const criterion of report.criteria) expect(text).toContain(criterion.id);
        expect(text).toContain('project-relationship coverage 89.6 % < 95 %');
        expect(text).toContain('What to do');

        const banner = page.locator('header.verdict');
        expect(await banner.isVisible()).toBe(true);
        expect(await visibleText(banner)).toMatch(/^FAILED\n/);
        const box = await banner.boundingBox();
        expect(box?.y).toBeLessThan(40);
        expect(box?.height).toBeGreaterThan(80);
        expect(
          await banner.evaluate(
            (el) => (globalThis as unknown as BrowserGlobals).getComputedStyle(el).backgroundColor,
          ),
        ).toBe('rgb(180, 35, 24)');

        const vendorBar = page
          .locator('tbody tr')
          .filter({ hasText: 'Technology Vendor' })
          .filter({ hasText: '68.77 %' });
        const fill = await vendorBar.locator('.bar-fill').boundingBox();
        const bar = await vendorBar.locator('.bar').boundingBox();
        expect((fill?.width ?? 0) / (bar?.width ?? 1)).toBeCloseTo(0.6877, 2);

        const w = await widths(page);
        expect(w.document).toBeLessThanOrEqual(w.viewport);
        expect(w.mainScroll).toBeLessThanOrEqual(w.mainClient);
        expect(requests).toEqual([pathToFileURL(join(folder, 'validation.html')).href]);
        await page.close();
      },
    );

    it.skipIf(!hasChromium)('wraps long unbroken names instead of overflowing the main column', async () => {
      // Prepare
      const long = `${'Westinghouse-Electric-Company-'.repeat(12)}LLC`;
      const base = exampleValidationReport();
      const report: ValidationReport = exampleValidationReport({
        runId: `run-${'9'.repeat(120)}`,
        duplicateNameGroups: [
          {
            normalizedName: long.toLowerCase(),
            acknowledged: false,
            companies: [
              { companyId: 1, name: long, roles: ['vendor'], contextTypes: ['VendorRecord'] },
              { companyId: 2, name: long.toUpperCase(), roles: ['client'], contextTypes: ['ClientRecord'] },
            ],
          },
        ],
        drift: { count: 1, sample: [{ companyId: 1, field: 'company_name', company: long, legacy: long }] },
        issues: [...base.issues, { severity: 'warning', code: long, message: long, count: 1 }],
      });

      // Act
      const { page } = await open('long-names.html', renderValidationHtml(report));

      // Assess
      const w = await widths(page);
      expect(w.document).toBeLessThanOrEqual(w.viewport);
      expect(w.mainScroll).toBeLessThanOrEqual(w.mainClient);
      await page.close();
    });

    it.skipIf(!hasChromium)('shows a passing report in a green banner', async () => {
      // Prepare
      const failing = exampleValidationReport();
      const report = exampleValidationReport({
        passed: true,
        criteria: failing.criteria.map((c) => ({ ...c, passed: true })),
        issues: [],
      });

      // Act
      const { page } = await open('passing.html', renderValidationHtml(report));

      // Assess
      const banner = page.locator('header.verdict');
      expect(await visibleText(banner)).toMatch(/^PASSED\n/);
      expect(
        await banner.evaluate(
          (el) => (globalThis as unknown as BrowserGlobals).getComputedStyle(el).backgroundColor,
        ),
      ).toBe('rgb(26, 127, 55)');
      await page.close();
    });

    it.skipIf(!hasChromium)('shows the diff of two reports with arrows, fitting 1280 px', async () => {
      // Prepare
      const before = exampleValidationReport();
      const after = exampleValidationReport({
        runId: 'run-20261126-0001',
        generatedAt: '2026-11-26T07:00:00.000Z',
        passed: true,
        criteria: before.criteria.map((c) => ({ ...c, passed: true })),
        projectRelationshipCoverage: {
          ...before.projectRelationshipCoverage,
          vendor: { total: 269, covered: 269, percent: 100 },
          overall: { total: 817, covered: 807, percent: 98.78 },
        },
        drift: { count: 2, sample: [] },
        issues: before.issues.filter((i) => i.severity !== 'critical'),
      });

      // Act
      const { page } = await open('diff.html', renderDiffHtml(diffValidationReports(before, after)));
      await page.screenshot({ path: join(ARTIFACTS, 'validation-diff.png'), fullPage: true });

      // Assess
      const text = await visibleText(page.locator('body'));
      expect(text).toContain('FAILED → PASSED');
      expect(text).toContain('▲ +31.23');
      expect(text).toContain('98.78 %');
      const worse = page
        .locator('section[aria-labelledby="metrics"] tr')
        .filter({ hasText: 'Companies that differ from their legacy records' })
        .locator('.bad');
      expect(await visibleText(worse)).toBe('▲ +1');
      expect(
        await worse.evaluate((el) => (globalThis as unknown as BrowserGlobals).getComputedStyle(el).color),
      ).toBe('rgb(180, 35, 24)');
      const w = await widths(page);
      expect(w.document).toBeLessThanOrEqual(w.viewport);
      expect(w.mainScroll).toBeLessThanOrEqual(w.mainClient);
      await page.close();
    });

    it.skipIf(!hasChromium)(
      'shows each spot-checked record beside its company, fitting 1280 px',
      async () => {
        // Prepare
        const record = (legacyId: number, name: string, differences: string[]): SpotCheckRecord => ({
          role: 'vendor',
          legacyTable: 'technology_vendors',
          legacyId,
          legacyName: name,
          company: { companyId: legacyId + 100, name, recordAssignmentId: legacyId, recordAssignments: 1 },
          fields: [
            {
              field: 'company_name',
              legacy: name,
              expected: name,
              unified: differences.length > 0 ? `${name} (renamed)` : name,
              source: `technology_vendors#${legacyId}`,
              matches: differences.length === 0,
              redacted: false,
            },
            {
              field: 'notes',
              legacy: null,
              expected: null,
              unified: null,
              source: null,
              matches: true,
              redacted: true,
            },
          ],
          roles: { legacyRecords: [], recordAssignments: [], projectAssignments: { vendor: 2 } },
          affiliations: { total: 0, differing: 0, orphans: 0, listed: [], companyAffiliations: 0 },
          projects: {
            total: 1,
            differing: 0,
            orphans: 0,
            listed: [
              {
                relationshipId: 1,
                projectId: 7,
                projectName: 'Pilot SMR',
                confidential: true,
                status: 'migrated',
                assignmentId: 9,
              },
            ],
          },
          verdict: differences.length > 0 ? 'differs' : 'matches',
          differences,
          notes: [],
        });
        const report = spotCheckReportSchema.parse({
          kind: 'spot-check',
          schemaVersion: 1,
          runId: 'run-20261125-0001',
          stage: 'dev',
          generatedAt: '2026-11-25T07:00:00.000Z',
          seed: 'run-20261125-0001',
          perRole: 3,
          roles: ['vendor'],
          passed: false,
          counts: { sampled: 2, matching: 1, differing: 1, unmigratable: 0 },
          records: [
            record(1, 'Acme Nuclear', []),
            record(2, `Very ${'Long '.repeat(30)}Name Incorporated`, [
              'company_name is "renamed", the rules give "Very Long …" (from technology_vendors#2)',
            ]),
          ],
          statements: 6,
        });

        // Act
        const { page, requests } = await open('spot-check.html', renderSpotCheckHtml(report));
        await page.screenshot({ path: join(ARTIFACTS, 'spot-check.png'), fullPage: true });

        // Assess
        const text = await visibleText(page.locator('body'));
        expect(text).toContain('Spot-check: 1 record(s) differ');
        expect(text).toContain('company-migration spot-check --per-role 3 --seed run-20261125-0001');
        expect(text).toContain('(free text, not shown)');
        expect(text).toContain('7 Pilot SMR');
        const w = await widths(page);
        expect(w.document).toBeLessThanOrEqual(w.viewport);
        expect(requests).toEqual([pathToFileURL(join(folder, 'spot-check.html')).href]);
        await page.close();
      },
    );
  },
);
