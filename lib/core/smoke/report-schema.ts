import * as z from 'zod';

/**
 * The smoke report: the checks run right after a migration (and before, in a dry run) that the
 * application still works on the migrated data. Fields may be added; these stay (schemaVersion 1).
 *
 * Like every report it carries ids, names, counts and timings only — never notes or other free text.
 */

export const SMOKE_CHECK_STATUSES = ['pass', 'warn', 'fail', 'skip'] as const;
export type SmokeCheckStatus = (typeof SMOKE_CHECK_STATUSES)[number];

export const smokeCheckSchema = z.object({
  id: z.string().min(1),
  status: z.enum(SMOKE_CHECK_STATUSES),
  message: z.string(),
  /** Wall-clock time the check took (0 for a check that did not run). */
  durationMs: z.number().min(0),
  details: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
});
export type SmokeCheck = z.infer<typeof smokeCheckSchema>;

export const smokeReportSchema = z.object({
  kind: z.literal('smoke'),
  schemaVersion: z.literal(1),
  runId: z.string().min(1),
  stage: z.string().min(1),
  generatedAt: z.iso.datetime(),
  /** No check failed (warnings and skipped checks do not fail a run). */
  passed: z.boolean(),
  /** A dry run writes nothing: the probe is skipped, and unmigrated counts warn instead of failing. */
  dryRun: z.boolean(),
  checks: z.array(smokeCheckSchema),
});
export type SmokeReport = z.infer<typeof smokeReportSchema>;
