import type { Command } from 'commander';
import * as z from 'zod';
import {
  type DuplicateGroupDetails,
  type DuplicatesList,
  type KeepApartResult,
  keepApart,
  listDuplicates,
} from '../../core/remedies/duplicates.ts';
import { RemedyRefusedError } from '../../core/remedies/errors.ts';
import { type FieldConflict, type MergeResult, mergeCompanies } from '../../core/remedies/merge.ts';
import { roleLabel } from '../../core/reports/render-validation.ts';
import { pathSegment } from '../../core/reports/store.ts';
import { openDatabase, withDatabaseOptions } from '../database.ts';
import { CliError } from '../errors.ts';
import { type CliIo, formatTable } from '../output.ts';

const databaseOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  json: z.boolean().default(false),
});

const companyId = (which: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, `company id ${which} must be a positive whole number`)
    .transform(Number);

const keepApartOptions = databaseOptions.extend({
  a: companyId('A'),
  b: companyId('B'),
  reason: z.string().trim().min(1, '--reason must say why the two companies are distinct').max(500),
  dryRun: z.boolean().default(false),
});

const mergeOptions = databaseOptions.extend({
  keep: companyId('--keep'),
  merge: companyId('--merge'),
  force: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  runId: pathSegment(80).optional(),
});

function print(io: CliIo, json: boolean, result: unknown, text: string): void {
  io.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : `${text}\n`);
}

/**
 * `company-migration duplicates list|keep-apart|merge`: review V5, record legitimately distinct pairs, and
 * merge a duplicate into its survivor (journaled: `undo <run-id>` reverses it).
 */
export function registerDuplicatesCommand(program: Command, io: CliIo): void {
  const duplicates = program
    .command('duplicates')
    .description(
      'companies with near-identical names (validation V5): list the groups with what a decision needs, ' +
        'record pairs that are legitimately distinct so validation reports them as acknowledged, and merge ' +
        'a duplicate into its survivor',
    );

  withDatabaseOptions(duplicates.command('list'))
    .description(
      'every group of near-identical names: per company its roles, contexts, legacy records, project ' +
        'assignments, affiliations, client profile and creation date; the pairs recorded as distinct; and ' +
        'the survivor a merge should keep (most references, then created first, then lowest id). Read-only.',
    )
    .option('--json', 'print the list as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const options = databaseOptions.parse(raw);
      const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
      try {
        const list = await listDuplicates(client);
        print(io, options.json, { database: description, ...list }, describeList(description, list));
      } finally {
        await client.close();
      }
    });

  withDatabaseOptions(duplicates.command('keep-apart'))
    .description(
      'record that companies A and B are legitimately distinct (e.g. a subsidiary and its parent): ' +
        'validation then reports their group as acknowledged once all its pairs are recorded. Idempotent; ' +
        'a new reason replaces the old. Refuses unknown ids, A = B, an empty reason and names that are not ' +
        'near-identical. Creates the table company_migration.distinct_company_pairs on first use.',
    )
    .argument('<A>', 'a company id (companies.company_id)')
    .argument('<B>', 'the other company id')
    .requiredOption('--reason <text>', 'why the two are distinct (shown in the validation report)')
    .option('--dry-run', 'check and say what would be recorded; write nothing')
    .option('--json', 'print the result as JSON')
    .action(async (a: string, b: string, raw: Record<string, unknown>) => {
      const parsed = keepApartOptions.safeParse({ ...raw, a, b });
      if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join('; '));
      const options = parsed.data;
      if (options.a === options.b) {
        throw new CliError(
          `A and B are the same company (${options.a}): it cannot be kept apart from itself`,
        );
      }
      const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
      try {
        const result = await keepApart(client, {
          companyA: options.a,
          companyB: options.b,
          reason: options.reason,
          dryRun: options.dryRun,
        }).catch((error: unknown) => {
          throw error instanceof RemedyRefusedError ? new CliError(error.message) : error;
        });
        print(io, options.json, { database: description, ...result }, describeKeepApart(result));
      } finally {
        await client.close();
      }
    });

  withDatabaseOptions(duplicates.command('merge'))
    .description(
      'merge company --merge into company --keep (the survivor): its role assignments, personnel ' +
        'affiliations and client profile move to the survivor; where the survivor already has the same ' +
        'assignment (company, role, context) or affiliation (person, title) the two collapse into the ' +
        "survivor's row (confidential when either was); the survivor's client profile and company fields " +
        'stay and differing fields are reported; the survivor is an MPR client when either was. Then the ' +
        'merged company is removed. One transaction, journaled under a run id of its own (printed): ' +
        '`company-migration undo <run-id>` restores the exact earlier rows. Refuses unknown ids, --keep = ' +
        '--merge, names that are not near-identical and pairs recorded with keep-apart (both unless --force), ' +
        'and companies that rows of other tables point at. Exit 0 merged (or planned), 2 refused or failed.',
    )
    .requiredOption('--keep <id>', 'the survivor (companies.company_id): the company that stays')
    .requiredOption('--merge <id>', 'the company absorbed into the survivor and removed')
    .option('--force', 'merge even when the names are not near-identical or the pair is kept apart')
    .option('--dry-run', 'report exactly what the merge would move, collapse and report; write nothing')
    .option('--run-id <id>', 'journal the merge under this (unused) run id (default: merge-<UTC time>-<hex>)')
    .option('--json', 'print the result as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const parsed = mergeOptions.safeParse(raw);
      if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join('; '));
      const options = parsed.data;
      if (options.keep === options.merge) {
        throw new CliError(
          `--keep and --merge are the same company (${options.keep}): a company cannot absorb itself`,
        );
      }
      const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
      try {
        const result = await mergeCompanies(client, {
          keepId: options.keep,
          mergeId: options.merge,
          force: options.force,
          dryRun: options.dryRun,
          runId: options.runId,
        }).catch((error: unknown) => {
          throw error instanceof RemedyRefusedError ? new CliError(error.message) : error;
        });
        print(io, options.json, { database: description, ...result }, describeMerge(result));
      } finally {
        await client.close();
      }
    });
}

