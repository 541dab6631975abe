import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DataApiSqlClient,
  dataApiParameter,
  decodeDataApiRecords,
  fromDataApiError,
} from '../../../lib/core/sql/data-api-client.ts';
import {
  ConcurrencyConflictError,
  DatabaseAccessDeniedError,
  DatabaseConfigurationError,
  DatabaseResumingError,
  QueryError,
  ResponseTooLargeError,
  SqlClientError,
  StatementTimeoutError,
  ThrottlingError,
  TransactionExpiredError,
} from '../../../lib/core/sql/errors.ts';
import { type SqlParam, sqlParam } from '../../../lib/core/sql/types.ts';
import {
  createDataApiDouble,
  DATA_API_DOUBLE_TARGET,
  type DataApiDouble,
} from '../../support/data-api-double.ts';

const BEYOND_2_53 = 2n ** 53n + 1n; // 9007199254740993: a double cannot hold it

describe('dataApiParameter', () => {
  it.each<[string, SqlParam, object]>([
    ['text', "O'Brien", { value: { stringValue: "O'Brien" } }],
    ['an integer', 42, { value: { longValue: 42 } }],
    ['a fraction', 2.5, { value: { doubleValue: 2.5 } }],
    ['an integral number beyond 2^53 (a double already)', 2 ** 60, { value: { doubleValue: 2 ** 60 } }],
    ['a boolean', false, { value: { booleanValue: false } }],
    ['null', null, { value: { isNull: true } }],
    ['a safe bigint', 3_000_000_000n, { value: { longValue: 3_000_000_000 } }],
    [
      'a bigint beyond 2^53',
      BEYOND_2_53,
      { value: { stringValue: '9007199254740993' }, typeHint: 'DECIMAL' },
    ],
    [
      'a Date',
      new Date('2025-06-30T12:00:00.250Z'),
      { value: { stringValue: '2025-06-30 12:00:00.250' }, typeHint: 'TIMESTAMP' },
    ],
    ['a date', sqlParam.date('2024-02-29'), { value: { stringValue: '2024-02-29' }, typeHint: 'DATE' }],
    ['a time', sqlParam.time('12:30:00'), { value: { stringValue: '12:30:00' }, typeHint: 'TIME' }],
    ['a decimal', sqlParam.decimal('1.10'), { value: { stringValue: '1.10' }, typeHint: 'DECIMAL' }],
    ['json', sqlParam.json({ a: [1] }), { value: { stringValue: '{"a":[1]}' }, typeHint: 'JSON' }],
    [
      'a uuid',
      sqlParam.uuid('8b7c2f0e-4a4e-4c1a-9a55-0d6f1b2f3c4d'),
      { value: { stringValue: '8b7c2f0e-4a4e-4c1a-9a55-0d6f1b2f3c4d' }, typeHint: 'UUID' },
    ],
    ['a typed null', sqlParam.date(null), { value: { isNull: true } }],
  ])('sends %s as the Data API expects', (_label, value, expected) => {
    // Act
    const parameter = dataApiParameter('p', value);

    // Assess
    expect(parameter).toEqual({ name: 'p', ...expected });
  });

  it('refuses values it cannot send', () => {
    // Act
    const attempts = [
      () => dataApiParameter('n', Number.NaN),
      () => dataApiParameter('u', undefined),
      () => dataApiParameter('d', new Date('not a date')),
    ];

    // Assess
    for (const attempt of attempts) expect(attempt).toThrow(DatabaseConfigurationError);
  });
});

