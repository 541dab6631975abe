import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  orphanArchiveResultSchema,
  orphanRestoreResultSchema,
} from '../../lib/core/remedies/orphan-archive.ts';
import { orphansListSchema } from '../../lib/core/remedies/orphans.ts';
import { PgSqlClient } from '../../lib/core/sql/pg-client.ts';
import { PgliteSqlClient } from '../../lib/core/sql/pglite-client.ts';
import type { SqlClient } from '../../lib/core/sql/types.ts';
import { validationReportSchema } from '../../lib/core/validation/report-schema.ts';
import { legacyChecksums } from '../support/checksums.ts';
import { runCliCaptured } from '../support/cli.ts';
import { serverUrl, uniqueSchemaName } from '../support/databases.ts';

/**
 * `orphans archive` and `orphans restore` through the CLI on the demo data with defects after the
 * backfill, embedded and on the PostgreSQL server: the dry runs write nothing, the archive lifts the
 * coverage criterion the planted orphans sink, the restore gives every legacy table back byte for byte,
 * a second restore does nothing, a key taken again is refused with exit code 1 and named, and bad input
 * ends with exit code 2.
 */

const scratch = mkdtempSync(join(tmpdir(), 'company-migration-orphan-archive-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Target {
  name: string;
  argv: string[];
  /** A client on the same database, opened while no CLI command runs (PGlite has one user at a time). */
  open(): Promise<SqlClient>;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
}

function embedded(): Target {
  const dataDir = join(scratch, 'db');
  return {
    name: 'embedded',
    argv: ['--data-dir', dataDir],
    open: () => PgliteSqlClient.open({ dataDir }),
    setUp: async () => {},
    tearDown: async () => {},
  };
}

function server(url: string): Target {
  const database = uniqueSchemaName('archive');
  const admin = new PgSqlClient({ url, maxConnections: 1 });
  const target = new URL(url);
  target.pathname = `/${database}`;
  return {
    name: 'server',
    argv: ['--database-url', target.toString()],
    open: async () => new PgSqlClient({ url: target.toString(), maxConnections: 1 }),
    setUp: async () => {
      await admin.query(`CREATE DATABASE "${database}"`);
    },
    tearDown: async () => {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.close();
    },
  };
}

const targets: Target[] = [embedded(), ...(serverUrl ? [server(serverUrl)] : [])];

describe.each(targets)('company-migration orphans archive / restore ($name)', (target) => {
  const cli = (...argv: string[]) => runCliCaptured([...argv, ...target.argv]);
  const json = async <T>(parse: (value: unknown) => T, ...argv: string[]) => {
    const run = await cli(...argv, '--json');
    return { code: run.code, stderr: run.stderr, result: parse(JSON.parse(run.stdout || 'null')) };
  };
  const withClient = async <T>(work: (sql: SqlClient) => Promise<T>): Promise<T> => {
    const sql = await target.open();
    try {
      return await work(sql);
    } finally {
      await sql.close();
    }
  };
  const checksums = () => withClient((sql) => legacyChecksums(sql));
  const validation = async () => (await json((v) => validationReportSchema.parse(v), 'validate')).result;
  const criterion = (report: { criteria: { id: string; passed: boolean }[] }, id: string) =>
    report.criteria.find((c) => c.id === id)?.passed;

  beforeAll(async () => {
    await target.setUp();
    expect((await cli('db', 'init', '--demo', '--defects')).code).toBe(0);
    expect((await cli('backfill')).code).toBe(0);
  });

  afterAll(async () => {
    await target.tearDown();
  });

  it('archives the listed orphans so coverage passes, and restores every legacy table byte for byte', async () => {
    // Prepare
    const before = await checksums();
    const list = (await json((v) => orphansListSchema.parse(v), 'orphans', 'list', '--all')).result;
    const sunk = await validation();

    // Act
    const dry = await json((v) => orphanArchiveResultSchema.parse(v), 'orphans', 'archive', '--dry-run');
    const afterDryRun = await checksums();
    const archived = await json((v) => orphanArchiveResultSchema.parse(v), 'orphans', 'archive');
    const runId = archived.result.archiveRunId ?? '';
    const lifted = await validation();
    const afterArchive = await checksums();
    const dryRestore = await json(
      (v) => orphanRestoreResultSchema.parse(v),
      'orphans',
      'restore',
      runId,
      '--dry-run',
    );
    const afterDryRestore = await checksums();
    const restored = await json((v) => orphanRestoreResultSchema.parse(v), 'orphans', 'restore', runId);
    const afterRestore = await checksums();
    const again = await cli('orphans', 'restore', runId);
    const sunkAgain = await validation();

    // Assess
    expect([dry.code, archived.code, dryRestore.code, restored.code, again.code]).toEqual([0, 0, 0, 0, 0]);
    expect(dry.result).toMatchObject({ dryRun: true, archiveRunId: null, total: list.legacyLinks });
    expect(afterDryRun).toEqual(before);
    expect(archived.result.total).toBe(list.legacyLinks);
    expect(list.legacyLinks).toBeGreaterThan(0);
    expect(criterion(sunk, 'project-coverage')).toBe(false);
    expect(criterion(lifted, 'project-coverage')).toBe(true);
    expect(criterion(lifted, 'personnel-coverage')).toBe(true);
    expect(lifted.orphans).toMatchObject({ personnelLinks: 0, projectLinks: 0 });
    expect(afterArchive).not.toEqual(before);
    expect(dryRestore.result).toMatchObject({ status: 'restored', restored: list.legacyLinks });
    expect(afterDryRestore).toEqual(afterArchive);
    expect(restored.result).toMatchObject({ status: 'restored', restored: list.legacyLinks, taken: 0 });
    expect(afterRestore).toEqual(before);
    expect(again.stdout).toContain(`nothing to restore: every row of archive run ${runId}`);
    expect(sunkAgain.criteria).toEqual(sunk.criteria);
  });

  it('prints the archive run id and the restore command, and names what it moved', async () => {
    // Prepare
    const before = await checksums();

    // Act
    const run = await cli('orphans', 'archive', '--kind', 'personnel-links', '--limit', '1');
    const runId = /archive run id: (\S+)/.exec(run.stdout)?.[1] ?? '';
    const restore = await cli('orphans', 'restore', runId);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^archived \d+ orphaned legacy link\(s\) \(personnel-links\)/);
    expect(run.stdout).toMatch(/personnel_entity_relationships\s+personnel-links\s+\d+/);
    expect(run.stdout).toContain(`company-migration orphans restore ${runId}`);
    expect(run.stdout).toMatch(/missing (person|entity)/);
    expect(run.stdout).not.toContain('project_vendor_relationships');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/^restored \d+ row\(s\) of archive run /);
    expect(await checksums()).toEqual(before);
  });

  it('refuses with exit code 1 to restore over a key taken again, naming it; --skip-taken restores the rest', async () => {
    // Prepare
    const before = await checksums();
    const archived = await json(
      (v) => orphanArchiveResultSchema.parse(v),
      'orphans',
      'archive',
      '--kind',
      'project_vendor_relationships',
    );
    const runId = archived.result.archiveRunId ?? '';
    const key = archived.result.tables[0]?.rows[0]?.id ?? 0;
    await withClient((sql) =>
      sql.query(
        `INSERT INTO project_vendor_relationships (relationship_id, project_id, vendor_id)
         SELECT :key, min(project_id), 1 FROM projects`,
        { key },
      ),
    );

    // Act
    const refused = await cli('orphans', 'restore', runId);
    const skipped = await json(
      (v) => orphanRestoreResultSchema.parse(v),
      'orphans',
      'restore',
      runId,
      '--skip-taken',
    );
    await withClient((sql) =>
      sql.query('DELETE FROM project_vendor_relationships WHERE relationship_id = :key', { key }),
    );
    const rest = await json((v) => orphanRestoreResultSchema.parse(v), 'orphans', 'restore', runId);

    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^refused: 1 row\(s\) of archive run/);
    expect(refused.stdout).toMatch(new RegExp(`project_vendor_relationships\\s+${key}\\s+\\d+`));
    expect(refused.stdout).toContain('nothing was written');
    expect(skipped).toMatchObject({ code: 0, result: { status: 'restored', taken: 1 } });
    expect(skipped.result.restored).toBe(archived.result.total - 1);
    expect(rest).toMatchObject({ code: 0, result: { status: 'restored', restored: 1, taken: 0 } });
    expect(await checksums()).toEqual(before);
  });

  it('takes --kind comma-separated or repeated, and its dry run writes nothing', async () => {
    // Prepare
    const before = await checksums();

    // Act
    const dry = await json(
      (v) => orphanArchiveResultSchema.parse(v),
      'orphans',
      'archive',
      '--kind',
      'project_owner_relationships,client_project_relationships',
      '--kind',
      'personnel-links',
      '--dry-run',
    );

    // Assess
    expect(dry.code).toBe(0);
    expect(dry.result.kinds).toEqual([
      'project_owner_relationships',
      'client_project_relationships',
      'personnel-links',
    ]);
    expect(dry.result.tables.map((t) => t.table)).toEqual([
      'project_owner_relationships',
      'client_project_relationships',
      'personnel_entity_relationships',
    ]);
    expect(dry.result.total).toBeGreaterThan(0);
    expect(await checksums()).toEqual(before);
  });

  it.each([
    [['orphans', 'archive', '--kind', 'projects'], /unknown kind "projects": give one of all, project-links/],
    [['orphans', 'archive', '--limit', '3', '--all'], /give --limit or --all, not both/],
    [['orphans', 'restore', 'no such id'], /invalid archive run id "no such id"/],
    [
      ['orphans', 'restore', 'archive-19990101-000000-dead'],
      /no archive run archive-19990101-000000-dead in schema/,
    ],
    [['orphans', 'restore'], /missing required argument 'archive-run-id'/],
  ])('refuses %j with exit code 2 and one line', async (argv, message) => {
    // Act
    const run = await cli(...argv);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('explains both commands in --help', async () => {
    // Act
    const archive = await cli('orphans', 'archive', '--help');
    const restore = await cli('orphans', 'restore', '--help');

    // Assess
    expect(archive.code).toBe(0);
    expect(archive.stdout).toMatch(/--kind <kinds>[\s\S]*--dry-run[\s\S]*--json/);
    expect(archive.stdout).toContain('company_migration_orphan_archive');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/<archive-run-id>[\s\S]*--dry-run[\s\S]*--skip-taken[\s\S]*--json/);
  });
});
