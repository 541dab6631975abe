/**
 * A small lexer for PostgreSQL text. The same SQL must run through PGlite, `pg` (positional `$n`
 * parameters) and the RDS Data API (`:name` parameters, one statement per call), so we need to find
 * parameters and statement boundaries without being fooled by string literals, quoted identifiers,
 * dollar-quoted function bodies, comments or `::` casts.
 */

export type SqlSegmentKind = 'code' | 'string' | 'identifier' | 'dollar' | 'comment';

export interface SqlSegment {
  kind: SqlSegmentKind;
  text: string;
}

const DOLLAR_TAG = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/** Splits SQL text into code and non-code segments; concatenating the segments gives the input back. */
export function segmentSql(sql: string): SqlSegment[] {
  const segments: SqlSegment[] = [];
  let code = '';
  let i = 0;
  const flushCode = () => {
    if (code) segments.push({ kind: 'code', text: code });
    code = '';
  };
  while (i < sql.length) {
    const ch = sql[i] as string;
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      flushCode();
      segments.push({ kind: 'comment', text: sql.slice(i, stop) });
      i = stop;
      continue;
    }
    if (ch === '/' && next === '*') {
      // PostgreSQL block comments nest.
      let depth = 1;
      let j = i + 2;
      while (j < sql.length && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      flushCode();
      segments.push({ kind: 'comment', text: sql.slice(i, j) });
      i = j;
      continue;
    }
    if (ch === "'") {
      // E'...' strings allow backslash escapes; standard strings only double the quote.
      const prev = code.at(-1);
      const escapes = (prev === 'E' || prev === 'e') && !/[A-Za-z0-9_]/.test(code.at(-2) ?? '');
      let j = i + 1;
      while (j < sql.length) {
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j++;
      }
      flushCode();
      segments.push({ kind: 'string', text: sql.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '"' && sql[j + 1] === '"') j += 2;
        else if (sql[j] === '"') break;
        else j++;
      }
      flushCode();
      segments.push({ kind: 'identifier', text: sql.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    if (ch === '$' && !/[A-Za-z0-9_]/.test(code.at(-1) ?? '')) {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        const stop = close === -1 ? sql.length : close + tag[0].length;
        flushCode();
        segments.push({ kind: 'dollar', text: sql.slice(i, stop) });
        i = stop;
        continue;
      }
    }
    code += ch;
    i++;
  }
  flushCode();
  return segments;
}

const NAMED_PARAMETER = /::|:([A-Za-z_][A-Za-z0-9_]*)/g;

/** Names of the `:name` parameters in order of first appearance. */
export function parameterNames(sql: string): string[] {
  return toPositional(sql).names;
}

/**
 * Rewrites `:name` parameters to `$1, $2, …` for drivers that only know positional parameters.
 * A name used twice maps to one position. `::type` casts are left alone.
 */
export function toPositional(sql: string): { text: string; names: string[] } {
  const names: string[] = [];
  const text = segmentSql(sql)
    .map((segment) =>
      segment.kind !== 'code'
        ? segment.text
        : segment.text.replace(NAMED_PARAMETER, (match, name: string | undefined) => {
            if (!name) return match;
            let index = names.indexOf(name);
            if (index === -1) index = names.push(name) - 1;
            return `$${index + 1}`;
          }),
    )
    .join('');
  return { text, names };
}

/** Splits a script into its statements (top-level `;`), dropping empty and comment-only ones. */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let current: SqlSegment[] = [];
  const push = () => {
    if (current.some((s) => s.kind !== 'comment' && s.text.trim() !== '')) {
      statements.push(
        current
          .map((s) => s.text)
          .join('')
          .trim(),
      );
    }
    current = [];
  };
  for (const segment of segmentSql(script)) {
    if (segment.kind !== 'code' || !segment.text.includes(';')) {
      current.push(segment);
      continue;
    }
    const parts = segment.text.split(';');
    parts.forEach((part, index) => {
      if (part) current.push({ kind: 'code', text: part });
      if (index < parts.length - 1) push();
    });
  }
  push();
  return statements;
}
