import * as z from 'zod';
import { allOrphanQueries } from '../mapping/orphans.ts';
import { requireSchemas } from '../schema/introspect.ts';
import type { SqlSession } from '../sql/types.ts';

/**
 * `orphans list`: every orphan V6 counts, table by table, with its id, why it is an orphan and the keys
 * it points at. The definitions are the ones the backfill and validation use (lib/core/mapping/orphans.ts),
 * so the counts here are V6's counts. Read-only; one statement whatever the number of tables.
 */

export const orphanRowSchema = z.object({
  id: z.number().int(),
  reason: z.string(),
  /** The keys the row points at, by column name (e.g. project_id, vendor_id). */
  refs: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
});
export type OrphanRow = z.infer<typeof orphanRowSchema>;

export const orphanTableSchema = z.object({
  table: z.string(),
  /** legacy: a link the migration skips (V6 warning); unified: a row pointing at nothing (V6 critical). */
  kind: z.enum(['legacy', 'unified']),
  count: z.number().int().min(0),
  /** By id; the first `limit` when limited. */
  rows: z.array(orphanRowSchema),
  truncated: z.boolean(),
});
export type OrphanTable = z.infer<typeof orphanTableSchema>;

export const orphansListSchema = z.object({
  schema: z.string(),
  /** Rows listed per table; null: all of them. */
  limit: z.number().int().min(0).nullable(),
  legacyLinks: z.number().int().min(0),
  unifiedRows: z.number().int().min(0),
  /** Every table that can hold orphans, also those with none, in a fixed order. */
  tables: z.array(orphanTableSchema),
});
export type OrphansList = z.infer<typeof orphansListSchema>;

export const listOrphansOptionsSchema = z.object({
  /** Rows listed per table (counts are always exact); null lists all. */
  limit: z.number().int().min(0).nullable().default(null),
});
export type ListOrphansOptions = z.input<typeof listOrphansOptionsSchema>;

export async function listOrphans(sql: SqlSession, options: ListOrphansOptions = {}): Promise<OrphansList> {
  const { limit } = listOrphansOptionsSchema.parse(options);
  const inspection = await requireSchemas(sql);
  const queries = allOrphanQueries();
  const limitSql = limit === null ? 'ALL' : ':limit';
  const { rows } = await sql.query<{ table: string; total: number; rows: OrphanRow[] | null }>(
    `WITH ${queries.map((q, i) => `q${i} AS (${q.sql})`).join(',\n')}
     ${queries
       .map(
         (
           q,
           i,
         ) => `SELECT ${i} AS position, '${q.table}' AS "table", (SELECT count(*) FROM q${i})::int8 AS total,
                    (SELECT json_agg(o ORDER BY o.id) FROM (SELECT * FROM q${i} ORDER BY id LIMIT ${limitSql}) AS o) AS rows`,
       )
       .join('\nUNION ALL\n')}
     ORDER BY position`,
    limit === null ? {} : { limit },
  );
  const tables = queries.map((q) => {
    const row = rows.find((r) => r.table === q.table);
    const count = Number(row?.total ?? 0);
    const listed = (row?.rows ?? []).map((r) => orphanRowSchema.parse(r));
    return { table: q.table, kind: q.kind, count, rows: listed, truncated: listed.length < count };
  });
  const sum = (kind: OrphanTable['kind']) =>
    tables.filter((t) => t.kind === kind).reduce((total, t) => total + t.count, 0);
  return orphansListSchema.parse({
    schema: inspection.schema,
    limit,
    legacyLinks: sum('legacy'),
    unifiedRows: sum('unified'),
    tables,
  });
}
