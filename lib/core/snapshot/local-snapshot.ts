import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import * as z from 'zod';
import { DatabaseConfigurationError } from '../sql/errors.ts';
import { describeUrl } from '../sql/pg-client.ts';
import { lockDataDir, type PgliteSqlClient } from '../sql/pglite-client.ts';

/**
 * The local stand-in for the RDS cluster snapshot: before a migration writes, the database is saved to a
 * folder (usually the run's report folder), and `restoreLocalSnapshot` puts it back.
 *
 * - Embedded PGlite: the data directory as a gzipped tarball (`snapshot.tar.gz`).
 * - A PostgreSQL server: `pg_dump --format=custom` (`snapshot.pgdump`), restored with `pg_restore`.
 *
 * `snapshot.json` beside the file describes it; it is written last, so a folder holding it holds a
 * complete snapshot. Files are written to a temporary name and renamed into place.
 */

export const SNAPSHOT_MANIFEST = 'snapshot.json';
export const PGLITE_SNAPSHOT_FILE = 'snapshot.tar.gz';
export const PG_SNAPSHOT_FILE = 'snapshot.pgdump';

export type SnapshotSource =
  | { kind: 'pglite'; client: PgliteSqlClient }
  | { kind: 'pg'; url: string; schema?: string };

export type RestoreTarget = { kind: 'pglite'; dataDir: string } | { kind: 'pg'; url: string };

export interface CreateSnapshotOptions {
  /** The pg_dump to run; `pg_dump` on the PATH by default. */
  pgDumpPath?: string;
  now?: () => Date;
}

export interface RestoreSnapshotOptions {
  /** The pg_restore to run; `pg_restore` on the PATH by default. */
  pgRestorePath?: string;
  now?: () => Date;
}

export type CreateSnapshotResult =
  | { status: 'created'; snapshotId: string; file: string; bytes: number }
  | { status: 'skipped'; reason: string };

export interface RestoreSnapshotResult {
  /** The database restored into, for messages (no password). */
  restored: string;
  snapshotId: string;
  createdAt: string;
}

export const snapshotManifestSchema = z.object({
  schemaVersion: z.literal(1),
  snapshotId: z.string().min(1),
  kind: z.enum(['pglite', 'pg']),
  format: z.enum(['pglite-data-dir-tar-gzip', 'pg-dump-custom']),
  createdAt: z.iso.datetime(),
  /** The snapshot file, a name inside the snapshot folder. */
  file: z.enum([PGLITE_SNAPSHOT_FILE, PG_SNAPSHOT_FILE]),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The database it was taken of: the data directory, or the URL without its password. */
  database: z.string(),
  /** Only this schema was dumped (server snapshots). */
  schema: z.string().optional(),
});
export type SnapshotManifest = z.infer<typeof snapshotManifestSchema>;

/** A snapshot that cannot be taken or restored, said for the operator. */
export class SnapshotError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SnapshotError';
  }
}

const execFileAsync = promisify(execFile);
const gunzipAsync = promisify(gunzip);

// Creating ----------------------------------------------------------------------------------------------

