import { randomBytes } from 'node:crypto';
import {
  BadRequestException,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type ExecuteStatementResponse,
  type Field,
  RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
  TransactionNotFoundException,
} from '@aws-sdk/client-rds-data';
import { PGlite } from '@electric-sql/pglite';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { DataApiSqlClient } from '../../lib/core/sql/data-api-client.ts';
import { isPostgresServerError } from '../../lib/core/sql/errors.ts';
import { toPositional } from '../../lib/core/sql/sql-text.ts';

/**
 * A stand-in for the RDS Data API: each request runs on a real in-memory PostgreSQL (PGlite) and is
 * answered in the service's shape, with its quirks:
 * - Parameters are bound with the type their field implies, as the service's JDBC driver does:
 *   stringValue is varchar (so a plain string into a date column fails as it does on AWS; use a type
 *   hint), longValue int8, doubleValue float8, booleanValue bool, a type hint its type, isNull untyped.
 * - longValue in responses is a JS number (the SDK's JSON.parse rounds int8 beyond 2^53); JSON records
 *   carry the exact digits and, as AWS documents, no column metadata; json/jsonb come back as text.
 * - timestamptz is sent in UTC without an offset; responses over `maxResponseBytes` fail as on AWS.
 * - The request's `schema` field is ignored (AWS: "isn't supported"); the double's `schema` option
 *   plays the part of the database user's search_path.
 * PGlite has one connection, so one transaction is open at a time: a statement outside it (or a second
 * BeginTransaction) waits until it commits or rolls back.
 */

export const DATA_API_DOUBLE_TARGET = {
  resourceArn: 'arn:aws:rds:us-east-1:123456789012:cluster:demo',
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:demo-AbCdEf',
  database: 'nukeworks',
} as const;

export interface DataApiDouble {
  rdsMock: AwsClientStub<RDSDataClient>;
  client: RDSDataClient;
  sqlClient: DataApiSqlClient;
  /** Bytes of each ExecuteStatement response the double sent. */
  responseSizes: number[];
  requests: ExecuteStatementCommandInput[];
  db: PGlite;
  /** The next ExecuteStatement throws an AWS-like error of that name. */
  failNext(errorName: string, message?: string): void;
  close(): Promise<void>;
}

/** Type OIDs the double binds parameters as: what the service's JDBC driver sends for each field. */
const BIND = { bool: 16, bytea: 17, int8: 20, float8: 701, varchar: 1043 } as const;
const HINT_TYPES: Record<NonNullable<SqlParameter['typeHint']>, number> = {
  DATE: 1082,
  TIME: 1083,
  TIMESTAMP: 1114,
  DECIMAL: 1700,
  JSON: 114,
  UUID: 2950,
};
/** Types PGlite would parse (bool, ints, floats, numeric, json, dates): the double wants their text. */
const PARSED_BY_PGLITE = [16, 20, 21, 23, 26, 114, 700, 701, 1082, 1083, 1114, 1184, 1700, 3802];

const INTEGERS = new Set(['int2', 'int4', 'int8', 'oid']);
const FLOATS = new Set(['float4', 'float8']);
const raw = (text: string) => text;
const RAW_PARSERS = Object.fromEntries(PARSED_BY_PGLITE.map((oid) => [oid, raw]));
const RAW_SERIALIZERS = Object.fromEntries(
  [...Object.values(BIND), ...Object.values(HINT_TYPES)].map((o) => [o, raw]),
);

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

const badRequest = (message: string) =>
  new BadRequestException({ message, $metadata: { httpStatusCode: 400 } });
const transactionNotFound = (id: string | undefined) =>
  new TransactionNotFoundException({
    message: `Transaction ${id} is not found`,
    $metadata: { httpStatusCode: 404 },
  });

function fromPostgres(error: unknown): unknown {
  if (!isPostgresServerError(error)) return error;
  const { message, code } = error as { message: string; code: string };
  return badRequest(`ERROR: ${message}; SQLState: ${code}`);
}

