import { ResponseTooLargeError } from './errors.ts';
import { splitStatements } from './sql-text.ts';
import type {
  PagedReadRequest,
  QueryResult,
  SqlAdapterKind,
  SqlClient,
  SqlParams,
  SqlRow,
  SqlSession,
} from './types.ts';

export interface StatementResult extends QueryResult<SqlRow> {
  /** Size of the response on the wire, for adapters with a response-size limit. */
  responseBytes?: number;
}

/** What an adapter provides; everything else (scripts, paging, counting) is shared. */
export abstract class AdapterBase<Tx> implements SqlClient {
  abstract readonly adapter: SqlAdapterKind;
  /** Adapters with a response limit (the Data API's 1 MiB) size their pages to stay under it. */
  protected readonly responseByteLimit: number | undefined = undefined;
  private issued = 0;

  get statementsIssued(): number {
    return this.issued;
  }

  /** Runs one statement, inside `tx` when given. */
  protected abstract execute(sql: string, params: SqlParams, tx: Tx | undefined): Promise<StatementResult>;
  /** Runs `work` inside a database transaction, committing or rolling back. */
  protected abstract inTransaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  abstract close(): Promise<void>;

  private async run(
    sql: string,
    params: SqlParams | undefined,
    tx: Tx | undefined,
  ): Promise<StatementResult> {
    this.issued++;
    return this.execute(sql, params ?? {}, tx);
  }

  query<Row extends object = SqlRow>(sql: string, params?: SqlParams): Promise<QueryResult<Row>> {
    return this.run(sql, params, undefined) as Promise<QueryResult<Row>>;
  }

  runScript(script: string): Promise<number> {
    return this.runScriptIn(script, undefined);
  }

  readPages<Row extends object = SqlRow>(request: PagedReadRequest): AsyncGenerator<Row[], void, undefined> {
    return this.readPagesIn<Row>(request, undefined);
  }

  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T> {
    return this.inTransaction((tx) => {
      const session: SqlSession = {
        query: <Row extends object = SqlRow>(sql: string, params?: SqlParams) =>
          this.run(sql, params, tx) as Promise<QueryResult<Row>>,
        runScript: (script) => this.runScriptIn(script, tx),
        readPages: <Row extends object = SqlRow>(request: PagedReadRequest) =>
          this.readPagesIn<Row>(request, tx),
      };
      return work(session);
    });
  }

  private async runScriptIn(script: string, tx: Tx | undefined): Promise<number> {
    const statements = splitStatements(script);
    for (const statement of statements) await this.run(statement, undefined, tx);
    return statements.length;
  }

  private async *readPagesIn<Row extends object>(
    request: PagedReadRequest,
    tx: Tx | undefined,
  ): AsyncGenerator<Row[], void, undefined> {
    const keys = typeof request.key === 'string' ? [request.key] : [...request.key];
    if (keys.length === 0) throw new Error('readPages needs at least one key column');
    const maxRows = Math.max(1, request.pageSize ?? 1000);
    const quoted = keys.map((k) => `paged."${k.replaceAll('"', '""')}"`);
    const orderBy = quoted.join(', ');
    let limit = maxRows;
    let after: unknown[] | undefined;
    for (;;) {
      const params: Record<string, unknown> = { ...request.params };
      let where = '';
      if (after) {
        after.forEach((value, i) => {
          params[`__page_after_${i}`] = value;
        });
        const placeholders = after.map((_, i) => `:__page_after_${i}`).join(', ');
        where = `WHERE (${orderBy}) > (${placeholders})`;
      }
      const sql = `SELECT * FROM (${request.sql}) AS paged ${where} ORDER BY ${orderBy} LIMIT ${limit}`;
      let result: StatementResult;
      try {
        result = await this.run(sql, params as SqlParams, tx);
      } catch (error) {
        // A page that would not fit in one response: halve it and ask again.
        if (error instanceof ResponseTooLargeError && limit > 1) {
          limit = Math.max(1, Math.floor(limit / 2));
          continue;
        }
        throw error;
      }
      const rows = result.rows as Row[];
      if (rows.length > 0) yield rows;
      if (rows.length < limit) return;
      const last = rows.at(-1) as Record<string, unknown>;
      after = keys.map((k) => last[k]);
      if (this.responseByteLimit && result.responseBytes) {
        // Aim at half the limit so that a page of unusually wide rows still fits.
        const bytesPerRow = result.responseBytes / rows.length;
        limit = Math.max(1, Math.min(maxRows, Math.floor(this.responseByteLimit / 2 / bytesPerRow)));
      }
    }
  }
}