export async function createLocalSnapshot(
  source: SnapshotSource,
  folder: string,
  options: CreateSnapshotOptions = {},
): Promise<CreateSnapshotResult> {
  const createdAt = (options.now?.() ?? new Date()).toISOString();
  const snapshotId = `local-${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  await mkdir(folder, { recursive: true });
  let manifest: SnapshotManifest;
  if (source.kind === 'pglite') {
    const file = join(folder, PGLITE_SNAPSHOT_FILE);
    // Dirty pages to disk first, so the tarball needs no WAL replay to be consistent.
    await source.client.db.exec('CHECKPOINT');
    const tarball = Buffer.from(await (await source.client.db.dumpDataDir('gzip')).arrayBuffer());
    await writeAtomically(file, tarball);
    const dataDir = source.client.db.dataDir;
    manifest = {
      schemaVersion: 1,
      snapshotId,
      kind: 'pglite',
      format: 'pglite-data-dir-tar-gzip',
      createdAt,
      file: PGLITE_SNAPSHOT_FILE,
      bytes: tarball.length,
      sha256: sha256(tarball),
      database: dataDir ? `embedded PGlite at ${resolve(dataDir)}` : 'embedded PGlite (in memory)',
    };
  } else {
    const file = join(folder, PG_SNAPSHOT_FILE);
    const temp = tempPathOf(file);
    const connection = connectionOf(source.url);
    const args = ['--format=custom', '--file', temp];
    if (source.schema) args.push('--schema', source.schema);
    args.push('--dbname', connection.url);
    try {
      await execFileAsync(options.pgDumpPath ?? 'pg_dump', args, {
        env: { ...process.env, ...connection.env },
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      await rm(temp, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return {
          status: 'skipped',
          reason:
            `pg_dump is not installed (${options.pgDumpPath ?? 'pg_dump'} not found); no local snapshot of ` +
            `${describeUrl(source.url)} was taken. Install the PostgreSQL client tools matching the server, ` +
            'or take a backup another way before migrating',
        };
      }
      throw new SnapshotError(`pg_dump failed: ${stderrLine(error)}`, { cause: error });
    }
    await rename(temp, file);
    const body = await readFile(file);
    manifest = {
      schemaVersion: 1,
      snapshotId,
      kind: 'pg',
      format: 'pg-dump-custom',
      createdAt,
      file: PG_SNAPSHOT_FILE,
      bytes: body.length,
      sha256: sha256(body),
      database: describeUrl(source.url),
      ...(source.schema ? { schema: source.schema } : {}),
    };
  }
  await writeAtomically(join(folder, SNAPSHOT_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return { status: 'created', snapshotId, file: join(folder, manifest.file), bytes: manifest.bytes };
}

// Reading -----------------------------------------------------------------------------------------------

/** The snapshot a folder holds; throws SnapshotError when there is none or its description is unreadable. */
export async function readLocalSnapshotManifest(folder: string): Promise<SnapshotManifest> {
  const path = join(folder, SNAPSHOT_MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new SnapshotError(`no snapshot in ${resolve(folder)} (${SNAPSHOT_MANIFEST} is missing)`);
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SnapshotError(`${path} is not valid JSON`, { cause: error });
  }
  const result = snapshotManifestSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new SnapshotError(
      `${path} does not describe a snapshot: ${issue ? `${issue.path.join('.') || 'document'}: ${issue.message}` : 'invalid'}`,
    );
  }
  return result.data;
}

// Restoring ---------------------------------------------------------------------------------------------

/**
 * Replaces the target database with the snapshot in `folder`. The snapshot file is checked against its
 * description first. Embedded: refused while another live process holds the data directory; the current
 * directory is moved aside and deleted only once the snapshot loaded (put back otherwise). Server:
 * `pg_restore --clean --if-exists --no-owner` in one transaction, so a failure changes nothing.
 */
export async function restoreLocalSnapshot(
  folder: string,
  target: RestoreTarget,
  options: RestoreSnapshotOptions = {},
): Promise<RestoreSnapshotResult> {
  const manifest = await readLocalSnapshotManifest(folder);
  if (manifest.kind !== target.kind) {
    throw new SnapshotError(
      `the snapshot in ${resolve(folder)} is of ${describeKind(manifest.kind)}; ` +
        `it cannot be restored into ${describeKind(target.kind)}`,
    );
  }
  const file = join(folder, manifest.file);
  const body = await readSnapshotFile(file, manifest);
  const done = { snapshotId: manifest.snapshotId, createdAt: manifest.createdAt };
  if (target.kind === 'pglite') {
    const dataDir = resolve(target.dataDir);
    await restorePglite(file, body, dataDir, options);
    return { restored: `embedded PGlite at ${dataDir}`, ...done };
  }
  await restoreServer(file, target.url, options, manifest.schema !== undefined);
  return { restored: describeUrl(target.url), ...done };
}

async function readSnapshotFile(file: string, manifest: SnapshotManifest): Promise<Buffer> {
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new SnapshotError(`the snapshot file ${file} is missing`);
    throw error;
  }
  if (body.length !== manifest.bytes || sha256(body) !== manifest.sha256) {
    throw new SnapshotError(
      `the snapshot file ${file} is damaged: its size or checksum differs from ${SNAPSHOT_MANIFEST}`,
    );
  }
  return body;
}

async function restorePglite(
  file: string,
  tarball: Buffer,
  dataDir: string,
  options: RestoreSnapshotOptions,
): Promise<void> {
  // Unpacked and checked here: PGlite's own unpacking of a damaged archive can crash the process.
  let tar: Buffer;
  try {
    tar = await gunzipAsync(tarball);
  } catch (error) {
    throw new SnapshotError(`the snapshot file ${file} is not a valid gzip archive: ${firstLine(error)}`, {
      cause: error,
    });
  }
  const problem = tarProblem(tar);
  if (problem)
    throw new SnapshotError(`the snapshot file ${file} is not a PGlite data directory: ${problem}`);

  await mkdir(dirname(dataDir), { recursive: true });
  const lockFile = lockForRestore(dataDir);
  try {
    const stamp = (options.now?.() ?? new Date()).toISOString().replace(/[:.]/g, '-');
    const aside = `${dataDir}.before-restore-${stamp}`;
    const hadData = existsSync(dataDir);
    if (hadData) await rename(dataDir, aside);
    try {
      const db = await PGlite.create({
        dataDir,
        loadDataDir: new Blob([new Uint8Array(tar)], { type: 'application/x-tar' }),
      });
      try {
        await db.query('SELECT 1');
      } finally {
        await db.close();
      }
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true });
      if (hadData) await rename(aside, dataDir);
      throw new SnapshotError(
        `could not load the snapshot ${file} (${firstLine(error)}); the database at ${dataDir} is as it was`,
        { cause: error },
      );
    }
    if (hadData) await rm(aside, { recursive: true, force: true });
  } finally {
    rmSync(lockFile, { force: true });
  }
}

async function restoreServer(
  file: string,
  url: string,
  options: RestoreSnapshotOptions,
  schemaDump: boolean,
): Promise<void> {
  const connection = connectionOf(url);
  const command = options.pgRestorePath ?? 'pg_restore';
  // A schema's dump would drop and recreate the schema itself, which fails when the schema holds a table
  // made after the snapshot (e.g. the run journal, when a backfill created it): restore its objects only.
  const listFile = schemaDump ? join(dirname(file), `.restore-list.${randomUUID()}.tmp`) : null;
  try {
    if (listFile) {
      const { stdout } = await execFileAsync(command, ['--list', file], { maxBuffer: 64 * 1024 * 1024 });
      const entries = stdout.split('\n').filter((line) => !/^\d+; \d+ \d+ SCHEMA - /.test(line));
      writeFileSync(listFile, `${entries.join('\n')}\n`);
    }
    await execFileAsync(
      command,
      [
        '--clean',
        '--if-exists',
        '--no-owner',
        '--single-transaction',
        '--exit-on-error',
        ...(listFile ? ['--use-list', listFile] : []),
        '--dbname',
        connection.url,
        file,
      ],
      { env: { ...process.env, ...connection.env }, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SnapshotError(
        `pg_restore is not installed (${command} not found): install the PostgreSQL client tools to restore ${file}`,
      );
    }
    throw new SnapshotError(`pg_restore failed, nothing was changed: ${stderrLine(error)}`, { cause: error });
  } finally {
    if (listFile) rmSync(listFile, { force: true });
  }
}

// Helpers -----------------------------------------------------------------------------------------------

function describeKind(kind: 'pglite' | 'pg'): string {
  return kind === 'pglite' ? 'an embedded PGlite database' : 'a PostgreSQL server database';
}

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** `.<name>.<uuid>.tmp` beside the target: the report stores never list such files. */
function tempPathOf(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomUUID()}.tmp`);
}

