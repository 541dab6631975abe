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

/** SQL true when the distinct-pairs table exists (whether or not its schema does). */
export const DISTINCT_PAIRS_EXIST_SQL = `(to_regclass('${DISTINCT_PAIRS_TABLE}') IS NOT NULL)`;

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
