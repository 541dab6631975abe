import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import {
  dualWriteStatus,
  installDualWrite,
  uninstallDualWrite,
} from '../../../lib/core/dual-write/dual-write.ts';
import { RemedyRefusedError } from '../../../lib/core/remedies/errors.ts';
import {
  archiveOrphans,
  ORPHAN_ARCHIVE_TABLE,
  type OrphanArchiveResult,
  restoreOrphans,
} from '../../../lib/core/remedies/orphan-archive.ts';
import { listOrphans, type OrphansList } from '../../../lib/core/remedies/orphans.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { PgSqlClient } from '../../../lib/core/sql/pg-client.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import type { ValidationReport } from '../../../lib/core/validation/report-schema.ts';
import { validate } from '../../../lib/core/validation/validate.ts';
import { resetTables, runAllSteps, seed } from '../../support/backfill-fixtures.ts';
import { legacyChecksums, unifiedChecksums } from '../../support/checksums.ts';
import { createDataApiDouble, type DataApiDouble } from '../../support/data-api-double.ts';
import { realDatabases, serverUrl, type TestDatabase } from '../../support/databases.ts';
import { legacyRecord, merge, roleRows } from '../../support/validation-fixtures.ts';

/**
 * `orphans archive` / `orphans restore` on real databases: the archive moves exactly the orphans
 * `orphans list` lists (by kind), the restore puts them back so every legacy table checksums as before,
 * dry runs write nothing, a second restore does nothing, a key taken again is refused and named, and an
 * archive lifts the coverage criteria the orphans sank (hand-built personnel case, demo with defects).
 */

/** Legacy links of every kind: fine ones, orphans in two project-link tables, personnel orphans. */
const handBuilt = merge(
  {
    company_roles: roleRows(),
    projects: [{ project_id: 1, project_name: 'Project 1' }],
    personnel: [
      { personnel_id: 1, full_name: 'Ada Byron' },
      { personnel_id: 2, full_name: 'Lise Meitner' },
    ],
  },
  legacyRecord('vendor', 1, 'Alpha Reactors', { notes: 'keeps its notes' }),
  legacyRecord('constructor', 1, 'Beta Builders'),
  {
    project_vendor_relationships: [
      { relationship_id: 1, project_id: 1, vendor_id: 1, notes: 'fine' },
      { relationship_id: 2, project_id: 5, vendor_id: 1, notes: 'missing project', is_confidential: true },
      { relationship_id: 3, project_id: 1, vendor_id: 9, notes: null },
    ],
    project_offtaker_relationships: [{ relationship_id: 7, project_id: 5, offtaker_id: 8 }],
    personnel_entity_relationships: [
      { relationship_id: 1, personnel_id: 1, entity_type: 'Vendor', entity_id: 1, title: 'CEO' }, // fine
      { relationship_id: 2, personnel_id: 7, entity_type: 'Vendor', entity_id: 1, title: 'CTO' },
      { relationship_id: 3, personnel_id: 1, entity_type: 'Owner', entity_id: 8, title: null },
      { relationship_id: 4, personnel_id: 7, entity_type: 'Constructor', entity_id: 8 },
      { relationship_id: 5, personnel_id: 7, entity_type: 'Project', entity_id: 99 }, // out of scope
    ],
  },
);

const legacyIds = (list: OrphansList) =>
  list.tables
    .filter((t) => t.kind === 'legacy')
    .flatMap((t) => t.rows.map((r) => ({ table: t.table, id: r.id, reason: r.reason })));
const archivedIds = (result: OrphanArchiveResult) =>
  result.tables.flatMap((t) => t.rows.map((r) => ({ table: t.table, id: r.id, reason: r.reason })));
const criterion = (report: ValidationReport, id: string) => report.criteria.find((c) => c.id === id);

