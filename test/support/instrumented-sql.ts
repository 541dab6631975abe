import type { PagedReadRequest, SqlClient, SqlParams, SqlRow, SqlSession } from '../../lib/core/sql/types.ts';

/** A SqlClient that counts statements per transaction and can fail the Nth statement inside one. */
export interface InstrumentedSql extends SqlClient {
  /** Statements each finished or failed transaction sent, in order. */
  readonly transactionSizes: number[];
  /** Make the `statement`-th statement (1-based, counted over all transactions from now) throw. */
  failAt(statement: number, error?: Error): void;
}

export function instrument(inner: SqlClient): InstrumentedSql {
  const transactionSizes: number[] = [];
  let countdown = 0;
  let injected: Error | undefined;
  const maybeFail = () => {
    if (countdown > 0 && --countdown === 0 && injected) {
      const error = injected;
      injected = undefined;
      throw error;
    }
  };
  const wrapSession = (session: SqlSession, onStatement: () => void): SqlSession => ({
    query: <Row extends object = SqlRow>(sql: string, params?: SqlParams) => {
      onStatement();
      maybeFail();
      return session.query<Row>(sql, params);
    },
    runScript: (script: string) => session.runScript(script),
    readPages: <Row extends object = SqlRow>(request: PagedReadRequest) => session.readPages<Row>(request),
  });
  const outside = wrapSession(inner, () => {});
  return {
    adapter: inner.adapter,
    get statementsIssued() {
      return inner.statementsIssued;
    },
    transactionSizes,
    failAt(statement, error = new Error(`injected failure at statement ${statement}`)) {
      countdown = statement;
      injected = error;
    },
    query: outside.query,
    runScript: outside.runScript,
    readPages: outside.readPages,
    async transaction(work) {
      let size = 0;
      try {
        return await inner.transaction((tx) =>
          work(
            wrapSession(tx, () => {
              size++;
            }),
          ),
        );
      } finally {
        transactionSizes.push(size);
      }
    },
    close: () => inner.close(),
  };
}
