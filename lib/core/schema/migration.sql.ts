import type { SqlClient, SqlSession } from '../sql/types.ts';

/**
 * Tables the migration itself owns, apart from the application's: the schema `company_migration`,
 * created on first use by the command that needs it (never by `db init`, never by a read). Readers must
 * work without it, so they check for it first (`to_regclass(...) IS NOT NULL`, which never raises).
 *
 * One database can hold several copies of the application's tables in different schemas (a staging
 * copy; every test): company ids mean something only within their schema, so each row names the
 * schema its ids belong to (`data_schema`, the current_schema() of the session that wrote it).
 */
export const MIGRATION_SCHEMA = 'company_migration';

/** Pairs of companies an operator recorded as legitimately distinct despite near-identical names. */
export const DISTINCT_PAIRS_TABLE = `${MIGRATION_SCHEMA}.distinct_company_pairs`;

const DISTINCT_PAIRS_DDL = `
CREATE TABLE IF NOT EXISTS ${DISTINCT_PAIRS_TABLE} (
  data_schema text NOT NULL,
  company_a integer NOT NULL,
  company_b integer NOT NULL,
  -- The names when recorded, for people reading the table after a rename or merge.
  company_a_name text NOT NULL,
  company_b_name text NOT NULL,
  reason text NOT NULL CHECK (btrim(reason) <> ''),
  recorded_by text NOT NULL DEFAULT current_user,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (data_schema, company_a, company_b),
  CHECK (company_a < company_b)
)`;

/**
 * SQL true when the distinct-pairs table exists and this user may read it. Never raises: without the
 * schema, or without USAGE on it (to_regclass would raise then), it is false, and readers carry on as if
 * no pair had been recorded — V5 then warns about those groups, the safe side.
 */
export const DISTINCT_PAIRS_EXIST_SQL = `(CASE
    WHEN NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '${MIGRATION_SCHEMA}') THEN false
    WHEN NOT has_schema_privilege('${MIGRATION_SCHEMA}', 'USAGE') THEN false
    WHEN to_regclass('${DISTINCT_PAIRS_TABLE}') IS NULL THEN false
    ELSE has_table_privilege('${DISTINCT_PAIRS_TABLE}', 'SELECT') END)`;

/**
 * Creates the schema and its tables when missing; idempotent. Concurrent first uses (two operators, or
 * tests sharing a server) would race on CREATE ... IF NOT EXISTS, which is not atomic against another
 * creator, so they queue on a transaction-scoped advisory lock.
 */
export async function ensureMigrationSchema(sql: SqlClient): Promise<void> {
  await sql.transaction(async (tx) => {
    await createMigrationSchema(tx);
  });
}

/** As ensureMigrationSchema, inside a transaction the caller holds. */
export async function createMigrationSchema(tx: SqlSession): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('${MIGRATION_SCHEMA}'))`);
  await tx.query(`CREATE SCHEMA IF NOT EXISTS ${MIGRATION_SCHEMA}`);
  await tx.query(DISTINCT_PAIRS_DDL);
}
