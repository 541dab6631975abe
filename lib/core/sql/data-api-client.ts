import {
  BeginTransactionCommand,
  type ColumnMetadata,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type Field,
  type RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import * as z from 'zod';
import { AdapterBase, type StatementResult } from './adapter-base.ts';
import {
  DatabaseAccessDeniedError,
  DatabaseConfigurationError,
  DatabaseConnectionError,
  DatabaseResumingError,
  errorClassForSqlState,
  QueryError,
  ResponseTooLargeError,
  SqlClientError,
  StatementTimeoutError,
  ThrottlingError,
  TransactionExpiredError,
} from './errors.ts';
import { parameterNames } from './sql-text.ts';
import { isTypedSqlParam, type SqlParam, type SqlParams, type SqlRow, type SqlTypeHint } from './types.ts';
import { formatUtc, readInt8, readTimestamp } from './values.ts';

const adapter = 'data-api' as const;

/** The Data API answers at most 1 MiB per ExecuteStatement. */
export const DATA_API_RESPONSE_LIMIT = 1024 * 1024;

export interface DataApiClientOptions {
  /** Created once by the caller (one per Lambda container) and shared; `close()` leaves it open. */
  client: RDSDataClient;
  /** The Aurora cluster: arn:aws:rds:<region>:<account>:cluster:<name>. */
  resourceArn: string;
  /** The Secrets Manager secret holding the database credentials. */
  secretArn: string;
  database: string;
  /**
   * Sent as the Data API's `schema` field. AWS documents that field as not supported for PostgreSQL,
   * so unqualified names resolve through the database user's search_path: set it with
   * `ALTER ROLE … SET search_path`, or qualify names, rather than relying on this.
   */
  schema?: string;
  /**
   * 'typed' (default): records as typed fields, with longs asked for as text (`longReturnType: STRING`)
   * so that int8 beyond 2^53 arrives exactly. A longValue that does arrive as a rounded JS number is
   * refused rather than returned.
   * 'json': records as one JSON string (`formatRecordsAs: 'JSON'`); integers are read exactly from the
   * JSON text. AWS documents that JSON records come without column metadata, so values whose reading
   * depends on the column type (json/jsonb) then stay text.
   */
  resultFormat?: 'typed' | 'json';
}

const ARN_PATTERNS = {
  resourceArn: /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:[A-Za-z0-9-]+$/,
  secretArn: /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
};

const optionsSchema = z.object({
  client: z.custom<RDSDataClient>(
    (value) =>
      typeof value === 'object' && value !== null && typeof (value as { send?: unknown }).send === 'function',
    'must be an RDSDataClient',
  ),
  resourceArn: z
    .string()
    .regex(
      ARN_PATTERNS.resourceArn,
      'must be an Aurora cluster ARN (arn:aws:rds:<region>:<account>:cluster:<name>)',
    ),
  secretArn: z
    .string()
    .regex(
      ARN_PATTERNS.secretArn,
      'must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
    ),
  database: z.string().min(1, 'must name the database'),
  schema: z.string().min(1, 'must not be empty').optional(),
  resultFormat: z.enum(['typed', 'json']).optional(),
});

const TYPE_HINTS: Record<SqlTypeHint, NonNullable<SqlParameter['typeHint']>> = {
  date: 'DATE',
  time: 'TIME',
  timestamp: 'TIMESTAMP',
  decimal: 'DECIMAL',
  json: 'JSON',
  uuid: 'UUID',
};

/** One `:name` parameter as the Data API takes it. */
export function dataApiParameter(name: string, value: SqlParam | undefined): SqlParameter {
  if (value === undefined) {
    throw new DatabaseConfigurationError(`the statement uses :${name} but no value was given for it`, {
      adapter,
    });
  }
  if (value === null) return { name, value: { isNull: true } };
  if (typeof value === 'string') return { name, value: { stringValue: value } };
  if (typeof value === 'boolean') return { name, value: { booleanValue: value } };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new DatabaseConfigurationError(`parameter :${name} is not a finite number (${value})`, {
        adapter,
      });
    }
    // An integral number beyond 2^53 is a double already (pass a bigint for exact integers).
    if (Number.isSafeInteger(value)) return { name, value: { longValue: value } };
    return { name, value: { doubleValue: value } };
  }
  if (typeof value === 'bigint') {
    if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      return { name, value: { longValue: Number(value) } };
    }
    // The SDK writes longValue as a JSON number, which would round; PostgreSQL assigns numeric to bigint.
    return { name, value: { stringValue: value.toString() }, typeHint: 'DECIMAL' };
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new DatabaseConfigurationError(`parameter :${name} is an invalid Date`, { adapter });
    }
    return { name, value: { stringValue: formatUtc(value) }, typeHint: 'TIMESTAMP' };
  }
  if (isTypedSqlParam(value)) {
    const typeHint = TYPE_HINTS[value.typeHint];
    if (!typeHint) {
      const message = `parameter :${name} has an unknown type hint (${value.typeHint})`;
      throw new DatabaseConfigurationError(message, { adapter });
    }
    if (value.value === null) return { name, value: { isNull: true } };
    return { name, value: { stringValue: value.value }, typeHint };
  }
  throw new DatabaseConfigurationError(`parameter :${name} has an unsupported type (${typeof value})`, {
    adapter,
  });
}

