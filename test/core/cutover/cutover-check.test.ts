import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUTOVER_BASELINE_TABLE, cutoverCheck, dropOrder } from '../../../lib/core/cutover/cutover-check.ts';
import { renderCutoverMarkdown } from '../../../lib/core/cutover/render.ts';
import { installDualWrite, uninstallDualWrite } from '../../../lib/core/dual-write/dual-write.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import type { SqlClient, SqlSession } from '../../../lib/core/sql/types.ts';
import { type Fixture, runAllSteps, seed } from '../../support/backfill-fixtures.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';

/**
 * The cutover check on real databases: a clean, quiet, validated database is ready once its legacy
 * tables stayed unwritten long enough; a planted view, foreign key, trigger, rule and function, and the
 * application still writing legacy rows, each make it "not ready", named, with the SQL to retire them.
 */

const FIXTURE: Fixture = {
  technology_vendors: [
    { vendor_id: 1, vendor_name: 'Acme Nuclear' },
    { vendor_id: 2, vendor_name: 'Beta Reactors' },
  ],
  clients: [{ client_id: 1, client_name: 'Acme Nuclear', client_type: 'Utility' }],
  personnel: [{ personnel_id: 1, full_name: 'Ada Engineer' }],
  projects: [{ project_id: 1, project_name: 'Pilot SMR' }],
  personnel_entity_relationships: [
    { relationship_id: 1, personnel_id: 1, entity_type: 'Vendor', entity_id: 1, title: 'CTO' },
  ],
  project_vendor_relationships: [{ relationship_id: 1, project_id: 1, vendor_id: 2 }],
};

const T0 = new Date('2026-12-01T06:00:00Z');
const hoursAfter = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);

/**
 * Writes to legacy tables as the application would, and makes their statistics visible at once: a
 * server publishes a session's counters within about a second of its commit; forcing it keeps the test
 * from depending on that timing.
 */
async function applicationWrites(sql: SqlClient, work: (tx: SqlSession) => Promise<void>): Promise<void> {
  await sql.transaction(async (tx) => {
    await work(tx);
    await tx.query('SELECT pg_stat_force_next_flush()');
  });
  await sql.query('SELECT 1');
}

const PLANTED = `
CREATE VIEW vendor_names AS SELECT vendor_id, vendor_name FROM technology_vendors;
CREATE VIEW vendor_names_upper AS SELECT upper(vendor_name) AS name FROM vendor_names;
CREATE TABLE vendor_contracts (contract_id serial PRIMARY KEY, vendor_id integer REFERENCES technology_vendors (vendor_id));
CREATE FUNCTION audit_vendor_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER audit_vendor_change BEFORE UPDATE ON technology_vendors FOR EACH ROW EXECUTE FUNCTION audit_vendor_change();
CREATE FUNCTION open_client_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM clients $$;
CREATE RULE keep_offtakers AS ON DELETE TO offtakers DO INSTEAD NOTHING`;

const UNPLANT = `
DROP RULE keep_offtakers ON offtakers;
DROP FUNCTION open_client_count();
DROP TRIGGER audit_vendor_change ON technology_vendors;
DROP FUNCTION audit_vendor_change();
DROP TABLE vendor_contracts;
DROP VIEW vendor_names_upper;
DROP VIEW vendor_names`;

