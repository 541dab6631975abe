import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillCompanies, backfillPersonnelAffiliations } from '../../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { PgSqlClient } from '../../../lib/core/sql/pg-client.ts';
import { openServerDatabase, serverUrl, type TestDatabase } from '../../support/databases.ts';

/**
 * The application keeps writing while the backfill runs. These need a real server (PGlite has one
 * connection), so they run when DATABASE_URL is set, as in CI.
 */
describe.runIf(serverUrl)('backfill beside application writes (PostgreSQL server)', () => {
  let database: TestDatabase;
  let application: PgSqlClient;

  beforeAll(async () => {
    database = await openServerDatabase();
    await applySchemas(database.client);
    await loadDemoData(database.client, generateDemoData());
    await backfillCompanies(database.client);
    application = new PgSqlClient({ url: serverUrl as string, schema: database.schema });
  });

  afterAll(async () => {
    await application?.close();
    await database?.dispose();
  });

  it('does not duplicate an affiliation with a NULL title that the application is inserting meanwhile', async () => {
    // Prepare: a legacy link without a title, and the company its entity maps to.
    const { rows } = await database.client.query<{ person: number; company: number }>(
      `SELECT l.personnel_id AS person, a.company_id AS company
         FROM personnel_entity_relationships l
         JOIN company_role_assignments a ON a.context_type = 'VendorRecord' AND a.context_id = l.entity_id
         JOIN personnel p ON p.personnel_id = l.personnel_id
        WHERE l.entity_type = 'Vendor' AND l.relationship_role IS NULL
        ORDER BY l.relationship_id LIMIT 1`,
    );
    const link = rows[0];
    expect(link).toBeDefined();
    let commitApplicationWrite: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      commitApplicationWrite = resolve;
    });
    let inserted: () => void = () => {};
    const applicationInserted = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    const applicationWrite = application.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO person_company_affiliations (person_id, company_id, title, notes, is_primary)
         VALUES (:person, :company, NULL, 'written by the application', false)`,
        { person: link?.person ?? 0, company: link?.company ?? 0 },
      );
      inserted();
      await released;
    });
    await applicationInserted;

    // Act
    const backfill = backfillPersonnelAffiliations(database.client, { chunkSize: 50 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    commitApplicationWrite();
    await applicationWrite;
    const result = await backfill;

    // Assess
    const { rows: copies } = await database.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM person_company_affiliations
        WHERE person_id = :person AND company_id = :company AND title IS NULL`,
      { person: link?.person ?? 0, company: link?.company ?? 0 },
    );
    expect(result.done).toBe(true);
    expect(copies[0]?.n).toBe(1);
  });
});
