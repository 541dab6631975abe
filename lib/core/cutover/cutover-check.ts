import * as z from 'zod';
import {
  DUAL_WRITE_FUNCTIONS,
  DUAL_WRITE_TABLES,
  SYNC_ERRORS_TABLE,
  TRIGGER_NAME,
  triggerFunctionName,
} from '../dual-write/dual-write.sql.ts';
import { requireSchemas } from '../schema/introspect.ts';
import { LEGACY_COMPANY_TABLES, LEGACY_PROJECT_RELATIONSHIP_TABLES } from '../schema/legacy.sql.ts';
import type { SqlClient } from '../sql/types.ts';
import type { ValidationReport } from '../validation/report-schema.ts';
import { validate } from '../validation/validate.ts';
import {
  type CutoverReport,
  cutoverReportSchema,
  type TableWrites,
  type viewDependencySchema,
} from './report-schema.ts';

/**
 * Cutover readiness: may the legacy company tables be retired? It reads the catalog for what still
 * depends on them (views, rules, foreign keys, triggers other than ours, functions), the table
 * statistics for whether anyone still writes them, and the validation criteria; it gives a verdict with
 * its reasons and prints — never runs — the SQL a DBA would run, in dependency order.
 *
 * Writes: the check keeps one small table of its own (company_migration_cutover_baseline) with each
 * legacy table's write counters at the last check, unless it runs as a dry run.
 *
 * Limitations, by design honest rather than clever:
 * - Writes are seen through pg_stat_user_tables (n_tup_ins/upd/del). They count rolled-back writes too
 *   (the run's smoke probe inserts one vendor and one link and rolls back), show up within about a
 *   second of the writer's commit, are per server instance, and start again from zero after a crash,
 *   a failover or pg_stat_reset(): a counter lower than its baseline is reported as a reset, not as quiet.
 * - Functions are found by the catalog where PostgreSQL records the dependency (SQL-standard bodies) and
 *   otherwise by their text naming a legacy table: in this schema by the bare name, elsewhere only
 *   schema-qualified. Dynamic SQL that builds table names is not found; a name in a comment is.
 * - Only the database is inspected: application code, reports and ETL jobs outside it are not.
 */

/** The legacy tables the cutover retires: the six company tables and their link tables. */
export const RETIRED_TABLES: readonly string[] = [
  'personnel_entity_relationships',
  ...LEGACY_PROJECT_RELATIONSHIP_TABLES,
  ...LEGACY_COMPANY_TABLES,
];

/** Legacy tables the unified schema keeps: person_company_affiliations references personnel, and
 * 'Project' assignments name projects. */
export const KEPT_TABLES: readonly string[] = ['personnel', 'projects'];

/** This check's own bookkeeping: each legacy table's write counters at the previous check. */
export const CUTOVER_BASELINE_TABLE = 'company_migration_cutover_baseline';

export const cutoverOptionsSchema = z.object({
  /** Read only: compare with the recorded baseline but record nothing. */
  dryRun: z.boolean().default(false),
  /** How long every legacy table must have gone unwritten for the check to call it ready. */
  minQuietHours: z
    .number()
    .min(0)
    .max(24 * 365)
    .default(24),
  /** A validation report of the current state (the monitor has one); else the check validates. */
  validation: z.custom<ValidationReport>((v) => typeof v === 'object' && v !== null).optional(),
  now: z.custom<() => Date>((v) => typeof v === 'function').optional(),
});
export type CutoverOptions = z.input<typeof cutoverOptionsSchema>;

const list = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

const LEGACY_CTE = `legacy AS (
  SELECT c.oid, c.relname FROM pg_class c
   WHERE c.relnamespace = to_regnamespace(current_schema()) AND c.relkind IN ('r', 'p')
     AND c.relname IN (${list(RETIRED_TABLES)}))`;