const INTEGER_TYPES = new Set([
  'int2',
  'int4',
  'int8',
  'smallint',
  'integer',
  'int',
  'bigint',
  'serial',
  'serial2',
  'serial4',
  'serial8',
  'smallserial',
  'bigserial',
  'oid',
]);
const FLOAT_TYPES = new Set(['float4', 'float8', 'real', 'double precision', 'double']);

function normalTypeName(column: ColumnMetadata | undefined): string {
  return (column?.typeName ?? '').replaceAll('"', '').toLowerCase();
}

function columnName(column: ColumnMetadata | undefined, index: number): string {
  return column?.name || column?.label || `?column${index + 1}?`;
}

/** A value the Data API sent as text, read by the column's type. */
function readText(text: string, typeName: string): unknown {
  if (INTEGER_TYPES.has(typeName)) return readInt8(text);
  if (FLOAT_TYPES.has(typeName)) return Number(text);
  if (typeName === 'bool' || typeName === 'boolean') return text === 't' || text === 'true';
  if (typeName === 'timestamp' || typeName === 'timestamptz') return readTimestamp(text);
  if (typeName === 'json' || typeName === 'jsonb') return JSON.parse(text);
  return text; // numeric/decimal (exact), date, time, uuid, text …
}

function lostPrecision(column: string, value: number): QueryError {
  return new QueryError(
    `column "${column}" holds an integer beyond 2^53 that lost precision in transit (the Data API ` +
      `delivered ${value}, a rounded number); select it as text (::text) to read it exactly`,
    { adapter },
  );
}

function decodeField(field: Field, column: ColumnMetadata | undefined, index: number): unknown {
  const name = columnName(column, index);
  if (field.isNull) return null;
  if (field.longValue !== undefined) {
    if (!Number.isSafeInteger(field.longValue)) throw lostPrecision(name, field.longValue);
    return field.longValue;
  }
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.stringValue !== undefined) return readText(field.stringValue, normalTypeName(column));
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue);
  if (field.arrayValue !== undefined) {
    throw new DatabaseConfigurationError(
      `column "${name}" is an array, which this adapter does not read; select array_to_json(…) instead`,
      { adapter },
    );
  }
  throw new QueryError(`column "${name}" came back in a form the adapter does not know`, { adapter });
}

/** A number from JSON records, with the digits the service wrote. */
class JsonNumber {
  constructor(readonly source: string) {}
  read(): number | bigint {
    return /^-?\d+$/.test(this.source) ? readInt8(this.source) : Number(this.source);
  }
}

type JsonReviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

// Node 22 passes the number's source text as `context.source`, so integers past 2^53 stay exact.
const keepNumberSource: JsonReviver = (_key, value, context) =>
  typeof value === 'number' ? new JsonNumber(context?.source ?? String(value)) : value;

function plainJson(value: unknown): unknown {
  if (value instanceof JsonNumber) return value.read();
  if (Array.isArray(value)) return value.map(plainJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainJson(v)]));
  }
  return value;
}

