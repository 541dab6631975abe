import * as z from 'zod';

/**
 * Where reports go: a local folder or an S3 bucket, one interface, the same keys:
 * `<stage>/<run-id>/<name>.<json|md|html>`.
 */
export type ReportFormat = 'json' | 'md' | 'html';

export const CONTENT_TYPES: Record<ReportFormat, string> = {
  json: 'application/json; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

/**
 * One path segment — a stage, a run id, a report name: no slashes, no dot-dot, nothing a shell or the S3
 * console would trip on. Stages and run ids keep to 80 characters (Step Functions' execution-name limit).
 */
export function pathSegment(maxLength = 128) {
  return z
    .string()
    .regex(
      new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${maxLength - 1}}$`),
      'must be letters, digits, . _ - (not starting with . _ -)',
    );
}

const segment = pathSegment();

export const reportKeySchema = z.object({ stage: segment, runId: segment, name: segment });
export type ReportKey = z.infer<typeof reportKeySchema>;

export function reportKey(key: ReportKey, format: ReportFormat): string {
  const { stage, runId, name } = reportKeySchema.parse(key);
  return `${stage}/${runId}/${name}.${format}`;
}

export class ReportNotFoundError extends Error {
  constructor(
    readonly key: string,
    where: string,
  ) {
    super(`no report ${key} in ${where}`);
    this.name = 'ReportNotFoundError';
  }
}

export interface ReportStore {
  /** For messages: the folder, or s3://bucket/prefix. */
  readonly location: string;
  put(key: string, body: string, contentType: string): Promise<void>;
  /** Throws ReportNotFoundError when there is none. */
  get(key: string): Promise<string>;
  /** Keys under a prefix (e.g. `dev/run-1/`), sorted. */
  list(prefix: string): Promise<string[]>;
}