function describeList(database: string, list: DuplicatesList): string {
  if (list.groups.length === 0) return `no companies with near-identical names in ${database}`;
  return [
    `${list.groups.length} group(s) of near-identical company names in ${database} (schema ${list.schema}): ` +
      `${list.toReview} to review, ${list.acknowledged} acknowledged as legitimately distinct`,
    ...list.groups.map(describeGroup),
  ].join('\n\n');
}

function describeGroup(group: DuplicateGroupDetails): string {
  const state = group.acknowledged
    ? 'acknowledged: legitimately distinct'
    : group.acknowledgedPairs.length > 0
      ? `to review (${group.acknowledgedPairs.length} pair(s) recorded as distinct)`
      : 'to review';
  const lines = [
    `“${group.normalizedName}” — ${state}`,
    formatTable(
      [
        'id',
        'name',
        'roles',
        'contexts',
        'created',
        'records',
        'projects',
        'other',
        'affiliations',
        'profile',
      ],
      group.companies.map((c) => [
        c.companyId,
        JSON.stringify(c.name),
        c.roles.map(roleLabel).join(', ') || '—',
        c.contextTypes.join(', ') || '—',
        c.createdDate ?? '—',
        c.recordAssignments,
        c.projectAssignments,
        c.otherAssignments,
        c.affiliations,
        c.clientProfile ? 'yes' : 'no',
      ]),
    ),
  ];
  const suggestion = group.suggestion;
  if (suggestion) {
    lines.push(
      `suggested survivor: ${suggestion.survivorId} (${suggestion.reason}); ` +
        `would absorb ${suggestion.absorb.join(', ') || 'none'}` +
        (suggestion.keptApart.length > 0 ? `; kept apart: ${suggestion.keptApart.join(', ')}` : ''),
    );
  }
  for (const pair of group.acknowledgedPairs) {
    lines.push(
      `distinct: ${pair.companyA} and ${pair.companyB} — ${pair.reason}` +
        (pair.recordedBy ? ` (${pair.recordedBy}, ${pair.recordedAt ?? ''})` : ''),
    );
  }
  return lines.join('\n');
}

