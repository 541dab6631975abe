import type { Command } from 'commander';
import * as z from 'zod';
import {
  type DualWriteStatus,
  dualWriteStatus,
  installDualWrite,
  uninstallDualWrite,
} from '../../core/dual-write/dual-write.ts';
import { openDatabase, withDatabaseOptions } from '../database.ts';
import { type CliIo, formatTable } from '../output.ts';

const databaseOptions = z.object({
  databaseUrl: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  json: z.boolean().default(false),
});

const uninstallOptions = databaseOptions.extend({ keepErrors: z.boolean().default(false) });

function print(io: CliIo, json: boolean, result: unknown, text: string): void {
  io.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : `${text}\n`);
}

function describeStatus(database: string, status: DualWriteStatus): string {
  const state = status.installed ? 'installed' : status.partial ? 'PARTIALLY installed' : 'not installed';
  const lines = [
    `dual write on ${database}: ${state}`,
    formatTable(
      ['table', 'trigger'],
      status.triggers.map((t) => [t.table, t.present ? (t.enabled ? 'present' : 'disabled') : 'missing']),
    ),
    `functions: ${status.functionsPresent}/${status.functionsExpected}` +
      (status.missingFunctions.length > 0 && status.functionsPresent > 0
        ? ` (missing: ${status.missingFunctions.join(', ')})`
        : ''),
    status.errorsTable
      ? `sync errors: ${status.syncErrors}`
      : 'sync errors: (no company_migration_sync_errors table)',
  ];
  const latest = status.latestError;
  if (latest) {
    lines.push(
      `latest error: #${latest.errorId} at ${latest.occurredAt} — ${latest.operation} ${latest.legacyTable}` +
        `${latest.legacyId === null ? '' : `#${latest.legacyId}`}` +
        `${latest.sqlState ? ` [${latest.sqlState}]` : ''}: ${latest.message}`,
    );
  }
  return lines.join('\n');
}

/** `company-migration dual-write install|uninstall|status`: the triggers that keep legacy writes in step. */
export function registerDualWriteCommand(program: Command, io: CliIo): void {
  const dualWrite = program
    .command('dual-write')
    .description(
      'triggers on the legacy tables that apply every application write to the unified schema (R1–R6); ' +
        'a failing sync is recorded in company_migration_sync_errors and never fails the write',
    );

  withDatabaseOptions(dualWrite.command('install'))
    .description('install (or replace) the triggers and functions, in one transaction; idempotent')
    .option('--json', 'print the result as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const options = databaseOptions.parse(raw);
      const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
      try {
        const result = await installDualWrite(client);
        print(
          io,
          options.json,
          { database: description, ...result },
          `dual write installed on ${description} (schema ${result.schema}): ${result.triggers} triggers, ` +
            `${result.functions} functions; personnel title column ${result.personnelTitleColumn}`,
        );
      } finally {
        await client.close();
      }
    });

  withDatabaseOptions(dualWrite.command('uninstall'))
    .description('drop the triggers, functions and sync-errors table, in one transaction; idempotent')
    .option('--keep-errors', 'keep company_migration_sync_errors and its rows')
    .option('--json', 'print the result as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const options = uninstallOptions.parse(raw);
      const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
      try {
        await uninstallDualWrite(client, { keepErrors: options.keepErrors });
        print(
          io,
          options.json,
          { database: description, uninstalled: true, keptErrors: options.keepErrors },
          `dual write uninstalled from ${description}` +
            (options.keepErrors ? ' (company_migration_sync_errors kept)' : ''),
        );
      } finally {
        await client.close();
      }
    });

  withDatabaseOptions(dualWrite.command('status'))
    .description('which triggers and functions exist, and the sync-error count and latest error')
    .option('--json', 'print the result as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const options = databaseOptions.parse(raw);
      const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
      try {
        const status = await dualWriteStatus(client);
        print(io, options.json, { database: description, ...status }, describeStatus(description, status));
      } finally {
        await client.close();
      }
    });
}
