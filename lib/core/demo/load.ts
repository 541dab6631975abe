/**
 * Loads a demo dataset into empty legacy and unified tables, in one transaction, a few thousand rows
 * per statement (so it is as fast through the Data API as through PGlite), then moves every serial
 * sequence past the ids the dataset brought along.
 */
import { requireSchemas } from '../schema/introspect.ts';
import { LEGACY_TABLES } from '../schema/legacy.sql.ts';
import { UNIFIED_TABLES } from '../schema/unified.sql.ts';
import type { SqlClient, SqlSession, TypedSqlParam } from '../sql/types.ts';
import {
  DEMO_PRIMARY_KEYS,
  DEMO_TITLE_KEY,
  type DemoDataset,
  type DemoRow,
  type DemoTable,
} from './generate.ts';

export interface LoadProgress {
  /** The table being loaded. */
  table: string;
  /** Rows loaded so far, over all tables. */
  loaded: number;
  /** Rows of the whole dataset. */
  total: number;
}

/** The most rows one INSERT carries. */
export const DEMO_LOAD_BATCH_ROWS = 2000;
/** The most JSON characters one INSERT carries, whatever the row count (wide rows make smaller batches). */
export const DEMO_LOAD_BATCH_CHARS = 1_000_000;

/** Legacy tables first (companies, people, projects, then the links), then the unified tables by dependency. */
const LOAD_ORDER: readonly DemoTable[] = [...LEGACY_TABLES, ...UNIFIED_TABLES];

/** Tables whose primary key is a serial column (client_profiles' key is a company id). */
const SERIAL_TABLES: readonly DemoTable[] = LOAD_ORDER.filter((t) => t !== 'client_profiles');

/** The demo never mixes its rows into existing data. */
export class DemoDataRefusedError extends Error {
  constructor(
    message: string,
    readonly tablesWithRows: string[],
  ) {
    super(message);
    this.name = 'DemoDataRefusedError';
  }
}

/**
 * Inserts `dataset` into the session's schema, which must have both schemas and no rows in any of
 * their tables. All or nothing: one transaction.
 */
export async function loadDemoData(
  sql: SqlClient,
  dataset: DemoDataset,
  onProgress?: (p: LoadProgress) => void,
): Promise<void> {
  const unknown = Object.keys(dataset.tables).filter((t) => !(LOAD_ORDER as readonly string[]).includes(t));
  if (unknown.length > 0)
    throw new Error(`demo dataset has rows for unknown table(s): ${unknown.join(', ')}`);
  const tables = LOAD_ORDER.flatMap((table) => {
    const rows = dataset.tables[table];
    return rows && rows.length > 0 ? [{ table, rows }] : [];
  });
  const total = tables.reduce((sum, t) => sum + t.rows.length, 0);

  await sql.transaction(async (tx) => {
    const inspection = await requireSchemas(tx);
    await refuseUnlessEmpty(tx, inspection.schema);
    const titleColumn = inspection.personnelTitleColumn;
    let loaded = 0;
    onProgress?.({ table: tables[0]?.table ?? '', loaded, total });
    for (const { table, rows } of tables) {
      const rename = table === 'personnel_entity_relationships' && titleColumn !== DEMO_TITLE_KEY;
      const columns = columnsOf(rows).map((c) => (rename && c === DEMO_TITLE_KEY ? titleColumn : c));
      for (const batch of batches(rows, rename ? titleColumn : undefined)) {
        await insertBatch(tx, table, columns, batch.json);
        loaded += batch.rows;
        onProgress?.({ table, loaded, total });
      }
    }
    await resetSequences(tx);
  });
}

async function refuseUnlessEmpty(tx: SqlSession, schema: string): Promise<void> {
  const { rows } = await tx.query<{ table: string }>(
    LOAD_ORDER.map((t) => `SELECT '${t}' AS "table" WHERE EXISTS (SELECT 1 FROM ${t})`).join('\nUNION ALL\n'),
  );
  const occupied = rows.map((r) => r.table);
  if (occupied.length === 0) return;
  throw new DemoDataRefusedError(
    `refusing to load demo data: schema "${schema}" already holds rows in ${occupied.join(', ')}; ` +
      'the demo data only goes into empty tables (use a fresh schema or database)',
    occupied,
  );
}

/** Every key any row has, in first-seen order (rows of one table share their keys). */
function columnsOf(rows: readonly DemoRow[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

interface Batch {
  rows: number;
  json: string;
}

function* batches(rows: readonly DemoRow[], titleColumn: string | undefined): Generator<Batch> {
  let parts: string[] = [];
  let chars = 2;
  for (const row of rows) {
    const text = JSON.stringify(titleColumn ? renameTitle(row, titleColumn) : row);
    if (
      parts.length > 0 &&
      (parts.length >= DEMO_LOAD_BATCH_ROWS || chars + text.length + 1 > DEMO_LOAD_BATCH_CHARS)
    ) {
      yield { rows: parts.length, json: `[${parts.join(',')}]` };
      parts = [];
      chars = 2;
    }
    parts.push(text);
    chars += text.length + 1;
  }
  if (parts.length > 0) yield { rows: parts.length, json: `[${parts.join(',')}]` };
}

function renameTitle(row: DemoRow, titleColumn: string): DemoRow {
  const renamed: DemoRow = {};
  for (const [key, value] of Object.entries(row)) renamed[key === DEMO_TITLE_KEY ? titleColumn : key] = value;
  return renamed;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function insertBatch(tx: SqlSession, table: DemoTable, columns: string[], json: string): Promise<void> {
  const list = columns.map(quoteIdent).join(', ');
  // The JSON is built row by row above (to size the batches), so it is passed as it is.
  const rows: TypedSqlParam = { typeHint: 'json', value: json };
  await tx.query(
    `INSERT INTO ${table} (${list}) SELECT ${list} FROM jsonb_populate_recordset(NULL::${table}, :rows::jsonb)`,
    { rows },
  );
}

/** Moves every serial sequence past the largest id, so later inserts without ids do not collide. */
async function resetSequences(tx: SqlSession): Promise<void> {
  await tx.query(
    SERIAL_TABLES.map((table) => {
      const pk = DEMO_PRIMARY_KEYS[table];
      return `SELECT setval(pg_get_serial_sequence('${table}', '${pk}'), coalesce(max(${pk}), 0) + 1, false) FROM ${table}`;
    }).join('\nUNION ALL\n'),
  );
}
