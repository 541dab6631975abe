import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatabaseConfigurationError,
  QueryError,
  SqlClientError,
  StatementTimeoutError,
} from '../../../lib/core/sql/errors.ts';
import { type SqlClient, sqlParam } from '../../../lib/core/sql/types.ts';
import { createDataApiDouble } from '../../support/data-api-double.ts';
import {
  type AdapterUnderTest,
  realDatabases,
  type TestDatabase,
  uniqueSchemaName,
} from '../../support/databases.ts';

/**
 * One suite, three adapters: what core code may rely on whatever database it runs against.
 * The Data API adapter runs through a test double that executes each request on real PostgreSQL (PGlite).
 */
const adapters: AdapterUnderTest[] = [
  ...realDatabases,
  {
    name: 'data-api',
    async open(): Promise<TestDatabase> {
      const schema = uniqueSchemaName();
      const double = await createDataApiDouble({ schema });
      return { client: double.sqlClient, schema, dispose: () => double.close() };
    },
  },
];

describe.each(adapters)('SqlClient contract: $name', (adapter) => {
  let database: TestDatabase;
  let sql: SqlClient;

  beforeAll(async () => {
    database = await adapter.open();
    sql = database.client;
    await sql.runScript(`
      CREATE TABLE samples (
        id integer PRIMARY KEY,
        label text,
        small integer,
        big bigint,
        flag boolean,
        amount numeric(40, 12),
        day date,
        moment timestamp,
        instant timestamptz,
        payload jsonb
      );
      CREATE TABLE pages (id integer PRIMARY KEY, grp integer NOT NULL, body text NOT NULL);
      INSERT INTO pages SELECT g, g % 7, 'row ' || g FROM generate_series(1, 2500) AS g;
    `);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('binds named parameters, reusing a name and leaving casts, strings and comments alone', async () => {
    // Act
    const { rows } = await sql.query<{ a: number; b: number; text: string; same: boolean }>(
      `SELECT :n::int4 AS a, (:n::int4 + 1) AS b, ':not_a_param -- nor this' AS text, -- :nor_this
              :n::int4 = :m::int4 AS same`,
      { n: 41, m: 41 },
    );

    // Assess
    expect(rows).toEqual([{ a: 41, b: 42, text: ':not_a_param -- nor this', same: true }]);
  });

  it('round-trips every supported type through a table', async () => {
    // Prepare
    const values = {
      id: 1,
      label: `O'Brien & Sons; "Nuclear" — Électricité 東芝 ${'x'.repeat(300)}`,
      small: -2_147_483_648,
      big: 3_000_000_000,
      flag: true,
      amount: sqlParam.decimal('12345678901234567890.123456789012'),
      day: sqlParam.date('2024-02-29'),
      moment: sqlParam.timestamp('2024-02-29 23:59:58.123456'),
      instant: new Date('2025-06-30T12:00:00.250Z'),
      payload: sqlParam.json({ reactors: ['BWRX-300', 'AP1000'], mw: 300 }),
    };

    // Act
    await sql.query(
      `INSERT INTO samples (id, label, small, big, flag, amount, day, moment, instant, payload)
       VALUES (:id, :label, :small, :big, :flag, :amount, :day, :moment, :instant, :payload)`,
      values,
    );
    const { rows } = await sql.query('SELECT * FROM samples WHERE id = :id', { id: 1 });

    // Assess
    expect(rows).toEqual([
      {
        id: 1,
        label: values.label,
        small: -2_147_483_648,
        big: 3_000_000_000,
        flag: true,
        amount: '12345678901234567890.123456789012',
        day: '2024-02-29',
        moment: '2024-02-29 23:59:58.123456',
        instant: '2025-06-30 12:00:00.25',
        payload: { reactors: ['BWRX-300', 'AP1000'], mw: 300 },
      },
    ]);
  });

  it('reads NULL of every type as null and int8 beyond 2^53 as an exact bigint', async () => {
    // Prepare
    const beyondDoublePrecision = 2n ** 53n + 1n;
    await sql.query(
      `INSERT INTO samples (id, label, small, big, flag, amount, day, moment, instant, payload)
       VALUES (:id, :n1, :n2, :big, :n3, :n4, :n5, :n6, :n7, :n8)`,
      {
        id: 2,
        big: beyondDoublePrecision,
        n1: null,
        n2: null,
        n3: null,
        n4: null,
        n5: null,
        n6: null,
        n7: null,
        n8: null,
      },
    );

    // Act
    const { rows } = await sql.query<Record<string, unknown>>(
      'SELECT id, label, small, flag, amount, day, moment, instant, payload FROM samples WHERE id = 2',
    );
    const { rows: asText } = await sql.query<{ big: string }>(
      'SELECT big::text AS big FROM samples WHERE id = 2',
    );
    const bigRead = sql.query<{ big: unknown }>('SELECT big FROM samples WHERE id = 2');

    // Assess
    const { id, ...rest } = rows[0] ?? {};
    expect(id).toBe(2);
    expect(Object.keys(rest)).toHaveLength(8);
    expect(Object.values(rest).every((v) => v === null)).toBe(true);
    expect(asText[0]?.big).toBe('9007199254740993');
    await expect(bigRead).resolves.toMatchObject({ rows: [{ big: beyondDoublePrecision }] });
  });

  it('reports rows affected by INSERT, UPDATE and DELETE', async () => {
    // Act
    const inserted = await sql.query(
      `INSERT INTO samples (id, label) SELECT g, 'bulk' FROM generate_series(100, 104) AS g`,
    );
    const updated = await sql.query(`UPDATE samples SET flag = false WHERE label = :label`, {
      label: 'bulk',
    });
    const deleted = await sql.query(`DELETE FROM samples WHERE id >= :from`, { from: 103 });

    // Assess
    expect([inserted.rowsAffected, updated.rowsAffected, deleted.rowsAffected]).toEqual([5, 5, 2]);
  });

  it('commits a transaction that resolves', async () => {
    // Act
    const result = await sql.transaction(async (tx) => {
      await tx.query(`INSERT INTO samples (id, label) VALUES (200, 'committed')`);
      const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM samples WHERE id = 200`);
      return rows[0]?.n;
    });

    // Assess
    const { rows } = await sql.query<{ label: string }>('SELECT label FROM samples WHERE id = 200');
    expect(result).toBe(1);
    expect(rows).toEqual([{ label: 'committed' }]);
  });

  it('rolls back a transaction that throws, leaves nothing behind and rethrows the same error', async () => {
    // Prepare
    const failure = new Error('chunk failed half-way');

    // Act
    const outcome = sql.transaction(async (tx) => {
      await tx.query(`INSERT INTO samples (id, label) VALUES (300, 'never')`);
      await tx.query(`UPDATE samples SET label = 'changed' WHERE id = 200`);
      throw failure;
    });

    // Assess
    await expect(outcome).rejects.toBe(failure);
    const { rows } = await sql.query<{ id: number; label: string }>(
      'SELECT id, label FROM samples WHERE id IN (200, 300) ORDER BY id',
    );
    expect(rows).toEqual([{ id: 200, label: 'committed' }]);
    // The connection is usable afterwards (no transaction left open on it).
    await expect(sql.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });

  it('rolls back when a statement inside the transaction fails, with a classified error', async () => {
    // Act
    const outcome = sql.transaction(async (tx) => {
      await tx.query(`INSERT INTO samples (id, label) VALUES (400, 'first')`);
      await tx.query(`INSERT INTO samples (id, label) VALUES (400, 'duplicate key')`);
    });

    // Assess
    await expect(outcome).rejects.toSatisfy(
      (e) => e instanceof QueryError && e.sqlState === '23505' && !e.retryable && e.name === 'QueryError',
    );
    const { rows } = await sql.query('SELECT id FROM samples WHERE id = 400');
    expect(rows).toEqual([]);
  });

  it('runs a multi-statement script, including a function body with semicolons', async () => {
    // Act
    const count = await sql.runScript(`
      -- a comment; with a semicolon
      CREATE FUNCTION add_one(x integer) RETURNS integer LANGUAGE plpgsql AS $body$
      BEGIN
        RETURN x + 1; -- inside the body
      END;
      $body$;
      CREATE TABLE script_made (note text);
      INSERT INTO script_made VALUES ('semi;colon ''quoted''');
    `);
    const { rows } = await sql.query('SELECT add_one(1) AS two, (SELECT note FROM script_made) AS note');

    // Assess
    expect(count).toBe(3);
    expect(rows).toEqual([{ two: 2, note: "semi;colon 'quoted'" }]);
  });

  it('reads a large result in key order, page by page, every row once', async () => {
    // Act
    const pages: number[] = [];
    const ids: number[] = [];
    for await (const page of sql.readPages<{ id: number }>({
      sql: 'SELECT id, body FROM pages WHERE id > :min',
      params: { min: 0 },
      key: 'id',
      pageSize: 1000,
    })) {
      pages.push(page.length);
      ids.push(...page.map((r) => r.id));
    }

    // Assess
    expect(pages).toEqual([1000, 1000, 500]);
    expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });

  it('pages by a composite key, and yields nothing for an empty result', async () => {
    // Act
    const seen: string[] = [];
    for await (const page of sql.readPages<{ grp: number; id: number }>({
      sql: 'SELECT grp, id FROM pages WHERE id <= 20',
      key: ['grp', 'id'],
      pageSize: 6,
    })) {
      seen.push(...page.map((r) => `${r.grp}/${r.id}`));
    }
    const empty: unknown[] = [];
    for await (const page of sql.readPages({ sql: 'SELECT id FROM pages WHERE id < 0', key: 'id' })) {
      empty.push(page);
    }

    // Assess
    const expected = Array.from({ length: 20 }, (_, i) => ({ grp: (i + 1) % 7, id: i + 1 }))
      .sort((a, b) => a.grp - b.grp || a.id - b.id)
      .map((r) => `${r.grp}/${r.id}`);
    expect(seen).toEqual(expected);
    expect(empty).toEqual([]);
  });

  it('refuses a statement whose parameter has no value, naming it', async () => {
    // Act
    const outcome = sql.query('SELECT :present::int AS a, :absent::int AS b', { present: 1 });

    // Assess
    await expect(outcome).rejects.toSatisfy(
      (e) => e instanceof DatabaseConfigurationError && /:absent/.test((e as Error).message),
    );
  });

  it('classifies a syntax error as a non-retryable QueryError with its SQLSTATE', async () => {
    // Act
    const outcome = sql.query('SELEC 1');

    // Assess
    await expect(outcome).rejects.toSatisfy(
      (e) => e instanceof SqlClientError && e.kind === 'query' && e.sqlState === '42601' && !e.retryable,
    );
  });

  it('counts the statements it sends', async () => {
    // Prepare
    const before = sql.statementsIssued;

    // Act
    await sql.query('SELECT 1');
    await sql.transaction(async (tx) => {
      await tx.query('SELECT 2');
      await tx.query('SELECT 3');
    });

    // Assess
    expect(sql.statementsIssued - before).toBe(3);
  });

  it.runIf(adapter.name === 'pg')(
    'turns a statement timeout into a retryable StatementTimeoutError',
    async () => {
      // Act
      const outcome = sql.transaction(async (tx) => {
        await tx.query('SET LOCAL statement_timeout = 50');
        await tx.query('SELECT pg_sleep(2)');
      });

      // Assess
      await expect(outcome).rejects.toSatisfy(
        (e) => e instanceof StatementTimeoutError && e.retryable && e.sqlState === '57014',
      );
    },
  );
});
