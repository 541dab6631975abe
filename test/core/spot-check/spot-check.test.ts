import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BACKFILL_STEPS, runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { renderSpotCheckHtml, renderSpotCheckMarkdown } from '../../../lib/core/spot-check/render.ts';
import type { SpotCheckRecord } from '../../../lib/core/spot-check/report-schema.ts';
import { spotCheck } from '../../../lib/core/spot-check/spot-check.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import { type Fixture, resetTables, runAllSteps, seed } from '../../support/backfill-fixtures.ts';
import { createDataApiDouble, type DataApiDouble } from '../../support/data-api-double.ts';
import { openPgliteDatabase, realDatabases, type TestDatabase } from '../../support/databases.ts';

/**
 * The spot-check on hand-built legacy data: after the backfill every record matches the rules; each kind
 * of tampering with the unified rows shows up as that record's difference; sampling is reproducible.
 */

const SECRET_NOTE = 'confidential: board approval pending';

const FIXTURE: Fixture = {
  technology_vendors: [
    { vendor_id: 1, vendor_name: 'Acme Nuclear', notes: SECRET_NOTE },
    { vendor_id: 2, vendor_name: 'Beta Reactors' },
    { vendor_id: 3, vendor_name: '  ' },
  ],
  clients: [
    {
      client_id: 4,
      client_name: 'Acme Nuclear\u00a0',
      client_type: 'Utility',
      notes: 'client side',
      relationship_strength: 'Strong',
      relationship_notes: SECRET_NOTE,
      client_priority: 'High',
      last_contact_date: '2025-06-30',
    },
  ],
  operators: [{ operator_id: 7, company_name: 'Gamma Ops' }],
  personnel: [
    { personnel_id: 1, full_name: 'Ada Engineer' },
    { personnel_id: 2, full_name: 'Bo Manager' },
  ],
  projects: [
    { project_id: 10, project_name: 'Pilot SMR' },
    { project_id: 11, project_name: 'Second Unit' },
  ],
  personnel_entity_relationships: [
    { relationship_id: 1, personnel_id: 1, entity_type: 'Vendor', entity_id: 1, title: 'CTO' },
    { relationship_id: 2, personnel_id: 2, entity_type: 'Client', entity_id: 4, title: null },
    { relationship_id: 3, personnel_id: 99, entity_type: 'Vendor', entity_id: 1, title: 'Ghost' },
  ],
  project_vendor_relationships: [
    { relationship_id: 1, project_id: 10, vendor_id: 1, is_confidential: true },
    { relationship_id: 2, project_id: 11, vendor_id: 1 },
    { relationship_id: 3, project_id: 404, vendor_id: 1 },
  ],
  client_project_relationships: [{ relationship_id: 1, client_id: 4, project_id: 10 }],
};

const ALL = { perRole: 50, seed: 'test' } as const;

function recordOf(records: SpotCheckRecord[], table: string, id: number): SpotCheckRecord {
  const record = records.find((r) => r.legacyTable === table && r.legacyId === id);
  if (!record) throw new Error(`${table}#${id} not sampled`);
  return record;
}

