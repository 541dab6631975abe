import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { type LegacyLinkOrphans, legacyLinkOrphans } from '../mapping/orphans.ts';
import { timestampedRunId } from '../pipeline/run-id.ts';
import { requireSchemas } from '../schema/introspect.ts';
import type { SqlClient, SqlParams, SqlSession } from '../sql/types.ts';
import { RemedyRefusedError } from './errors.ts';

/**
 * `orphans archive` and `orphans restore`: the one remedy that writes legacy tables. An archive moves the
 * orphaned legacy link rows (the ones `orphans list` and validation's V6 count) into a table of the
 * migration's own and deletes them from their legacy tables, in one transaction, under an archive run id;
 * a restore of that id puts exactly those rows back, with the same keys and values, so the legacy tables
 * are as they were before the archive.
 *
 * The archive table is its own journal: each row holds the whole legacy row (to_jsonb), where it came
 * from, why it was an orphan, and when it was archived and restored. It lives in the same schema as the
 * legacy tables, so each copy of the application (each test schema) has its own; it is created by the
 * first live archive (the user needs CREATE on the schema then), never by a dry run or a read.
 */

export const ORPHAN_ARCHIVE_TABLE = 'company_migration_orphan_archive';

const ARCHIVE_DDL = `
CREATE TABLE IF NOT EXISTS ${ORPHAN_ARCHIVE_TABLE} (
  archive_id bigserial PRIMARY KEY,
  archive_run_id text NOT NULL,
  legacy_table text NOT NULL,
  legacy_key bigint NOT NULL,
  reason text NOT NULL,
  "row" jsonb NOT NULL,
  archived_by text NOT NULL DEFAULT current_user,
  archived_at timestamptz NOT NULL DEFAULT now(),
  restored_at timestamptz
);
CREATE INDEX IF NOT EXISTS ${ORPHAN_ARCHIVE_TABLE}_run ON ${ORPHAN_ARCHIVE_TABLE} (archive_run_id, legacy_table, legacy_key)`;

/** SQL true when the archive table exists in the session's schema (never raises). */
const ARCHIVE_EXISTS_SQL = `to_regclass(quote_ident(current_schema()) || '.${ORPHAN_ARCHIVE_TABLE}') IS NOT NULL`;

/**
 * Archives and restores of one schema queue on this lock: two operators archiving at once would
 * otherwise both create the table, and two restores of one run would both find its rows pending.
 */
const LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.${ORPHAN_ARCHIVE_TABLE}'))`;

const LINK_TABLES = legacyLinkOrphans();
const GROUPS = ['project-links', 'personnel-links'] as const;

/** What `--kind` accepts: everything, a kind of link, or one legacy link table. */
export const ORPHAN_ARCHIVE_KINDS: readonly string[] = ['all', ...GROUPS, ...LINK_TABLES.map((t) => t.table)];

export const orphanArchiveKindSchema = z
  .string()
  .trim()
  .refine((kind) => ORPHAN_ARCHIVE_KINDS.includes(kind), {
    error: (issue) =>
      `unknown kind ${JSON.stringify(issue.input)}: give one of ${ORPHAN_ARCHIVE_KINDS.join(', ')}`,
  });

/** The link tables the kinds select, in `orphans list` order. */
export function tablesOfKinds(kinds: readonly string[]): LegacyLinkOrphans[] {
  return LINK_TABLES.filter(
    (t) => kinds.includes('all') || kinds.includes(t.group) || kinds.includes(t.table),
  );
}

export const archiveRunIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/,
    'an archive run id is 1 to 80 letters, digits, dots, dashes or underscores (as `orphans archive` printed it)',
  );

const count = z.number().int().min(0);

export const archivedRowSchema = z.object({ id: z.number().int(), reason: z.string() });

export const orphanArchiveTableSchema = z.object({
  table: z.string(),
  group: z.enum(GROUPS),
  /** Rows moved (on a dry run: that would move). */
  count,
  /** By key; the first `limit` when limited. */
  rows: z.array(archivedRowSchema),
  truncated: z.boolean(),
});
export type OrphanArchiveTable = z.infer<typeof orphanArchiveTableSchema>;

export const orphanArchiveResultSchema = z.object({
  kind: z.literal('orphan-archive'),
  schema: z.string(),
  dryRun: z.boolean(),
  /** The id `orphans restore` takes; null on a dry run and when there was nothing to move. */
  archiveRunId: z.string().nullable(),
  archiveTable: z.string(),
  kinds: z.array(z.string()),
  /** Rows listed per table; null: all of them. */
  limit: count.nullable(),
  total: count,
  /** Every selected table, also those without orphans, in `orphans list` order. */
  tables: z.array(orphanArchiveTableSchema),
});
export type OrphanArchiveResult = z.infer<typeof orphanArchiveResultSchema>;

