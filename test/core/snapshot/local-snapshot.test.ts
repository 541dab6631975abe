import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKFILL_STEPS, runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { applySchemas, countRows } from '../../../lib/core/schema/apply.ts';
import {
  createLocalSnapshot,
  readLocalSnapshotManifest,
  restoreLocalSnapshot,
  SnapshotError,
  type SnapshotManifest,
} from '../../../lib/core/snapshot/local-snapshot.ts';
import { describeUrl, PgSqlClient } from '../../../lib/core/sql/pg-client.ts';
import { PgliteSqlClient } from '../../../lib/core/sql/pglite-client.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import { serverUrl, uniqueSchemaName } from '../../support/databases.ts';
import { unifiedStateHash } from '../../support/unified-state.ts';

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-snapshot-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const NOW = new Date('2026-11-25T08:00:00.000Z');
let counter = 0;
const fresh = (name: string) => join(scratch, `${name}-${++counter}`);

/** What the tests compare: row counts, the unified rows, and the vendors' names. */
async function stateOf(sql: SqlClient) {
  const vendors = await sql.query<{ h: string }>(
    `SELECT md5(coalesce(string_agg(vendor_id || ':' || vendor_name, '|' ORDER BY vendor_id), '')) AS h
       FROM technology_vendors`,
  );
  return { counts: await countRows(sql), unified: await unifiedStateHash(sql), vendors: vendors.rows[0]?.h };
}

/** The migration's writes and an operator's mistake: what a restore must undo. */
async function changeData(sql: SqlClient) {
  for (const step of BACKFILL_STEPS) await runBackfillToEnd(sql, step);
  await sql.query('DELETE FROM project_vendor_relationships');
  await sql.query(`UPDATE technology_vendors SET vendor_name = vendor_name || ' (renamed)'`);
}

async function demoDataDir(dataDir: string): Promise<PgliteSqlClient> {
  const client = await PgliteSqlClient.open({ dataDir });
  await applySchemas(client);
  await loadDemoData(client, generateDemoData());
  return client;
}