describe.each(realDatabases)('cutover check: $name', (adapter) => {
  let database: TestDatabase;
  let sql: SqlClient;

  beforeAll(async () => {
    database = await adapter.open();
    sql = database.client;
    await applySchemas(sql);
    await applicationWrites(sql, (tx) => seed(tx, FIXTURE));
    await runAllSteps(sql);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('is ready only once the legacy tables stayed unwritten long enough, with nothing depending on them', async () => {
    // Act
    const first = await cutoverCheck(sql, { now: () => T0 });
    const soon = await cutoverCheck(sql, { now: () => hoursAfter(1) });
    const later = await cutoverCheck(sql, { now: () => hoursAfter(25) });

    // Assess
    expect(first.ready).toBe(false);
    expect(first.writes.tables.every((t) => t.status === 'no-baseline')).toBe(true);
    expect(first.reasons).toEqual([
      'no earlier check to compare writes with; baseline recorded now: check again after 24 h of normal application use',
    ]);
    expect(soon.reasons).toEqual([
      'legacy tables unwritten for 1 h only; at least 24 h of normal use are required',
    ]);
    expect(later).toMatchObject({ ready: true, reasons: [], validation: { passed: true } });
    expect(later.writes).toMatchObject({ recorded: true, quietHours: 25 });
    expect(later.writes.tables.map((t) => [t.table, t.status, t.quietSince])).toContainEqual([
      'technology_vendors',
      'quiet',
      T0.toISOString(),
    ]);
    expect(later.legacyTables).toHaveLength(13);
    const drops = later.dropSql.split('\n').filter((l) => l.startsWith('DROP TABLE "'));
    const position = (table: string) => drops.findIndex((l) => l.includes(`."${table}"`));
    expect(position('project_vendor_relationships')).toBeLessThan(position('technology_vendors'));
    const statements = later.dropSql.split('\n').filter((l) => !l.startsWith('--'));
    expect(statements.join('\n')).not.toMatch(/CASCADE/);
    expect(statements.join('\n')).not.toMatch(/"personnel"|"projects"/);
  });

  it('finds a view, a foreign key, a foreign trigger, a rule and a function on legacy tables, and the application still writing', async () => {
    // Prepare
    await sql.runScript(PLANTED);
    await installDualWrite(sql);
    await cutoverCheck(sql, { now: () => hoursAfter(30) });
    await applicationWrites(sql, async (tx) => {
      await tx.query(`INSERT INTO technology_vendors (vendor_name) VALUES ('   ')`);
      await tx.query(`UPDATE technology_vendors SET notes = 'renamed' WHERE vendor_id = 2`);
    });

    try {
      // Act
      const report = await cutoverCheck(sql, { now: () => hoursAfter(60) });

      // Assess
      const { dependencies: d } = report;
      expect(report.ready).toBe(false);
      expect(d.views.map((v) => [v.name, v.depth, v.legacyTables])).toEqual([
        ['vendor_names_upper', 2, ['technology_vendors']],
        ['vendor_names', 1, ['technology_vendors']],
      ]);
      expect(d.foreignKeys).toEqual([
        expect.objectContaining({ table: 'vendor_contracts', references: 'technology_vendors' }),
      ]);
      expect(d.triggers).toEqual([
        expect.objectContaining({ table: 'technology_vendors', name: 'audit_vendor_change', enabled: true }),
      ]);
      expect(d.rules).toEqual([
        expect.objectContaining({ table: 'offtakers', name: 'keep_offtakers', legacyTables: ['offtakers'] }),
      ]);
      expect(d.functions.map((f) => [f.name, f.legacyTables])).toEqual([['open_client_count', ['clients']]]);
      expect(report.ours.dualWriteTriggers).toBe(13);
      expect(report.ours.dualWriteFunctions).toBeGreaterThan(13);
      expect(report.writes.tables.find((t) => t.table === 'technology_vendors')).toMatchObject({
        status: 'written',
        inserts: 1,
        updates: 1,
        deletes: 0,
        quietSince: hoursAfter(60).toISOString(),
      });
      expect(report.reasons).toEqual([
        '2 views read legacy tables: ' +
          `${database.schema}.vendor_names_upper (technology_vendors), ${database.schema}.vendor_names (technology_vendors)`,
        `1 rule touches legacy tables: keep_offtakers on ${database.schema}.offtakers`,
        `1 foreign key references legacy tables: ${database.schema}.vendor_contracts.vendor_contracts_vendor_id_fkey → technology_vendors`,
        `1 trigger other than ours on legacy tables: audit_vendor_change on technology_vendors (${database.schema}.audit_vendor_change)`,
        `1 function uses legacy tables: ${database.schema}.open_client_count()`,
        `the application still writes legacy tables: technology_vendors (+1 inserted, 1 updated, 0 deleted since ${hoursAfter(30).toISOString()})`,
        'validation fails: no-critical-issues, entity-counts-match (1 critical issue)',
      ]);
      const sqlLines = report.dropSql.split('\n');
      const at = (fragment: string) => sqlLines.findIndex((l) => l.includes(fragment));
      expect(at('DROP TRIGGER IF EXISTS company_migration_sync ON "technology_vendors"')).toBeGreaterThan(0);
      expect(at('DROP TRIGGER "audit_vendor_change"')).toBeLessThan(at('DROP VIEW'));
      expect(at('"vendor_names_upper"')).toBeLessThan(at('"vendor_names";'));
      expect(at('DROP FUNCTION "')).toBeGreaterThan(at('"vendor_names";'));
      expect(at('DROP CONSTRAINT "vendor_contracts_vendor_id_fkey"')).toBeLessThan(at('DROP TABLE'));
      expect(renderCutoverMarkdown(report)).toContain('NOT READY');

      // Act: the next check sees the same counters: quiet since the check that saw the writes
      const next = await cutoverCheck(sql, { now: () => hoursAfter(61) });

      // Assess
      expect(next.writes.tables.find((t) => t.table === 'technology_vendors')).toMatchObject({
        status: 'quiet',
        quietSince: hoursAfter(60).toISOString(),
      });
    } finally {
      await sql.runScript(UNPLANT);
      await uninstallDualWrite(sql);
      await sql.query(`DELETE FROM technology_vendors WHERE vendor_id > 2`);
    }
  });

  it('a dry run records nothing; a counter below its baseline is a statistics reset, not quiet', async () => {
    // Prepare
    await sql.query(`DROP TABLE IF EXISTS ${CUTOVER_BASELINE_TABLE}`);

    // Act
    const dry = await cutoverCheck(sql, { dryRun: true, now: () => T0 });

    // Assess
    expect(dry.writes.recorded).toBe(false);
    expect(dry.reasons).toContain(
      'no earlier check to compare writes with; run the check without --dry-run to record a baseline, then again later',
    );
    const { rows } = await sql.query<{ present: boolean }>(
      `SELECT to_regclass('${CUTOVER_BASELINE_TABLE}') IS NOT NULL AS present`,
    );
    expect(rows[0]?.present).toBe(false);

    // Prepare: a baseline above the current counters, as after pg_stat_reset() or a failover
    await cutoverCheck(sql, { now: () => T0 });
    await sql.query(
      `UPDATE ${CUTOVER_BASELINE_TABLE} SET n_tup_ins = n_tup_ins + 1000 WHERE table_name = 'clients'`,
    );

    // Act
    const reset = await cutoverCheck(sql, { dryRun: true, now: () => hoursAfter(48) });

    // Assess
    expect(reset.writes.tables.find((t) => t.table === 'clients')?.status).toBe('statistics-reset');
    expect(reset.ready).toBe(false);
    // The server flushes write statistics asynchronously: an earlier test's write may show up as well.
    expect(reset.reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/^write statistics were reset \(clients\)/)]),
    );
  });
});

describe('the order of the drops', () => {
  it('drops every referencing table before the table it references', () => {
    // Act
    const order = dropOrder(
      ['technology_vendors', 'projects_x', 'project_vendor_relationships'],
      [
        { from: 'project_vendor_relationships', to: 'technology_vendors' },
        { from: 'project_vendor_relationships', to: 'projects_x' },
        { from: 'projects_x', to: 'technology_vendors' },
      ],
    );

    // Assess
    expect(order).toEqual(['project_vendor_relationships', 'projects_x', 'technology_vendors']);
  });
});