function describeKeepApart(result: KeepApartResult): string {
  const pair =
    `${result.companyA.companyId} ${JSON.stringify(result.companyA.name)} and ` +
    `${result.companyB.companyId} ${JSON.stringify(result.companyB.name)}`;
  const verb = {
    recorded: result.dryRun ? 'would record' : 'recorded',
    updated: result.dryRun ? 'would replace the reason of' : 'replaced the reason of',
    unchanged: 'already recorded, unchanged:',
  }[result.status];
  const group = result.groupAcknowledged
    ? `group “${result.normalizedName}” (${result.groupSize} companies) ${result.dryRun ? 'would be' : 'is'} acknowledged`
    : `group “${result.normalizedName}” (${result.groupSize} companies) stays to review: record every pair to acknowledge it`;
  return [
    `${result.dryRun ? 'DRY RUN: ' : ''}${verb} ${pair} as legitimately distinct — ${result.reason}` +
      (result.status === 'updated' ? ` (was: ${result.previousReason})` : ''),
    group,
    ...(result.dryRun ? ['nothing was written'] : []),
  ].join('\n');
}

function describeMerge(result: MergeResult): string {
  const company = (c: MergeResult['survivor']) => `${c.companyId} ${JSON.stringify(c.name)}`;
  const would = (done: string, planned: string) => (result.dryRun ? planned : done);
  const lines = [
    `${result.dryRun ? 'DRY RUN: ' : ''}${would('merged', 'would merge')} ${company(result.merged)} into ` +
      `${company(result.survivor)} (schema ${result.schema})` +
      (result.forcedOver.length > 0 ? ` — forced over: ${result.forcedOver.join(', ')}` : ''),
    formatTable(
      ['rows', 'moved to the survivor', "collapsed into the survivor's"],
      [
        ['role assignments', result.assignments.moved, result.assignments.collapsed],
        ['affiliations', result.affiliations.moved, result.affiliations.collapsed],
      ],
    ),
  ];
  if (result.assignments.madeConfidential > 0) {
    lines.push(
      `${result.assignments.madeConfidential} of the survivor's assignment(s) ${would('became', 'would become')} ` +
        'confidential (a collapsed one was)',
    );
  }
  const profile = {
    none: 'client profile: neither has one',
    survivor: "client profile: the survivor's stays (the merged company has none)",
    moved: `client profile: the merged company's ${would('now belongs', 'would belong')} to the survivor`,
    collapsed: "client profile: both have one; the survivor's stays",
  }[result.clientProfile.outcome];
  lines.push(profile, ...describeConflicts('client profile', result.clientProfile.conflicts));
  if (result.company.madeMprClient) {
    lines.push(`the survivor ${would('is now', 'would become')} an MPR client (the merged company was)`);
  }
  lines.push(...describeConflicts('company', result.company.conflicts));
  lines.push(
    result.runId
      ? `journaled as run ${result.runId} (${result.rowsWritten} rows written); to reverse it exactly:\n` +
          `  company-migration undo ${result.runId} --dry-run\n  company-migration undo ${result.runId}`
      : `nothing was written (the merge would write ${result.rowsWritten} rows, journaled under a new run id)`,
  );
  return lines.join('\n');
}

function describeConflicts(what: string, conflicts: FieldConflict[]): string[] {
  if (conflicts.length === 0) return [];
  return [
    `${what} fields that differ (the survivor's values stay):`,
    ...conflicts.map(
      (c) =>
        `- ${c.field}: ` +
        (c.valuesHidden
          ? 'differs (free text, not shown)'
          : `${c.survivor === null ? 'NULL' : JSON.stringify(c.survivor)} kept, ` +
            `${c.merged === null ? 'NULL' : JSON.stringify(c.merged)} dropped`),
    ),
  ];
}
