import type { Command } from 'commander';
import { z } from 'zod';
import {
  type DuplicateGroupDetails,
  type DuplicatesList,
  type KeepApartResult,
  keepApart,
  listDuplicates,
} from '../../core/remedies/duplicates.ts';
import { RemedyRefusedError } from '../../core/remedies/errors.ts';
import { roleLabel } from '../../core/reports/render-validation.ts';
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

function print(io: CliIo, json: boolean, result: unknown, text: string): void {
  io.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : `${text}\n`);
}

/** `company-migration duplicates list|keep-apart`: review V5 and record legitimately distinct pairs. */
export function registerDuplicatesCommand(program: Command, io: CliIo): void {
  const duplicates = program
    .command('duplicates')
    .description(
      'companies with near-identical names (validation V5): list the groups with what a decision needs, ' +
        'and record pairs that are legitimately distinct so validation reports them as acknowledged',
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
