import type { SqlSession } from '../sql/types.ts';
import { LEGACY_TABLES, type LegacyTable, type PersonnelTitleColumn } from './legacy.sql.ts';
import { UNIFIED_TABLES, type UnifiedTable } from './unified.sql.ts';

/** A table or column the tools need is not in the database: a setup problem, never a zero. */
export class MissingSchemaError extends Error {
  constructor(
    message: string,
    readonly missing: string[],
  ) {
    super(message);
    this.name = 'MissingSchemaError';
  }
}

export interface SchemaInspection {
  schema: string;
  presentTables: string[];
  missingLegacyTables: LegacyTable[];
  missingUnifiedTables: UnifiedTable[];
  /** null while personnel_entity_relationships is missing. */
  personnelTitleColumn: PersonnelTitleColumn | null;
}

/** What of the two schemas exists in the session's current schema (one statement). */
export async function inspectSchema(sql: SqlSession): Promise<SchemaInspection> {
  const wanted = [...LEGACY_TABLES, ...UNIFIED_TABLES];
  const { rows } = await sql.query<{ schema: string; table_name: string | null; column_name: string | null }>(
    `SELECT current_schema() AS schema, t.table_name, c.column_name
       FROM (SELECT 1) AS one
       LEFT JOIN information_schema.tables t
         ON t.table_schema = current_schema() AND t.table_name = ANY (string_to_array(:wanted, ','))
       LEFT JOIN information_schema.columns c
         ON c.table_schema = t.table_schema AND c.table_name = t.table_name
        AND c.table_name = 'personnel_entity_relationships'
        AND c.column_name IN ('relationship_role', 'role_at_entity')`,
    { wanted: wanted.join(',') },
  );
  const present = new Set(rows.flatMap((r) => (r.table_name ? [r.table_name] : [])));
  const titleColumns = [...new Set(rows.flatMap((r) => (r.column_name ? [r.column_name] : [])))];
  return {
    schema: rows[0]?.schema ?? 'public',
    presentTables: [...present].sort(),
    missingLegacyTables: LEGACY_TABLES.filter((t) => !present.has(t)),
    missingUnifiedTables: UNIFIED_TABLES.filter((t) => !present.has(t)),
    personnelTitleColumn: pickTitleColumn(titleColumns, present.has('personnel_entity_relationships')),
  };
}

function pickTitleColumn(columns: string[], tableExists: boolean): PersonnelTitleColumn | null {
  if (!tableExists) return null;
  if (columns.length === 2) {
    throw new MissingSchemaError(
      'personnel_entity_relationships has both relationship_role and role_at_entity; ' +
        'the migration cannot tell which one holds the title',
      [],
    );
  }
  if (columns[0] === 'relationship_role' || columns[0] === 'role_at_entity') return columns[0];
  throw new MissingSchemaError(
    'personnel_entity_relationships has neither relationship_role nor role_at_entity (the title column)',
    ['personnel_entity_relationships.relationship_role'],
  );
}

/** Fails with the list of missing tables unless both schemas are complete. */
export async function requireSchemas(
  sql: SqlSession,
  which: { legacy?: boolean; unified?: boolean } = { legacy: true, unified: true },
): Promise<SchemaInspection & { personnelTitleColumn: PersonnelTitleColumn }> {
  const inspection = await inspectSchema(sql);
  const missing = [
    ...(which.legacy ? inspection.missingLegacyTables : []),
    ...(which.unified ? inspection.missingUnifiedTables : []),
  ];
  if (missing.length > 0) {
    throw new MissingSchemaError(
      `schema "${inspection.schema}" lacks ${missing.length} table(s): ${missing.join(', ')} ` +
        '(run `company-migration db init` to create them)',
      missing,
    );
  }
  if (which.legacy && !inspection.personnelTitleColumn) {
    throw new MissingSchemaError('personnel_entity_relationships has no title column', []);
  }
  return inspection as SchemaInspection & { personnelTitleColumn: PersonnelTitleColumn };
}
