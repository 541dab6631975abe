import { rmSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import * as z from 'zod';
import { generateDemoData } from '../../core/demo/generate.ts';
import { type LoadProgress, loadDemoData } from '../../core/demo/load.ts';
import { applySchemas, countRows } from '../../core/schema/apply.ts';
import { inspectSchema, requireSchemas } from '../../core/schema/introspect.ts';
import { openDatabase, resolveDatabase, withDatabaseOptions } from '../database.ts';
import { CliError } from '../errors.ts';
import { type CliIo, formatTable } from '../output.ts';

const positiveInteger = z.coerce.number().int().positive();

const dbInitOptions = z
  .object({
    databaseUrl: z.string().min(1).optional(),
    dataDir: z.string().min(1).optional(),
    demo: z.boolean().default(false),
    defects: z.boolean().default(false),
    scale: positiveInteger.optional(),
    seed: z.coerce.number().int().optional(),
    schemaOnly: z.boolean().default(false),
    ifAbsent: z.boolean().default(false),
    reset: z.boolean().default(false),
    legacyTitleColumn: z.enum(['relationship_role', 'role_at_entity']).optional(),
    foreignKeys: z.boolean().default(false),
    json: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    if (o.schemaOnly && (o.demo || o.scale !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['schemaOnly'],
        message: '--schema-only cannot be combined with --demo or --scale',
      });
    }
    if (o.defects && !o.demo && o.scale === undefined) {
      ctx.addIssue({ code: 'custom', path: ['defects'], message: '--defects needs --demo or --scale' });
    }
    if (o.foreignKeys && (o.demo || o.scale !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['foreignKeys'],
        message:
          'the demo data holds orphaned links, which foreign keys forbid; use --with-foreign-keys with --schema-only',
      });
    }
  });

export type DbInitOptions = z.infer<typeof dbInitOptions>;

export interface DbInitResult {
  database: string;
  schema: string;
  personnelTitleColumn: string | null;
  demoLoaded: boolean;
  skippedReason?: string;
  tables: { table: string; rows: number }[];
}

export function registerDbCommands(program: Command, io: CliIo): void {
  const db = program.command('db').description('create and inspect the migration database');
  withDatabaseOptions(db.command('init'))
    .description(
      'create the legacy and unified schemas (whatever is missing; existing tables are left alone), ' +
        'optionally load the demo data, and print the row count of every table',
    )
    .option('--demo', 'load the demo data (refused when the legacy tables already hold rows)')
    .option('--scale <n>', 'load the demo data, n times larger')
    .option('--defects', 'with --demo/--scale: add critical defects (a blank name, coverage-sinking orphans)')
    .option('--seed <n>', 'demo data seed (same seed, same data)')
    .option('--schema-only', 'create the schemas, load nothing (the default without --demo or --scale)')
    .option('--if-absent', 'with --demo: keep existing data instead of refusing')
    .option('--reset', 'embedded database only: delete its data directory first')
    .addOption(
      new Option('--legacy-title-column <name>', 'title column of personnel_entity_relationships').choices([
        'relationship_role',
        'role_at_entity',
      ]),
    )
    .option('--with-foreign-keys', 'with --schema-only: give the legacy relationship tables foreign keys')
    .option('--json', 'print the result as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const options = dbInitOptions.parse({ ...raw, foreignKeys: raw.withForeignKeys ?? false });
      const result = await initDatabase(options, io);
      if (options.json) {
        io.stdout(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      io.stdout(`${result.database} (schema ${result.schema})\n`);
      if (result.skippedReason) io.stdout(`${result.skippedReason}\n`);
      io.stdout(
        `${formatTable(
          ['table', 'rows'],
          result.tables.map((t) => [t.table, t.rows]),
        )}\n`,
      );
    });
  withDatabaseOptions(db.command('status'))
    .description(
      'check that both schemas exist (exit 2 naming what is missing) and print the row count of every table',
    )
    .option('--json', 'print the result as JSON')
    .action(async (raw: { databaseUrl?: string; dataDir?: string; json?: boolean }) => {
      const result = await databaseStatus(raw, io);
      if (raw.json) {
        io.stdout(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      io.stdout(
        `${result.database} (schema ${result.schema}; personnel title column ${result.personnelTitleColumn})\n`,
      );
      io.stdout(
        `${formatTable(
          ['table', 'rows'],
          result.tables.map((t) => [t.table, t.rows]),
        )}\n`,
      );
    });
}

export interface DbStatusResult {
  database: string;
  schema: string;
  personnelTitleColumn: string;
  tables: { table: string; rows: number }[];
}

/** Both schemas must be there: a missing table is an error naming it, never a zero. */
export async function databaseStatus(options: { databaseUrl?: string; dataDir?: string }, io: CliIo) {
  const { client, description } = await openDatabase({ ...options, mustExist: true }, io.env);
  try {
    const inspection = await requireSchemas(client);
    return {
      database: description,
      schema: inspection.schema,
      personnelTitleColumn: inspection.personnelTitleColumn,
      tables: await countRows(client),
    } satisfies DbStatusResult;
  } finally {
    await client.close();
  }
}

export async function initDatabase(options: DbInitOptions, io: CliIo): Promise<DbInitResult> {
  const target = resolveDatabase(options, io.env);
  if (options.reset) {
    if (target.url)
      throw new CliError('--reset only deletes an embedded database; drop server tables yourself');
    rmSync(target.dataDir, { recursive: true, force: true });
  }
  const { client, description } = await openDatabase(options, io.env);
  try {
    await applySchemas(client, {
      ...(options.legacyTitleColumn ? { personnelTitleColumn: options.legacyTitleColumn } : {}),
      foreignKeys: options.foreignKeys,
    });
    const wantsDemo = options.demo || options.scale !== undefined;
    let demoLoaded = false;
    let skippedReason: string | undefined;
    if (wantsDemo) {
      const existingRows = (await countRows(client)).reduce((sum, t) => sum + t.rows, 0);
      if (existingRows > 0 && options.ifAbsent) {
        skippedReason = `the database already holds ${existingRows} rows: demo data not loaded`;
      } else {
        const dataset = generateDemoData({
          scale: options.scale ?? 1,
          defects: options.defects,
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
        });
        await withProgress(io, (onProgress) => loadDemoData(client, dataset, onProgress));
        demoLoaded = true;
      }
    }
    const inspection = await inspectSchema(client);
    return {
      database: description,
      schema: inspection.schema,
      personnelTitleColumn: inspection.personnelTitleColumn,
      demoLoaded,
      ...(skippedReason ? { skippedReason } : {}),
      tables: await countRows(client),
    };
  } finally {
    await client.close();
  }
}

async function withProgress<T>(
  io: CliIo,
  work: (onProgress: (p: LoadProgress) => void) => Promise<T>,
): Promise<T> {
  if (!io.interactive) return work(() => {});
  const bar = new SingleBar({
    format: 'loading demo data {bar} {percentage}% | {table} {value}/{total} rows',
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  try {
    return await work((p) => {
      if (!started) {
        bar.start(p.total, p.loaded, { table: p.table });
        started = true;
      }
      bar.setTotal(p.total);
      bar.update(p.loaded, { table: p.table });
    });
  } finally {
    if (started) bar.stop();
  }
}