function bind(parameter: SqlParameter): { value: string | null; type: number } {
  const field = parameter.value ?? { isNull: true };
  if (field.isNull) return { value: null, type: 0 };
  if (field.stringValue !== undefined) {
    return {
      value: field.stringValue,
      type: parameter.typeHint ? HINT_TYPES[parameter.typeHint] : BIND.varchar,
    };
  }
  if (field.longValue !== undefined) return { value: String(field.longValue), type: BIND.int8 };
  if (field.doubleValue !== undefined) return { value: String(field.doubleValue), type: BIND.float8 };
  if (field.booleanValue !== undefined) return { value: field.booleanValue ? 't' : 'f', type: BIND.bool };
  if (field.blobValue !== undefined) {
    return { value: `\\x${Buffer.from(field.blobValue).toString('hex')}`, type: BIND.bytea };
  }
  throw badRequest(`Unsupported value for parameter ${parameter.name}`);
}

/** PostgreSQL prints timestamptz with +00 in a UTC session; the service sends the bare UTC text. */
const utcText = (text: string, type: string) => (type === 'timestamptz' ? text.replace(/\+00$/, '') : text);

function toField(value: unknown, type: string, longsAsText: boolean): Field {
  if (value === null) return { isNull: true };
  if (value instanceof Uint8Array) return { blobValue: value };
  if (Array.isArray(value)) return { arrayValue: { stringValues: value.map(String) } };
  const text = String(value);
  if (INTEGERS.has(type)) {
    // longReturnType STRING sends the digits; otherwise a JS number, rounded beyond 2^53 as by the real SDK.
    return longsAsText ? { stringValue: text } : { longValue: Number(text) };
  }
  if (FLOATS.has(type)) return { doubleValue: Number(text) };
  if (type === 'bool') return { booleanValue: text === 't' };
  return { stringValue: utcText(text, type) };
}

function toJson(value: unknown, type: string): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (Array.isArray(value)) return JSON.stringify(value);
  const text = String(value);
  if (INTEGERS.has(type) || (FLOATS.has(type) && Number.isFinite(Number(text)))) return text; // exact digits
  if (type === 'bool') return text === 't' ? 'true' : 'false';
  return JSON.stringify(utcText(text, type));
}

const withBase64 = (_key: string, value: unknown) =>
  value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;

