import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type Command, Option } from 'commander';
import type { ZodError } from 'zod';
import * as z from 'zod';
import {
  diffValidationReports,
  type ReportDiff,
  renderDiffHtml,
  renderDiffMarkdown,
  reportDiffSchema,
} from '../../core/reports/diff.ts';
import { LocalReportStore } from '../../core/reports/local-store.ts';
import { InvalidReportKeyError, ReportParseError, readReport } from '../../core/reports/publish.ts';
import { renderValidationMarkdown } from '../../core/reports/render-validation.ts';
import { parseS3Uri, ReportStoreConfigError, S3ReportStore } from '../../core/reports/s3-store.ts';
import { CONTENT_TYPES, ReportNotFoundError, type ReportStore } from '../../core/reports/store.ts';
import { type ValidationReport, validationReportSchema } from '../../core/validation/report-schema.ts';
import { CliError } from '../errors.ts';
import type { CliIo } from '../output.ts';
import { registerReportGetCommand } from './cloud-run.ts';

/* ------------------------------------------------------------------------------------------------------------
 * S3 client: one per process, from the default credential chain and region (AWS_PROFILE, AWS_REGION, SSO,
 * instance roles …), created on first use. Tests replace the factory.
 * ---------------------------------------------------------------------------------------------------------- */

const defaultS3ClientFactory = (): S3Client => new S3Client({});
let s3ClientFactory: () => S3Client = defaultS3ClientFactory;
let s3Client: S3Client | undefined;

/** Replaces how the S3 client is made (tests: a mocked client); no argument restores the default. */
export function setS3ClientFactory(factory?: () => S3Client): void {
  s3ClientFactory = factory ?? defaultS3ClientFactory;
  s3Client = undefined;
}

function sharedS3Client(): S3Client {
  s3Client ??= s3ClientFactory();
  return s3Client;
}

/* ------------------------------------------------------------------------------------------------------------
 * Reading reports: a local file or s3://bucket/key, checked against the schema of its kind.
 * ---------------------------------------------------------------------------------------------------------- */

export type LoadedReport =
  | { type: 'validation'; source: string; report: ValidationReport }
  | { type: 'diff'; source: string; report: ReportDiff }
  | { type: 'other'; source: string; kind: string; document: Record<string, unknown> };

const isS3Uri = (source: string) => source.startsWith('s3://');

/** Where an S3 URI points: a store on its bucket and the object key in it. */
function s3Target(uri: string): { store: ReportStore; key: string } {
  let parsed: { bucket: string; key: string };
  try {
    parsed = parseS3Uri(uri);
  } catch (error) {
    if (error instanceof ReportStoreConfigError) throw new CliError(error.message);
    throw error;
  }
  if (!parsed.key || parsed.key.endsWith('/')) throw new CliError(`${uri} names no object (s3://bucket/key)`);
  try {
    return { store: new S3ReportStore({ client: sharedS3Client(), bucket: parsed.bucket }), key: parsed.key };
  } catch (error) {
    if (error instanceof ReportStoreConfigError) throw new CliError(error.message);
    throw error;
  }
}

