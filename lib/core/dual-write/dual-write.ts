import { requireSchemas } from '../schema/introspect.ts';
import type { PersonnelTitleColumn } from '../schema/legacy.sql.ts';
import type { SqlClient } from '../sql/types.ts';
import {
  DUAL_WRITE_FUNCTIONS,
  DUAL_WRITE_TABLES,
  installDualWriteSql,
  SYNC_ERRORS_TABLE,
  TRIGGER_NAME,
  uninstallDualWriteSql,
} from './dual-write.sql.ts';

export interface DualWriteInstallResult {
  schema: string;
  personnelTitleColumn: PersonnelTitleColumn;
  triggers: number;
  functions: number;
}

/**
 * Installs the dual-write triggers in one transaction. Idempotent: running it again replaces the
 * functions and triggers and keeps the sync-errors table and its rows.
 */
export async function installDualWrite(sql: SqlClient): Promise<DualWriteInstallResult> {
  const schema = await requireSchemas(sql);
  const script = installDualWriteSql(schema.personnelTitleColumn);
  await sql.transaction((tx) => tx.runScript(script));
  return {
    schema: schema.schema,
    personnelTitleColumn: schema.personnelTitleColumn,
    triggers: DUAL_WRITE_TABLES.length,
    functions: DUAL_WRITE_FUNCTIONS.length,
  };
}

export interface DualWriteUninstallOptions {
  /** Keep company_migration_sync_errors (and its rows). */
  keepErrors?: boolean;
}

/** Drops the triggers, functions and (unless kept) the sync-errors table, in one transaction. Idempotent. */
export async function uninstallDualWrite(
  sql: SqlClient,
  options: DualWriteUninstallOptions = {},
): Promise<void> {
  const script = uninstallDualWriteSql(options);
  await sql.transaction((tx) => tx.runScript(script));
}

export interface DualWriteStatus {
  /** Every trigger and function present. */
  installed: boolean;
  /** Some but not all present: a partial install or uninstall, worth reinstalling or uninstalling. */
  partial: boolean;
  triggers: { table: string; present: boolean; enabled: boolean }[];
  functionsPresent: number;
  functionsExpected: number;
  missingFunctions: string[];
  errorsTable: boolean;
  syncErrors: number;
  latestError: {
    errorId: number;
    occurredAt: string;
    legacyTable: string;
    legacyId: number | null;
    operation: string;
    sqlState: string | null;
    message: string;
  } | null;
}

export async function dualWriteStatus(sql: SqlClient): Promise<DualWriteStatus> {
  const { rows: triggerRows } = await sql.query<{ table_name: string; enabled: string }>(
    `SELECT c.relname AS table_name, t.tgenabled::text AS enabled
       FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND t.tgname = :name AND NOT t.tgisinternal`,
    { name: TRIGGER_NAME },
  );
  const { rows: functionRows } = await sql.query<{ proname: string }>(
    `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = current_schema() AND left(p.proname, 18) = 'company_migration_'`,
  );
  const { rows: tableRows } = await sql.query<{ present: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_name = :table) AS present`,
    { table: SYNC_ERRORS_TABLE },
  );
  const byTable = new Map(triggerRows.map((r) => [r.table_name, r.enabled]));
  const triggers = DUAL_WRITE_TABLES.map((table) => {
    const enabled = byTable.get(table);
    return { table, present: enabled !== undefined, enabled: enabled !== undefined && enabled !== 'D' };
  });
  const functionNames = new Set(functionRows.map((r) => r.proname));
  const missingFunctions = DUAL_WRITE_FUNCTIONS.map((f) => f.name).filter((f) => !functionNames.has(f));
  const errorsTable = tableRows[0]?.present === true;

  let syncErrors = 0;
  let latestError: DualWriteStatus['latestError'] = null;
  if (errorsTable) {
    const { rows } = await sql.query<{
      total: number;
      error_id: number | null;
      occurred_at: string | null;
      legacy_table: string | null;
      legacy_id: number | null;
      operation: string | null;
      sql_state: string | null;
      message: string | null;
    }>(
      `SELECT (SELECT count(*) FROM ${SYNC_ERRORS_TABLE})::int8 AS total, e.*
         FROM (SELECT 1) AS one
         LEFT JOIN (SELECT * FROM ${SYNC_ERRORS_TABLE} ORDER BY error_id DESC LIMIT 1) AS e ON true`,
    );
    const row = rows[0];
    syncErrors = Number(row?.total ?? 0);
    if (row && row.error_id !== null) {
      latestError = {
        errorId: Number(row.error_id),
        occurredAt: String(row.occurred_at),
        legacyTable: String(row.legacy_table),
        legacyId: row.legacy_id,
        operation: String(row.operation),
        sqlState: row.sql_state,
        message: String(row.message),
      };
    }
  }
  const presentTriggers = triggers.filter((t) => t.present).length;
  const functionsPresent = DUAL_WRITE_FUNCTIONS.length - missingFunctions.length;
  const installed = presentTriggers === triggers.length && missingFunctions.length === 0 && errorsTable;
  const anything = presentTriggers > 0 || functionsPresent > 0;
  return {
    installed,
    partial: !installed && anything,
    triggers,
    functionsPresent,
    functionsExpected: DUAL_WRITE_FUNCTIONS.length,
    missingFunctions,
    errorsTable,
    syncErrors,
    latestError,
  };
}
