import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { Command, CommanderError } from 'commander';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  diffReports,
  registerReportCommands,
  setS3ClientFactory,
  showReport,
} from '../../lib/cli/commands/report.ts';
import { describeError, EXIT } from '../../lib/cli/errors.ts';
import type { CliIo } from '../../lib/cli/output.ts';
import { reportDiffSchema } from '../../lib/core/reports/diff.ts';
import { CONTENT_TYPES } from '../../lib/core/reports/store.ts';
import { type ValidationReport, validationReportSchema } from '../../lib/core/validation/report-schema.ts';
import { type CliRun, runCliCaptured } from '../support/cli.ts';
import { exampleValidationReport } from '../support/validation-report-fixture.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-report-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const BUCKET = 'nukeworks-reports-123456789012';

function captureIo(): CliIo & { out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  return {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    interactive: false,
    out: () => stdout,
    err: () => stderr,
  };
}

/** The report commands on a program set up like the CLI's, with runCli's error handling. */
async function runReportCli(argv: string[]): Promise<CliRun> {
  const io = captureIo();
  const program = new Command('company-migration')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerReportCommands(program, io);
  let code: number = EXIT.ok;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode === 0 ? EXIT.ok : EXIT.error;
    else {
      io.stderr(`${describeError(error, false)}\n`);
      code = (error as { exitCode?: number }).exitCode ?? EXIT.error;
    }
  }
  return { code, stdout: io.out(), stderr: io.err() };
}

function writeJson(name: string, document: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
  return path;
}

/** The fixture after a re-run of the projects step: vendor project links now covered. */
function improvedReport(): ValidationReport {
  const before = exampleValidationReport();
  return exampleValidationReport({
    runId: 'run-20261126-0001',
    generatedAt: '2026-11-26T07:00:00.000Z',
    projectRelationshipCoverage: {
      ...before.projectRelationshipCoverage,
      vendor: { total: 269, covered: 267, percent: 99.26 },
      overall: { total: 817, covered: 805, percent: 98.53 },
    },
    criteria: before.criteria.map((c) =>
      c.id === 'project-coverage'
        ? { ...c, passed: true, actual: 98.53, message: 'project-relationship coverage 98.53 % ≥ 95 %' }
        : c,
    ),
  });
}

const beforePath = writeJson('before.json', exampleValidationReport());
const afterPath = writeJson('after.json', improvedReport());

