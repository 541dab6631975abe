import { describe, expect, it } from 'vitest';
import { segmentSql, splitStatements, toPositional } from '../../../lib/core/sql/sql-text.ts';

describe('toPositional', () => {
  it('numbers parameters by first appearance and reuses a position for a repeated name', () => {
    // Act
    const { text, names } = toPositional('SELECT * FROM t WHERE a = :a AND b = :b OR a = :a');

    // Assess
    expect(text).toBe('SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $1');
    expect(names).toEqual(['a', 'b']);
  });

  it('leaves casts, literals, quoted identifiers, dollar quotes and comments untouched', () => {
    // Prepare
    const sql = [
      "SELECT :x::int, ':y', E'it\\'s :z', \"col:w\", $$ :v $$, $tag$ :u $tag$ -- :t",
      '/* :s /* nested :r */ still comment :q */ :p',
    ].join('\n');

    // Act
    const { text, names } = toPositional(sql);

    // Assess
    expect(names).toEqual(['x', 'p']);
    expect(text).toBe(sql.replace(':x::int', '$1::int').replace(/:p$/, '$2'));
  });

  it('does not read a positional $1 or an array slice as a parameter', () => {
    // Act
    const { names } = toPositional('SELECT arr[1:2], $1 FROM t');

    // Assess
    expect(names).toEqual([]);
  });
});

describe('splitStatements', () => {
  it('splits on top-level semicolons only', () => {
    // Act
    const statements = splitStatements(`
      CREATE TABLE a (x text DEFAULT ';');
      -- comment; only
      CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
      /* block; comment */
      INSERT INTO "we;ird" VALUES ('a;b')
    `);

    // Assess
    expect(statements).toEqual([
      "CREATE TABLE a (x text DEFAULT ';')",
      '-- comment; only\n      CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$',
      `/* block; comment */\n      INSERT INTO "we;ird" VALUES ('a;b')`,
    ]);
  });

  it('returns nothing for an empty or comment-only script', () => {
    // Act / Assess
    expect(splitStatements('  ;; -- nothing here\n /* nor here */ ;')).toEqual([]);
  });
});

describe('segmentSql', () => {
  it('gives back the input when its segments are joined, even when a quote is left open', () => {
    // Prepare
    const inputs = ["SELECT 'open", 'SELECT "open', 'SELECT $$ open', 'SELECT /* open', "a''b 'c''d' e"];

    // Act / Assess
    for (const input of inputs) {
      expect(
        segmentSql(input)
          .map((s) => s.text)
          .join(''),
      ).toBe(input);
    }
  });
});
