import * as z from 'zod';
import { requireSchemas } from '../schema/introspect.ts';
import {
  createMigrationSchema,
  DISTINCT_PAIRS_EXIST_SQL,
  DISTINCT_PAIRS_TABLE,
} from '../schema/migration.sql.ts';
import type { SqlClient, SqlSession } from '../sql/types.ts';
import { duplicateGroupsSql, isAcknowledged, normalizedNameSql } from '../validation/duplicate-names.ts';
import { type AcknowledgedPair, acknowledgedPairSchema } from '../validation/report-schema.ts';
import { RemedyRefusedError } from './errors.ts';

/**
 * Remedies for V5 (companies with near-identical names): list the groups with what an operator needs
 * to decide — and the survivor a merge would keep — and record pairs that are legitimately distinct
 * (e.g. a subsidiary and its parent), which validation then reports as acknowledged.
 */

export const duplicateCompanySchema = z.object({
  companyId: z.number().int(),
  name: z.string(),
  roles: z.array(z.string()),
  contextTypes: z.array(z.string()),
  /** created_date as stored (timestamp without time zone). */
  createdDate: z.string().nullable(),
  /** Legacy company records mapped to it (record assignments). */
  recordAssignments: z.number().int().min(0),
  projectAssignments: z.number().int().min(0),
  /** Role assignments in any other context. */
  otherAssignments: z.number().int().min(0),
  affiliations: z.number().int().min(0),
  clientProfile: z.boolean(),
});
export type DuplicateCompany = z.infer<typeof duplicateCompanySchema>;

export const survivorSuggestionSchema = z.object({
  /** The company a merge should keep. */
  survivorId: z.number().int(),
  /** The companies that could be merged into it: none of them is kept apart from it or from another. */
  absorb: z.array(z.number().int()),
  /** Companies of the group recorded as distinct from the survivor or from one absorbed. */
  keptApart: z.array(z.number().int()),
  /** Why this survivor, in one line. */
  reason: z.string(),
});
export type SurvivorSuggestion = z.infer<typeof survivorSuggestionSchema>;

export const duplicateGroupSchema = z.object({
  normalizedName: z.string(),
  /** Every pair recorded as distinct: validation reports the group as acknowledged, not as a warning. */
  acknowledged: z.boolean(),
  acknowledgedPairs: z.array(acknowledgedPairSchema),
  companies: z.array(duplicateCompanySchema),
  /** null when the group is acknowledged: nothing in it is to be merged. */
  suggestion: survivorSuggestionSchema.nullable(),
});
export type DuplicateGroupDetails = z.infer<typeof duplicateGroupSchema>;

export const duplicatesListSchema = z.object({
  schema: z.string(),
  groups: z.array(duplicateGroupSchema),
  toReview: z.number().int().min(0),
  acknowledged: z.number().int().min(0),
});
export type DuplicatesList = z.infer<typeof duplicatesListSchema>;

/** Everything that points at a company: what a merge would have to move onto the survivor. */
export function referenceCount(company: DuplicateCompany): number {
  return (
    company.recordAssignments +
    company.projectAssignments +
    company.otherAssignments +
    company.affiliations +
    (company.clientProfile ? 1 : 0)
  );
}

/**
 * The group's companies from the best survivor to the worst: most references first (the fewest rows to
 * move, and usually the company people already use), then the earliest created (the original), then the
 * lowest id (a stable last resort).
 */
export function rankSurvivors(companies: readonly DuplicateCompany[]): DuplicateCompany[] {
  return [...companies].sort(
    (a, b) =>
      referenceCount(b) - referenceCount(a) ||
      compareDates(a.createdDate, b.createdDate) ||
      a.companyId - b.companyId,
  );
}