export const archiveOrphansOptionsSchema = z.object({
  kinds: z.array(orphanArchiveKindSchema).min(1).default(['all']),
  dryRun: z.boolean().default(false),
  /** Rows named per table (counts are always exact); null names all. */
  limit: count.nullable().default(50),
  /** Chosen by the caller (tests); else archive-<UTC time>-<4 random hex digits>. */
  archiveRunId: archiveRunIdSchema.optional(),
  now: z.custom<() => Date>((v) => typeof v === 'function').optional(),
});
export type ArchiveOrphansOptions = z.input<typeof archiveOrphansOptionsSchema>;

interface TableCountRow {
  legacy_table: string;
  total: number | string;
  rows: { id: number; reason: string }[] | null;
}

/** Per table: how many rows `source` (legacy_table, legacy_key, reason) holds, and the first `limit`. */
function summarySql(source: string, limit: number | null): string {
  const filter = limit === null ? '' : 'FILTER (WHERE c.position <= :limit)';
  return `SELECT c.legacy_table, count(*)::int8 AS total,
                 json_agg(json_build_object('id', c.legacy_key, 'reason', c.reason) ORDER BY c.legacy_key)
                   ${filter} AS rows
            FROM (SELECT s.legacy_table, s.legacy_key, s.reason,
                         row_number() OVER (PARTITION BY s.legacy_table ORDER BY s.legacy_key) AS position
                    FROM (${source}) AS s) AS c
           GROUP BY c.legacy_table`;
}

/** The orphans of `link` as (legacy_table, legacy_key, reason), read or — `remove` — deleted. */
function orphansOfSql(link: LegacyLinkOrphans, remove: boolean): string {
  const columns = `'${link.table}'::text AS legacy_table, l.${link.keyColumn}::int8 AS legacy_key,
                   ${link.reasonSql('l')} AS reason`;
  // The orphan test is the DELETE's own WHERE clause: a row someone repaired after this statement's
  // snapshot is re-checked on its new version when PostgreSQL waits for its lock, and is then kept.
  return remove
    ? `DELETE FROM ${link.table} l WHERE ${link.isOrphanSql('l')}
       RETURNING ${columns}, to_jsonb(l) AS "row"`
    : `SELECT ${columns} FROM ${link.table} l WHERE ${link.isOrphanSql('l')}`;
}

/**
 * Moves the orphaned legacy links of the chosen kinds into the archive table and deletes them from their
 * tables: one transaction, one statement for the move (each row re-checked as it is deleted). A dry run
 * counts and lists what would move and writes nothing (not even the archive table).
 */
export async function archiveOrphans(
  sql: SqlClient,
  rawOptions: ArchiveOrphansOptions = {},
): Promise<OrphanArchiveResult> {
  const options = archiveOrphansOptionsSchema.parse(rawOptions);
  const inspection = await requireSchemas(sql, { legacy: true });
  const links = tablesOfKinds(options.kinds);
  const params: SqlParams = options.limit === null ? {} : { limit: options.limit };

  const summarize = (rows: TableCountRow[], archiveRunId: string | null) => {
    const tables = links.map((link) => {
      const row = rows.find((r) => r.legacy_table === link.table);
      const listed = (row?.rows ?? []).map((r) => archivedRowSchema.parse(r));
      const moved = Number(row?.total ?? 0);
      return {
        table: link.table,
        group: link.group,
        count: moved,
        rows: listed,
        truncated: listed.length < moved,
      };
    });
    const total = tables.reduce((sum, t) => sum + t.count, 0);
    return orphanArchiveResultSchema.parse({
      kind: 'orphan-archive',
      schema: inspection.schema,
      dryRun: options.dryRun,
      archiveRunId: total > 0 ? archiveRunId : null,
      archiveTable: ORPHAN_ARCHIVE_TABLE,
      kinds: options.kinds,
      limit: options.limit,
      total,
      tables,
    });
  };

  if (options.dryRun) {
    const source = links.map((link) => orphansOfSql(link, false)).join('\nUNION ALL\n');
    const { rows } = await sql.query<TableCountRow>(summarySql(source, options.limit), params);
    return summarize(rows, null);
  }

  const archiveRunId =
    options.archiveRunId ??
    `${timestampedRunId('archive', options.now?.())}-${randomBytes(2).toString('hex')}`;
  return sql.transaction(async (tx) => {
    await tx.query(LOCK_SQL);
    const state = await archiveState(tx, archiveRunId);
    if (!state.exists) await tx.runScript(ARCHIVE_DDL);
    if (state.runRows > 0) {
      throw new RemedyRefusedError(
        `archive run id ${archiveRunId} is already used in schema ${inspection.schema}: choose another`,
      );
    }
    const moves = links.map((link, i) => `moved_${i} AS (${orphansOfSql(link, true)})`);
    const { rows } = await tx.query<TableCountRow>(
      `WITH ${moves.join(',\n')},
       archived AS (
         INSERT INTO ${ORPHAN_ARCHIVE_TABLE} (archive_run_id, legacy_table, legacy_key, reason, "row")
         SELECT :run_id, m.legacy_table, m.legacy_key, m.reason, m."row"
           FROM (${links.map((_, i) => `SELECT * FROM moved_${i}`).join(' UNION ALL ')}) AS m
          ORDER BY m.legacy_table, m.legacy_key
         RETURNING legacy_table, legacy_key, reason)
       ${summarySql('SELECT legacy_table, legacy_key, reason FROM archived', options.limit)}`,
      { ...params, run_id: archiveRunId },
    );
    return summarize(rows, archiveRunId);
  });
}

