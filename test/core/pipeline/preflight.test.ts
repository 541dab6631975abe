import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputValidationError, preflight } from '../../../lib/core/pipeline/steps.ts';
import { LocalReportStore } from '../../../lib/core/reports/local-store.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { MissingSchemaError } from '../../../lib/core/schema/introspect.ts';
import { openPgliteDatabase, type TestDatabase } from '../../support/databases.ts';

describe('preflight', () => {
  let database: TestDatabase;
  const store = new LocalReportStore('/tmp/preflight-reports-unused');

  beforeAll(async () => {
    database = await openPgliteDatabase();
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('refuses a database without the schemas, naming what is missing', async () => {
    // Act
    const outcome = preflight({ sql: database.client, store }, { runId: 'run-1', input: { stage: 'dev' } });

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(MissingSchemaError);
  });

  it('refuses an input that names another stage than the deployed one', async () => {
    // Prepare
    await applySchemas(database.client);

    // Act
    const outcome = preflight(
      { sql: database.client, store, stage: { name: 'staging', snapshots: true } },
      { runId: 'run-2', input: { stage: 'production' } },
    );

    // Assess
    await expect(outcome).rejects.toSatisfy(
      (e) => e instanceof InputValidationError && /belongs to stage staging/.test((e as Error).message),
    );
  });

  it('decides the snapshot and its identifier from the input and the stage', async () => {
    // Act
    const live = await preflight(
      { sql: database.client, store, stage: { name: 'staging', snapshots: true } },
      { runId: 'run-20261125_0700', input: { stage: 'staging' } },
    );
    const dry = await preflight(
      { sql: database.client, store, stage: { name: 'staging', snapshots: true } },
      { runId: 'run-3', input: { stage: 'staging', dryRun: true } },
    );
    const off = await preflight(
      { sql: database.client, store, stage: { name: 'dev', snapshots: false } },
      { runId: 'run-4', input: { stage: 'dev' } },
    );

    // Assess
    expect(live).toMatchObject({ takeSnapshot: true, snapshotId: 'migration-run-20261125-0700' });
    expect(dry.takeSnapshot).toBe(false);
    expect(off.takeSnapshot).toBe(false);
  });
});
