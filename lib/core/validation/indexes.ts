import type { SqlSession } from '../sql/types.ts';

/**
 * Indexes the checks (and the application's dashboard) rely on. The application's own schema may lack
 * them; without them, coverage checks on a production-sized CRM scan whole tables per row.
 */
export const VALIDATION_INDEXES = [
  {
    name: 'company_role_assignments_context_idx',
    table: 'company_role_assignments',
    columns: ['context_type', 'context_id'],
  },
  {
    name: 'person_company_affiliations_person_idx',
    table: 'person_company_affiliations',
    columns: ['person_id', 'company_id'],
  },
] as const;

export interface WantedIndex {
  name: string;
  table: string;
  columns: readonly string[];
}

export interface IndexStatus {
  name: string;
  created: boolean;
}

export function ensureValidationIndexes(
  sql: SqlSession,
  options: { create: boolean },
): Promise<IndexStatus[]> {
  return ensureIndexes(sql, VALIDATION_INDEXES, options);
}

/**
 * Finds, for each needed index, an existing index whose leading columns are the ones needed, and creates
 * the missing ones when `create` is set (idempotent). Reports the index used or created.
 */
export async function ensureIndexes(
  sql: SqlSession,
  wantedIndexes: readonly WantedIndex[],
  { create }: { create: boolean },
): Promise<IndexStatus[]> {
  const { rows } = await sql.query<{ table: string; name: string; columns: string[] }>(
    `SELECT t.relname AS "table", i.relname AS name,
            array_to_json(ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                                  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                                 ORDER BY k.ord)) AS columns
       FROM pg_index ix
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_class i ON i.oid = ix.indexrelid
       JOIN pg_namespace ns ON ns.oid = t.relnamespace
      WHERE ns.nspname = current_schema()
        AND t.relname IN (${wantedIndexes.map((x) => `'${x.table}'`).join(', ')})`,
  );
  const statuses: IndexStatus[] = [];
  for (const wanted of wantedIndexes) {
    const existing = rows.find(
      (r) => r.table === wanted.table && wanted.columns.every((column, i) => r.columns[i] === column),
    );
    if (existing) {
      statuses.push({ name: existing.name, created: false });
    } else if (create) {
      await sql.query(
        `CREATE INDEX IF NOT EXISTS ${wanted.name} ON ${wanted.table} (${wanted.columns.join(', ')})`,
      );
      statuses.push({ name: wanted.name, created: true });
    }
  }
  return statuses;
}