function compareDates(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

const pairKey = (a: number, b: number) => (a < b ? `${a}:${b}` : `${b}:${a}`);

/**
 * The survivor a merge of the group should keep, and which companies it can absorb: going down the
 * ranking, a company is absorbed unless it is recorded as distinct from the survivor or from a company
 * already absorbed (merging both would make them one). null when the group is acknowledged.
 */
export function suggestSurvivor(
  companies: readonly DuplicateCompany[],
  acknowledgedPairs: readonly AcknowledgedPair[],
): SurvivorSuggestion | null {
  if (isAcknowledged(companies.length, acknowledgedPairs.length)) return null;
  const apart = new Set(acknowledgedPairs.map((p) => pairKey(p.companyA, p.companyB)));
  const ranked = rankSurvivors(companies);
  const [survivor, ...rest] = ranked;
  if (!survivor) return null;
  const merged = [survivor.companyId];
  const absorb: number[] = [];
  const keptApart: number[] = [];
  for (const company of rest) {
    if (merged.some((id) => apart.has(pairKey(id, company.companyId)))) {
      keptApart.push(company.companyId);
    } else {
      absorb.push(company.companyId);
      merged.push(company.companyId);
    }
  }
  return { survivorId: survivor.companyId, absorb, keptApart, reason: survivorReason(survivor, ranked) };
}

function survivorReason(survivor: DuplicateCompany, ranked: DuplicateCompany[]): string {
  const references = referenceCount(survivor);
  const runnerUp = ranked[1];
  if (!runnerUp || referenceCount(runnerUp) < references) {
    return `most references (${references}: assignments, affiliations, client profile)`;
  }
  if (compareDates(survivor.createdDate, runnerUp.createdDate) < 0) {
    return `as many references as another (${references}); created first (${survivor.createdDate})`;
  }
  return `as many references and the same creation date as another; lowest id`;
}

/** Every V5 group with per-company details, its recorded pairs and a survivor suggestion (2 statements). */
export async function listDuplicates(sql: SqlSession): Promise<DuplicatesList> {
  const inspection = await requireSchemas(sql, { unified: true });
  const distinctPairs = await distinctPairsTableExists(sql);
  const { rows } = await sql.query<{
    normalized: string;
    companies: DuplicateCompany[];
    acknowledged_pairs: AcknowledgedPair[];
  }>(duplicateGroupsSql({ distinctPairs, details: true }));
  const groups = rows.map((row) => {
    const companies = row.companies.map((c) => duplicateCompanySchema.parse(c));
    const pairs = row.acknowledged_pairs.map((p) => acknowledgedPairSchema.parse(p));
    return {
      normalizedName: row.normalized,
      acknowledged: isAcknowledged(companies.length, pairs.length),
      acknowledgedPairs: pairs,
      companies,
      suggestion: suggestSurvivor(companies, pairs),
    };
  });
  const acknowledged = groups.filter((g) => g.acknowledged).length;
  return duplicatesListSchema.parse({
    schema: inspection.schema,
    groups,
    toReview: groups.length - acknowledged,
    acknowledged,
  });
}

async function distinctPairsTableExists(sql: SqlSession): Promise<boolean> {
  const { rows } = await sql.query<{ exists: boolean }>(`SELECT ${DISTINCT_PAIRS_EXIST_SQL} AS "exists"`);
  return rows[0]?.exists === true;
}

export const keepApartInputSchema = z
  .object({
    companyA: z.coerce.number().int().positive(),
    companyB: z.coerce.number().int().positive(),
    reason: z
      .string()
      .trim()
      .min(1, 'a reason is required (why the two companies are distinct)')
      .max(500, 'at most 500 characters'),
    dryRun: z.boolean().default(false),
  })
  .refine((input) => input.companyA !== input.companyB, {
    message: 'the two company ids are the same: a company cannot be kept apart from itself',
    path: ['companyB'],
  });
export type KeepApartInput = z.input<typeof keepApartInputSchema>;

export const keepApartResultSchema = z.object({
  /** recorded: new; updated: the pair was recorded with another reason; unchanged: as recorded. */
  status: z.enum(['recorded', 'updated', 'unchanged']),
  dryRun: z.boolean(),
  schema: z.string(),
  normalizedName: z.string(),
  companyA: z.object({ companyId: z.number().int(), name: z.string() }),
  companyB: z.object({ companyId: z.number().int(), name: z.string() }),
  reason: z.string(),
  previousReason: z.string().nullable(),
  /** Whether the whole name group is now acknowledged (no longer a V5 warning). */
  groupAcknowledged: z.boolean(),
  groupSize: z.number().int(),
});
export type KeepApartResult = z.infer<typeof keepApartResultSchema>;

/**
 * Records that two companies with near-identical names are legitimately distinct. Refuses unknown ids,
 * a company paired with itself, an empty reason, and two companies whose names are not near-identical
 * (most likely a mistyped id). Idempotent; a new reason replaces the old one. A dry run checks the same
 * and says what it would do, without creating the table or anything else.
 */
export async function keepApart(sql: SqlClient, rawInput: KeepApartInput): Promise<KeepApartResult> {
  const input = keepApartInputSchema.parse(rawInput);
  const [a, b] = [input.companyA, input.companyB].sort((x, y) => x - y) as [number, number];
  const work = async (tx: SqlSession) => {
    if (!input.dryRun) await createMigrationSchema(tx);
    const state = await readPair(tx, a, b);
    const status = !state.previousReason
      ? 'recorded'
      : state.previousReason === input.reason
        ? 'unchanged'
        : 'updated';
    if (!input.dryRun && status !== 'unchanged') {
      await tx.query(
        `INSERT INTO ${DISTINCT_PAIRS_TABLE} (data_schema, company_a, company_b, company_a_name, company_b_name, reason)
         VALUES (current_schema(), :a, :b, :a_name, :b_name, :reason)
         ON CONFLICT (data_schema, company_a, company_b)
         DO UPDATE SET reason = EXCLUDED.reason, company_a_name = EXCLUDED.company_a_name,
                       company_b_name = EXCLUDED.company_b_name,
                       recorded_by = current_user, recorded_at = now()`,
        { a, b, a_name: state.a.name, b_name: state.b.name, reason: input.reason },
      );
    }
    const pairsAfter = state.groupPairs + (state.previousReason ? 0 : 1);
    return keepApartResultSchema.parse({
      status,
      dryRun: input.dryRun,
      schema: state.schema,
      normalizedName: state.normalizedName,
      companyA: state.a,
      companyB: state.b,
      reason: input.reason,
      previousReason: state.previousReason,
      groupAcknowledged: isAcknowledged(state.groupSize, pairsAfter),
      groupSize: state.groupSize,
    });
  };
  await requireSchemas(sql, { unified: true });
  return input.dryRun ? work(sql) : sql.transaction(work);
}

interface PairState {
  schema: string;
  normalizedName: string;
  a: { companyId: number; name: string };
  b: { companyId: number; name: string };
  previousReason: string | null;
  /** Companies sharing the pair's normalized name, and pairs among them already recorded. */
  groupSize: number;
  groupPairs: number;
}

async function readPair(sql: SqlSession, a: number, b: number): Promise<PairState> {
  const tableExists = await distinctPairsTableExists(sql);
  const recorded = (where: string, select: string) =>
    tableExists
      ? `(SELECT ${select} FROM ${DISTINCT_PAIRS_TABLE} d WHERE d.data_schema = current_schema() AND ${where})`
      : 'NULL';
  const { rows } = await sql.query<{
    company_id: number;
    company_name: string;
    normalized: string;
    group_size: number;
    group_pairs: number | null;
    previous_reason: string | null;
    schema: string;
  }>(
    `WITH picked AS (
       SELECT c.company_id, c.company_name, ${normalizedNameSql('c.company_name')} AS normalized
         FROM companies c WHERE c.company_id IN (:a, :b)),
     peers AS (
       SELECT c.company_id FROM companies c
        WHERE ${normalizedNameSql('c.company_name')} IN (SELECT normalized FROM picked))
     SELECT p.company_id, p.company_name, p.normalized, current_schema() AS schema,
            (SELECT count(*) FROM companies c WHERE ${normalizedNameSql('c.company_name')} = p.normalized)::int AS group_size,
            ${recorded('d.company_a IN (SELECT company_id FROM peers) AND d.company_b IN (SELECT company_id FROM peers)', 'count(*)::int')} AS group_pairs,
            ${recorded('d.company_a = :a AND d.company_b = :b', 'd.reason')} AS previous_reason
       FROM picked p ORDER BY p.company_id`,
    { a, b },
  );
  const found = new Map(rows.map((r) => [Number(r.company_id), r]));
  const unknown = [a, b].filter((id) => !found.has(id));
  if (unknown.length > 0) {
    throw new RemedyRefusedError(
      `unknown company id${unknown.length > 1 ? 's' : ''} ${unknown.join(' and ')} (no such row in companies)`,
    );
  }
  const rowA = found.get(a);
  const rowB = found.get(b);
  if (!rowA || !rowB) throw new Error('unreachable: both companies were found');
  if (rowA.normalized !== rowB.normalized) {
    throw new RemedyRefusedError(
      `companies ${a} (“${rowA.company_name}”) and ${b} (“${rowB.company_name}”) do not have near-identical ` +
        'names, so validation does not report them as duplicates: nothing to keep apart (check the ids)',
    );
  }
  return {
    schema: rowA.schema,
    normalizedName: rowA.normalized,
    a: { companyId: a, name: rowA.company_name },
    b: { companyId: b, name: rowB.company_name },
    previousReason: rowA.previous_reason,
    groupSize: Number(rowA.group_size),
    groupPairs: Number(rowA.group_pairs ?? 0),
  };
}
