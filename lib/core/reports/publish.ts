import { CONTENT_TYPES, type ReportFormat, type ReportKey, type ReportStore, reportKey } from './store.ts';

/** A store key that could leave the store's folder or prefix, or that no store could hold. */
export class InvalidReportKeyError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid report key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidReportKeyError';
  }
}

/** A stored report that is not the JSON document it should be. */
export class ReportParseError extends Error {
  constructor(
    readonly key: string,
    where: string,
    options?: ErrorOptions,
  ) {
    super(`report ${key} in ${where} is not valid JSON`, options);
    this.name = 'ReportParseError';
  }
}

/**
 * Keys are relative, `/`-separated paths (`dev/run-1/validation.json`). Refused: absolute paths (`/x`,
 * `C:x`), backslashes, `.`/`..`/empty segments and control characters — anything that could escape the
 * folder or prefix of a store or mean different things to the local and the S3 store.
 */
export function assertValidReportKey(key: string): void {
  const reason = keyProblem(key, false);
  if (reason) throw new InvalidReportKeyError(key, reason);
}

/** A list prefix: empty (everything), or a key-like string that may end with `/`. */
export function assertValidReportPrefix(prefix: string): void {
  if (prefix === '') return;
  const reason = keyProblem(prefix, true);
  if (reason) throw new InvalidReportKeyError(prefix, reason);
}

function keyProblem(key: string, isPrefix: boolean): string | undefined {
  if (key === '') return 'must not be empty';
  if (key.length > 900) return 'must be at most 900 characters';
  if (key.includes('\\')) return 'must not contain backslashes';
  if (key.startsWith('/') || /^[A-Za-z]:/.test(key)) return 'must be relative (no leading / or drive letter)';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'must not contain control characters';
  const segments = key.split('/');
  if (isPrefix && segments.at(-1) === '') segments.pop();
  for (const segment of segments) {
    if (segment === '..' || segment === '.') return `must not contain "${segment}" segments`;
    if (segment === '') return 'must not contain empty segments (//)';
  }
  return undefined;
}

export interface ReportDocuments {
  /** The report itself: written as pretty JSON with a final newline. */
  json: unknown;
  markdown?: string;
  html?: string;
}

/**
 * Writes a report as `<stage>/<runId>/<name>.json` and, when given, `.md` and `.html` beside it.
 * The JSON is written last, so whoever finds it finds the renderings too. Returns the keys written,
 * JSON first.
 */
export async function publishReport(
  store: ReportStore,
  key: ReportKey,
  documents: ReportDocuments,
): Promise<string[]> {
  const renderings: [ReportFormat, string | undefined][] = [
    ['md', documents.markdown],
    ['html', documents.html],
  ];
  const jsonKey = reportKey(key, 'json');
  const body = JSON.stringify(documents.json, null, 2);
  if (body === undefined) throw new TypeError(`report ${jsonKey}: the JSON document is undefined`);
  const written: string[] = [];
  for (const [format, text] of renderings) {
    if (text === undefined) continue;
    const target = reportKey(key, format);
    await store.put(target, text, CONTENT_TYPES[format]);
    written.push(target);
  }
  await store.put(jsonKey, `${body}\n`, CONTENT_TYPES.json);
  return [jsonKey, ...written];
}

/** Reads a report's JSON document; throws ReportNotFoundError or ReportParseError. */
export async function readReport(store: ReportStore, key: string): Promise<unknown> {
  const text = await store.get(key);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ReportParseError(key, store.location, { cause: error });
  }
}
