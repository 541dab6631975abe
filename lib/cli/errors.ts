import { ZodError } from 'zod';
import { DemoDataRefusedError } from '../core/demo/load.ts';
import { MissingSchemaError } from '../core/schema/introspect.ts';
import { SqlClientError } from '../core/sql/errors.ts';

/** Exit codes every command keeps: 0 success, 1 a check failed, 2 could not do the job. */
export const EXIT = { ok: 0, checkFailed: 1, error: 2 } as const;

/** An error whose message is meant for the operator as it is. */
export class CliError extends Error {
  /** Our own message laid out on several lines (e.g. what a failed restore left and how to clean it up). */
  readonly multiline: boolean = false;

  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** One line for the operator; the stack only when asked for. */
export function describeError(error: unknown, verbose: boolean): string {
  const message = operatorMessage(error);
  // Line breaks are kept only where we laid the message out; each line is still cleaned.
  const line =
    error instanceof CliError && error.multiline
      ? message
          .split('\n')
          .map((l) =>
            l
              .replace(/\t/g, ' ')
              .replace(/\p{Cc}/gu, '\ufffd')
              .trimEnd(),
          )
          .join('\n')
      : oneLine(message);
  if (!verbose || !(error instanceof Error) || !error.stack) return line;
  const causes: string[] = [];
  let cause = error.cause;
  while (cause instanceof Error) {
    causes.push(`caused by: ${cause.stack ?? cause.message}`);
    cause = cause.cause;
  }
  return [line, error.stack, ...causes].join('\n');
}

function operatorMessage(error: unknown): string {
  if (error instanceof CliError) return `error: ${error.message}`;
  if (error instanceof ZodError) {
    // Options arrive camelCased from the parser; name them as the operator typed them.
    const flag = (path: PropertyKey[]) =>
      path.length === 0 ? 'input' : `--${String(path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const issues = error.issues.map((i) => `${flag(i.path)}: ${i.message}`);
    return `error: invalid options: ${issues.join('; ')}`;
  }
  if (error instanceof MissingSchemaError) return `error: ${error.message}`;
  if (error instanceof DemoDataRefusedError) {
    return `error: ${error.message}; add --if-absent to keep the existing data`;
  }
  if (error instanceof SqlClientError) {
    const hint = error.kind === 'connection' ? ' (is the server running and the URL right?)' : '';
    return `error: database ${error.kind}: ${firstLine(error.message)}${hint}`;
  }
  if (error instanceof Error) return `error: ${firstLine(error.message)} (run with --verbose for details)`;
  // Libraries sometimes throw plain objects (PGlite on a data directory it cannot use): say their message.
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && message)
    return `error: ${firstLine(message)} (run with --verbose for details)`;
  return `error: ${typeof error === 'object' ? 'unexpected failure' : String(error)} (run with --verbose for details)`;
}

/**
 * Messages may quote what the operator or the data supplied (a file's first bytes, a legacy name): one
 * line, and no terminal control characters, so hostile input can neither add lines nor restyle the terminal.
 */
export function oneLine(text: string): string {
  return text
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/\t/g, ' ')
    .replace(/\p{Cc}/gu, '\ufffd')
    .trim();
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() || text;
}