/** Views and materialized views reading legacy tables, directly or through other views. */
const VIEWS_SQL = `WITH RECURSIVE ${LEGACY_CTE},
  reads AS (
    SELECT DISTINCT r.ev_class AS view_oid, d.refobjid AS read_oid
      FROM pg_rewrite r
      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
     WHERE r.rulename = '_RETURN'),
  chain (view_oid, legacy_table, depth) AS (
    SELECT x.view_oid, l.relname::text, 1 FROM reads x JOIN legacy l ON l.oid = x.read_oid
    UNION
    SELECT x.view_oid, c.legacy_table, c.depth + 1 FROM reads x JOIN chain c ON x.read_oid = c.view_oid
     WHERE c.depth < 32)
  SELECT n.nspname AS schema, v.relname AS name,
         CASE v.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END AS kind,
         max(c.depth)::int AS depth, string_agg(DISTINCT c.legacy_table, ',') AS legacy_tables
    FROM chain c JOIN pg_class v ON v.oid = c.view_oid JOIN pg_namespace n ON n.oid = v.relnamespace
   GROUP BY n.nspname, v.relname, v.relkind
   ORDER BY max(c.depth) DESC, n.nspname, v.relname`;

/** Rules other than views' own: on a legacy table, or whose actions touch one. */
const RULES_SQL = `WITH ${LEGACY_CTE}
  SELECT n.nspname AS schema, t.relname AS table_name, r.rulename AS name,
         string_agg(DISTINCT l.relname::text, ',') AS legacy_tables
    FROM pg_rewrite r
    JOIN pg_class t ON t.oid = r.ev_class JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
    JOIN legacy l ON l.oid = d.refobjid
   WHERE r.rulename <> '_RETURN'
   GROUP BY n.nspname, t.relname, r.rulename ORDER BY 1, 2, 3`;

const FOREIGN_KEYS_SQL = `WITH ${LEGACY_CTE}
  SELECT n.nspname AS schema, src.relname AS table_name, con.conname AS name, tgt.relname AS references,
         src.oid IN (SELECT oid FROM legacy) AS from_legacy
    FROM pg_constraint con
    JOIN pg_class src ON src.oid = con.conrelid JOIN pg_namespace n ON n.oid = src.relnamespace
    JOIN legacy tgt ON tgt.oid = con.confrelid
   WHERE con.contype = 'f'
   ORDER BY 1, 2, 3`;

const TRIGGERS_SQL = `WITH ${LEGACY_CTE}
  SELECT n.nspname AS schema, l.relname AS table_name, t.tgname AS name, p.proname AS function_name,
         fn.nspname AS function_schema, t.tgenabled <> 'D' AS enabled
    FROM pg_trigger t
    JOIN legacy l ON l.oid = t.tgrelid
    JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace fn ON fn.oid = p.pronamespace
   WHERE NOT t.tgisinternal
   ORDER BY 2, 3`;

/** Functions that depend on legacy tables: recorded in the catalog, or named in their text. */
const FUNCTIONS_SQL = `WITH ${LEGACY_CTE},
  found AS (
    SELECT d.objid AS fn, l.relname::text AS legacy_table, 'catalog' AS found_by
      FROM pg_depend d JOIN legacy l ON l.oid = d.refobjid
     WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_class'::regclass
    UNION
    SELECT p.oid, l.relname::text, 'text'
      FROM pg_proc p CROSS JOIN legacy l
     WHERE p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
       AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'internal')
       AND ((p.pronamespace = to_regnamespace(current_schema()) AND p.prosrc ~ ('\\m' || l.relname || '\\M'))
            OR p.prosrc ~* ('\\m"?' || current_schema() || '"?\\s*\\.\\s*"?' || l.relname || '\\M')))
  SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments,
         CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window' ELSE 'function' END AS kind,
         string_agg(DISTINCT f.legacy_table, ',') AS legacy_tables, min(f.found_by) AS found_by
    FROM found f JOIN pg_proc p ON p.oid = f.fn JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   GROUP BY n.nspname, p.proname, p.oid, p.prokind
   ORDER BY 1, 2, 3`;

/** Current counters of the legacy tables beside the baseline (`previous` is a CTE or an empty set). */
const writesSelect = (previous: string) => `
  SELECT c.table_name, c.n_tup_ins, c.n_tup_upd, c.n_tup_del,
         p.n_tup_ins AS base_ins, p.n_tup_upd AS base_upd, p.n_tup_del AS base_del, p.quiet_since, p.checked_at
    FROM current_counts c LEFT JOIN (${previous}) AS p ON p.table_name = c.table_name
   ORDER BY c.table_name`;