describe('DataApiSqlClient through the Data API double', () => {
  let double: DataApiDouble;
  let sql: DataApiSqlClient;
  let jsonSql: DataApiSqlClient;

  beforeAll(async () => {
    double = await createDataApiDouble({ schema: 'data_api_test' });
    sql = double.sqlClient;
    jsonSql = new DataApiSqlClient({
      client: double.client,
      ...DATA_API_DOUBLE_TARGET,
      resultFormat: 'json',
    });
    await sql.runScript(`
      CREATE TABLE typed (
        id integer PRIMARY KEY, big bigint, amount numeric, day date, moment timestamp, instant timestamptz,
        doc jsonb, ref uuid, flag boolean, ratio float8, note text, blank text
      );
      CREATE TABLE wide (id integer PRIMARY KEY, body text NOT NULL);
      INSERT INTO wide SELECT g, repeat(md5(g::text), 64) FROM generate_series(1, 3000) AS g;
    `);
  });

  afterAll(async () => {
    await double?.close();
  });

  beforeEach(() => {
    double.rdsMock.resetHistory();
    double.requests.length = 0;
    double.responseSizes.length = 0;
  });

  describe('parameters and values', () => {
    it('round-trips every parameter type through a table', async () => {
      // Prepare
      const row = {
        id: 1,
        big: 3_000_000_000,
        amount: sqlParam.decimal('12345678901234567890.123456789'),
        day: sqlParam.date('2024-02-29'),
        moment: sqlParam.timestamp('2024-02-29 23:59:58.123456'),
        instant: new Date('2025-06-30T12:00:00.250Z'),
        doc: sqlParam.json({ reactors: ['BWRX-300'], mw: 300 }),
        ref: sqlParam.uuid('8b7c2f0e-4a4e-4c1a-9a55-0d6f1b2f3c4d'),
        flag: true,
        ratio: 0.125,
        note: 'Électricité; 東芝',
        blank: null,
      };

      // Act
      await sql.query(
        `INSERT INTO typed (id, big, amount, day, moment, instant, doc, ref, flag, ratio, note, blank)
         VALUES (:id, :big, :amount, :day, :moment, :instant, :doc, :ref, :flag, :ratio, :note, :blank)`,
        row,
      );
      const { rows } = await sql.query('SELECT * FROM typed WHERE id = :id', { id: 1 });

      // Assess
      expect(rows).toEqual([
        {
          id: 1,
          big: 3_000_000_000,
          amount: '12345678901234567890.123456789',
          day: '2024-02-29',
          moment: '2024-02-29 23:59:58.123456',
          instant: '2025-06-30 12:00:00.25',
          doc: { reactors: ['BWRX-300'], mw: 300 },
          ref: '8b7c2f0e-4a4e-4c1a-9a55-0d6f1b2f3c4d',
          flag: true,
          ratio: 0.125,
          note: 'Électricité; 東芝',
          blank: null,
        },
      ]);
    });

    it('stores a bigint beyond 2^53 exactly (sent as DECIMAL) and reads it exactly in both modes', async () => {
      // Act
      await sql.query('INSERT INTO typed (id, big) VALUES (:id, :big)', { id: 2, big: BEYOND_2_53 });
      const sent = double.requests.at(-1)?.parameters?.find((p) => p.name === 'big');
      const { rows: asText } = await sql.query('SELECT big::text AS big FROM typed WHERE id = 2');
      const { rows: viaJson } = await jsonSql.query('SELECT big FROM typed WHERE id = 2');
      const { rows: viaTyped } = await sql.query('SELECT big FROM typed WHERE id = 2');

      // Assess
      expect(sent).toEqual({ name: 'big', value: { stringValue: '9007199254740993' }, typeHint: 'DECIMAL' });
      expect(double.requests.at(-1)?.resultSetOptions).toEqual({ longReturnType: 'STRING' });
      expect(asText).toEqual([{ big: '9007199254740993' }]);
      expect(viaJson).toEqual([{ big: BEYOND_2_53 }]);
      expect(viaTyped).toEqual([{ big: BEYOND_2_53 }]);
    });

    it('sends only the parameters the statement uses, with result metadata and the schema', async () => {
      // Act
      await sql.query('SELECT :a::int4 AS a, :a::int4 + 1 AS b', { a: 1, unused: 'x' });

      // Assess
      expect(double.requests).toEqual([
        expect.objectContaining({
          ...DATA_API_DOUBLE_TARGET,
          schema: 'data_api_test',
          includeResultMetadata: true,
          parameters: [{ name: 'a', value: { longValue: 1 } }],
        }),
      ]);
      expect(double.requests[0]).not.toHaveProperty('transactionId');
      expect(double.requests[0]).not.toHaveProperty('formatRecordsAs');
    });

    it('refuses a missing parameter before calling the service', async () => {
      // Act
      const outcome = sql.query('SELECT :present::int AS a, :absent::int AS b', { present: 1 });

      // Assess
      await expect(outcome).rejects.toSatisfy(
        (e) => e instanceof DatabaseConfigurationError && /:absent/.test((e as Error).message),
      );
      expect(double.requests).toEqual([]);
    });

    it('binds a plain string as varchar, so a date column needs sqlParam.date (as on AWS)', async () => {
      // Act
      const untyped = sql.query('INSERT INTO typed (id, day) VALUES (:id, :day)', {
        id: 3,
        day: '2024-01-01',
      });

      // Assess
      await expect(untyped).rejects.toSatisfy((e) => e instanceof QueryError && e.sqlState === '42804');
      await expect(
        sql.query('INSERT INTO typed (id, day) VALUES (:id, :day)', {
          id: 3,
          day: sqlParam.date('2024-01-01'),
        }),
      ).resolves.toMatchObject({ rowsAffected: 1 });
    });

    it('reads bytea as a Buffer and refuses arrays, suggesting array_to_json', async () => {
      // Act
      const { rows } = await sql.query(`SELECT '\\x01ff'::bytea AS bytes`);
      const arrays = sql.query('SELECT ARRAY[1, 2] AS list');

      // Assess
      expect(rows).toEqual([{ bytes: Buffer.from([1, 255]) }]);
      await expect(arrays).rejects.toSatisfy(
        (e) => e instanceof DatabaseConfigurationError && /array_to_json/.test((e as Error).message),
      );
    });

    it('refuses a longValue that lost precision in transit instead of returning a rounded number', async () => {
      // Prepare
      const crafted = 'SELECT 9007199254740993::int8 AS big -- crafted';
      double.rdsMock.on(ExecuteStatementCommand, { sql: crafted }).resolvesOnce({
        records: [[{ longValue: 9007199254740992 }]],
        columnMetadata: [{ name: 'big', typeName: 'int8' }],
      });

      // Act
      const outcome = sql.query(crafted);

      // Assess
      await expect(outcome).rejects.toSatisfy(
        (e) =>
          e instanceof QueryError &&
          /precision/.test((e as Error).message) &&
          /::text/.test((e as Error).message),
      );
    });
  });

  describe('JSON records', () => {
    it('decode to the same rows as typed records', async () => {
      // Prepare
      await sql.query(
        `INSERT INTO typed (id, big, amount, day, moment, instant, ref, flag, ratio, note)
         VALUES (10, -9007199254740991, '-0.000000000000000001', '1999-12-31', '2000-01-01 00:00:00.5',
                 '2000-01-01 01:00:00+01', gen_random_uuid(), false, -1.5e-7, '"quoted" \\ text'),
                (11, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
      );
      const query =
        'SELECT id, big, amount, day, moment, instant, ref, flag, ratio, note, blank FROM typed WHERE id >= 10';

      // Act
      const typed = await sql.query(`${query} ORDER BY id`);
      const json = await jsonSql.query(`${query} ORDER BY id`);

      // Assess
      expect(double.requests.at(-1)).toMatchObject({ formatRecordsAs: 'JSON' });
      expect(json.rows).toEqual(typed.rows);
      expect(typed.rows[0]).toMatchObject({
        big: -9007199254740991,
        instant: '2000-01-01 00:00:00',
        ratio: -1.5e-7,
      });
    });

    it('leave json columns as text, since the service sends JSON records without column metadata', async () => {
      // Act
      const { rows } = await jsonSql.query(`SELECT '{"a": 1}'::jsonb AS doc`);

      // Assess
      expect(rows).toEqual([{ doc: '{"a": 1}' }]);
    });

    it('are read by column type when the response carries column metadata', () => {
      // Act
      const rows = decodeDataApiRecords({
        formattedRecords:
          '[{"n":12.50,"big":9007199254740993,"doc":"{\\"a\\":[1,2]}","at":"2024-01-02 03:04:05+02"}]',
        columnMetadata: [
          { name: 'n', typeName: 'numeric' },
          { name: 'big', typeName: 'int8' },
          { name: 'doc', typeName: 'jsonb' },
          { name: 'at', typeName: 'timestamptz' },
        ],
      });

      // Assess
      expect(rows).toEqual([{ n: '12.50', big: BEYOND_2_53, doc: { a: [1, 2] }, at: '2024-01-02 01:04:05' }]);
    });
  });

  describe('transactions', () => {
    it('begins, runs statements in the transaction and commits', async () => {
      // Act
      const count = await sql.transaction(async (tx) => {
        await tx.query(`INSERT INTO typed (id, note) VALUES (20, 'committed')`);
        const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM typed WHERE id = 20');
        return rows[0]?.n;
      });

      // Assess
      const transactionId = double.requests[0]?.transactionId;
      expect(count).toBe(1);
      expect(transactionId).toEqual(expect.any(String));
      expect(double.requests.every((r) => r.transactionId === transactionId)).toBe(true);
      expect(double.rdsMock).toHaveReceivedCommandTimes(BeginTransactionCommand, 1);
      expect(double.rdsMock).toHaveReceivedCommandWith(CommitTransactionCommand, { transactionId });
      expect(double.rdsMock).not.toHaveReceivedCommand(RollbackTransactionCommand);
      await expect(sql.query('SELECT note FROM typed WHERE id = 20')).resolves.toMatchObject({
        rows: [{ note: 'committed' }],
      });
    });

    it('rolls back when the work throws, leaves nothing behind and rethrows the same error', async () => {
      // Prepare
      const failure = new Error('chunk failed half-way');

      // Act
      const outcome = sql.transaction(async (tx) => {
        await tx.query(`INSERT INTO typed (id, note) VALUES (21, 'never')`);
        throw failure;
      });

      // Assess
      await expect(outcome).rejects.toBe(failure);
      const transactionId = double.requests[0]?.transactionId;
      expect(double.rdsMock).toHaveReceivedCommandTimes(BeginTransactionCommand, 1);
      expect(double.rdsMock).toHaveReceivedCommandWith(RollbackTransactionCommand, { transactionId });
      expect(double.rdsMock).not.toHaveReceivedCommand(CommitTransactionCommand);
      await expect(sql.query('SELECT id FROM typed WHERE id = 21')).resolves.toMatchObject({ rows: [] });
    });

    it('ignores a failing rollback (transaction already gone) and rethrows the caller error', async () => {
      // Prepare
      const failure = new Error('worker gave up');

      // Act
      const outcome = sql.transaction(async (tx) => {
        await tx.query('SELECT 1');
        // The service expires the transaction behind the adapter's back.
        const transactionId = double.requests.at(-1)?.transactionId;
        await double.client.send(
          new RollbackTransactionCommand({ ...DATA_API_DOUBLE_TARGET, transactionId }),
        );
        throw failure;
      });

      // Assess
      await expect(outcome).rejects.toBe(failure);
      expect(double.rdsMock).toHaveReceivedCommandTimes(RollbackTransactionCommand, 2);
    });

    it('reports a commit of an expired transaction as a retryable TransactionExpiredError', async () => {
      // Act
      const outcome = sql.transaction(async (tx) => {
        await tx.query(`INSERT INTO typed (id, note) VALUES (22, 'expired')`);
        const transactionId = double.requests.at(-1)?.transactionId;
        await double.client.send(
          new RollbackTransactionCommand({ ...DATA_API_DOUBLE_TARGET, transactionId }),
        );
      });

      // Assess
      await expect(outcome).rejects.toSatisfy((e) => e instanceof TransactionExpiredError && e.retryable);
      await expect(sql.query('SELECT id FROM typed WHERE id = 22')).resolves.toMatchObject({ rows: [] });
    });
  });

  describe('errors', () => {
    it.each([
      ['StatementTimeoutException', 'Request timed out', StatementTimeoutError, true, undefined],
      ['DatabaseResumingException', 'The database is resuming', DatabaseResumingError, true, undefined],
      ['ThrottlingException', 'Rate exceeded', ThrottlingError, true, undefined],
      [
        'TransactionNotFoundException',
        'Transaction abc is not found',
        TransactionExpiredError,
        true,
        undefined,
      ],
      [
        'AccessDeniedException',
        'not authorized to perform rds-data:ExecuteStatement',
        DatabaseAccessDeniedError,
        false,
        undefined,
      ],
      [
        'BadRequestException',
        'ERROR: deadlock detected\n  Detail: Process 1 waits for ShareLock; SQLState: 40P01',
        ConcurrencyConflictError,
        true,
        '40P01',
      ],
      [
        'BadRequestException',
        'ERROR: relation "nope" does not exist; SQLState: 42P01',
        QueryError,
        false,
        '42P01',
      ],
      [
        'BadRequestException',
        'Database returned more than the allowed response size limit',
        ResponseTooLargeError,
        false,
        undefined,
      ],
    ] as const)('classifies %s (%s)', async (errorName, message, ErrorClass, retryable, sqlState) => {
      // Prepare
      double.failNext(errorName, message);

      // Act
      const outcome = sql.query('SELECT 1');

      // Assess
      await expect(outcome).rejects.toSatisfy(
        (e) =>
          e instanceof ErrorClass &&
          e instanceof SqlClientError &&
          e.name === ErrorClass.name &&
          e.retryable === retryable &&
          e.sqlState === sqlState &&
          e.adapter === 'data-api' &&
          (e.cause as Error).name === errorName,
      );
    });

    it('classifies what the database reports through the service by its SQLSTATE', async () => {
      // Act
      const missing = sql.query('SELECT * FROM no_such_table');

      // Assess
      await expect(missing).rejects.toSatisfy(
        (e) =>
          e instanceof QueryError &&
          e.sqlState === '42P01' &&
          !e.retryable &&
          /no_such_table/.test((e as Error).message),
      );
    });

    it('treats HTTP 429 as throttling and anything unknown as a QueryError, keeping the cause', () => {
      // Prepare
      const tooMany = Object.assign(new Error('slow down'), {
        name: 'Whatever',
        $metadata: { httpStatusCode: 429 },
      });
      const odd = Object.assign(new Error('odd'), { name: 'UnsupportedResultException' });

      // Act
      const [throttled, unknown] = [fromDataApiError(tooMany), fromDataApiError(odd)];

      // Assess
      expect(throttled).toBeInstanceOf(ThrottlingError);
      expect(throttled.cause).toBe(tooMany);
      expect(unknown).toBeInstanceOf(QueryError);
      expect(unknown.cause).toBe(odd);
    });
  });

  describe('response size', () => {
    it('reads a 6 MiB result in pages that each fit the 1 MiB limit, every row in order', async () => {
      // Act
      const ids: number[] = [];
      let intact = true;
      for await (const page of sql.readPages<{ id: number; body: string }>({
        sql: 'SELECT id, body FROM wide',
        key: 'id',
        pageSize: 5000,
      })) {
        for (const row of page) {
          ids.push(row.id);
          intact &&= row.body.length === 2048;
        }
      }

      // Assess
      expect(ids).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
      expect(intact).toBe(true);
      expect(double.responseSizes.every((size) => size <= 1024 * 1024)).toBe(true);
      expect(double.requests.length).toBeGreaterThan(3);
      // Some requests were refused as too large before the adapter halved its pages.
      expect(double.requests.length).toBeGreaterThan(double.responseSizes.length);
    });
  });
});

describe('DataApiSqlClient options', () => {
  const valid = { client: { send: async () => ({}) } as never, ...DATA_API_DOUBLE_TARGET };

  it.each([
    ['resourceArn', { resourceArn: 'demo-cluster' }],
    ['resourceArn', { resourceArn: 'arn:aws:rds:us-east-1:123456789012:db:demo' }],
    ['secretArn', { secretArn: 'arn:aws:rds:us-east-1:123456789012:cluster:demo' }],
    ['database', { database: '' }],
    ['client', { client: {} as never }],
  ])('refuses a bad %s, naming it', (field, override) => {
    // Act
    const attempt = () => new DataApiSqlClient({ ...valid, ...override });

    // Assess
    expect(attempt).toThrow(DatabaseConfigurationError);
    expect(attempt).toThrow(field);
  });

  it('accepts ARNs of other partitions', () => {
    // Act
    const attempt = () =>
      new DataApiSqlClient({
        ...valid,
        resourceArn: 'arn:aws-us-gov:rds:us-gov-west-1:123456789012:cluster:demo',
        secretArn: 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:demo/db-AbCdEf',
      });

    // Assess
    expect(attempt).not.toThrow();
  });
});
