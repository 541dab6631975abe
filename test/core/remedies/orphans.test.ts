import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  backfillPersonnelAffiliations,
  backfillProjectRelationships,
} from '../../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { listOrphans, type OrphansList } from '../../../lib/core/remedies/orphans.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import { validate } from '../../../lib/core/validation/validate.ts';
import { resetTables, runAllSteps, seed } from '../../support/backfill-fixtures.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';
import {
  mappedRecord,
  merge,
  projectAssignment,
  roleRows,
  withoutUnifiedForeignKeys,
} from '../../support/validation-fixtures.ts';

/**
 * `orphans list` on hand-built orphans of every kind (exact rows, reasons and keys), its limit, and its
 * agreement with validation's V6 and the backfill's orphan counts on the demo data with defects.
 */

const table = (list: OrphansList, name: string) => list.tables.find((t) => t.table === name);

describe.each(realDatabases)('orphans list: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
  });

  beforeEach(async () => {
    await resetTables(sql);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('lists every kind of orphan per table, with ids, reasons and the keys they point at', async () => {
    await withoutUnifiedForeignKeys(
      sql,
      () => resetTables(sql),
      async () => {
        // Prepare
        await seed(
          sql,
          merge(
            {
              company_roles: roleRows(),
              projects: [{ project_id: 1, project_name: 'Project 1' }],
              personnel: [{ personnel_id: 1, full_name: 'Ada Byron' }],
            },
            mappedRecord({ role: 'vendor', id: 1, company: 1, name: 'Alpha Reactors', assignmentId: 1 }),
            {
              project_vendor_relationships: [
                { relationship_id: 1, project_id: 1, vendor_id: 1 }, // fine
                { relationship_id: 2, project_id: 5, vendor_id: 1 },
                { relationship_id: 3, project_id: 1, vendor_id: 9 },
              ],
              project_offtaker_relationships: [{ relationship_id: 7, project_id: 5, offtaker_id: 8 }],
              personnel_entity_relationships: [
                { relationship_id: 1, personnel_id: 1, entity_type: 'Vendor', entity_id: 1 }, // fine
                { relationship_id: 2, personnel_id: 7, entity_type: 'Vendor', entity_id: 1 },
                { relationship_id: 3, personnel_id: 1, entity_type: 'Owner', entity_id: 8 },
                { relationship_id: 4, personnel_id: 7, entity_type: 'Constructor', entity_id: 8 },
                { relationship_id: 5, personnel_id: 7, entity_type: 'Project', entity_id: 99 }, // out of scope
              ],
              company_role_assignments: [
                projectAssignment(10, 99, 'vendor', 1),
                { ...projectAssignment(11, 1, 'vendor', 1), role_id: 99 },
              ],
              person_company_affiliations: [
                { affiliation_id: 20, person_id: 1, company_id: 97 },
                { affiliation_id: 21, person_id: 8, company_id: 1 },
              ],
              client_profiles: [{ company_id: 96, client_status: 'Active' }],
            },
          ),
        );

        // Act
        const statementsBefore = sql.statementsIssued;
        const list = await listOrphans(sql);
        const statements = sql.statementsIssued - statementsBefore;
        const limited = await listOrphans(sql, { limit: 1 });
        const report = await validate(sql, { runId: 'run-orphans', stage: 'test' });

        // Assess
        expect(statements).toBe(2);
        expect(list).toMatchObject({ schema: database.schema, limit: null, legacyLinks: 6, unifiedRows: 5 });
        expect(list.tables.map((t) => [t.table, t.kind, t.count])).toEqual([
          ['company_role_assignments', 'unified', 2],
          ['person_company_affiliations', 'unified', 2],
          ['client_profiles', 'unified', 1],
          ['project_vendor_relationships', 'legacy', 2],
          ['project_owner_relationships', 'legacy', 0],
          ['client_project_relationships', 'legacy', 0],
          ['project_operator_relationships', 'legacy', 0],
          ['project_constructor_relationships', 'legacy', 0],
          ['project_offtaker_relationships', 'legacy', 1],
          ['personnel_entity_relationships', 'legacy', 3],
        ]);
        expect(table(list, 'company_role_assignments')?.rows).toEqual([
          { id: 10, reason: 'missing company', refs: { company_id: 99, role_id: 16 } },
          { id: 11, reason: 'missing role', refs: { company_id: 1, role_id: 99 } },
        ]);
        expect(table(list, 'person_company_affiliations')?.rows).toEqual([
          { id: 20, reason: 'missing company', refs: { person_id: 1, company_id: 97 } },
          { id: 21, reason: 'missing person', refs: { person_id: 8, company_id: 1 } },
        ]);
        expect(table(list, 'client_profiles')?.rows).toEqual([
          { id: 96, reason: 'missing company', refs: { company_id: 96 } },
        ]);
        expect(table(list, 'project_vendor_relationships')?.rows).toEqual([
          { id: 2, reason: 'missing project', refs: { project_id: 5, vendor_id: 1 } },
          { id: 3, reason: 'missing vendor', refs: { project_id: 1, vendor_id: 9 } },
        ]);
        expect(table(list, 'project_offtaker_relationships')?.rows).toEqual([
          { id: 7, reason: 'missing project and offtaker', refs: { project_id: 5, offtaker_id: 8 } },
        ]);
        expect(table(list, 'personnel_entity_relationships')?.rows).toEqual([
          { id: 2, reason: 'missing person', refs: { personnel_id: 7, entity_type: 'Vendor', entity_id: 1 } },
          { id: 3, reason: 'missing entity', refs: { personnel_id: 1, entity_type: 'Owner', entity_id: 8 } },
          {
            id: 4,
            reason: 'missing person and entity',
            refs: { personnel_id: 7, entity_type: 'Constructor', entity_id: 8 },
          },
        ]);
        expect(list.tables.every((t) => !t.truncated)).toBe(true);
        expect(limited.tables.map((t) => [t.table, t.rows.map((r) => r.id), t.truncated])).toContainEqual([
          'personnel_entity_relationships',
          [2],
          true,
        ]);
        expect(limited.tables.filter((t) => t.truncated).map((t) => t.table)).toEqual([
          'company_role_assignments',
          'person_company_affiliations',
          'project_vendor_relationships',
          'personnel_entity_relationships',
        ]);
        expect(limited.legacyLinks).toBe(list.legacyLinks);
        expect(report.orphans).toMatchObject({
          unifiedRows: list.unifiedRows,
          personnelLinks: table(list, 'personnel_entity_relationships')?.count,
          projectLinks: list.legacyLinks - (table(list, 'personnel_entity_relationships')?.count ?? 0),
        });
      },
    );
  });

  it('counts the orphans validation (V6) and the backfill count on the demo data with defects', async () => {
    // Prepare
    await loadDemoData(sql, generateDemoData({ defects: true }));
    const dryPersonnel = await backfillPersonnelAffiliations(sql, { dryRun: true });
    const dryProjects = await backfillProjectRelationships(sql, { dryRun: true });
    const live = await runAllSteps(sql);

    // Act
    const list = await listOrphans(sql);
    const report = await validate(sql, { runId: 'run-orphans', stage: 'test' });

    // Assess
    const personnel = table(list, 'personnel_entity_relationships')?.count ?? 0;
    expect(personnel).toBeGreaterThan(0);
    expect(list.legacyLinks - personnel).toBeGreaterThan(0);
    expect(report.orphans).toMatchObject({
      personnelLinks: personnel,
      projectLinks: list.legacyLinks - personnel,
      unifiedRows: list.unifiedRows,
    });
    expect([dryPersonnel.orphans.count, live.personnel.orphans.count]).toEqual([personnel, personnel]);
    expect([dryProjects.orphans.count, live.projects.orphans.count]).toEqual([
      list.legacyLinks - personnel,
      list.legacyLinks - personnel,
    ]);
    const listed = list.tables.flatMap((t) =>
      t.rows.map((r) => ({ table: t.table, id: r.id, reason: r.reason })),
    );
    expect(listed).toEqual(expect.arrayContaining(report.orphans.sample));
  });
});