const CURRENT_COUNTS_CTE = `current_counts AS (
  SELECT s.relname::text AS table_name, s.n_tup_ins::int8 AS n_tup_ins, s.n_tup_upd::int8 AS n_tup_upd,
         s.n_tup_del::int8 AS n_tup_del
    FROM pg_stat_user_tables s
   WHERE s.schemaname = current_schema() AND s.relname IN (${list(RETIRED_TABLES)}))`;

const BASELINE_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ${CUTOVER_BASELINE_TABLE} (
  table_name text PRIMARY KEY,
  n_tup_ins bigint NOT NULL,
  n_tup_upd bigint NOT NULL,
  n_tup_del bigint NOT NULL,
  quiet_since timestamptz NOT NULL,
  checked_at timestamptz NOT NULL
)`;

/**
 * One statement: reads the counters and the baseline as it was (every part of a WITH sees the same
 * snapshot, and PostgreSQL runs a data-modifying CTE whether or not it is read), and moves the
 * baseline — quiet_since
 * stays while a table's counters stand still and restarts when they moved (or reset).
 */
const RECORD_WRITES_SQL = `WITH ${CURRENT_COUNTS_CTE},
  previous AS (SELECT * FROM ${CUTOVER_BASELINE_TABLE}),
  saved AS (
    INSERT INTO ${CUTOVER_BASELINE_TABLE} AS b (table_name, n_tup_ins, n_tup_upd, n_tup_del, quiet_since, checked_at)
    SELECT table_name, n_tup_ins, n_tup_upd, n_tup_del, CAST(:now AS timestamptz), CAST(:now AS timestamptz)
      FROM current_counts
    ON CONFLICT (table_name) DO UPDATE
       SET quiet_since = CASE WHEN (b.n_tup_ins, b.n_tup_upd, b.n_tup_del)
                                   = (EXCLUDED.n_tup_ins, EXCLUDED.n_tup_upd, EXCLUDED.n_tup_del)
                              THEN b.quiet_since ELSE EXCLUDED.quiet_since END,
           n_tup_ins = EXCLUDED.n_tup_ins, n_tup_upd = EXCLUDED.n_tup_upd, n_tup_del = EXCLUDED.n_tup_del,
           checked_at = EXCLUDED.checked_at
    RETURNING 1)
  ${writesSelect('SELECT * FROM previous')}`;

const READ_WRITES_SQL = (baselineExists: boolean) =>
  `WITH ${CURRENT_COUNTS_CTE} ${writesSelect(
    baselineExists
      ? `SELECT * FROM ${CUTOVER_BASELINE_TABLE}`
      : `SELECT NULL::text AS table_name, NULL::int8 AS n_tup_ins, NULL::int8 AS n_tup_upd,
                NULL::int8 AS n_tup_del, NULL::timestamptz AS quiet_since, NULL::timestamptz AS checked_at
          WHERE false`,
  )}`;

type Row = Record<string, unknown>;
const text = (v: unknown) => String(v ?? '');
const names = (v: unknown) => (v ? String(v).split(',').sort() : []);
/** Timestamps read back as 'YYYY-MM-DD HH:MM:SS[.fff]' in UTC. */
const isoOf = (v: unknown) =>
  v === null || v === undefined ? null : new Date(`${String(v).replace(' ', 'T')}Z`).toISOString();

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
const qualified = (schema: string, name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;

function tableWrites(row: Row, now: Date): TableWrites {
  const current = [row.n_tup_ins, row.n_tup_upd, row.n_tup_del].map(Number) as [number, number, number];
  const base =
    row.base_ins === null || row.base_ins === undefined
      ? null
      : [row.base_ins, row.base_upd, row.base_del].map(Number);
  const previousCheck = isoOf(row.checked_at);
  if (!base) {
    return {
      table: text(row.table_name),
      status: 'no-baseline',
      inserts: null,
      updates: null,
      deletes: null,
      quietSince: null,
      previousCheck,
    };
  }
  const deltas = current.map((n, i) => n - (base[i] ?? 0)) as [number, number, number];
  if (deltas.some((d) => d < 0)) {
    return {
      table: text(row.table_name),
      status: 'statistics-reset',
      inserts: null,
      updates: null,
      deletes: null,
      quietSince: null,
      previousCheck,
    };
  }
  const [inserts, updates, deletes] = deltas;
  const written = inserts + updates + deletes > 0;
  return {
    table: text(row.table_name),
    status: written ? 'written' : 'quiet',
    inserts,
    updates,
    deletes,
    quietSince: written ? now.toISOString() : isoOf(row.quiet_since),
    previousCheck,
  };
}

/** The legacy tables in an order that drops every referencing table before the table it references. */
export function dropOrder(
  tables: readonly string[],
  edges: readonly { from: string; to: string }[],
): string[] {
  const remaining = [...tables];
  const ordered: string[] = [];
  while (remaining.length > 0) {
    // A table may go once no other remaining table references it.
    const next =
      remaining.find((t) => !edges.some((e) => e.to === t && e.from !== t && remaining.includes(e.from))) ??
      remaining[0];
    if (next === undefined) break;
    ordered.push(next);
    remaining.splice(remaining.indexOf(next), 1);
  }
  return ordered;
}

function dropSql(report: Omit<CutoverReport, 'dropSql'>, now: Date): string {
  const { dependencies: d, schema } = report;
  let step = 0;
  const section = (title: string, statements: string[]) => {
    if (statements.length === 0) return [];
    step += 1;
    return ['', `-- ${step}. ${title}`, ...statements.map((s) => `${s};`)];
  };
  const dualWriteInstalled = report.ours.dualWriteTriggers + report.ours.dualWriteFunctions > 0;
  const legacyOrder = dropOrder(
    report.legacyTables,
    d.legacyForeignKeys.map((k) => ({ from: k.table, to: k.references })),
  );
  const lines = [
    `-- Retiring the legacy company tables of schema ${schema}: written by \`company-migration cutover check\``,
    `-- at ${now.toISOString()}. Nothing here has been run.`,
    '-- Review every statement with the owners of what it drops, take a snapshot first, and run it in one',
    '-- transaction. There is no CASCADE on purpose: anything this check did not see stops the script',
    '-- instead of being dropped with it.',
    'BEGIN;',
    `SET LOCAL search_path = ${quoteIdent(schema)};`,
    ...section(
      'Dual-write triggers and functions (ours; `company-migration dual-write uninstall --keep-errors` does the same)',
      dualWriteInstalled
        ? [
            ...DUAL_WRITE_TABLES.filter((t) => report.legacyTables.includes(t)).map(
              (t) => `DROP TRIGGER IF EXISTS ${TRIGGER_NAME} ON ${quoteIdent(t)}`,
            ),
            ...[...DUAL_WRITE_FUNCTIONS]
              .reverse()
              .map((f) => `DROP FUNCTION IF EXISTS ${f.name}${f.signature}`),
          ]
        : [],
    ),
    ...section(
      'Triggers of others on legacy tables',
      d.triggers.map((t) => `DROP TRIGGER ${quoteIdent(t.name)} ON ${qualified(t.schema, t.table)}`),
    ),
    ...section(
      'Rules touching legacy tables',
      d.rules.map((r) => `DROP RULE ${quoteIdent(r.name)} ON ${qualified(r.schema, r.table)}`),
    ),
    ...section(
      'Views reading legacy tables, the views built on them first',
      d.views.map(
        (v) =>
          `DROP ${v.kind === 'materialized view' ? 'MATERIALIZED VIEW' : 'VIEW'} ${qualified(v.schema, v.name)}`,
      ),
    ),
    ...section(
      'Functions that use legacy tables (found by their text too: confirm each)',
      d.functions.map(
        (f) =>
          `DROP ${f.kind === 'procedure' ? 'PROCEDURE' : f.kind === 'aggregate' ? 'AGGREGATE' : 'FUNCTION'} ${qualified(f.schema, f.name)}(${f.arguments})`,
      ),
    ),
    ...section(
      'Foreign keys from other tables into legacy tables',
      d.foreignKeys.map(
        (k) => `ALTER TABLE ${qualified(k.schema, k.table)} DROP CONSTRAINT ${quoteIdent(k.name)}`,
      ),
    ),
    ...section(
      'The legacy tables, each before the tables it references',
      legacyOrder.map((t) => `DROP TABLE ${qualified(schema, t)}`),
    ),
    ...section("This tool's bookkeeping", [
      `DROP TABLE IF EXISTS ${qualified(schema, CUTOVER_BASELINE_TABLE)}`,
      `DROP TABLE IF EXISTS ${qualified(schema, SYNC_ERRORS_TABLE)}`,
    ]),
    '',
    `-- Kept: ${KEPT_TABLES.join(', ')} (the unified schema uses them).`,
    'COMMIT;',
    '',
  ];
  return lines.join('\n');
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Runs the check; returns its report (the caller prints or publishes it). */
export async function cutoverCheck(sql: SqlClient, rawOptions: CutoverOptions = {}): Promise<CutoverReport> {
  const options = cutoverOptionsSchema.parse(rawOptions);
  const now = options.now?.() ?? new Date();
  const inspection = await requireSchemas(sql);

  const { rows: tableRows } = await sql.query<{ relname: string }>(
    `WITH ${LEGACY_CTE} SELECT relname FROM legacy`,
  );
  const present = new Set(tableRows.map((r) => r.relname));
  const legacyTables = RETIRED_TABLES.filter((t) => present.has(t));

  const views = (await sql.query<Row>(VIEWS_SQL)).rows.map((r) => ({
    schema: text(r.schema),
    name: text(r.name),
    kind: text(r.kind) as z.infer<typeof viewDependencySchema>['kind'],
    depth: Number(r.depth),
    legacyTables: names(r.legacy_tables),
  }));
  const rules = (await sql.query<Row>(RULES_SQL)).rows.map((r) => ({
    schema: text(r.schema),
    table: text(r.table_name),
    name: text(r.name),
    legacyTables: names(r.legacy_tables),
  }));
  const keys = (await sql.query<Row>(FOREIGN_KEYS_SQL)).rows.map((r) => ({
    schema: text(r.schema),
    table: text(r.table_name),
    name: text(r.name),
    references: text(r.references),
    fromLegacy: r.from_legacy === true,
  }));
  const triggerRows = (await sql.query<Row>(TRIGGERS_SQL)).rows;
  const isOurTrigger = (r: Row) =>
    r.name === TRIGGER_NAME && r.function_name === triggerFunctionName(text(r.table_name));
  const ourFunctionNames = new Set(DUAL_WRITE_FUNCTIONS.map((f) => f.name));
  const functionRows = (await sql.query<Row>(FUNCTIONS_SQL)).rows;
  const isOurFunction = (r: Row) => r.schema === inspection.schema && ourFunctionNames.has(text(r.name));
  const { rows: ourFunctionCount } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_proc WHERE pronamespace = to_regnamespace(current_schema())
        AND proname IN (${list([...ourFunctionNames])})`,
  );

  // Writes: record the counters (one CREATE and one statement), or only read them on a dry run.
  let writeRows: Row[];
  if (options.dryRun) {
    const { rows } = await sql.query<{ present: boolean }>(
      `SELECT to_regclass('${CUTOVER_BASELINE_TABLE}') IS NOT NULL AS present`,
    );
    writeRows = (await sql.query<Row>(READ_WRITES_SQL(rows[0]?.present === true))).rows;
  } else {
    await sql.query(BASELINE_TABLE_SQL);
    writeRows = (await sql.query<Row>(RECORD_WRITES_SQL, { now: now.toISOString() })).rows;
  }
  const tables = writeRows.map((r) => tableWrites(r, now));
  const quietSinceTimes = tables.map((t) => (t.quietSince ? Date.parse(t.quietSince) : now.getTime()));
  const quietHours =
    tables.length === 0
      ? 0
      : Math.max(0, Math.round(((now.getTime() - Math.max(...quietSinceTimes)) / 3_600_000) * 10) / 10);

  const validation =
    options.validation ??
    (await validate(sql, { runId: 'cutover-check', stage: 'cutover', createIndexes: false, now: () => now }));
  const critical = validation.issues.filter((i) => i.severity === 'critical').length;

  const dependencies = {
    views,
    rules,
    foreignKeys: keys.filter((k) => !k.fromLegacy).map(({ fromLegacy: _, ...k }) => k),
    legacyForeignKeys: keys.filter((k) => k.fromLegacy).map(({ fromLegacy: _, ...k }) => k),
    triggers: triggerRows
      .filter((r) => !isOurTrigger(r))
      .map((r) => ({
        schema: text(r.schema),
        table: text(r.table_name),
        name: text(r.name),
        function: `${text(r.function_schema)}.${text(r.function_name)}`,
        enabled: r.enabled === true,
      })),
    functions: functionRows
      .filter((r) => !isOurFunction(r))
      .map((r) => ({
        schema: text(r.schema),
        name: text(r.name),
        arguments: text(r.arguments),
        kind: text(r.kind) as 'function',
        legacyTables: names(r.legacy_tables),
        foundBy: (r.found_by === 'catalog' ? 'catalog' : 'text') as 'catalog' | 'text',
      })),
  };

  const reasons: string[] = [];
  const describe = (items: string[]) => items.slice(0, 5).join(', ') + (items.length > 5 ? ', …' : '');
  if (views.length > 0) {
    reasons.push(
      `${plural(views.length, 'view reads', 'views read')} legacy tables: ${describe(views.map((v) => `${v.schema}.${v.name} (${v.legacyTables.join(', ')})`))}`,
    );
  }
  if (rules.length > 0) {
    reasons.push(
      `${plural(rules.length, 'rule touches', 'rules touch')} legacy tables: ${describe(rules.map((r) => `${r.name} on ${r.schema}.${r.table}`))}`,
    );
  }
  if (dependencies.foreignKeys.length > 0) {
    reasons.push(
      `${plural(dependencies.foreignKeys.length, 'foreign key references', 'foreign keys reference')} legacy tables: ${describe(dependencies.foreignKeys.map((k) => `${k.schema}.${k.table}.${k.name} → ${k.references}`))}`,
    );
  }
  if (dependencies.triggers.length > 0) {
    reasons.push(
      `${plural(dependencies.triggers.length, 'trigger')} other than ours on legacy tables: ${describe(dependencies.triggers.map((t) => `${t.name} on ${t.table} (${t.function})`))}`,
    );
  }
  if (dependencies.functions.length > 0) {
    reasons.push(
      `${plural(dependencies.functions.length, 'function uses', 'functions use')} legacy tables: ${describe(dependencies.functions.map((f) => `${f.schema}.${f.name}(${f.arguments})`))}`,
    );
  }
  const written = tables.filter((t) => t.status === 'written');
  if (written.length > 0) {
    reasons.push(
      `the application still writes legacy tables: ${describe(written.map((t) => `${t.table} (+${t.inserts} inserted, ${t.updates} updated, ${t.deletes} deleted since ${t.previousCheck})`))}`,
    );
  }
  const unknown = tables.filter((t) => t.status === 'no-baseline' || t.status === 'statistics-reset');
  if (unknown.length > 0) {
    const reset = unknown.filter((t) => t.status === 'statistics-reset').map((t) => t.table);
    reasons.push(
      (reset.length > 0
        ? `write statistics were reset (${describe(reset)}); `
        : 'no earlier check to compare writes with; ') +
        (options.dryRun
          ? 'run the check without --dry-run to record a baseline, then again later'
          : `baseline recorded now: check again after ${options.minQuietHours} h of normal application use`),
    );
  } else if (written.length === 0 && quietHours < options.minQuietHours) {
    reasons.push(
      `legacy tables unwritten for ${quietHours} h only; at least ${options.minQuietHours} h of normal use are required`,
    );
  }
  if (!validation.passed) {
    const failed = validation.criteria.filter((c) => !c.passed).map((c) => c.id);
    reasons.push(
      `validation fails${failed.length > 0 ? `: ${failed.join(', ')}` : ''}${critical > 0 ? ` (${plural(critical, 'critical issue')})` : ''}`,
    );
  }

  const ourTriggers = triggerRows.filter(isOurTrigger);
  const partial: Omit<CutoverReport, 'dropSql'> = {
    kind: 'cutover',
    schemaVersion: 1,
    generatedAt: now.toISOString(),
    schema: inspection.schema,
    ready: reasons.length === 0,
    reasons,
    legacyTables,
    keptTables: [...KEPT_TABLES],
    dependencies,
    ours: { dualWriteTriggers: ourTriggers.length, dualWriteFunctions: Number(ourFunctionCount[0]?.n ?? 0) },
    writes: { recorded: !options.dryRun, minQuietHours: options.minQuietHours, quietHours, tables },
    validation: { passed: validation.passed, criteria: validation.criteria, critical },
  };
  return cutoverReportSchema.parse({ ...partial, dropSql: dropSql(partial, now) });
}
