import * as z from 'zod';
import { criterionSchema } from '../validation/report-schema.ts';

/**
 * The cutover-readiness report: what still depends on the legacy tables, whether the application still
 * writes them, whether validation passes, a verdict with its reasons, and the SQL a DBA would run to
 * retire the tables (never run by this tool). Fields may be added; these stay (schemaVersion 1).
 */

export const viewDependencySchema = z.object({
  schema: z.string(),
  name: z.string(),
  kind: z.enum(['view', 'materialized view']),
  /** 1: reads a legacy table itself; 2+: reads a view that does. */
  depth: z.number().int().min(1),
  legacyTables: z.array(z.string()),
});

export const ruleDependencySchema = z.object({
  schema: z.string(),
  table: z.string(),
  name: z.string(),
  legacyTables: z.array(z.string()),
});

export const foreignKeyDependencySchema = z.object({
  schema: z.string(),
  table: z.string(),
  name: z.string(),
  references: z.string(),
});

export const triggerDependencySchema = z.object({
  schema: z.string(),
  table: z.string(),
  name: z.string(),
  function: z.string(),
  enabled: z.boolean(),
});

export const functionDependencySchema = z.object({
  schema: z.string(),
  name: z.string(),
  /** Identity arguments, as DROP FUNCTION needs them. */
  arguments: z.string(),
  kind: z.enum(['function', 'procedure', 'aggregate', 'window']),
  legacyTables: z.array(z.string()),
  /** 'catalog': a recorded dependency (SQL-standard bodies); 'text': the body names the table. */
  foundBy: z.enum(['catalog', 'text']),
});

export const TABLE_WRITE_STATUSES = ['no-baseline', 'statistics-reset', 'written', 'quiet'] as const;

export const tableWritesSchema = z.object({
  table: z.string(),
  status: z.enum(TABLE_WRITE_STATUSES),
  /** Rows inserted, updated and deleted since the previous check (null when it cannot be told). */
  inserts: z.number().int().nullable(),
  updates: z.number().int().nullable(),
  deletes: z.number().int().nullable(),
  /** Since when the table's counters have not moved (null: not known yet). */
  quietSince: z.string().nullable(),
  previousCheck: z.string().nullable(),
});
export type TableWrites = z.infer<typeof tableWritesSchema>;

export const cutoverReportSchema = z.object({
  kind: z.literal('cutover'),
  schemaVersion: z.literal(1),
  generatedAt: z.iso.datetime(),
  schema: z.string(),
  ready: z.boolean(),
  /** Why it is not ready, one line each (empty when ready). */
  reasons: z.array(z.string()),
  /** The legacy tables to retire that exist, and the tables the unified schema keeps using. */
  legacyTables: z.array(z.string()),
  keptTables: z.array(z.string()),
  dependencies: z.object({
    views: z.array(viewDependencySchema),
    rules: z.array(ruleDependencySchema),
    foreignKeys: z.array(foreignKeyDependencySchema),
    /** Foreign keys between legacy tables: no obstacle, they decide the order of the drops. */
    legacyForeignKeys: z.array(foreignKeyDependencySchema),
    triggers: z.array(triggerDependencySchema),
    functions: z.array(functionDependencySchema),
  }),
  ours: z.object({
    dualWriteTriggers: z.number().int().min(0),
    dualWriteFunctions: z.number().int().min(0),
  }),
  writes: z.object({
    /** The baseline was recorded (or moved) by this check; false with --dry-run. */
    recorded: z.boolean(),
    minQuietHours: z.number().min(0),
    /** Hours since any legacy table's counters last moved (0 when unknown or written now). */
    quietHours: z.number().min(0),
    tables: z.array(tableWritesSchema),
  }),
  validation: z.object({
    passed: z.boolean(),
    criteria: z.array(criterionSchema),
    critical: z.number().int().min(0),
  }),
  /** The statements a DBA would run, in dependency order. Never run by this tool. */
  dropSql: z.string(),
});
export type CutoverReport = z.infer<typeof cutoverReportSchema>;
