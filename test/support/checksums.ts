import { LEGACY_TABLES } from '../../lib/core/schema/legacy.sql.ts';
import { UNIFIED_TABLES } from '../../lib/core/schema/unified.sql.ts';
import type { SqlSession } from '../../lib/core/sql/types.ts';

/**
 * Checksums for the "nothing lost" promise: every legacy table as a row count and an md5 over its rows
 * (as text, in text order, so no primary key is needed), and the identity of every unified row. A table
 * that does not exist is recorded as absent, so the helper also works on the broken databases of the
 * hostile-input corpus (a dropped table, a missing schema).
 */

export interface TableChecksum {
  rows: number;
  md5: string;
}

export type Checksums = Record<string, TableChecksum | 'absent'>;

async function existingTables(sql: SqlSession, wanted: readonly string[]): Promise<Set<string>> {
  const { rows } = await sql.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_name = ANY (string_to_array(:wanted, ','))`,
    { wanted: wanted.join(',') },
  );
  return new Set(rows.map((r) => r.name));
}

async function tableChecksums(sql: SqlSession, tables: readonly string[]): Promise<Checksums> {
  const present = await existingTables(sql, tables);
  const result: Checksums = Object.fromEntries(tables.map((t) => [t, 'absent' as const]));
  const parts = tables
    .filter((t) => present.has(t))
    .map(
      (t) =>
        `SELECT '${t}' AS t, count(*)::int AS n,
                md5(coalesce(string_agg(x::text, '|' ORDER BY x::text COLLATE "C"), '')) AS h FROM ${t} x`,
    );
  if (parts.length === 0) return result;
  const { rows } = await sql.query<{ t: string; n: number; h: string }>(parts.join('\nUNION ALL\n'));
  for (const row of rows) result[row.t] = { rows: Number(row.n), md5: row.h };
  return result;
}

/** One checksum per legacy table: the migration only ever reads them, so these never change. */
export function legacyChecksums(sql: SqlSession): Promise<Checksums> {
  return tableChecksums(sql, LEGACY_TABLES);
}

/** The same over the unified tables: equal before and after an action that must write nothing. */
export function unifiedChecksums(sql: SqlSession): Promise<Checksums> {
  return tableChecksums(sql, UNIFIED_TABLES);
}

/**
 * Every unified row as text (audit times left out): a run may add and update rows, but a row present
 * before must still be there after (by its key), which `lostUnifiedRows` checks.
 */
export async function unifiedRowKeys(sql: SqlSession): Promise<Record<string, string[]>> {
  const keys: Record<string, string> = {
    companies: 'company_id',
    company_roles: 'role_id',
    company_role_assignments: 'assignment_id',
    client_profiles: 'company_id',
    person_company_affiliations: 'affiliation_id',
  };
  const present = await existingTables(sql, UNIFIED_TABLES);
  const result: Record<string, string[]> = {};
  for (const [table, key] of Object.entries(keys)) {
    if (!present.has(table)) continue;
    const { rows } = await sql.query<{ k: string }>(`SELECT ${key}::text AS k FROM ${table} ORDER BY ${key}`);
    result[table] = rows.map((r) => r.k);
  }
  return result;
}

/** Unified rows (table:key) that were there before and are gone after. */
export function lostUnifiedRows(before: Record<string, string[]>, after: Record<string, string[]>): string[] {
  const lost: string[] = [];
  for (const [table, keys] of Object.entries(before)) {
    const still = new Set(after[table] ?? []);
    for (const key of keys) if (!still.has(key)) lost.push(`${table}:${key}`);
  }
  return lost;
}
