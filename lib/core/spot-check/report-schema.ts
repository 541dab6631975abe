import * as z from 'zod';
import { ROLE_CODES, type RoleCode } from '../mapping/roles.ts';

/**
 * The spot-check report: a reproducible sample of legacy company records, each beside the unified rows
 * the rules R1–R6 say it must have become, with a verdict per record. Fields may be added; these stay
 * (schemaVersion 1).
 *
 * Like every report it carries ids, names, codes, dates and counts only: notes and other free text are
 * compared but never copied into it (`redacted: true`), so nothing confidential can leak through it.
 */

export const roleCodeSchema = z.enum(ROLE_CODES as [RoleCode, ...RoleCode[]]);

const value = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** One field side by side: this legacy record's value, what the rules give, what the unified row holds. */
export const spotCheckFieldSchema = z.object({
  field: z.string(),
  legacy: value,
  expected: value,
  unified: value,
  /** The legacy record the expected value comes from (R3/R4 take fields from one record of the company). */
  source: z.string().nullable(),
  matches: z.boolean(),
  /** Free text: compared, not shown. */
  redacted: z.boolean().default(false),
});
export type SpotCheckField = z.infer<typeof spotCheckFieldSchema>;

export const LINK_STATUSES = [
  'migrated',
  'missing',
  'confidentiality-lost',
  'orphan',
  'not-migrated-record',
] as const;
export type LinkStatus = (typeof LINK_STATUSES)[number];

const linkList = <T extends z.ZodType>(item: T) =>
  z.object({
    /** Links of this record in the legacy table, listed or not. */
    total: z.number().int().min(0),
    /** Links the rules say must be in the unified schema and are not (missing or confidentiality lost). */
    differing: z.number().int().min(0),
    /** Links to rows that no longer exist: not migrated, by design. */
    orphans: z.number().int().min(0),
    /** The first links, the differing ones first (the list is capped; the counts are not). */
    listed: z.array(item),
  });

export const spotCheckRecordSchema = z.object({
  role: roleCodeSchema,
  legacyTable: z.string(),
  legacyId: z.number().int(),
  legacyName: z.string().nullable(),
  /** The company its record assignment points at (the lowest assignment id if several). */
  company: z
    .object({
      companyId: z.number().int(),
      /** null when the assignment points at a company that does not exist. */
      name: z.string().nullable(),
      recordAssignmentId: z.number().int(),
      recordAssignments: z.number().int(),
    })
    .nullable(),
  fields: z.array(spotCheckFieldSchema),
  /** Roles: the legacy records that share the trimmed name (R2) and the company's record assignments. */
  roles: z.object({
    legacyRecords: z.array(
      z.object({ record: z.string(), role: roleCodeSchema, companyId: z.number().int().nullable() }),
    ),
    recordAssignments: z.array(
      z.object({
        role: z.string(),
        contextType: z.string(),
        contextId: z.number().int().nullable(),
        isPrimary: z.boolean(),
      }),
    ),
    projectAssignments: z.record(z.string(), z.number().int()),
  }),
  affiliations: linkList(
    z.object({
      relationshipId: z.number().int(),
      personId: z.number().int(),
      personName: z.string().nullable(),
      title: z.string().nullable(),
      status: z.enum(LINK_STATUSES),
      affiliationId: z.number().int().nullable(),
    }),
  ).extend({ companyAffiliations: z.number().int().min(0) }),
  projects: linkList(
    z.object({
      relationshipId: z.number().int(),
      projectId: z.number().int(),
      projectName: z.string().nullable(),
      confidential: z.boolean(),
      status: z.enum(LINK_STATUSES),
      assignmentId: z.number().int().nullable(),
    }),
  ),
  verdict: z.enum(['matches', 'differs', 'unmigratable']),
  /** What differs from the rules, one line each; empty when the record matches. */
  differences: z.array(z.string()),
  /** Worth knowing, not a difference (e.g. R3 kept another record's value). */
  notes: z.array(z.string()),
});
export type SpotCheckRecord = z.infer<typeof spotCheckRecordSchema>;

export const spotCheckReportSchema = z.object({
  kind: z.literal('spot-check'),
  schemaVersion: z.literal(1),
  runId: z.string().min(1),
  stage: z.string().min(1),
  generatedAt: z.iso.datetime(),
  /** The sample is the same for the same seed and data: `spot-check --seed <seed>` shows it again. */
  seed: z.string(),
  perRole: z.number().int().min(0),
  roles: z.array(roleCodeSchema),
  /** No sampled record differs from the rules (blank-named, unmigratable records do not fail it). */
  passed: z.boolean(),
  counts: z.object({
    sampled: z.number().int().min(0),
    matching: z.number().int().min(0),
    differing: z.number().int().min(0),
    unmigratable: z.number().int().min(0),
  }),
  records: z.array(spotCheckRecordSchema),
  /** Statements the spot-check sent: constant whatever the sample size. */
  statements: z.number().int().min(0),
});
export type SpotCheckReport = z.infer<typeof spotCheckReportSchema>;

/** What a legacy record is called in reports: its table and id. */
export const recordRef = (legacyTable: string, legacyId: number | string) => `${legacyTable}#${legacyId}`;