function readJsonValue(value: unknown, typeName: string): unknown {
  if (value instanceof JsonNumber) {
    if (typeName === 'numeric' || typeName === 'decimal') return value.source;
    return value.read();
  }
  if (typeof value === 'string' && (typeName === 'json' || typeName === 'jsonb')) {
    // Sent as its text (or, were the service to embed it, possibly a bare JSON string).
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (typeof value === 'string' && typeName) return readText(value, typeName);
  return plainJson(value);
}

export interface DataApiRecords {
  records?: Field[][] | undefined;
  formattedRecords?: string | undefined;
  columnMetadata?: ColumnMetadata[] | undefined;
}

/** Rows of an ExecuteStatement response, typed or JSON-formatted, as the SqlClient contract reads them. */
export function decodeDataApiRecords(response: DataApiRecords): SqlRow[] {
  const columns = response.columnMetadata ?? [];
  if (response.formattedRecords !== undefined) {
    const parsed = (JSON.parse as (text: string, reviver: JsonReviver) => unknown)(
      response.formattedRecords || '[]',
      keepNumberSource,
    );
    if (!Array.isArray(parsed)) {
      throw new QueryError('the Data API returned JSON records that are not an array', { adapter });
    }
    const typeByName = new Map(columns.map((column, i) => [columnName(column, i), normalTypeName(column)]));
    return parsed.map((record: Record<string, unknown>) => {
      const row: SqlRow = {};
      for (const [key, value] of Object.entries(record)) {
        row[key] = readJsonValue(value, typeByName.get(key) ?? '');
      }
      return row;
    });
  }
  const records = response.records ?? [];
  if (records.length > 0 && columns.length === 0) {
    throw new QueryError('the Data API returned records without column metadata', { adapter });
  }
  return records.map((record) => {
    const row: SqlRow = {};
    record.forEach((field, i) => {
      row[columnName(columns[i], i)] = decodeField(field, columns[i], i);
    });
    return row;
  });
}

interface AwsErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const RESPONSE_TOO_LARGE = /response size limit|exceeded the maximum|larger than/i;

/** Maps an error from the RDS Data API (matched on `name`, as the SDK sets it) to our classes. */
export function fromDataApiError(error: unknown): SqlClientError {
  if (error instanceof SqlClientError) return error;
  const like = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorLike;
  const name = typeof like.name === 'string' ? like.name : 'Error';
  const text = typeof like.message === 'string' && like.message ? like.message : String(error);
  const sqlState = /SQLState:\s*([0-9A-Z]{5})/.exec(text)?.[1];
  const message = `${name}: ${text}`;
  const details = { adapter, sqlState, cause: error };
  switch (name) {
    case 'StatementTimeoutException':
      return new StatementTimeoutError(message, details);
    case 'DatabaseResumingException':
      return new DatabaseResumingError(message, details);
    case 'ThrottlingException':
    case 'TooManyRequestsException':
      return new ThrottlingError(message, details);
    case 'ServiceUnavailableError':
    case 'DatabaseUnavailableException':
    case 'InternalServerErrorException':
    // The service could not read the secret (often Secrets Manager throttling): worth another try.
    case 'SecretsErrorException':
      return new DatabaseConnectionError(message, details);
    case 'TransactionNotFoundException':
      return new TransactionExpiredError(message, details);
    case 'AccessDeniedException':
    case 'ForbiddenException':
    case 'InvalidSecretException':
      return new DatabaseAccessDeniedError(message, details);
    case 'DatabaseNotFoundException':
    case 'HttpEndpointNotEnabledException':
    case 'InvalidResourceStateException':
      return new DatabaseConfigurationError(message, details);
    case 'BadRequestException':
    case 'DatabaseErrorException': {
      if (RESPONSE_TOO_LARGE.test(text)) return new ResponseTooLargeError(message, details);
      // Before TransactionNotFoundException existed, the service reported an expired transaction so.
      if (!sqlState && /transaction .* is not found/i.test(text)) {
        return new TransactionExpiredError(message, details);
      }
      const ErrorType = errorClassForSqlState(sqlState);
      return new ErrorType(message, details);
    }
  }
  if (like.$metadata?.httpStatusCode === 429) return new ThrottlingError(message, details);
  // The SDK's own socket and timeout failures (no response from the service at all).
  if (name === 'TimeoutError' || (typeof like.code === 'string' && /^E[A-Z]{3,}$/.test(like.code))) {
    return new DatabaseConnectionError(message, details);
  }
  return new QueryError(message, details);
}

/** Aurora PostgreSQL through the RDS Data API: HTTPS calls, no connections to manage. */
export class DataApiSqlClient extends AdapterBase<string> {
  readonly adapter = adapter;
  protected override readonly responseByteLimit = DATA_API_RESPONSE_LIMIT;
  private readonly client: RDSDataClient;
  private readonly target: { resourceArn: string; secretArn: string; database: string; schema?: string };
  private readonly resultFormat: 'typed' | 'json';
  private closed = false;

  constructor(options: DataApiClientOptions) {
    super();
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'options';
      throw new DatabaseConfigurationError(`Data API option "${field}" ${issue?.message ?? 'is invalid'}`, {
        adapter,
      });
    }
    const { client, resourceArn, secretArn, database, schema, resultFormat } = parsed.data;
    this.client = client;
    this.target = { resourceArn, secretArn, database, ...(schema ? { schema } : {}) };
    this.resultFormat = resultFormat ?? 'typed';
  }

  protected async execute(sql: string, params: SqlParams, tx: string | undefined): Promise<StatementResult> {
    if (this.closed) throw new DatabaseConfigurationError('the Data API client is closed', { adapter });
    const parameters = parameterNames(sql).map((name) => dataApiParameter(name, params[name]));
    const input: ExecuteStatementCommandInput = {
      ...this.target,
      sql,
      includeResultMetadata: true,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(tx ? { transactionId: tx } : {}),
      ...(this.resultFormat === 'json'
        ? { formatRecordsAs: 'JSON' as const }
        : // Longs as text: the SDK would parse them into JS numbers and round int8 beyond 2^53.
          { resultSetOptions: { longReturnType: 'STRING' as const } }),
    };
    const output = await this.call(() => this.client.send(new ExecuteStatementCommand(input)));
    if (!output) throw new QueryError('the Data API returned no response to ExecuteStatement', { adapter });
    const rows = decodeDataApiRecords(output);
    const payload =
      output.formattedRecords !== undefined
        ? { formattedRecords: output.formattedRecords, columnMetadata: output.columnMetadata }
        : { records: output.records, columnMetadata: output.columnMetadata };
    return {
      rows,
      rowsAffected: output.numberOfRecordsUpdated || rows.length,
      responseBytes: Buffer.byteLength(JSON.stringify(payload)),
    };
  }

  protected async inTransaction<T>(work: (tx: string) => Promise<T>): Promise<T> {
    if (this.closed) throw new DatabaseConfigurationError('the Data API client is closed', { adapter });
    const { resourceArn, secretArn } = this.target;
    const begun = await this.call(() => this.client.send(new BeginTransactionCommand(this.target)));
    const transactionId = begun.transactionId;
    if (!transactionId) {
      throw new DatabaseConnectionError('BeginTransaction returned no transaction id', { adapter });
    }
    let result: T;
    try {
      result = await work(transactionId);
    } catch (error) {
      await this.rollbackQuietly(transactionId);
      // The caller's own error comes back unchanged; Data API errors were classified where they arose.
      throw error;
    }
    try {
      await this.call(() =>
        this.client.send(new CommitTransactionCommand({ resourceArn, secretArn, transactionId })),
      );
    } catch (error) {
      // A failed commit (deferred constraint, serialization failure) must not leave the transaction open.
      await this.rollbackQuietly(transactionId);
      throw error;
    }
    return result;
  }

  private async rollbackQuietly(transactionId: string): Promise<void> {
    const { resourceArn, secretArn } = this.target;
    try {
      await this.client.send(new RollbackTransactionCommand({ resourceArn, secretArn, transactionId }));
    } catch {
      // Already gone (expired, or ended by the failure itself): the service has rolled it back.
    }
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw fromDataApiError(error);
    }
  }

  /** The RDSDataClient belongs to the caller (shared across invocations), so it stays open. */
  async close(): Promise<void> {
    this.closed = true;
  }
}