describe('company-migration report show', () => {
  it('prints a report file as Markdown naming its run and verdict, and exits 0 though it failed', async () => {
    // Act
    const run = await runReportCli(['report', 'show', beforePath]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('run-20261125-0001');
    expect(run.stdout).toMatch(/FAILED/);
    expect(run.stdout.endsWith('\n')).toBe(true);
  });

  it.each([[['--json']], [['--format', 'json']]])(
    'prints the checked report as JSON with %j',
    async (flags) => {
      // Act
      const run = await runReportCli(['report', 'show', beforePath, ...flags]);

      // Assess
      expect(run.code).toBe(0);
      expect(validationReportSchema.parse(JSON.parse(run.stdout))).toEqual(exampleValidationReport());
    },
  );

  it('exits 2 naming the first bad field of an invalid validation report', async () => {
    // Prepare
    const report = exampleValidationReport() as unknown as { criteria: { passed: unknown }[] };
    const path = writeJson('invalid.json', {
      ...report,
      criteria: [{ ...report.criteria[0], passed: 'yes' }],
    });

    // Act
    const run = await runReportCli(['report', 'show', path]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^error: .*invalid\.json is not a valid validation report: field "criteria\[0\]\.passed"/,
    );
  });

  it.each([
    [
      'a missing file',
      () => join(scratch, 'no-such-report.json'),
      /^error: no report file at .*no-such-report\.json$/,
    ],
    ['a folder', () => scratch, /is a folder, not a report file/],
    [
      'a file that is not JSON',
      () => {
        const path = join(scratch, 'broken.json');
        writeFileSync(path, '{"kind": "validation",');
        return path;
      },
      /broken\.json is not valid JSON/,
    ],
    [
      'JSON that is not an object',
      () => writeJson('array.json', [1, 2]),
      /is not a report: expected a JSON object/,
    ],
    ['an object without kind', () => writeJson('kindless.json', { runId: 'x' }), /has no "kind" field/],
    [
      'a kind that has no Markdown view yet',
      () => writeJson('backfill.json', { kind: 'backfill', runId: 'run-1' }),
      /is a "backfill" report, which cannot be shown as Markdown yet; use --json/,
    ],
  ])('exits 2 with one line for %s', async (_, source, message) => {
    // Act
    const run = await runReportCli(['report', 'show', source()]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr.trim()).toMatch(message);
  });

  it('prints a report of another kind as JSON', async () => {
    // Prepare
    const path = writeJson('summary.json', { kind: 'summary', runId: 'run-1', steps: 3 });

    // Act
    const run = await runReportCli(['report', 'show', path, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ kind: 'summary', runId: 'run-1', steps: 3 });
  });

  it.each([
    [['--json', '--format', 'md'], /--format: md conflicts with --json/],
    [['--format', 'html'], /argument 'html' is invalid/],
  ])('rejects the options %j with exit 2', async (flags, message) => {
    // Act
    const run = await runReportCli(['report', 'show', beforePath, ...flags]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('company-migration report on S3', () => {
  const objects = new Map<string, string>();
  let s3Mock: AwsClientStub<S3Client>;

  beforeEach(() => {
    objects.clear();
    const client = new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    s3Mock = mockClient(client);
    s3Mock.on(GetObjectCommand).callsFake((input) => {
      const body = input.Bucket === BUCKET ? objects.get(String(input.Key)) : undefined;
      if (body === undefined) {
        throw new NoSuchKey({
          message: 'The specified key does not exist.',
          $metadata: { httpStatusCode: 404 },
        });
      }
      return {
        Body: { transformToString: async () => body } as unknown as GetObjectCommandOutput['Body'],
        $metadata: {},
      };
    });
    s3Mock.on(PutObjectCommand).callsFake((input) => {
      objects.set(String(input.Key), String(input.Body));
      return { $metadata: {} };
    });
    setS3ClientFactory(() => client);
  });

  afterEach(() => {
    setS3ClientFactory();
    s3Mock.restore();
  });

  it('shows a report from s3://bucket/key', async () => {
    // Prepare
    objects.set('reports/dev/run-20261125-0001/validation.json', JSON.stringify(exampleValidationReport()));

    // Act
    const run = await runReportCli([
      'report',
      'show',
      `s3://${BUCKET}/reports/dev/run-20261125-0001/validation.json`,
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('run-20261125-0001');
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: BUCKET,
      Key: 'reports/dev/run-20261125-0001/validation.json',
    });
  });

  it.each([
    [`s3://${BUCKET}/reports/dev/run-missing/validation.json`, /^error: no report at s3:\/\/.*run-missing/],
    ['s3://Bad_Bucket/validation.json', /^error: bucket "Bad_Bucket" of .* may only hold lowercase/],
    [`s3://${BUCKET}/reports/`, /names no object/],
    [`s3://${BUCKET}/reports/../validation.json`, /invalid report key/],
  ])('exits 2 with one line for %s', async (uri, message) => {
    // Act
    const run = await runReportCli(['report', 'show', uri]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr.trim()).toMatch(message);
  });

  it('diffs a local report against one on S3 and writes the HTML diff to S3', async () => {
    // Prepare
    objects.set('reports/dev/run-20261126-0001/validation.json', JSON.stringify(improvedReport()));

    // Act
    const run = await runReportCli([
      'report',
      'diff',
      beforePath,
      `s3://${BUCKET}/reports/dev/run-20261126-0001/validation.json`,
      '--out',
      `s3://${BUCKET}/reports/dev/run-20261126-0001/diff.html`,
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/written to s3:\/\/.*diff\.html/);
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: 'reports/dev/run-20261126-0001/diff.html',
      ContentType: CONTENT_TYPES.html,
    });
    expect(objects.get('reports/dev/run-20261126-0001/diff.html')).toMatch(/^<!doctype html>/i);
  });
});

describe('company-migration report diff', () => {
  it('prints the changed coverage as Markdown', async () => {
    // Act
    const run = await runReportCli(['report', 'diff', beforePath, afterPath]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('88.49');
    expect(run.stdout).toContain('98.53');
  });

  it('prints the difference as JSON that its schema accepts', async () => {
    // Act
    const run = await runReportCli(['report', 'diff', beforePath, afterPath, '--json']);

    // Assess
    expect(run.code).toBe(0);
    const diff = reportDiffSchema.parse(JSON.parse(run.stdout));
    expect(JSON.stringify(diff)).toContain('98.53');
  });

  it('prints HTML with --format html', async () => {
    // Act
    const run = await runReportCli(['report', 'diff', beforePath, afterPath, '--format', 'html']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^<!doctype html>/i);
    expect(run.stdout).toContain('98.53');
  });

  it.each([
    ['diff.html', /^<!doctype html>/i],
    ['diff.json', /^\{\n/],
    ['nested/folder/diff.md', /98\.53/],
  ])('writes --out %s in the format its extension names, creating folders', async (name, content) => {
    // Prepare
    const out = join(scratch, 'out', name);

    // Act
    const run = await runReportCli(['report', 'diff', beforePath, afterPath, '--out', out]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toMatch(content);
    expect(readdirSync(join(out, '..')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes a diff report that report show displays', async () => {
    // Prepare
    const out = join(scratch, 'out', 'shown-diff.json');
    await runReportCli(['report', 'diff', beforePath, afterPath, '--out', out]);

    // Act
    const run = await runReportCli(['report', 'show', out]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('run-20261125-0001');
    expect(run.stdout).toContain('run-20261126-0001');
    expect(run.stdout).toContain('98.53');
  });

  it('refuses to diff a report that is not a validation report', async () => {
    // Prepare
    const summary = writeJson('summary-for-diff.json', { kind: 'summary', runId: 'run-1' });

    // Act
    const run = await runReportCli(['report', 'diff', beforePath, summary]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /compares validation reports; .*summary-for-diff\.json is a "summary" report$/,
    );
  });

  it('exits 2 naming the missing one of two reports', async () => {
    // Act
    const run = await runReportCli(['report', 'diff', beforePath, join(scratch, 'gone.json')]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(/^error: no report file at .*gone\.json$/);
  });

  it.each([
    [['--json', '--format', 'html'], /--format: html conflicts with --json/],
    [['--format', 'pdf'], /argument 'pdf' is invalid/],
  ])('rejects the options %j with exit 2', async (flags, message) => {
    // Act
    const run = await runReportCli(['report', 'diff', beforePath, afterPath, ...flags]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('report commands', () => {
  it.each([[['report', '--help']], [['report', 'show', '--help']], [['report', 'diff', '--help']]])(
    'answer %j',
    async (argv) => {
      // Act
      const run = await runReportCli(argv);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: company-migration report/);
    },
  );

  it.each([
    [['report', 'show'], /missing required argument 'report'/],
    [['report', 'diff', 'a.json'], /missing required argument 'after'/],
    [['report', 'show', 'a.json', 'b.json'], /too many arguments/],
  ])('reject %j with exit 2', async (argv, message) => {
    // Act
    const run = await runReportCli(argv);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('can be called directly: showReport and diffReports return what they printed', async () => {
    // Prepare
    const io = captureIo();

    // Act
    const shown = await showReport(afterPath, { json: true }, io);
    const diff = await diffReports(beforePath, afterPath, { format: 'json' }, io);

    // Assess
    expect(shown).toMatchObject({
      type: 'validation',
      report: { runId: 'run-20261126-0001', passed: false },
    });
    expect(reportDiffSchema.parse(diff)).toEqual(diff);
  });

  it('are part of the company-migration CLI', async () => {
    // Act
    const run = await runCliCaptured(['report', 'show', beforePath, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ kind: 'validation', runId: 'run-20261125-0001' });
  });
});