export async function createDataApiDouble(
  options: { maxResponseBytes?: number; schema?: string } = {},
): Promise<DataApiDouble> {
  const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  const db = await PGlite.create();
  await db.exec("SET TIME ZONE 'UTC'");
  if (options.schema) {
    const quoted = `"${options.schema.replaceAll('"', '""')}"`;
    await db.exec(`CREATE SCHEMA IF NOT EXISTS ${quoted}; SET search_path TO ${quoted}`);
  }
  const client = new RDSDataClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDDOUBLE', secretAccessKey: 'double' },
  });
  const rdsMock = mockClient(client);
  const responseSizes: number[] = [];
  const requests: ExecuteStatementCommandInput[] = [];
  let nextFailure: Error | undefined;
  let open: { id: string; release: () => void } | undefined;

  // One connection: whoever holds the lock (a statement, or an open transaction) runs alone.
  let tail: Promise<void> = Promise.resolve();
  async function acquire(): Promise<() => void> {
    const previous = tail;
    let release!: () => void;
    tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    return release;
  }

  // The Data API's typeName is PostgreSQL's own type name (int4, timestamptz, jsonb …).
  const typeNames = new Map<number, string>();
  async function typeName(oid: number): Promise<string> {
    let name = typeNames.get(oid);
    if (name === undefined) {
      const { rows } = await db.query<{ name: string }>(
        'SELECT typname AS name FROM pg_type WHERE oid = $1',
        [oid],
      );
      name = rows[0]?.name ?? 'unknown';
      typeNames.set(oid, name);
    }
    return name;
  }

  async function run(input: ExecuteStatementCommandInput): Promise<ExecuteStatementResponse> {
    const { text, names } = toPositional(input.sql ?? '');
    const given = new Map((input.parameters ?? []).map((p) => [p.name, p]));
    const bound = names.map((name) => {
      const parameter = given.get(name);
      if (!parameter) throw badRequest(`No value specified for parameter: ${name}`);
      return bind(parameter);
    });
    let result: Awaited<ReturnType<typeof db.query<unknown[]>>>;
    try {
      result = await db.query<unknown[]>(
        text,
        bound.map((b) => b.value),
        {
          rowMode: 'array',
          paramTypes: bound.map((b) => b.type),
          parsers: RAW_PARSERS,
          serializers: RAW_SERIALIZERS,
        },
      );
    } catch (error) {
      throw fromPostgres(error);
    }
    const types = await Promise.all(result.fields.map((f) => typeName(f.dataTypeID)));
    const dml = ['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(result.command ?? '');
    const response: ExecuteStatementResponse = {
      numberOfRecordsUpdated: dml ? (result.affectedRows ?? 0) : 0,
    };
    if (input.formatRecordsAs === 'JSON' && result.command === 'SELECT') {
      // Only SELECTs are formatted; the service ignores the option for other statements.
      const objects = result.rows.map(
        (row) =>
          `{${row.map((v, i) => `${JSON.stringify(result.fields[i]?.name)}:${toJson(v, types[i] ?? '')}`).join(',')}}`,
      );
      response.formattedRecords = `[${objects.join(',')}]`;
    } else if (result.fields.length > 0) {
      response.records = result.rows.map((row) =>
        row.map((v, i) => toField(v, types[i] ?? '', input.resultSetOptions?.longReturnType === 'STRING')),
      );
      if (input.includeResultMetadata) {
        response.columnMetadata = result.fields.map((f, i) => ({
          name: f.name,
          label: f.name,
          typeName: types[i],
        }));
      }
    }
    const size = Buffer.byteLength(JSON.stringify(response, withBase64));
    if (size > maxResponseBytes) {
      throw badRequest('Database returned more than the allowed response size limit');
    }
    responseSizes.push(size);
    return response;
  }

  rdsMock.on(ExecuteStatementCommand).callsFake(async (input: ExecuteStatementCommandInput) => {
    requests.push(input);
    const failure = nextFailure;
    nextFailure = undefined;
    if (failure) throw failure;
    if (input.transactionId) {
      if (open?.id !== input.transactionId) throw transactionNotFound(input.transactionId);
      return run(input);
    }
    const release = await acquire();
    try {
      return await run(input);
    } finally {
      release();
    }
  });

  rdsMock.on(BeginTransactionCommand).callsFake(async () => {
    const release = await acquire();
    try {
      await db.exec('BEGIN');
    } catch (error) {
      release();
      throw fromPostgres(error);
    }
    open = { id: randomBytes(48).toString('base64'), release };
    return { transactionId: open.id };
  });

  async function end(transactionId: string | undefined, command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    const transaction = open;
    if (!transaction || transaction.id !== transactionId) throw transactionNotFound(transactionId);
    open = undefined;
    try {
      await db.exec(command); // a failed COMMIT ends the transaction too
    } catch (error) {
      throw fromPostgres(error);
    } finally {
      transaction.release();
    }
  }
  rdsMock.on(CommitTransactionCommand).callsFake(async (input: { transactionId?: string }) => {
    await end(input.transactionId, 'COMMIT');
    return { transactionStatus: 'Transaction Committed' };
  });
  rdsMock.on(RollbackTransactionCommand).callsFake(async (input: { transactionId?: string }) => {
    await end(input.transactionId, 'ROLLBACK');
    return { transactionStatus: 'Rollback Complete' };
  });

  const sqlClient = new DataApiSqlClient({
    client,
    ...DATA_API_DOUBLE_TARGET,
    ...(options.schema ? { schema: options.schema } : {}),
  });

  return {
    rdsMock,
    client,
    sqlClient,
    responseSizes,
    requests,
    db,
    failNext(errorName, message) {
      nextFailure = awsError(errorName, message ?? `${errorName} (injected by the test double)`);
    },
    async close() {
      await sqlClient.close();
      rdsMock.restore();
      if (!db.closed) await db.close();
    },
  };
}
