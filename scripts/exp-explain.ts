import { resetUnified } from '../lib/bench/data.ts';
import { runBackfillToEnd } from '../lib/core/backfill/index.ts';
import { PgSqlClient } from '../lib/core/sql/pg-client.ts';

const url = 'postgresql://postgres@127.0.0.1:5432/postgres';
const sql = new PgSqlClient({ url, schema: 'exp', maxConnections: 2 });
await resetUnified(sql);
await runBackfillToEnd(sql, 'companies', {});
const marker = process.argv[2] ?? 'person_company_affiliations AS t';
let done = false;
const wrap = (original: any) => async (text: string, params?: any) => {
  if (!done && text.includes(marker)) {
    done = true;
    const r = await original(`EXPLAIN (ANALYZE, FORMAT TEXT) ${text}`, params);
    console.log(r.rows.map((x: any) => x['QUERY PLAN']).join('\n'));
  }
  return original(text, params);
};
const tx0 = sql.transaction.bind(sql);
(sql as any).transaction = (work: any) =>
  tx0((tx: any) => {
    tx.query = wrap(tx.query.bind(tx));
    return work(tx);
  });
await runBackfillToEnd(sql, (process.argv[3] as any) ?? 'personnel', { chunkSize: 10000 });
await sql.close();
