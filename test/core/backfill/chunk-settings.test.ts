import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupChunkBounds, legacyChunkBounds } from '../../../lib/core/backfill/sql-helpers.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import type { SqlClient, SqlSession } from '../../../lib/core/sql/types.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';

/**
 * A chunk's first statement (its bounds) sets what the chunk's statements are planned with, for that
 * transaction only: no JIT for any chunk, and no nested-loop joins for a link chunk, whose joins would
 * otherwise follow statistics the backfill itself makes stale.
 */

const PLANNER_SETTINGS = `SELECT current_setting('jit') AS jit, current_setting('enable_nestloop') AS nestloop`;

describe.each(realDatabases)('chunk transaction settings: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  async function settingsAfter(bounds: (tx: SqlSession) => Promise<unknown>) {
    return sql.transaction(async (tx) => {
      await bounds(tx);
      return (await tx.query<{ jit: string; nestloop: string }>(PLANNER_SETTINGS)).rows[0];
    });
  }

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
    await loadDemoData(sql, generateDemoData());
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('a link chunk plans without JIT and without nested-loop joins, until its transaction ends', async () => {
    // Act
    const inChunk = await settingsAfter((tx) =>
      groupChunkBounds(tx, 'project_vendor_relationships', 'project_id', -2_147_483_649, 10),
    );
    const afterChunk = (await sql.query<{ jit: string; nestloop: string }>(PLANNER_SETTINGS)).rows[0];

    // Assess
    expect(inChunk).toEqual({ jit: 'off', nestloop: 'off' });
    expect(afterChunk?.nestloop).toBe('on');
  });

  it('a legacy-record chunk plans without JIT and keeps nested-loop joins (its lookups are probes)', async () => {
    // Act
    const inChunk = await settingsAfter((tx) =>
      legacyChunkBounds(tx, 'technology_vendors', 'vendor_id', -2_147_483_649, 10),
    );

    // Assess
    expect(inChunk).toEqual({ jit: 'off', nestloop: 'on' });
  });
});