async function archiveState(sql: SqlSession, archiveRunId: string) {
  const exists =
    (await sql.query<{ exists: boolean }>(`SELECT ${ARCHIVE_EXISTS_SQL} AS "exists"`)).rows[0]?.exists ===
    true;
  if (!exists) return { exists, runRows: 0 };
  const { rows } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${ORPHAN_ARCHIVE_TABLE} WHERE archive_run_id = :run_id`,
    { run_id: archiveRunId },
  );
  return { exists, runRows: Number(rows[0]?.n ?? 0) };
}

export const takenRowSchema = z.object({
  table: z.string(),
  /** The legacy key (relationship_id) a row of the legacy table holds again. */
  key: z.number().int(),
  archiveId: z.number().int(),
});
export type TakenRow = z.infer<typeof takenRowSchema>;

export const orphanRestoreTableSchema = z.object({
  table: z.string(),
  /** Rows the archive run took from this table. */
  archived: count,
  /** Restored by an earlier restore. */
  alreadyRestored: count,
  /** Put back by this restore (on a dry run: that would be). */
  restored: count,
  /** Still in the archive because the legacy table holds a row with the same key again. */
  taken: count,
});

export const orphanRestoreResultSchema = z.object({
  kind: z.literal('orphan-restore'),
  schema: z.string(),
  archiveRunId: z.string(),
  dryRun: z.boolean(),
  skipTaken: z.boolean(),
  /**
   * restored: the rows whose key is free were put back (on a dry run: would be; with skipTaken, those
   * whose key is taken stay in the archive); already-restored: nothing left to put back (a restore run
   * twice); refused: keys are taken again and skipTaken was not given: nothing written.
   */
  status: z.enum(['restored', 'already-restored', 'refused']),
  archivedAt: z.string(),
  archived: count,
  alreadyRestored: count,
  restored: count,
  taken: count,
  tables: z.array(orphanRestoreTableSchema),
  /** The rows whose key is taken, by table and key; the first `limit` when limited. */
  takenRows: z.array(takenRowSchema),
  takenTruncated: z.boolean(),
});
export type OrphanRestoreResult = z.infer<typeof orphanRestoreResultSchema>;

export const restoreOrphansOptionsSchema = z.object({
  archiveRunId: archiveRunIdSchema,
  dryRun: z.boolean().default(false),
  /** Put back the rows whose key is free and leave the others in the archive (a later restore takes them). */
  skipTaken: z.boolean().default(false),
  /** Taken rows named (counts are always exact); null names all. */
  limit: count.nullable().default(50),
});
export type RestoreOrphansOptions = z.input<typeof restoreOrphansOptionsSchema>;

/** A pending row of the run whose key the legacy table holds again. */
const takenSql = (link: LegacyLinkOrphans) =>
  `SELECT a.legacy_table, a.legacy_key, a.archive_id FROM ${ORPHAN_ARCHIVE_TABLE} a
    WHERE a.archive_run_id = :run_id AND a.legacy_table = '${link.table}' AND a.restored_at IS NULL
      AND EXISTS (SELECT 1 FROM ${link.table} l WHERE l.${link.keyColumn} = a.legacy_key)`;

/**
 * Puts the rows of one archive run back into their legacy tables, with their keys and values
 * (jsonb_populate_record of the archived to_jsonb), and marks them restored, in one transaction. Rows
 * whose key the legacy table holds again are named and refused: nothing is written, unless `skipTaken`,
 * which restores the others and leaves those in the archive. A restore finds rows restored before
 * done already, so restoring twice is restoring once. Each restored row is compared with its archived
 * form before the commit; a difference (the table's columns changed since the archive) undoes it all.
 */
export async function restoreOrphans(
  sql: SqlClient,
  rawOptions: RestoreOrphansOptions,
): Promise<OrphanRestoreResult> {
  const options = restoreOrphansOptionsSchema.parse(rawOptions);
  const inspection = await requireSchemas(sql, { legacy: true });
  const runId = options.archiveRunId;
  const params = { run_id: runId };

  const work = async (tx: SqlSession): Promise<OrphanRestoreResult> => {
    if (!options.dryRun) await tx.query(LOCK_SQL);
    const exists =
      (await tx.query<{ exists: boolean }>(`SELECT ${ARCHIVE_EXISTS_SQL} AS "exists"`)).rows[0]?.exists ===
      true;
    if (!exists) {
      throw new RemedyRefusedError(
        `no archive run ${runId} in schema ${inspection.schema}: nothing was ever archived there ` +
          `(no table ${ORPHAN_ARCHIVE_TABLE})`,
      );
    }
    const { rows: counts } = await tx.query<{
      legacy_table: string;
      archived: number;
      restored: number;
      archived_at: string;
    }>(
      `SELECT legacy_table, count(*)::int AS archived, count(restored_at)::int AS restored,
              min(archived_at) AS archived_at
         FROM ${ORPHAN_ARCHIVE_TABLE} WHERE archive_run_id = :run_id GROUP BY legacy_table`,
      params,
    );
    if (counts.length === 0)
      throw new RemedyRefusedError(await unknownRunMessage(tx, runId, inspection.schema));
    const links = counts.map((c) => {
      // The table names go into SQL text: only the link tables an archive writes are accepted.
      const link = LINK_TABLES.find((t) => t.table === c.legacy_table);
      if (!link) {
        throw new RemedyRefusedError(
          `archive run ${runId} holds rows of ${JSON.stringify(c.legacy_table)}, which is not a legacy link ` +
            'table: the archive table was changed by hand; nothing was restored',
        );
      }
      return link;
    });

    const { rows: takenRows } = await tx.query<{
      counts: Record<string, number> | null;
      rows: { table: string; key: number; archiveId: number }[] | null;
    }>(
      `WITH taken AS (${links.map(takenSql).join(' UNION ALL ')})
       SELECT (SELECT json_object_agg(g.legacy_table, g.n)
                 FROM (SELECT legacy_table, count(*)::int AS n FROM taken GROUP BY legacy_table) AS g) AS counts,
              (SELECT json_agg(json_build_object('table', t.legacy_table, 'key', t.legacy_key,
                                                 'archiveId', t.archive_id) ORDER BY t.legacy_table, t.legacy_key)
                 FROM (SELECT * FROM taken ORDER BY legacy_table, legacy_key
                        LIMIT ${options.limit === null ? 'ALL' : ':limit'}) AS t) AS rows`,
      options.limit === null ? params : { ...params, limit: options.limit },
    );
    const taken = (takenRows[0]?.rows ?? []).map((r) => takenRowSchema.parse(r));
    const takenByTable = new Map(Object.entries(takenRows[0]?.counts ?? {}).map(([t, n]) => [t, Number(n)]));
    const takenTotal = [...takenByTable.values()].reduce((sum, n) => sum + n, 0);

    const refused = takenTotal > 0 && !options.skipTaken;
    const restoredByTable = new Map<string, number>();
    for (const [i, link] of links.entries()) {
      const row = counts[i];
      const pending = Number(row?.archived ?? 0) - Number(row?.restored ?? 0);
      const free = pending - (takenByTable.get(link.table) ?? 0);
      if (refused || free === 0) {
        restoredByTable.set(link.table, 0);
        continue;
      }
      restoredByTable.set(link.table, options.dryRun ? free : await restoreTable(tx, link, runId));
    }

    const tables = links.map((link, i) => ({
      table: link.table,
      archived: Number(counts[i]?.archived ?? 0),
      alreadyRestored: Number(counts[i]?.restored ?? 0),
      restored: restoredByTable.get(link.table) ?? 0,
      taken: takenByTable.get(link.table) ?? 0,
    }));
    const sum = (pick: (t: (typeof tables)[number]) => number) => tables.reduce((n, t) => n + pick(t), 0);
    const restored = sum((t) => t.restored);
    return orphanRestoreResultSchema.parse({
      kind: 'orphan-restore',
      schema: inspection.schema,
      archiveRunId: runId,
      dryRun: options.dryRun,
      skipTaken: options.skipTaken,
      status: refused
        ? 'refused'
        : sum((t) => t.archived - t.alreadyRestored) > 0
          ? 'restored'
          : 'already-restored',
      archivedAt: counts.map((c) => c.archived_at).sort()[0] ?? '',
      archived: sum((t) => t.archived),
      alreadyRestored: sum((t) => t.alreadyRestored),
      restored,
      taken: takenTotal,
      tables: [...tables].sort(
        (a, b) =>
          LINK_TABLES.findIndex((t) => t.table === a.table) -
          LINK_TABLES.findIndex((t) => t.table === b.table),
      ),
      takenRows: taken,
      takenTruncated: taken.length < takenTotal,
    });
  };
  return options.dryRun ? work(sql) : sql.transaction(work);
}

/**
 * One statement per table: the run's pending rows whose key is free go back into the legacy table (the
 * archived row as a row of the table: same columns, keys and values; OVERRIDING SYSTEM VALUE keeps the
 * key of an identity column), are marked restored, and each is compared with its archived form.
 */
async function restoreTable(tx: SqlSession, link: LegacyLinkOrphans, runId: string): Promise<number> {
  const { rows } = await tx.query<{
    pending: number;
    inserted: number;
    marked: number;
    differing: number[] | null;
  }>(
    `WITH pending AS (
       SELECT a.archive_id, a.legacy_key, a."row" FROM ${ORPHAN_ARCHIVE_TABLE} a
        WHERE a.archive_run_id = :run_id AND a.legacy_table = '${link.table}' AND a.restored_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM ${link.table} l WHERE l.${link.keyColumn} = a.legacy_key)
        FOR UPDATE OF a),
     inserted AS (
       INSERT INTO ${link.table} AS l OVERRIDING SYSTEM VALUE
       SELECT (jsonb_populate_record(NULL::${link.table}, p."row")).* FROM pending p ORDER BY p.legacy_key
       RETURNING l.${link.keyColumn}::int8 AS legacy_key, to_jsonb(l) AS "row"),
     marked AS (
       UPDATE ${ORPHAN_ARCHIVE_TABLE} a SET restored_at = now() FROM pending p
        WHERE a.archive_id = p.archive_id RETURNING a.archive_id)
     SELECT (SELECT count(*) FROM pending)::int AS pending, (SELECT count(*) FROM inserted)::int AS inserted,
            (SELECT count(*) FROM marked)::int AS marked,
            (SELECT json_agg(p.legacy_key ORDER BY p.legacy_key) FROM pending p
               LEFT JOIN inserted i ON i.legacy_key = p.legacy_key
              WHERE i."row" IS DISTINCT FROM p."row") AS differing`,
    { run_id: runId },
  );
  const result = rows[0];
  const differing = result?.differing ?? [];
  if (differing.length > 0) {
    throw new RemedyRefusedError(
      `restoring ${link.table} would not give back the archived rows exactly (keys ${differing.slice(0, 10).join(', ')}` +
        `${differing.length > 10 ? ', …' : ''}): the table's columns changed since the archive; nothing was restored`,
    );
  }
  if (!result || result.inserted !== result.pending || result.marked !== result.pending) {
    throw new Error(
      `restore of ${link.table}: ${JSON.stringify(result)} rows pending/inserted/marked differ`,
    );
  }
  return Number(result.inserted);
}

async function unknownRunMessage(sql: SqlSession, runId: string, schema: string): Promise<string> {
  const { rows } = await sql.query<{ archive_run_id: string }>(
    `SELECT archive_run_id FROM ${ORPHAN_ARCHIVE_TABLE}
      GROUP BY archive_run_id ORDER BY min(archived_at) DESC, archive_run_id DESC LIMIT 5`,
  );
  const known = rows.map((r) => r.archive_run_id);
  return (
    `no archive run ${runId} in schema ${schema}` +
    (known.length > 0 ? ` (the latest: ${known.join(', ')})` : ' (the archive is empty)')
  );
}
