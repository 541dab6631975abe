import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_STEPS, runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { installDualWrite } from '../../../lib/core/dual-write/dual-write.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { PgSqlClient } from '../../../lib/core/sql/pg-client.ts';
import { validate } from '../../../lib/core/validation/validate.ts';
import { openServerDatabase, serverUrl, type TestDatabase } from '../../support/databases.ts';

/**
 * The application keeps writing while the backfill runs, with the dual-write installed: a real server
 * and two connections (PGlite has one), so this runs when DATABASE_URL is set, as in CI.
 */
describe.runIf(serverUrl)('application writers during a backfill, with dual-write installed', () => {
  let database: TestDatabase;
  let application: PgSqlClient;

  beforeAll(async () => {
    database = await openServerDatabase();
    await applySchemas(database.client);
    await loadDemoData(database.client, generateDemoData({ scale: 3 }));
    await installDualWrite(database.client);
    application = new PgSqlClient({ url: serverUrl as string, schema: database.schema, maxConnections: 2 });
  });

  afterAll(async () => {
    await application?.close();
    await database?.dispose();
  });

  /** Inserts, renames, new links and deletes, as the CRM does, a bounded number of times. */
  async function applicationWrites(rounds: number): Promise<number> {
    let writes = 0;
    for (let i = 0; i < rounds; i++) {
      const { rows } = await application.query<{ vendor_id: number }>(
        `INSERT INTO technology_vendors (vendor_name, notes) VALUES (:name, 'added while migrating') RETURNING vendor_id`,
        { name: `Concurrent Reactor Works ${i}` },
      );
      const vendor = rows[0]?.vendor_id ?? 0;
      await application.query(
        `INSERT INTO project_vendor_relationships (project_id, vendor_id, is_confidential, notes)
         SELECT min(project_id), :vendor, :confidential, 'linked while migrating' FROM projects`,
        { vendor, confidential: i % 3 === 0 },
      );
      await application.query(
        `INSERT INTO personnel_entity_relationships (personnel_id, entity_type, entity_id, relationship_role)
         SELECT min(personnel_id) + :offset, 'Vendor', :vendor, NULL FROM personnel`,
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
      writes += 5;
    }
    return writes;
  }

  it('leaves full coverage of what exists, with no duplicate, and no sync error', async () => {
    // Act
    const [writes] = await Promise.all([
      applicationWrites(25),
      (async () => {
        for (const step of BACKFILL_STEPS) await runBackfillToEnd(database.client, step, { chunkSize: 25 });
      })(),
    ]);
    const report = await validate(database.client, { runId: 'concurrent', stage: 'test' });
    const { rows: duplicates } = await database.client.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM person_company_affiliations
                 GROUP BY person_id, company_id, coalesce(title, '<null>') HAVING count(*) > 1) AS a)::int
            + (SELECT count(*) FROM (SELECT 1 FROM company_role_assignments
                 GROUP BY role_id, context_type, context_id HAVING count(*) > 1 AND min(context_type) <> 'Project') AS r)::int AS n`,
    );
    const { rows: syncErrors } = await database.client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM company_migration_sync_errors',
    );

    // Assess
    expect(writes).toBe(125);
    const project = report.projectRelationshipCoverage.overall;
    const personnel = report.personnelAffiliationCoverage;
    expect(project.covered + report.orphans.projectLinks).toBe(project.total);
    expect(personnel.covered + report.orphans.personnelLinks).toBe(personnel.total);
    for (const counts of Object.values(report.companyCoverage)) expect(counts.missing).toBe(0);
    expect(duplicates[0]?.n).toBe(0);
    expect(syncErrors[0]?.n).toBe(0);
  });
});