describe.each(realDatabases)('orphans archive / restore: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  const archiveExists = async () =>
    (
      await sql.query<{ exists: boolean }>(
        `SELECT to_regclass(quote_ident(current_schema()) || '.${ORPHAN_ARCHIVE_TABLE}') IS NOT NULL AS "exists"`,
      )
    ).rows[0]?.exists;
  const archiveRows = async () =>
    (
      await sql.query<{
        archive_run_id: string;
        legacy_table: string;
        legacy_key: number;
        restored: boolean;
      }>(
        `SELECT archive_run_id, legacy_table, legacy_key, restored_at IS NOT NULL AS restored
           FROM ${ORPHAN_ARCHIVE_TABLE} ORDER BY archive_id`,
      )
    ).rows;

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
  });

  beforeEach(async () => {
    await resetTables(sql);
    await sql.query(`DROP TABLE IF EXISTS ${ORPHAN_ARCHIVE_TABLE}`);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('archives exactly the listed orphans, and the restore leaves every legacy table as it was', async () => {
    // Prepare
    await seed(sql, handBuilt);
    const listed = await listOrphans(sql);
    const before = await legacyChecksums(sql);

    // Act
    const dry = await archiveOrphans(sql, { dryRun: true });
    const afterDryRun = await legacyChecksums(sql);
    const dryRunCreatedTable = await archiveExists();
    const archived = await archiveOrphans(sql);
    const listedAfterArchive = await listOrphans(sql);
    const kept = await sql.query<{ t: string; id: number }>(
      `SELECT 'project_vendor_relationships' AS t, relationship_id AS id FROM project_vendor_relationships
       UNION ALL SELECT 'personnel_entity_relationships', relationship_id FROM personnel_entity_relationships
       ORDER BY 1, 2`,
    );
    const restored = await restoreOrphans(sql, { archiveRunId: archived.archiveRunId ?? '' });
    const afterRestore = await legacyChecksums(sql);

    // Assess
    expect(dryRunCreatedTable).toBe(false);
    expect(afterDryRun).toEqual(before);
    expect(dry).toMatchObject({ dryRun: true, archiveRunId: null, total: 6, kinds: ['all'] });
    expect(archivedIds(dry)).toEqual(legacyIds(listed));
    expect(archived).toMatchObject({ dryRun: false, total: 6, schema: database.schema });
    expect(archived.archiveRunId).toMatch(/^archive-\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(archivedIds(archived)).toEqual(legacyIds(listed));
    expect(archived.tables.map((t) => [t.table, t.count])).toEqual([
      ['project_vendor_relationships', 2],
      ['project_owner_relationships', 0],
      ['client_project_relationships', 0],
      ['project_operator_relationships', 0],
      ['project_constructor_relationships', 0],
      ['project_offtaker_relationships', 1],
      ['personnel_entity_relationships', 3],
    ]);
    expect(listedAfterArchive.legacyLinks).toBe(0);
    expect(kept.rows.map((r) => [r.t, r.id])).toEqual([
      ['personnel_entity_relationships', 1],
      ['personnel_entity_relationships', 5],
      ['project_vendor_relationships', 1],
    ]);
    expect(restored).toMatchObject({
      status: 'restored',
      archived: 6,
      restored: 6,
      alreadyRestored: 0,
      taken: 0,
      takenRows: [],
    });
    expect(afterRestore).toEqual(before);
    expect(await listOrphans(sql)).toEqual(listed);
    expect((await archiveRows()).every((r) => r.restored)).toBe(true);
  });

  it('restores once: a second restore, and its dry run, find nothing left and write nothing', async () => {
    // Prepare
    await seed(sql, handBuilt);
    const before = await legacyChecksums(sql);
    const { archiveRunId } = await archiveOrphans(sql);
    const runId = archiveRunId ?? '';
    const dryRestore = await restoreOrphans(sql, { archiveRunId: runId, dryRun: true });
    const afterDryRestore = await legacyChecksums(sql);
    const archiveAfterDryRestore = await archiveRows();
    await restoreOrphans(sql, { archiveRunId: runId });
    const archiveAfterRestore = await archiveRows();

    // Act
    const again = await restoreOrphans(sql, { archiveRunId: runId });
    const againDry = await restoreOrphans(sql, { archiveRunId: runId, dryRun: true });

    // Assess
    expect(dryRestore).toMatchObject({ status: 'restored', dryRun: true, restored: 6 });
    expect(afterDryRestore).not.toEqual(before);
    expect(archiveAfterDryRestore.some((r) => r.restored)).toBe(false);
    expect(again).toMatchObject({ status: 'already-restored', restored: 0, alreadyRestored: 6, archived: 6 });
    expect(againDry).toMatchObject({ status: 'already-restored', restored: 0 });
    expect(await legacyChecksums(sql)).toEqual(before);
    expect(await archiveRows()).toEqual(archiveAfterRestore);
  });

  it('archives only the kinds asked for', async () => {
    // Prepare
    await seed(sql, handBuilt);
    const before = await legacyChecksums(sql);

    // Act
    const personnel = await archiveOrphans(sql, { kinds: ['personnel-links'] });
    const vendorTable = await archiveOrphans(sql, { kinds: ['project_vendor_relationships'] });
    const left = await listOrphans(sql);
    const rest = await archiveOrphans(sql, { kinds: ['project-links'] });
    const nothing = await archiveOrphans(sql, { kinds: ['all'] });

    // Assess
    expect(personnel.tables.map((t) => [t.table, t.count])).toEqual([['personnel_entity_relationships', 3]]);
    expect(vendorTable.tables.map((t) => [t.table, t.count])).toEqual([['project_vendor_relationships', 2]]);
    expect(left.tables.filter((t) => t.count > 0).map((t) => t.table)).toEqual([
      'project_offtaker_relationships',
    ]);
    expect(rest).toMatchObject({ total: 1 });
    expect(rest.tables).toHaveLength(6);
    expect(nothing).toMatchObject({ total: 0, archiveRunId: null });
    expect(new Set((await archiveRows()).map((r) => r.archive_run_id)).size).toBe(3);
    for (const result of [rest, vendorTable, personnel])
      await restoreOrphans(sql, { archiveRunId: result.archiveRunId ?? '' });
    expect(await legacyChecksums(sql)).toEqual(before);
  });

  it('refuses to restore over a key taken again and names it; --skip-taken restores the others', async () => {
    // Prepare
    await seed(sql, handBuilt);
    const before = await legacyChecksums(sql);
    const { archiveRunId } = await archiveOrphans(sql);
    const runId = archiveRunId ?? '';
    await sql.query(
      `INSERT INTO project_vendor_relationships (relationship_id, project_id, vendor_id) VALUES (3, 1, 1)`,
    );
    const withNewRow = await legacyChecksums(sql);

    // Act
    const dryRefused = await restoreOrphans(sql, { archiveRunId: runId, dryRun: true });
    const refused = await restoreOrphans(sql, { archiveRunId: runId });
    const afterRefusal = await legacyChecksums(sql);
    const partial = await restoreOrphans(sql, { archiveRunId: runId, skipTaken: true });
    const stillTaken = await restoreOrphans(sql, { archiveRunId: runId });
    await sql.query(`DELETE FROM project_vendor_relationships WHERE relationship_id = 3`);
    const last = await restoreOrphans(sql, { archiveRunId: runId });

    // Assess
    for (const result of [dryRefused, refused]) {
      expect(result).toMatchObject({ status: 'refused', restored: 0, taken: 1, takenTruncated: false });
      expect(result.takenRows).toEqual([
        { table: 'project_vendor_relationships', key: 3, archiveId: expect.any(Number) },
      ]);
    }
    expect(afterRefusal).toEqual(withNewRow);
    expect(partial).toMatchObject({ status: 'restored', skipTaken: true, restored: 5, taken: 1 });
    expect(partial.tables.find((t) => t.table === 'project_vendor_relationships')).toEqual({
      table: 'project_vendor_relationships',
      archived: 2,
      alreadyRestored: 0,
      restored: 1,
      taken: 1,
    });
    expect(stillTaken).toMatchObject({ status: 'refused', alreadyRestored: 5, taken: 1 });
    expect(last).toMatchObject({ status: 'restored', restored: 1, alreadyRestored: 5, taken: 0 });
    expect(await legacyChecksums(sql)).toEqual(before);
  });

  it('refuses unknown and malformed archive run ids, naming the latest runs', async () => {
    // Prepare
    const failure = (work: Promise<unknown>) =>
      work.then(
        () => new Error('no error'),
        (error: unknown) => error as Error,
      );
    await seed(sql, handBuilt);
    const neverArchived = await failure(restoreOrphans(sql, { archiveRunId: 'archive-nothing' }));
    const { archiveRunId } = await archiveOrphans(sql, { archiveRunId: 'archive-test-1' });

    // Act
    const unknown = await failure(restoreOrphans(sql, { archiveRunId: 'archive-test-2' }));
    const malformed = await failure(restoreOrphans(sql, { archiveRunId: "x'; DROP TABLE projects; --" }));
    const reused = await failure(archiveOrphans(sql, { archiveRunId: 'archive-test-1' }));
    const unknownKind = await failure(archiveOrphans(sql, { kinds: ['projects'] }));

    // Assess
    expect(archiveRunId).toBe('archive-test-1');
    expect(neverArchived).toBeInstanceOf(RemedyRefusedError);
    expect(neverArchived.message).toMatch(/nothing was ever archived there/);
    expect(unknown).toBeInstanceOf(RemedyRefusedError);
    expect(unknown.message).toBe(
      `no archive run archive-test-2 in schema ${database.schema} (the latest: archive-test-1)`,
    );
    expect(malformed.message).toMatch(/an archive run id is 1 to 80 letters/);
    expect(reused).toBeInstanceOf(RemedyRefusedError);
    expect(reused.message).toMatch(/archive run id archive-test-1 is already used/);
    expect(unknownKind.message).toMatch(
      /unknown kind .{0,2}"projects.{0,2}": give one of all, project-links/,
    );
    expect((await archiveRows()).map((r) => r.archive_run_id)).toEqual(Array(6).fill('archive-test-1'));
  });

  it('archiving the orphans makes the personnel coverage criterion pass where they sank it', async () => {
    // Prepare: 19 links of 19 people to one vendor, and two orphans: 19 of 21 covered, under 95 %.
    const people = Array.from({ length: 19 }, (_, i) => i + 1);
    await seed(
      sql,
      merge({ company_roles: roleRows() }, legacyRecord('vendor', 1, 'Alpha Reactors'), {
        personnel: people.map((id) => ({ personnel_id: id, full_name: `Person ${id}` })),
        personnel_entity_relationships: [
          ...people.map((id) => ({
            relationship_id: id,
            personnel_id: id,
            entity_type: 'Vendor',
            entity_id: 1,
          })),
          { relationship_id: 20, personnel_id: 99, entity_type: 'Vendor', entity_id: 1, title: 'Gone' },
          { relationship_id: 21, personnel_id: 1, entity_type: 'Vendor', entity_id: 77, title: 'Elsewhere' },
        ],
      }),
    );
    await runAllSteps(sql);
    const before = await legacyChecksums(sql);
    const sunk = await validate(sql, { runId: 'run-archive', stage: 'test' });

    // Act
    const archived = await archiveOrphans(sql, { kinds: ['personnel-links'] });
    const lifted = await validate(sql, { runId: 'run-archive', stage: 'test' });
    await restoreOrphans(sql, { archiveRunId: archived.archiveRunId ?? '' });
    const sunkAgain = await validate(sql, { runId: 'run-archive', stage: 'test' });

    // Assess
    expect(criterion(sunk, 'personnel-coverage')).toMatchObject({ passed: false });
    expect(sunk.personnelAffiliationCoverage).toMatchObject({ total: 21, covered: 19 });
    expect(archived.total).toBe(2);
    expect(criterion(lifted, 'personnel-coverage')).toMatchObject({ passed: true, actual: 100 });
    expect(lifted.passed).toBe(true);
    expect(lifted.issues.map((i) => i.code)).not.toContain('legacy-orphans');
    expect(criterion(sunkAgain, 'personnel-coverage')).toEqual(criterion(sunk, 'personnel-coverage'));
    expect(await legacyChecksums(sql)).toEqual(before);
  });

  it('on the demo data with defects: the archive lifts the coverage criteria, the restore gives back every table', async () => {
    // Prepare
    await loadDemoData(sql, generateDemoData({ defects: true }));
    await runAllSteps(sql);
    const before = await legacyChecksums(sql);
    const listed = await listOrphans(sql);
    const sunk = await validate(sql, { runId: 'run-demo', stage: 'test' });

    // Act
    const archived = await archiveOrphans(sql, { limit: null });
    const lifted = await validate(sql, { runId: 'run-demo', stage: 'test' });
    const restored = await restoreOrphans(sql, { archiveRunId: archived.archiveRunId ?? '' });
    const after = await legacyChecksums(sql);
    const sunkAgain = await validate(sql, { runId: 'run-demo', stage: 'test' });

    // Assess
    expect(criterion(sunk, 'project-coverage')?.passed).toBe(false);
    expect(archived.total).toBe(listed.legacyLinks);
    expect(archivedIds(archived)).toEqual(legacyIds(listed));
    expect(lifted.orphans).toMatchObject({ personnelLinks: 0, projectLinks: 0 });
    expect(criterion(lifted, 'project-coverage')).toMatchObject({ passed: true });
    expect(criterion(lifted, 'personnel-coverage')).toMatchObject({ passed: true, actual: 100 });
    expect(restored).toMatchObject({ status: 'restored', restored: listed.legacyLinks });
    expect(after).toEqual(before);
    expect(sunkAgain.criteria).toEqual(sunk.criteria);
  });
  it('with dual-write installed: the triggers leave the unified tables alone and log no sync error', async () => {
    // Prepare
    await loadDemoData(sql, generateDemoData({ defects: true }));
    await runAllSteps(sql);
    await installDualWrite(sql);
    const legacyBefore = await legacyChecksums(sql);
    const unifiedBefore = await unifiedChecksums(sql);

    // Act
    const archived = await archiveOrphans(sql);
    const unifiedAfterArchive = await unifiedChecksums(sql);
    await restoreOrphans(sql, { archiveRunId: archived.archiveRunId ?? '' });
    const status = await dualWriteStatus(sql);
    await uninstallDualWrite(sql);

    // Assess
    expect(archived.total).toBeGreaterThan(0);
    expect(unifiedAfterArchive).toEqual(unifiedBefore);
    expect(await unifiedChecksums(sql)).toEqual(unifiedBefore);
    expect(await legacyChecksums(sql)).toEqual(legacyBefore);
    expect(status).toMatchObject({ installed: true, syncErrors: 0 });
  });

  it.runIf(backend.name === 'pg')(
    'keeps a link someone repairs while the archive waits for its lock (the DELETE re-checks each row)',
    async () => {
      // Prepare: another session repairs orphan 2 (a missing project) and holds its row lock.
      await seed(sql, handBuilt);
      const other = new PgSqlClient({ url: serverUrl as string, schema: database.schema, maxConnections: 1 });
      const watcher = new PgSqlClient({ url: serverUrl as string, maxConnections: 1 });
      let commit = () => {};
      const held = new Promise<void>((resolve) => {
        commit = resolve;
      });
      let repaired = () => {};
      const updated = new Promise<void>((resolve) => {
        repaired = resolve;
      });
      const repair = other.transaction(async (tx) => {
        await tx.query('UPDATE project_vendor_relationships SET project_id = 1 WHERE relationship_id = 2');
        repaired();
        await held;
      });
      await updated;

      try {
        // Act
        const archiving = archiveOrphans(sql);
        for (let waited = 0; waited < 100; waited++) {
          const { rows } = await watcher.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND query LIKE '%project_vendor_relationships%'`,
          );
          if (Number(rows[0]?.n) > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        commit();
        await repair;
        const archived = await archiving;

        // Assess
        expect(archived.tables.find((t) => t.table === 'project_vendor_relationships')?.rows).toEqual([
          { id: 3, reason: 'missing vendor' },
        ]);
        const { rows } = await sql.query<{ id: number; project_id: number }>(
          'SELECT relationship_id AS id, project_id FROM project_vendor_relationships ORDER BY 1',
        );
        expect(rows).toEqual([
          { id: 1, project_id: 1 },
          { id: 2, project_id: 1 },
        ]);
      } finally {
        commit();
        await repair.catch(() => {});
        await other.close();
        await watcher.close();
      }
    },
  );
});

describe('orphans archive / restore through the RDS Data API (double)', () => {
  let double: DataApiDouble;

  beforeAll(async () => {
    double = await createDataApiDouble({ schema: 'orphan_archive' });
    await applySchemas(double.sqlClient);
  });

  afterAll(async () => {
    await double?.close();
  });

  it('archives and restores with the same SQL text, leaving every legacy table as it was', async () => {
    // Prepare
    const sql = double.sqlClient;
    await loadDemoData(sql, generateDemoData({ defects: true }));
    const before = await legacyChecksums(sql);
    const listed = await listOrphans(sql);

    // Act
    const archived = await archiveOrphans(sql, { limit: null });
    const afterArchive = await listOrphans(sql);
    const dryRestore = await restoreOrphans(sql, { archiveRunId: archived.archiveRunId ?? '', dryRun: true });
    const restored = await restoreOrphans(sql, { archiveRunId: archived.archiveRunId ?? '' });

    // Assess
    expect(archivedIds(archived)).toEqual(legacyIds(listed));
    expect(afterArchive.legacyLinks).toBe(0);
    expect(dryRestore).toMatchObject({ status: 'restored', restored: listed.legacyLinks, taken: 0 });
    expect(restored).toMatchObject({ status: 'restored', restored: listed.legacyLinks });
    expect(await legacyChecksums(sql)).toEqual(before);
  });
});
