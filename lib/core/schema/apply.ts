import type { SqlClient, SqlSession } from '../sql/types.ts';
import { inspectSchema } from './introspect.ts';
import { LEGACY_TABLES, type LegacySchemaOptions, legacySchemaSql } from './legacy.sql.ts';
import { UNIFIED_SCHEMA_SQL, UNIFIED_TABLES } from './unified.sql.ts';

export type ApplySchemaOptions = LegacySchemaOptions;

/**
 * Creates whatever of the legacy and unified schemas is missing, in one transaction, so a failure
 * leaves nothing half-created. Existing tables are left exactly as they are.
 */
export async function applySchemas(sql: SqlClient, options: ApplySchemaOptions = {}): Promise<void> {
  await sql.transaction(async (tx) => {
    const inspection = await inspectSchema(tx);
    // A database created with the application's model names keeps them.
    const personnelTitleColumn = options.personnelTitleColumn ?? inspection.personnelTitleColumn ?? undefined;
    await tx.runScript(
      legacySchemaSql({ ...options, ...(personnelTitleColumn ? { personnelTitleColumn } : {}) }),
    );
    await tx.runScript(UNIFIED_SCHEMA_SQL);
  });
}

export interface TableRowCount {
  table: string;
  rows: number;
}

/** Row counts of every legacy and unified table that exists, in one statement. */
export async function countRows(sql: SqlSession): Promise<TableRowCount[]> {
  const inspection = await inspectSchema(sql);
  const present = new Set(inspection.presentTables);
  const tables = [...LEGACY_TABLES, ...UNIFIED_TABLES].filter((t) => present.has(t));
  if (tables.length === 0) return [];
  const { rows } = await sql.query<{ table: string; rows: number }>(
    tables.map((t) => `SELECT '${t}' AS "table", count(*)::int8 AS rows FROM ${t}`).join('\nUNION ALL\n'),
  );
  return tables.map((table) => ({ table, rows: Number(rows.find((r) => r.table === table)?.rows ?? 0) }));
}