async function withDataDir<T>(dataDir: string, work: (sql: PgliteSqlClient) => Promise<T>): Promise<T> {
  const client = await PgliteSqlClient.open({ dataDir });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Replaces the snapshot file and updates snapshot.json to match, as if it had been taken so. */
function replaceSnapshotFile(folder: string, body: Buffer) {
  const manifest = JSON.parse(readFileSync(join(folder, 'snapshot.json'), 'utf8')) as SnapshotManifest;
  writeFileSync(join(folder, manifest.file), body);
  const updated = { ...manifest, bytes: body.length, sha256: sha256(join(folder, manifest.file)) };
  writeFileSync(join(folder, 'snapshot.json'), JSON.stringify(updated));
}

function leftovers(dataDir: string): string[] {
  return readdirSync(dirname(dataDir)).filter(
    (name) => name.includes('.before-restore-') || name.endsWith('.lock'),
  );
}

describe('local snapshot of embedded PGlite', () => {
  it('restores the data directory as it was when the snapshot was taken', async () => {
    // Prepare
    const dataDir = fresh('pglite');
    const folder = fresh('snapshot');
    const client = await demoDataDir(dataDir);
    const before = await stateOf(client);

    // Act
    const created = await createLocalSnapshot({ kind: 'pglite', client }, folder, { now: () => NOW });
    await changeData(client);
    const changed = await stateOf(client);
    await client.close();
    const restored = await restoreLocalSnapshot(folder, { kind: 'pglite', dataDir });

    // Assess
    const file = join(folder, 'snapshot.tar.gz');
    expect(created).toEqual({
      status: 'created',
      snapshotId: expect.stringMatching(/^local-20261125T080000Z-[0-9a-f]{6}$/),
      file,
      bytes: statSync(file).size,
    });
    if (created.status !== 'created') throw new Error('not created');
    expect(readdirSync(folder).sort()).toEqual(['snapshot.json', 'snapshot.tar.gz']);
    expect(await readLocalSnapshotManifest(folder)).toEqual({
      schemaVersion: 1,
      snapshotId: created.snapshotId,
      kind: 'pglite',
      format: 'pglite-data-dir-tar-gzip',
      createdAt: '2026-11-25T08:00:00.000Z',
      file: 'snapshot.tar.gz',
      bytes: created.bytes,
      sha256: sha256(file),
      database: `embedded PGlite at ${dataDir}`,
    });
    expect(restored).toEqual({
      restored: `embedded PGlite at ${dataDir}`,
      snapshotId: created.snapshotId,
      createdAt: '2026-11-25T08:00:00.000Z',
    });
    expect(changed).not.toEqual(before);
    expect(await withDataDir(dataDir, stateOf)).toEqual(before);
    expect(leftovers(dataDir)).toEqual([]);
  });

  it('restores into a data directory that no longer exists', async () => {
    // Prepare
    const dataDir = fresh('pglite');
    const folder = fresh('snapshot');
    const client = await demoDataDir(dataDir);
    const before = await stateOf(client);
    await createLocalSnapshot({ kind: 'pglite', client }, folder);
    await client.close();
    rmSync(dataDir, { recursive: true });

    // Act
    await restoreLocalSnapshot(folder, { kind: 'pglite', dataDir });

    // Assess
    expect(await withDataDir(dataDir, stateOf)).toEqual(before);
  });

  it('refuses while a live process holds the data directory, and takes over a dead one’s lock', async () => {
    // Prepare
    const dataDir = fresh('pglite');
    const folder = fresh('snapshot');
    const client = await demoDataDir(dataDir);
    const before = await stateOf(client);
    await createLocalSnapshot({ kind: 'pglite', client }, folder);
    await changeData(client);
    const changed = await stateOf(client);

    // Act
    const whileOpen = restoreLocalSnapshot(folder, { kind: 'pglite', dataDir });

    // Assess
    await expect(whileOpen).rejects.toThrow(
      new SnapshotError(
        `the embedded database at ${dataDir} is in use by process ${process.pid} (this one); close it before restoring`,
      ),
    );
    expect(await stateOf(client)).toEqual(changed);
    await client.close();

    // Prepare: a lock left by a process that has ended
    const ended = spawnSync(process.execPath, ['-e', '']);
    writeFileSync(`${dataDir}.lock`, String(ended.pid));

    // Act
    await restoreLocalSnapshot(folder, { kind: 'pglite', dataDir });

    // Assess
    expect(await withDataDir(dataDir, stateOf)).toEqual(before);
    expect(leftovers(dataDir)).toEqual([]);
  });

  it('leaves the database as it was when the snapshot cannot be loaded', async () => {
    // Prepare: a well-formed archive of a data directory that holds only PG_VERSION
    const dataDir = fresh('pglite');
    const folder = fresh('snapshot');
    const client = await demoDataDir(dataDir);
    await createLocalSnapshot({ kind: 'pglite', client }, folder);
    await changeData(client);
    const changed = await stateOf(client);
    await client.close();
    const tar = gunzipSync(readFileSync(join(folder, 'snapshot.tar.gz')));
    expect(tar.subarray(0, 11).toString('latin1')).toBe('/PG_VERSION');
    replaceSnapshotFile(folder, gzipSync(Buffer.concat([tar.subarray(0, 1024), Buffer.alloc(1024)])));

    // Act
    const restore = restoreLocalSnapshot(folder, { kind: 'pglite', dataDir });

    // Assess
    await expect(restore).rejects.toThrow(SnapshotError);
    await expect(restore).rejects.toThrow(
      new RegExp(
        `^could not load the snapshot ${join(folder, 'snapshot.tar.gz')} \\(.+\\); the database at ${dataDir} is as it was$`,
      ),
    );
    expect(await withDataDir(dataDir, stateOf)).toEqual(changed);
    expect(leftovers(dataDir)).toEqual([]);
  });

  it('refuses a damaged, truncated or foreign snapshot before touching the database', async () => {
    // Prepare
    const dataDir = fresh('pglite');
    const folder = fresh('snapshot');
    const client = await demoDataDir(dataDir);
    await createLocalSnapshot({ kind: 'pglite', client }, folder);
    await changeData(client);
    const changed = await stateOf(client);
    await client.close();
    const file = join(folder, 'snapshot.tar.gz');
    const good = readFileSync(file);
    const target = { kind: 'pglite', dataDir } as const;

    // Act, Assess: changed after it was taken
    writeFileSync(file, Buffer.concat([good, Buffer.from('x')]));
    await expect(restoreLocalSnapshot(folder, target)).rejects.toThrow(
      `the snapshot file ${file} is damaged: its size or checksum differs from snapshot.json`,
    );
    // truncated when it was written
    replaceSnapshotFile(folder, good.subarray(0, Math.floor(good.length / 2)));
    await expect(restoreLocalSnapshot(folder, target)).rejects.toThrow(
      `the snapshot file ${file} is not a valid gzip archive: unexpected end of file`,
    );
    // not a data directory
    replaceSnapshotFile(folder, gzipSync(Buffer.alloc(2048)));
    await expect(restoreLocalSnapshot(folder, target)).rejects.toThrow(
      `the snapshot file ${file} is not a PGlite data directory: the archive is empty`,
    );
    replaceSnapshotFile(folder, gzipSync(Buffer.from('not a tarball at all')));
    await expect(restoreLocalSnapshot(folder, target)).rejects.toThrow(
      `the snapshot file ${file} is not a PGlite data directory: the archive is empty`,
    );
    // of another kind of database
    await expect(
      restoreLocalSnapshot(folder, { kind: 'pg', url: 'postgres://postgres@127.0.0.1:1/none' }),
    ).rejects.toThrow(
      `the snapshot in ${folder} is of an embedded PGlite database; it cannot be restored into a PostgreSQL server database`,
    );
    // no snapshot at all
    await expect(restoreLocalSnapshot(join(scratch, 'nothing-here'), target)).rejects.toThrow(
      `no snapshot in ${join(scratch, 'nothing-here')} (snapshot.json is missing)`,
    );
    expect(await withDataDir(dataDir, stateOf)).toEqual(changed);
    expect(leftovers(dataDir)).toEqual([]);
  });
});

describe('local snapshot of a PostgreSQL server, with a stand-in pg_dump', () => {
  function script(name: string, body: string): string {
    const path = join(scratch, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it('passes the URL without its password, which goes to the environment', async () => {
    // Prepare
    const argsFile = join(scratch, 'pg_dump.args');
    const pgDump = script(
      'fake-pg-dump',
      `printf '%s\\n' "$@" > '${argsFile}'; printf 'PGPASSWORD=%s\\n' "$PGPASSWORD" >> '${argsFile}'; printf 'dump' > "$3"`,
    );
    const folder = fresh('snapshot');
    const url = 'postgres://migrator:s%40cret@db.example.com:5432/nukeworks?sslmode=require';

    // Act
    const created = await createLocalSnapshot({ kind: 'pg', url, schema: 'crm' }, folder, {
      pgDumpPath: pgDump,
      now: () => NOW,
    });

    // Assess
    const args = readFileSync(argsFile, 'utf8').split('\n');
    expect(args).toEqual([
      '--format=custom',
      '--file',
      expect.stringMatching(new RegExp(`^${folder}/\\.snapshot\\.pgdump\\.[0-9a-f-]{36}\\.tmp$`)),
      '--schema',
      'crm',
      '--dbname',
      'postgres://migrator@db.example.com:5432/nukeworks?sslmode=require',
      'PGPASSWORD=s@cret',
      '',
    ]);
    expect(created).toEqual({
      status: 'created',
      snapshotId: expect.stringMatching(/^local-20261125T080000Z-[0-9a-f]{6}$/),
      file: join(folder, 'snapshot.pgdump'),
      bytes: 4,
    });
    expect(readdirSync(folder).sort()).toEqual(['snapshot.json', 'snapshot.pgdump']);
    expect(await readLocalSnapshotManifest(folder)).toMatchObject({
      kind: 'pg',
      format: 'pg-dump-custom',
      file: 'snapshot.pgdump',
      bytes: 4,
      database: 'postgres://migrator:***@db.example.com:5432/nukeworks?sslmode=require',
      schema: 'crm',
    });
    expect(readFileSync(join(folder, 'snapshot.json'), 'utf8')).not.toContain('cret');
  });

  it('throws the first line pg_dump wrote to stderr when it fails, and leaves no file', async () => {
    // Prepare
    const pgDump = script(
      'failing-pg-dump',
      `echo 'pg_dump: error: server version: 16.4; pg_dump version: 15.20' >&2; echo 'pg_dump: detail: aborting' >&2; exit 1`,
    );
    const folder = fresh('snapshot');

    // Act
    const created = createLocalSnapshot({ kind: 'pg', url: 'postgres://postgres@127.0.0.1/x' }, folder, {
      pgDumpPath: pgDump,
    });

    // Assess
    await expect(created).rejects.toThrow(
      new SnapshotError('pg_dump failed: server version: 16.4; pg_dump version: 15.20'),
    );
    expect(readdirSync(folder)).toEqual([]);
  });

  it('is skipped, with the reason, when pg_dump is not installed', async () => {
    // Prepare
    const folder = fresh('snapshot');
    const missing = join(scratch, 'no-such-pg_dump');

    // Act
    const created = await createLocalSnapshot(
      { kind: 'pg', url: 'postgres://migrator:secret@db.example.com/nukeworks' },
      folder,
      { pgDumpPath: missing },
    );

    // Assess
    expect(created).toEqual({
      status: 'skipped',
      reason:
        `pg_dump is not installed (${missing} not found); no local snapshot of ` +
        'postgres://migrator:***@db.example.com/nukeworks was taken. Install the PostgreSQL client tools ' +
        'matching the server, or take a backup another way before migrating',
    });
    expect(readdirSync(folder)).toEqual([]);
  });

  it('refuses to restore when pg_restore is not installed', async () => {
    // Prepare
    const folder = fresh('snapshot');
    await createLocalSnapshot({ kind: 'pg', url: 'postgres://postgres@127.0.0.1/x' }, folder, {
      pgDumpPath: script('tiny-pg-dump', `printf 'dump' > "$3"`),
    });
    const missing = join(scratch, 'no-such-pg_restore');

    // Act
    const restore = restoreLocalSnapshot(
      folder,
      { kind: 'pg', url: 'postgres://postgres@127.0.0.1/x' },
      { pgRestorePath: missing },
    );

    // Assess
    await expect(restore).rejects.toThrow(
      `pg_restore is not installed (${missing} not found): install the PostgreSQL client tools to restore ` +
        `${join(folder, 'snapshot.pgdump')}`,
    );
  });
});

const pgDumpInstalled = spawnSync('pg_dump', ['--version']).status === 0;

describe.runIf(serverUrl && pgDumpInstalled)('local snapshot of a PostgreSQL server', () => {
  const admin = serverUrl ? new PgSqlClient({ url: serverUrl, maxConnections: 1 }) : undefined;
  const databases: string[] = [];
  afterAll(async () => {
    for (const name of databases) await admin?.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin?.close();
  });

  /** A scratch database: pg_restore works per database. */
  async function scratchDatabase(): Promise<string> {
    const name = uniqueSchemaName('snap');
    await admin?.query(`CREATE DATABASE "${name}"`);
    databases.push(name);
    const url = new URL(serverUrl ?? '');
    url.pathname = `/${name}`;
    return url.toString();
  }

  it('restores the database as it was when the snapshot was taken', async () => {
    // Prepare
    const url = await scratchDatabase();
    const folder = fresh('snapshot');
    const client = new PgSqlClient({ url });
    await applySchemas(client);
    await loadDemoData(client, generateDemoData());
    const before = await stateOf(client);

    // Act
    const created = await createLocalSnapshot({ kind: 'pg', url }, folder, { now: () => NOW });
    await changeData(client);
    const changed = await stateOf(client);
    const restored = await restoreLocalSnapshot(folder, { kind: 'pg', url });

    // Assess
    try {
      expect(created).toMatchObject({ status: 'created', file: join(folder, 'snapshot.pgdump') });
      expect(await readLocalSnapshotManifest(folder)).toMatchObject({
        kind: 'pg',
        database: describeUrl(url),
        sha256: sha256(join(folder, 'snapshot.pgdump')),
      });
      expect(restored).toMatchObject({ restored: describeUrl(url), createdAt: '2026-11-25T08:00:00.000Z' });
      expect(changed).not.toEqual(before);
      expect(await stateOf(client)).toEqual(before);
    } finally {
      await client.close();
    }
  });

  it('with a schema: dumps and restores that schema only', async () => {
    // Prepare
    const url = await scratchDatabase();
    const folder = fresh('snapshot');
    const setup = new PgSqlClient({ url });
    await setup.query('CREATE SCHEMA crm');
    await setup.query('CREATE SCHEMA other');
    await setup.query('CREATE TABLE other.notes (id int)');
    await setup.close();
    const client = new PgSqlClient({ url, schema: 'crm' });
    await applySchemas(client);
    await loadDemoData(client, generateDemoData());
    const before = await stateOf(client);

    // Act
    await createLocalSnapshot({ kind: 'pg', url, schema: 'crm' }, folder);
    await changeData(client);
    await client.query('INSERT INTO other.notes VALUES (1), (2)');
    await restoreLocalSnapshot(folder, { kind: 'pg', url });

    // Assess
    try {
      expect(await stateOf(client)).toEqual(before);
      const other = await client.query<{ n: number }>('SELECT count(*)::int8 AS n FROM other.notes');
      expect(other.rows).toEqual([{ n: 2 }]);
    } finally {
      await client.close();
    }
  });

  it('throws the first line of pg_dump’s error when the database does not exist', async () => {
    // Prepare
    const url = new URL(serverUrl ?? '');
    url.pathname = `/${uniqueSchemaName('absent')}`;
    const folder = fresh('snapshot');
    mkdirSync(folder, { recursive: true });

    // Act
    const created = createLocalSnapshot({ kind: 'pg', url: url.toString() }, folder);

    // Assess
    await expect(created).rejects.toThrow(
      new RegExp(
        `^pg_dump failed: connection to server .*database "${url.pathname.slice(1)}" does not exist$`,
      ),
    );
    expect(existsSync(join(folder, 'snapshot.json'))).toBe(false);
    expect(readdirSync(folder)).toEqual([]);
  });
});
