import * as z from 'zod';

/**
 * The validation report: what people read (rendered to Markdown and HTML) and what alarms and the state
 * machine act on. Fields may be added; these stay (schemaVersion 1).
 *
 * Reports carry ids and names only — never the notes or other free text of legacy or unified rows, so
 * nothing confidential can leak through them.
 */

export const ROLE_KEYS = ['vendor', 'developer', 'client', 'operator', 'constructor', 'offtaker'] as const;
export type RoleKey = (typeof ROLE_KEYS)[number];

const count = z.number().int().min(0);
const percent = z.number().min(0).max(100);
const sampleEntry = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

function perRole<T extends z.ZodType>(value: T) {
  return z.object(Object.fromEntries(ROLE_KEYS.map((role) => [role, value])) as Record<RoleKey, T>);
}

export const criterionSchema = z.object({
  id: z.string(),
  passed: z.boolean(),
  actual: z.union([z.number(), z.string(), z.boolean()]),
  threshold: z.union([z.number(), z.string(), z.boolean()]),
  message: z.string(),
});
export type Criterion = z.infer<typeof criterionSchema>;

export const issueSchema = z.object({
  severity: z.enum(['critical', 'warning', 'info']),
  code: z.string(),
  message: z.string(),
  count,
});
export type ValidationIssue = z.infer<typeof issueSchema>;

export const coverageSchema = z.object({ total: count, covered: count, percent });
export type Coverage = z.infer<typeof coverageSchema>;

/** Two companies an operator recorded as legitimately distinct; companyA < companyB. */
export const acknowledgedPairSchema = z.object({
  companyA: z.number().int(),
  companyB: z.number().int(),
  reason: z.string(),
  recordedBy: z.string().optional(),
  recordedAt: z.string().optional(),
});
export type AcknowledgedPair = z.infer<typeof acknowledgedPairSchema>;

export const validationReportSchema = z.object({
  kind: z.literal('validation'),
  schemaVersion: z.literal(1),
  runId: z.string().min(1),
  stage: z.string().min(1),
  generatedAt: z.iso.datetime(),
  passed: z.boolean(),
  criteria: z.array(criterionSchema),
  /** V1: each legacy company table's records and whether their record assignment exists. */
  companyCoverage: perRole(
    z.object({
      total: count,
      mapped: count,
      missing: count,
      missingSample: z.array(z.object({ id: z.number().int(), name: z.string() })),
    }),
  ),
  /** V2: legacy rows vs. record assignments pointing at existing rows; stale ones point at deleted rows. */
  entityCounts: perRole(z.object({ legacy: count, assignments: count, stale: count })),
  /** V3: legacy project links covered by their exact 'Project' assignment. */
  projectRelationshipCoverage: perRole(coverageSchema).extend({ overall: coverageSchema }),
  /** V4: company-related personnel links covered by their exact affiliation. */
  personnelAffiliationCoverage: coverageSchema.extend({ outOfScope: count }),
  /** V5: companies whose names are equal once lower-cased, trimmed and inner spaces collapsed. */
  duplicateNameGroups: z.array(
    z.object({
      normalizedName: z.string(),
      /**
       * Every pair of the group recorded as legitimately distinct (e.g. subsidiary and parent) with
       * `duplicates keep-apart`: reported as acknowledged, not as a warning.
       */
      acknowledged: z.boolean().default(false),
      /**
       * The pairs of this group recorded as distinct: all of them when acknowledged, maybe some otherwise
       * (absent in reports from before `duplicates keep-apart`).
       */
      acknowledgedPairs: z.array(acknowledgedPairSchema).optional(),
      companies: z.array(
        z.object({
          companyId: z.number().int(),
          name: z.string(),
          roles: z.array(z.string()),
          contextTypes: z.array(z.string()),
        }),
      ),
    }),
  ),
  /** V6: legacy links to missing rows (warning) and unified rows pointing at missing rows (critical). */
  orphans: z.object({
    personnelLinks: count,
    projectLinks: count,
    unifiedRows: count,
    sample: z.array(sampleEntry),
  }),
  /** V7: companies whose name or R3 fields differ from what their legacy records give. */
  drift: z.object({ count, sample: z.array(sampleEntry) }),
  /** V8: legacy records that cannot be migrated (blank names). */
  unmigratable: z.object({ count, sample: z.array(sampleEntry) }),
  issues: z.array(issueSchema),
  /** Indexes the preflight created or found, so the report says what the checks relied on. */
  indexes: z.array(z.object({ name: z.string(), created: z.boolean() })).default([]),
  /** Statements the validation sent: constant whatever the data size. */
  statements: count.optional(),
});
export type ValidationReport = z.infer<typeof validationReportSchema>;
export type DuplicateGroup = ValidationReport['duplicateNameGroups'][number];

/** Success thresholds (per stage; these are the defaults). */
export const successThresholdsSchema = z.object({
  projectCoveragePercent: z.number().min(0).max(100).default(95),
  personnelCoveragePercent: z.number().min(0).max(100).default(95),
});
export type SuccessThresholds = z.infer<typeof successThresholdsSchema>;

/**
 * Percent of `covered` in `total`, rounded to two decimals; 100 when there is nothing to cover. For
 * display only: criteria compare the exact counts, so 99.996 % shown as 100 still fails a 100 % bar.
 */
export function percentOf(covered: number, total: number): number {
  if (total === 0) return 100;
  return Math.round((covered / total) * 10_000) / 100;
}

/**
 * covered/total ≥ threshold %, decided on the integers: the threshold is taken as the decimal it is
 * written as (8.8 is 88/10), since 8.8 * 375 in floating point exceeds 3300 and would fail 33 of 375.
 */
export function meetsPercent(covered: number, total: number, thresholdPercent: number): boolean {
  if (total === 0) return true;
  const [digits, scale] = decimalFraction(thresholdPercent);
  return BigInt(covered) * 100n * 10n ** BigInt(scale) >= digits * BigInt(total);
}

/** A finite number as digits / 10^scale, from its shortest decimal form (8.8 → [88n, 1]). */
function decimalFraction(value: number): [bigint, number] {
  const [mantissa = '0', exponent = '0'] = value.toString().toLowerCase().split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const scale = fraction.length - Number(exponent);
  const digits = BigInt(whole + fraction);
  return scale >= 0 ? [digits, scale] : [digits * 10n ** BigInt(-scale), 0];
}