describe.each(realDatabases)('spot-check: $name', (adapter) => {
  let database: TestDatabase;
  let sql: SqlClient;

  beforeAll(async () => {
    database = await adapter.open();
    sql = database.client;
    await applySchemas(sql);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  beforeEach(async () => {
    await resetTables(sql);
    await seed(sql, FIXTURE);
  });

  it('finds every record as the rules give it after the backfill, side by side', async () => {
    // Prepare
    await runAllSteps(sql);

    // Act
    const report = await spotCheck(sql, ALL);

    // Assess
    expect(report.counts).toEqual({ sampled: 5, matching: 4, differing: 0, unmigratable: 1 });
    expect(report.passed).toBe(true);
    const vendor = recordOf(report.records, 'technology_vendors', 1);
    const client = recordOf(report.records, 'clients', 4);
    expect(vendor.company?.companyId).toBe(client.company?.companyId);
    expect(vendor.fields.find((f) => f.field === 'company_type')).toMatchObject({
      legacy: 'Vendor',
      expected: 'Vendor',
      unified: 'Vendor',
      matches: true,
    });
    expect(client.fields.find((f) => f.field === 'company_type')).toMatchObject({
      legacy: 'Utility',
      expected: 'Vendor',
      source: 'technology_vendors#1',
    });
    expect(client.notes).toContain("R3 keeps company_type of technology_vendors#1, not this record's");
    expect(client.fields.find((f) => f.field === 'client_profiles.relationship_strength')).toMatchObject({
      legacy: 'Strong',
      expected: 'Strong',
      unified: 'Strong',
      matches: true,
    });
    expect(client.roles.legacyRecords.map((r) => r.record)).toEqual(['technology_vendors#1', 'clients#4']);
    expect(vendor.affiliations).toMatchObject({ total: 2, differing: 0, orphans: 1, companyAffiliations: 2 });
    expect(vendor.projects).toMatchObject({ total: 3, differing: 0, orphans: 1 });
    expect(vendor.projects.listed.map((l) => [l.projectId, l.status])).toEqual([
      [404, 'orphan'],
      [10, 'migrated'],
      [11, 'migrated'],
    ]);
    expect(recordOf(report.records, 'technology_vendors', 3)).toMatchObject({
      verdict: 'unmigratable',
      company: null,
    });
    expect(JSON.stringify(report)).not.toContain('board approval');
    expect(renderSpotCheckHtml(report)).not.toContain('board approval');
  });

  it('names what differs when the unified rows do not follow the rules', async () => {
    // Prepare
    await runAllSteps(sql);
    await sql.query(
      `UPDATE companies SET company_name = 'Beta Reactor Co' WHERE company_name = 'Beta Reactors'`,
    );
    await sql.query(`UPDATE companies SET notes = 'edited' WHERE company_name = 'Acme Nuclear'`);
    await sql.query(`DELETE FROM person_company_affiliations WHERE title = 'CTO'`);
    await sql.query(
      `UPDATE company_role_assignments SET is_confidential = false WHERE context_type = 'Project'`,
    );
    await sql.query('DELETE FROM client_profiles');
    await sql.query(`INSERT INTO operators (operator_id, company_name) VALUES (8, 'Delta New')`);

    // Act
    const report = await spotCheck(sql, ALL);

    // Assess
    expect(report.passed).toBe(false);
    const differences = (table: string, id: number) => recordOf(report.records, table, id).differences;
    expect(differences('technology_vendors', 2)).toEqual([
      'company_name is "Beta Reactor Co", the rules give "Beta Reactors" (from technology_vendors#2)',
    ]);
    expect(differences('technology_vendors', 1)).toEqual([
      'no client profile, yet the company has a client record (R4)',
      'notes differs from technology_vendors#1 (free text, not shown)',
      '1 personnel link(s) without their affiliation (R5)',
      "1 project link(s) without their 'Project' assignment or its confidentiality (R6), 1 listed as confidentiality lost",
    ]);
    expect(differences('clients', 4)).toContain(
      'no client profile, yet the company has a client record (R4)',
    );
    expect(differences('operators', 8)).toEqual(['no record assignment: the record has no company (R2)']);
    expect(differences('operators', 7)).toEqual([]);
    expect(report.counts).toMatchObject({ differing: 4, matching: 1, unmigratable: 1 });
    expect(renderSpotCheckMarkdown(report)).toContain('Beta Reactor Co');
  });

  it('samples reproducibly: the same seed picks the same records, per role, in a constant number of statements', async () => {
    // Prepare
    await seed(sql, {
      offtakers: Array.from({ length: 40 }, (_, i) => ({
        offtaker_id: i + 1,
        organization_name: `Offtaker ${i + 1}`,
      })),
    });
    const ids = (records: SpotCheckRecord[]) => records.map((r) => `${r.legacyTable}#${r.legacyId}`);

    // Act
    const first = await spotCheck(sql, { perRole: 5, seed: 'alpha', roles: ['offtaker', 'vendor'] });
    const again = await spotCheck(sql, { perRole: 5, seed: 'alpha', roles: ['offtaker', 'vendor'] });
    const other = await spotCheck(sql, { perRole: 5, seed: 'beta', roles: ['offtaker', 'vendor'] });
    const one = await spotCheck(sql, { perRole: 1, seed: 'alpha' });

    // Assess
    expect(ids(again.records)).toEqual(ids(first.records));
    expect(ids(other.records)).not.toEqual(ids(first.records));
    expect(first.records.filter((r) => r.role === 'offtaker')).toHaveLength(5);
    expect(first.records.filter((r) => r.role === 'vendor')).toHaveLength(3);
    expect(first.roles).toEqual(['vendor', 'offtaker']);
    expect(one.counts.sampled).toBe(4);
    expect(one.statements).toBe(first.statements);
    expect(first.seed).toBe('alpha');
  });
});

/** In AWS the run's spot-check goes through the RDS Data API: the same report as a direct connection. */
describe('spot-check through the Data API adapter', () => {
  let double: DataApiDouble;
  let reference: TestDatabase;

  beforeAll(async () => {
    double = await createDataApiDouble({ schema: 'spot_check_data_api' });
    reference = await openPgliteDatabase();
    const dataset = generateDemoData({ defects: true });
    for (const sql of [double.sqlClient, reference.client]) {
      await applySchemas(sql);
      await loadDemoData(sql, dataset);
      for (const step of BACKFILL_STEPS) await runBackfillToEnd(sql, step);
    }
  });

  afterAll(async () => {
    await double?.close();
    await reference?.dispose();
  });

  it('gives the same report as a direct PostgreSQL connection', async () => {
    // Prepare
    const options = { perRole: 4, seed: 'data-api', now: () => new Date('2026-12-01T00:00:00Z') };

    // Act
    const viaDataApi = await spotCheck(double.sqlClient, options);
    const direct = await spotCheck(reference.client, options);

    // Assess
    expect(viaDataApi.counts.sampled).toBe(24);
    expect(viaDataApi.records.some((r) => r.projects.total > 0 && r.affiliations.total > 0)).toBe(true);
    expect(viaDataApi).toEqual(direct);
  });
});