async function writeAtomically(target: string, body: string | Buffer): Promise<void> {
  const temp = tempPathOf(target);
  try {
    await writeFile(temp, body, { flag: 'wx' });
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
}

/** The URL without its password (which goes to the child's environment, not its command line). */
function connectionOf(url: string): { url: string; env: Record<string, string> } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SnapshotError(`not a valid database URL: ${describeUrl(url)}`);
  }
  if (!parsed.password) return { url, env: {} };
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { url: parsed.toString(), env: { PGPASSWORD: password } };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.trim() || text;
}

/** The first line the tool wrote to stderr, without its "pg_dump: error: " prefix; else the error's. */
function stderrLine(error: unknown): string {
  const stderr = String((error as { stderr?: unknown }).stderr ?? '');
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return line ? line.replace(/^pg_(dump|restore): (error: )?/, '') : firstLine(error);
}

/**
 * Why a buffer is not a tar archive of a PostgreSQL data directory: every header's checksum and size
 * must hold, and PG_VERSION must be at its top. undefined when it is one.
 */
function tarProblem(tar: Buffer): string | undefined {
  let offset = 0;
  let entries = 0;
  let sawVersion = false;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0);
    if (octal(header.subarray(148, 156)) !== sum) return `bad tar header at byte ${offset}`;
    const name = header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const size = octal(header.subarray(124, 136));
    if (size === undefined) return `bad tar header at byte ${offset}`;
    if (name === 'PG_VERSION' || name === '/PG_VERSION' || name === './PG_VERSION') sawVersion = true;
    offset += 512 + Math.ceil(size / 512) * 512;
    if (offset > tar.length) return 'the archive is truncated';
    entries++;
  }
  if (entries === 0) return 'the archive is empty';
  if (!sawVersion) return 'it has no PG_VERSION';
  return undefined;
}

function octal(field: Buffer): number | undefined {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(text)) return undefined;
  return Number.parseInt(text, 8);
}

/** The lock PgliteSqlClient takes, so nothing opens the directory while it is replaced. */
function lockForRestore(dataDir: string): string {
  try {
    return lockDataDir(dataDir, 'close it before restoring');
  } catch (error) {
    throw error instanceof DatabaseConfigurationError ? new SnapshotError(error.message) : error;
  }
}
