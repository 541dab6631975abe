import { buildLegacyData, resetUnified } from '../lib/bench/data.ts';
import { runBackfillToEnd } from '../lib/core/backfill/index.ts';
import { PgSqlClient } from '../lib/core/sql/pg-client.ts';

const url = 'postgresql://postgres@127.0.0.1:5432/postgres';
const admin = new PgSqlClient({ url, maxConnections: 1 });
await admin.query('DROP SCHEMA IF EXISTS exp CASCADE');
await admin.query('CREATE SCHEMA exp');
await admin.close();
const sql = new PgSqlClient({ url, schema: 'exp', maxConnections: 2 });
const scale = Number(process.argv[2] ?? 0.05);
await buildLegacyData(sql, scale);
await sql.query('VACUUM ANALYZE');
for (const chunkSize of [2000, 10000]) {
  await resetUnified(sql);
  const times: string[] = [];
  for (const step of ['companies', 'personnel', 'projects'] as const) {
    const t = performance.now();
    const r = await runBackfillToEnd(sql, step, { chunkSize });
    times.push(`${step} ${(performance.now() - t).toFixed(0)}ms/${r.chunks}ch`);
  }
  console.log(chunkSize, times.join('  '));
}
await sql.close();