/** The JSON document at a local path or S3 URI; one clear CliError when there is none. */
export async function readReportDocument(source: string): Promise<unknown> {
  if (isS3Uri(source)) {
    const { store, key } = s3Target(source);
    try {
      return await readReport(store, key);
    } catch (error) {
      if (error instanceof ReportNotFoundError) throw new CliError(`no report at ${source}`);
      if (error instanceof ReportParseError)
        throw new CliError(`${source} is not valid JSON${jsonPosition(error.cause)}`);
      if (error instanceof InvalidReportKeyError) throw new CliError(error.message);
      throw error;
    }
  }
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError(`no report file at ${source}`);
    if (code === 'EISDIR') throw new CliError(`${source} is a folder, not a report file`);
    if (code === 'EACCES' || code === 'EPERM') throw new CliError(`cannot read ${source}: permission denied`);
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${source} is not valid JSON${jsonPosition(error)}`);
  }
}

/**
 * Where JSON.parse gave up, without its message: that quotes the document's first bytes, and the file
 * named may hold anything (an operator's typo can point at a credentials file).
 */
function jsonPosition(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/Unexpected end of JSON input/.test(message)) return ' (it ends too early)';
  const where = /line (\d+) column (\d+)/.exec(message);
  return where ? ` (line ${where[1]}, column ${where[2]})` : '';
}

/** Reads a report and checks it against the schema of its `kind` (validation and diff reports, for now). */
export async function loadReport(source: string): Promise<LoadedReport> {
  const document = await readReportDocument(source);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new CliError(`${source} is not a report: expected a JSON object with a "kind" field`);
  }
  const kind = (document as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || kind === '') {
    throw new CliError(`${source} is not a report: it has no "kind" field`);
  }
  if (kind === 'validation') {
    const parsed = validationReportSchema.safeParse(document);
    if (!parsed.success) {
      throw new CliError(`${source} is not a valid validation report: ${firstIssue(parsed.error)}`);
    }
    return { type: 'validation', source, report: parsed.data };
  }
  if (kind === 'diff') {
    const parsed = reportDiffSchema.safeParse(document);
    if (!parsed.success)
      throw new CliError(`${source} is not a valid diff report: ${firstIssue(parsed.error)}`);
    return { type: 'diff', source, report: parsed.data };
  }
  return { type: 'other', source, kind, document: document as Record<string, unknown> };
}

/** `field "criteria[0].passed": Invalid input: expected boolean, received string` */
function firstIssue(error: ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const field = issue.path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
  return field ? `field "${field}": ${issue.message}` : issue.message;
}

/* ------------------------------------------------------------------------------------------------------------
 * report show
 * ---------------------------------------------------------------------------------------------------------- */

const showOptions = z
  .object({
    json: z.boolean().default(false),
    format: z.enum(['md', 'json']).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.json && o.format === 'md') {
      ctx.addIssue({ code: 'custom', path: ['format'], message: 'md conflicts with --json' });
    }
  })
  .transform((o) => ({ format: o.format ?? (o.json ? 'json' : 'md') }));

export type ReportShowInput = z.input<typeof showOptions>;

/** Prints a report as Markdown (default) or pretty JSON. Only displays: a failed report still exits 0. */
export async function showReport(source: string, options: ReportShowInput, io: CliIo): Promise<LoadedReport> {
  const { format } = showOptions.parse(options);
  const loaded = await loadReport(source);
  if (format === 'json') {
    const document = loaded.type === 'other' ? loaded.document : loaded.report;
    io.stdout(`${JSON.stringify(document, null, 2)}\n`);
    return loaded;
  }
  switch (loaded.type) {
    case 'validation':
      io.stdout(withNewline(renderValidationMarkdown(loaded.report)));
      return loaded;
    case 'diff':
      io.stdout(withNewline(renderDiffMarkdown(loaded.report)));
      return loaded;
    default:
      throw new CliError(
        `${source} is a "${loaded.kind}" report, which cannot be shown as Markdown yet; use --json`,
      );
  }
}

/* ------------------------------------------------------------------------------------------------------------
 * report diff
 * ---------------------------------------------------------------------------------------------------------- */

const DIFF_FORMATS = ['md', 'json', 'html'] as const;
type DiffFormat = (typeof DIFF_FORMATS)[number];

const OUT_EXTENSIONS: Record<string, DiffFormat> = {
  '.md': 'md',
  '.markdown': 'md',
  '.json': 'json',
  '.html': 'html',
  '.htm': 'html',
};

function formatOfFile(out: string | undefined): DiffFormat | undefined {
  return out === undefined ? undefined : OUT_EXTENSIONS[extname(out).toLowerCase()];
}

const diffOptions = z
  .object({
    json: z.boolean().default(false),
    format: z.enum(DIFF_FORMATS).optional(),
    out: z.string().min(1, 'must name a file or s3://bucket/key').optional(),
  })
  .superRefine((o, ctx) => {
    if (o.json && o.format && o.format !== 'json') {
      ctx.addIssue({ code: 'custom', path: ['format'], message: `${o.format} conflicts with --json` });
    }
  })
  .transform((o) => ({
    // --format, else --json, else the extension of --out, else Markdown.
    format: o.format ?? (o.json ? 'json' : (formatOfFile(o.out) ?? 'md')),
    out: o.out,
  }));

export type ReportDiffInput = z.input<typeof diffOptions>;

/** Compares two validation reports (before, after) and prints or writes the difference. */
export async function diffReports(
  before: string,
  after: string,
  options: ReportDiffInput,
  io: CliIo,
): Promise<ReportDiff> {
  const { format, out } = diffOptions.parse(options);
  const [a, b] = await Promise.all([loadReport(before), loadReport(after)]);
  const diff = diffValidationReports(validationOnly(a), validationOnly(b));
  const text =
    format === 'json'
      ? `${JSON.stringify(diff, null, 2)}\n`
      : withNewline(format === 'html' ? renderDiffHtml(diff) : renderDiffMarkdown(diff));
  if (!out) {
    io.stdout(text);
    return diff;
  }
  await writeOutput(out, text, format);
  io.stderr(`report diff written to ${out}\n`);
  return diff;
}

function validationOnly(loaded: LoadedReport): ValidationReport {
  if (loaded.type === 'validation') return loaded.report;
  const kind = loaded.type === 'other' ? loaded.kind : loaded.type;
  throw new CliError(`report diff compares validation reports; ${loaded.source} is a "${kind}" report`);
}

/** A local file (written atomically, folders created) or an S3 object with its content type. */
async function writeOutput(out: string, text: string, format: DiffFormat): Promise<void> {
  if (isS3Uri(out)) {
    const { store, key } = s3Target(out);
    try {
      await store.put(key, text, CONTENT_TYPES[format]);
    } catch (error) {
      if (error instanceof InvalidReportKeyError) throw new CliError(error.message);
      throw error;
    }
    return;
  }
  const path = resolve(out);
  try {
    await new LocalReportStore(dirname(path)).put(basename(path), text, CONTENT_TYPES[format]);
  } catch (error) {
    if (error instanceof InvalidReportKeyError) throw new CliError(`--out ${out} is not a file name`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new CliError(`--out ${out} is a folder; name a file`);
    if (code === 'ENOTDIR' || code === 'EEXIST')
      throw new CliError(`--out ${out}: a file stands where a folder should`);
    if (code === 'EACCES' || code === 'EPERM') throw new CliError(`--out ${out}: permission denied`);
    throw error;
  }
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/* ------------------------------------------------------------------------------------------------------------
 * Commands
 * ---------------------------------------------------------------------------------------------------------- */

export function registerReportCommands(program: Command, io: CliIo): void {
  const report = program
    .command('report')
    .description(
      'show and compare reports (local files or s3://bucket/key; S3 through the default AWS credentials)',
    );
  report
    .command('show')
    .description(
      'print a report as Markdown (or JSON), after checking it against its schema; ' +
        'exit 0 when it could be shown, whether or not the run passed',
    )
    .argument('<report>', 'a report JSON file or s3://bucket/key')
    .option('--json', 'print the checked report as JSON (same as --format json)')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'json']))
    .action(async (source: string, raw: Record<string, unknown>) => {
      await showReport(source, raw, io);
    });
  report
    .command('diff')
    .description(
      'compare two validation reports (before, after): coverage, counts, criteria and issues that changed',
    )
    .argument('<before>', 'the earlier validation report: a JSON file or s3://bucket/key')
    .argument('<after>', 'the later validation report: a JSON file or s3://bucket/key')
    .option('--json', 'print the difference as JSON (same as --format json)')
    .addOption(
      new Option('--format <format>', 'output format (default: from the --out extension, else md)').choices([
        ...DIFF_FORMATS,
      ]),
    )
    .option('--out <file>', 'write to a file or s3://bucket/key instead of printing')
    .action(async (before: string, after: string, raw: Record<string, unknown>) => {
      await diffReports(before, after, raw, io);
    });
  // report get: a cloud run's report from its stage's bucket (lib/cli/commands/cloud-run.ts).
  registerReportGetCommand(report, io);
}
