import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrationLocally } from '../../lib/cli/local-run.ts';
import { generateDemoData } from '../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../lib/core/demo/load.ts';
import { installDualWrite } from '../../lib/core/dual-write/dual-write.ts';
import { LocalReportStore } from '../../lib/core/reports/local-store.ts';
import { readReport } from '../../lib/core/reports/publish.ts';
import { applySchemas } from '../../lib/core/schema/apply.ts';
import { PgSqlClient } from '../../lib/core/sql/pg-client.ts';
import { validationReportSchema } from '../../lib/core/validation/report-schema.ts';
import { lostUnifiedRows, unifiedRowKeys } from '../support/checksums.ts';
import { openServerDatabase, serverUrl, type TestDatabase } from '../support/databases.ts';

/**
 * Application-like writers during a whole migration run (the state machine, locally, on the PostgreSQL
 * server), with the dual-write installed: inserts, renames, new links and deletes, plus planted rename
 * collisions. The run must succeed, post-validation must cover everything that exists, the only sync
 * errors must be the planted ones, and no deadlock or serialization failure may end the run.
 */
describe.runIf(serverUrl)('application writers during a whole run, with dual-write installed', () => {
  let database: TestDatabase;
  let application: PgSqlClient;
  let reports: string;

  beforeAll(async () => {
    database = await openServerDatabase();
    await applySchemas(database.client);
    await loadDemoData(database.client, generateDemoData({ scale: 2 }));
    await installDualWrite(database.client);
    application = new PgSqlClient({ url: serverUrl as string, schema: database.schema, maxConnections: 2 });
    reports = mkdtempSync(join(tmpdir(), 'concurrent-writers-'));
  });

  afterAll(async () => {
    await application?.close();
    await database?.dispose();
    rmSync(reports, { recursive: true, force: true });
  });

  /** One round of what the CRM does: a new vendor with links, a rename, a deleted link. */
  async function applicationRound(i: number): Promise<void> {
    const { rows } = await application.query<{ vendor_id: number }>(
      `INSERT INTO technology_vendors (vendor_name, notes) VALUES (:name, 'added while migrating') RETURNING vendor_id`,
      { name: `Concurrent Reactor Works ${i}` },
    );
    const vendor = rows[0]?.vendor_id ?? 0;
    await application.query(
      `INSERT INTO project_vendor_relationships (project_id, vendor_id, is_confidential, notes)
       SELECT min(project_id) + :offset, :vendor, :confidential, 'linked while migrating' FROM projects`,
      { vendor, offset: i % 5, confidential: i % 3 === 0 },
    );
    await application.query(
      `INSERT INTO personnel_entity_relationships (personnel_id, entity_type, entity_id, relationship_role)
       SELECT personnel_id, 'Vendor', :vendor, 'Engineer' FROM personnel
        ORDER BY personnel_id OFFSET (:offset % (SELECT count(*) FROM personnel)) LIMIT 1`,
      { vendor, offset: i },
    );
    await application.query(`UPDATE technology_vendors SET vendor_name = :name WHERE vendor_id = :vendor`, {
      name: `Concurrent Reactor Works ${i} (renamed)`,
      vendor,
    });
    await application.query(
      `DELETE FROM project_operator_relationships
        WHERE relationship_id = (SELECT min(relationship_id) + :offset FROM project_operator_relationships)`,
      { offset: i },
    );
  }

  /** A planted conflict: a record renamed onto another company's name (recorded, not synced). */
  async function plantRenameCollision(i: number): Promise<void> {
    const names = [`Planted Collision ${i} A`, `Planted Collision ${i} B`];
    const { rows } = await application.query<{ vendor_id: number }>(
      `INSERT INTO technology_vendors (vendor_name) VALUES (:a), (:b) RETURNING vendor_id`,
      { a: names[0] ?? '', b: names[1] ?? '' },
    );
    await application.query(`UPDATE technology_vendors SET vendor_name = :b WHERE vendor_id = :id`, {
      b: names[1] ?? '',
      id: rows[0]?.vendor_id ?? 0,
    });
  }

  it('the run succeeds, covers everything, and the only sync errors are the planted ones', async () => {
    // Prepare
    const unifiedBefore = await unifiedRowKeys(database.client);
    let running = true;
    let roundsDuringRun = 0;
    const planted = 3;

    // Act: the writers go on until the run ends (at least a few rounds), the run uses small chunks.
    const writer = async (first: number) => {
      for (let i = first; running || i < first + 5; i++) {
        await applicationRound(i);
        await new Promise((resolve) => setTimeout(resolve, 5)); // a CRM user, not a load generator
        if (running) roundsDuringRun++;
      }
    };
    // Two application connections at once: the planted conflicts first, then the ordinary writes.
    const writers = Promise.all([
      (async () => {
        for (let i = 0; i < planted; i++) await plantRenameCollision(i);
        await writer(0);
      })(),
      writer(100_000),
    ]);
    const result = await runMigrationLocally({
      deps: { sql: database.client, store: new LocalReportStore(reports), stage: { snapshots: false } },
      runId: 'run-concurrent-1',
      input: { stage: 'test', chunkSize: 20, skipSnapshot: true },
      takeSnapshot: async (snapshotId) => ({ snapshotId, status: 'skipped' }),
      retryPauseMs: 0,
    }).finally(() => {
      running = false;
    });
    await writers;
    const post = validationReportSchema.parse(
      await readReport(new LocalReportStore(reports), 'test/run-concurrent-1/validation-post.json'),
    );
    const { rows: syncErrors } = await database.client.query<{ message: string }>(
      'SELECT message FROM company_migration_sync_errors ORDER BY 1',
    );
    const { rows: duplicates } = await database.client.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM person_company_affiliations
                 GROUP BY person_id, company_id, coalesce(title, '<null>') HAVING count(*) > 1) AS a)::int
            + (SELECT count(*) FROM (SELECT 1 FROM company_role_assignments
                 GROUP BY role_id, context_type, context_id HAVING count(*) > 1 AND min(context_type) <> 'Project') AS r)::int AS n`,
    );

    // Assess
    expect(result.status, JSON.stringify(result.error)).toBe('SUCCEEDED');
    expect(roundsDuringRun).toBeGreaterThan(10);
    expect(post.passed).toBe(true);
    const project = post.projectRelationshipCoverage.overall;
    expect(project.covered + post.orphans.projectLinks).toBe(project.total);
    const personnel = post.personnelAffiliationCoverage;
    expect(personnel.covered + post.orphans.personnelLinks).toBe(personnel.total);
    for (const counts of Object.values(post.companyCoverage)) expect(counts.missing).toBe(0);
    expect(duplicates[0]?.n).toBe(0);
    expect(syncErrors).toHaveLength(planted);
    for (const error of syncErrors) expect(error.message).toMatch(/another company/);
    expect(lostUnifiedRows(unifiedBefore, await unifiedRowKeys(database.client))).toEqual([]);
  });
});
