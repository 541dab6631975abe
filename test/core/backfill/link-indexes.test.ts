import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { openPgliteDatabase, type TestDatabase } from '../../support/databases.ts';
import { unifiedNaturalState } from '../../support/unified-state.ts';

/** The link steps read whole projects/persons through an index they add where one is missing. */

const linkIndexes = async (database: TestDatabase) =>
  (
    await database.client.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes
        WHERE schemaname = current_schema() AND indexname LIKE 'company\\_migration\\_%' AND tablename NOT LIKE 'company\\_migration\\_%' ORDER BY 1`,
    )
  ).rows.map((r) => r.name);

describe('the link steps’ read indexes', () => {
  let byOwner: TestDatabase;
  let byUser: TestDatabase;

  beforeAll(async () => {
    byOwner = await openPgliteDatabase();
    byUser = await openPgliteDatabase();
    for (const database of [byOwner, byUser]) {
      await applySchemas(database.client);
      await loadDemoData(database.client, generateDemoData());
      await runBackfillToEnd(database.client, 'companies');
    }
  });

  afterAll(async () => {
    await byOwner?.dispose();
    await byUser?.dispose();
  });

  it('are added by the table owner, and a user who may not index the legacy tables gets the same result without them', async () => {
    // Prepare: a user who may read and write every table but owns none
    const sql = byUser.client;
    await sql.query('CREATE ROLE migrator_without_ownership');
    await sql.query(`GRANT USAGE ON SCHEMA "${byUser.schema}" TO migrator_without_ownership`);
    await sql.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${byUser.schema}" TO migrator_without_ownership`,
    );
    await sql.query(
      `GRANT USAGE ON ALL SEQUENCES IN SCHEMA "${byUser.schema}" TO migrator_without_ownership`,
    );

    // Act
    for (const step of ['personnel', 'projects'] as const) await runBackfillToEnd(byOwner.client, step);
    await sql.query('SET ROLE migrator_without_ownership');
    try {
      for (const step of ['personnel', 'projects'] as const) await runBackfillToEnd(sql, step);
    } finally {
      await sql.query('RESET ROLE');
    }

    // Assess
    expect(await linkIndexes(byOwner)).toHaveLength(6); // the six project-link tables; personnel links have a unique index
    expect(await linkIndexes(byUser)).toEqual([]);
    expect(await unifiedNaturalState(sql)).toEqual(await unifiedNaturalState(byOwner.client));
  });
});
