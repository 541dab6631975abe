import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { MissingSchemaError } from '../../../lib/core/schema/introspect.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import {
  meetsPercent,
  percentOf,
  ROLE_KEYS,
  type ValidationReport,
} from '../../../lib/core/validation/report-schema.ts';
import { type ValidateOptions, validate } from '../../../lib/core/validation/validate.ts';
import { type Fixture, resetTables, runAllSteps, seed } from '../../support/backfill-fixtures.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';
import {
  assignment,
  legacyRecord,
  mappedRecord,
  merge,
  perRole,
  projectAssignment,
  ROLE_IDS,
  recordAssignment,
  roleRows,
  withoutUnifiedForeignKeys,
} from '../../support/validation-fixtures.ts';

/**
 * The validation checks V1–V8 on hand-built legacy and unified rows, with exact figures; the success
 * criteria at their boundaries; the guards against passing vacuously; confidentiality of the report;
 * and a statement count that does not grow with the data.
 */

const NOW = new Date('2026-11-25T07:00:00.000Z');

function validateNow(sql: SqlClient, options: Partial<ValidateOptions> = {}): Promise<ValidationReport> {
  return validate(sql, { runId: 'run-checks', stage: 'test', now: () => NOW, ...options });
}

function issue(report: ValidationReport, code: string) {
  return report.issues.find((i) => i.code === code);
}

function criterion(report: ValidationReport, id: string) {
  return report.criteria.find((c) => c.id === id);
}

const NO_COVERAGE = { total: 0, covered: 0, percent: 100 };
const NO_RECORDS = { total: 0, mapped: 0, missing: 0, missingSample: [] };
const NO_ENTITIES = { legacy: 0, assignments: 0, stale: 0 };

const project = (id: number) => ({ project_id: id, project_name: `Project ${id}` });
const person = (id: number, name: string) => ({ personnel_id: id, full_name: name });

/** One migrated record of every role (legacy id 1, company and record assignment 1–6, in role order). */
const ONE_OF_EACH: Fixture = merge(
  ...ROLE_KEYS.map((role, i) =>
    mappedRecord({ role, id: 1, company: i + 1, name: `${role} company`, assignmentId: i + 1 }),
  ),
);
const COMPANY_OF = Object.fromEntries(ROLE_KEYS.map((role, i) => [role, i + 1])) as Record<
  (typeof ROLE_KEYS)[number],
  number
>;

describe('coverage percentages and bars', () => {
  it('are 100 % with nothing to cover, rounded to two decimals, and decided on the exact counts', () => {
    // Assess
    expect(percentOf(0, 0)).toBe(100);
    expect(percentOf(2, 3)).toBe(66.67);
    expect(percentOf(1, 3)).toBe(33.33);
    expect(percentOf(99_999, 100_000)).toBe(100);
    expect(meetsPercent(0, 0, 100)).toBe(true);
    expect(meetsPercent(19, 20, 95)).toBe(true);
    expect(meetsPercent(949, 1000, 95)).toBe(false);
    expect(meetsPercent(950, 1000, 95)).toBe(true);
    expect(meetsPercent(99_999, 100_000, 100)).toBe(false);
    expect(meetsPercent(2, 3, 66.67)).toBe(false);
    expect(meetsPercent(2, 3, 66.66)).toBe(true);
    // 33 of 375 is exactly 8.8 %; 8.8 * 375 in binary floating point is 3300.0000000000005.
    expect(meetsPercent(33, 375, 8.8)).toBe(true);
    expect(meetsPercent(32, 375, 8.8)).toBe(false);
  });
});

describe.each(realDatabases)('validation checks: $name', (backend) => {
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

  it('V1: counts each legacy table, mapped only by a record assignment of that role and record type, and samples the missing', async () => {
    // Prepare
    await seed(
      sql,
      merge(
        { company_roles: roleRows() },
        mappedRecord({ role: 'vendor', id: 1, company: 1, name: 'Alpha Reactors', assignmentId: 1 }),
        legacyRecord('vendor', 2, 'Beta Fusion'),
        legacyRecord('vendor', 3, 'Gamma Nuclear'),
        legacyRecord('vendor', 4, 'Delta Thermal'),
        mappedRecord({ role: 'operator', id: 1, company: 2, name: 'Delta Ops', assignmentId: 2 }),
        {
          company_role_assignments: [
            // Not record assignments of vendor 2 and 3: a 'Project' context, and the wrong role.
            projectAssignment(3, 1, 'vendor', 2),
            assignment({ id: 4, company: 2, role: 'client', contextType: 'VendorRecord', contextId: 3 }),
          ],
        },
      ),
    );

    // Act
    const report = await validateNow(sql, { sampleSize: 2 });

    // Assess
    expect(report.companyCoverage).toEqual({
      ...perRole(NO_RECORDS),
      vendor: {
        total: 4,
        mapped: 1,
        missing: 3,
        missingSample: [
          { id: 2, name: 'Beta Fusion' },
          { id: 3, name: 'Gamma Nuclear' },
        ],
      },
      operator: { total: 1, mapped: 1, missing: 0, missingSample: [] },
    });
    expect(issue(report, 'missing-companies')).toEqual({
      severity: 'critical',
      code: 'missing-companies',
      count: 3,
      message: '3 legacy record(s) have no record assignment',
    });
    expect(report.passed).toBe(false);
  });

  it('V2: compares legacy rows with the record assignments pointing at existing rows, and counts stale ones apart', async () => {
    // Prepare
    await seed(
      sql,
      merge(
        { company_roles: roleRows() },
        mappedRecord({ role: 'vendor', id: 1, company: 1, name: 'Alpha Reactors', assignmentId: 1 }),
        mappedRecord({ role: 'vendor', id: 2, company: 2, name: 'Beta Fusion', assignmentId: 2 }),
        mappedRecord({ role: 'client', id: 1, company: 3, name: 'Gamma Energy', assignmentId: 3 }),
        {
          companies: [{ company_id: 4, company_name: 'Gamma Energy Holdings' }],
          company_role_assignments: [
            // Stale: vendor 9 was deleted; and one that points at no row at all.
            recordAssignment(4, 1, 'vendor', 9),
            assignment({ id: 5, company: 2, role: 'vendor', contextType: 'VendorRecord', contextId: null }),
            // A second company claims client 1.
            recordAssignment(6, 4, 'client', 1),
          ],
        },
      ),
    );

    // Act
    const report = await validateNow(sql);

    // Assess
    expect(report.entityCounts).toEqual({
      ...perRole(NO_ENTITIES),
      vendor: { legacy: 2, assignments: 2, stale: 2 },
      client: { legacy: 1, assignments: 2, stale: 0 },
    });
    expect(criterion(report, 'entity-counts-match')).toEqual({
      id: 'entity-counts-match',
      passed: false,
      actual: 'client: 1 legacy, 2 assigned',
      threshold: 'equal',
      message: 'record assignments differ from legacy records for client',
    });
    expect(issue(report, 'stale-assignments')).toEqual({
      severity: 'warning',
      code: 'stale-assignments',
      count: 2,
      message: '2 record assignment(s) point at deleted legacy rows',
    });
    expect(report.passed).toBe(false);
  });

  it("V3: covers a legacy project link only by its exact 'Project' assignment, counts orphans as uncovered, and flags lost confidentiality", async () => {
    // Prepare
    await seed(
      sql,
      merge({ company_roles: roleRows(), projects: [project(1), project(2)] }, ONE_OF_EACH, {
        project_vendor_relationships: [
          { relationship_id: 1, project_id: 1, vendor_id: 1 },
          { relationship_id: 2, project_id: 2, vendor_id: 1 },
          { relationship_id: 3, project_id: 9, vendor_id: 1 },
        ],
        project_owner_relationships: [
          { relationship_id: 1, project_id: 1, owner_id: 1 },
          { relationship_id: 2, project_id: 2, owner_id: 1 },
        ],
        client_project_relationships: [
          { relationship_id: 1, client_id: 1, project_id: 1 },
          { relationship_id: 2, client_id: 7, project_id: 1 },
        ],
        project_operator_relationships: [
          { relationship_id: 1, project_id: 1, operator_id: 1, is_confidential: true },
        ],
        project_constructor_relationships: [
          { relationship_id: 1, project_id: 1, constructor_id: 1, is_confidential: true },
        ],
        project_offtaker_relationships: [
          { relationship_id: 1, project_id: 1, offtaker_id: 1, is_confidential: true },
        ],
        company_role_assignments: [
          projectAssignment(11, COMPANY_OF.vendor, 'vendor', 1),
          // Project 9 does not exist: its link is an orphan even though an assignment matches it.
          projectAssignment(12, COMPANY_OF.vendor, 'vendor', 9),
          // The developer's company, but as vendor.
          projectAssignment(13, COMPANY_OF.developer, 'vendor', 1),
          projectAssignment(14, COMPANY_OF.developer, 'developer', 2),
          // Another company than client 1's; also client 7's, through a stale record assignment.
          projectAssignment(15, COMPANY_OF.vendor, 'client', 1),
          recordAssignment(19, COMPANY_OF.vendor, 'client', 7),
          projectAssignment(16, COMPANY_OF.operator, 'operator', 1, { confidential: true }),
          projectAssignment(17, COMPANY_OF.constructor, 'constructor', 1, { confidential: false }),
          // Another project than the offtaker's link.
          projectAssignment(18, COMPANY_OF.offtaker, 'offtaker', 2),
        ],
      }),
    );

    // Act
    const report = await validateNow(sql);

    // Assess
    expect(report.projectRelationshipCoverage).toEqual({
      vendor: { total: 3, covered: 1, percent: 33.33 },
      developer: { total: 2, covered: 1, percent: 50 },
      client: { total: 2, covered: 0, percent: 0 },
      operator: { total: 1, covered: 1, percent: 100 },
      constructor: { total: 1, covered: 1, percent: 100 },
      offtaker: { total: 1, covered: 0, percent: 0 },
      overall: { total: 10, covered: 4, percent: 40 },
    });
    expect(criterion(report, 'project-coverage')).toEqual({
      id: 'project-coverage',
      passed: false,
      actual: 40,
      threshold: 95,
      message: 'project-relationship coverage 40 % (4 of 10) < 95 %',
    });
    expect(report.issues).toEqual([
      {
        severity: 'critical',
        code: 'confidentiality-lost',
        count: 1,
        message: '1 confidential legacy project link(s) map to a non-confidential assignment',
      },
      {
        severity: 'warning',
        code: 'uncovered-project-links',
        count: 6,
        message: '6 legacy project link(s) have no exact assignment',
      },
      {
        severity: 'warning',
        code: 'legacy-orphans',
        count: 2,
        message: '2 legacy link(s) point at missing rows',
      },
      {
        severity: 'warning',
        code: 'stale-assignments',
        count: 1,
        message: '1 record assignment(s) point at deleted legacy rows',
      },
    ]);
    expect(report.orphans.projectLinks).toBe(2);
  });

  it.each(['relationship_role', 'role_at_entity'])(
    'V4: covers a company-related personnel link only by its exact affiliation (title column %s)',
    async (titleColumn) => {
      // Prepare
      if (titleColumn !== 'relationship_role') {
        await sql.query(
          `ALTER TABLE personnel_entity_relationships RENAME COLUMN relationship_role TO ${titleColumn}`,
        );
      }
      try {
        await seed(
          sql,
          merge(
            {
              company_roles: roleRows(),
              personnel: [person(1, 'Ada Byron'), person(2, 'Grace Hopper'), person(3, 'Lise Meitner')],
            },
            mappedRecord({ role: 'vendor', id: 1, company: 1, name: 'Alpha Reactors', assignmentId: 1 }),
            mappedRecord({ role: 'developer', id: 1, company: 2, name: 'Beta Power', assignmentId: 2 }),
            mappedRecord({ role: 'client', id: 1, company: 3, name: 'Gamma Energy', assignmentId: 3 }),
            {
              personnel_entity_relationships: [
                { relationship_id: 1, personnel_id: 1, entity_type: 'Vendor', entity_id: 1, title: 'CEO' },
                { relationship_id: 2, personnel_id: 2, entity_type: 'Vendor', entity_id: 1, title: null },
                { relationship_id: 3, personnel_id: 3, entity_type: 'Owner', entity_id: 1, title: 'CTO' },
                { relationship_id: 4, personnel_id: 1, entity_type: 'Developer', entity_id: 1, title: null },
                {
                  relationship_id: 5,
                  personnel_id: 2,
                  entity_type: 'Client',
                  entity_id: 1,
                  title: 'Advisor',
                },
                { relationship_id: 6, personnel_id: 9, entity_type: 'Client', entity_id: 1, title: 'Ghost' },
                { relationship_id: 7, personnel_id: 3, entity_type: 'Operator', entity_id: 5, title: null },
                { relationship_id: 8, personnel_id: 1, entity_type: 'Project', entity_id: 1, title: 'Lead' },
              ],
              person_company_affiliations: [
                { affiliation_id: 1, person_id: 1, company_id: 1, title: 'CEO' },
                // NULL title = NULL title.
                { affiliation_id: 2, person_id: 2, company_id: 1, title: null },
                // Not exact: title case, NULL against a title, the wrong company.
                { affiliation_id: 3, person_id: 3, company_id: 2, title: 'cto' },
                { affiliation_id: 4, person_id: 1, company_id: 2, title: 'Engineer' },
                { affiliation_id: 5, person_id: 2, company_id: 1, title: 'Advisor' },
                // Operator 5 is gone, but its stale record assignment still names company 1.
                { affiliation_id: 6, person_id: 3, company_id: 1, title: null },
              ],
              company_role_assignments: [recordAssignment(9, 1, 'operator', 5)],
            },
          ),
        );

        // Act
        const report = await validateNow(sql);

        // Assess
        expect(report.personnelAffiliationCoverage).toEqual({
          total: 7,
          covered: 2,
          percent: 28.57,
          outOfScope: 1,
        });
        expect(criterion(report, 'personnel-coverage')).toEqual({
          id: 'personnel-coverage',
          passed: false,
          actual: 28.57,
          threshold: 95,
          message: 'personnel-affiliation coverage 28.57 % (2 of 7) < 95 %',
        });
        expect(report.issues).toEqual([
          {
            severity: 'warning',
            code: 'uncovered-personnel-links',
            count: 5,
            message: '5 company-related personnel link(s) have no exact affiliation',
          },
          {
            severity: 'warning',
            code: 'legacy-orphans',
            count: 2,
            message: '2 legacy link(s) point at missing rows',
          },
          {
            severity: 'warning',
            code: 'stale-assignments',
            count: 1,
            message: '1 record assignment(s) point at deleted legacy rows',
          },
          {
            severity: 'info',
            code: 'out-of-scope-links',
            count: 1,
            message: "1 personnel link(s) are not company links (e.g. 'Project')",
          },
        ]);
      } finally {
        if (titleColumn !== 'relationship_role') {
          await sql.query(
            `ALTER TABLE personnel_entity_relationships RENAME COLUMN ${titleColumn} TO relationship_role`,
          );
        }
      }
    },
  );

  it('V5: groups companies whose names are equal lower-cased, trimmed and with inner whitespace collapsed', async () => {
    // Prepare
    await seed(sql, {
      company_roles: roleRows(),
      companies: [
        { company_id: 1, company_name: 'X-energy' },
        { company_id: 2, company_name: 'X-Energy' },
        { company_id: 3, company_name: '  x-ENERGY' },
        { company_id: 4, company_name: 'Holtec  International' },
        { company_id: 5, company_name: 'holtec international' },
        { company_id: 6, company_name: '\tHoltec International\n' },
        { company_id: 7, company_name: 'HOLTEC\t International' },
        { company_id: 8, company_name: 'Holtec' },
        { company_id: 9, company_name: 'Holtec Inter national' },
        { company_id: 10, company_name: 'NuScale Power' },
      ],
      company_role_assignments: [
        recordAssignment(1, 1, 'vendor', 1),
        projectAssignment(2, 1, 'vendor', 1),
        recordAssignment(3, 1, 'developer', 1),
        recordAssignment(4, 2, 'client', 1),
        recordAssignment(5, 10, 'vendor', 2),
      ],
    });

    // Act
    const report = await validateNow(sql);

    // Assess
    expect(report.duplicateNameGroups).toEqual([
      {
        normalizedName: 'holtec international',
        acknowledged: false,
        acknowledgedPairs: [],
        companies: [
          { companyId: 4, name: 'Holtec  International', roles: [], contextTypes: [] },
          { companyId: 5, name: 'holtec international', roles: [], contextTypes: [] },
          { companyId: 6, name: '\tHoltec International\n', roles: [], contextTypes: [] },
          { companyId: 7, name: 'HOLTEC\t International', roles: [], contextTypes: [] },
        ],
      },
      {
        normalizedName: 'x-energy',
        acknowledged: false,
        acknowledgedPairs: [],
        companies: [
          {
            companyId: 1,
            name: 'X-energy',
            roles: ['developer', 'vendor'],
            contextTypes: ['OwnerRecord', 'Project', 'VendorRecord'],
          },
          { companyId: 2, name: 'X-Energy', roles: ['client'], contextTypes: ['ClientRecord'] },
          { companyId: 3, name: '  x-ENERGY', roles: [], contextTypes: [] },
        ],
      },
    ]);
    expect(issue(report, 'duplicate-names')).toEqual({
      severity: 'warning',
      code: 'duplicate-names',
      count: 2,
      message: '2 group(s) of companies with near-identical names',
    });
  });

  it('V6: reports legacy links to missing entities, projects or people (warning) and unified rows pointing at missing rows (critical)', async () => {
    await withoutUnifiedForeignKeys(
      sql,
      () => resetTables(sql),
      async () => {
        // Prepare
        await seed(
          sql,
          merge(
            { company_roles: roleRows(), projects: [project(1)], personnel: [person(1, 'Ada Byron')] },
            mappedRecord({ role: 'vendor', id: 1, company: 1, name: 'Alpha Reactors', assignmentId: 1 }),
            mappedRecord({ role: 'developer', id: 1, company: 2, name: 'Beta Power', assignmentId: 2 }),
            {
              project_vendor_relationships: [{ relationship_id: 1, project_id: 5, vendor_id: 1 }],
              project_owner_relationships: [{ relationship_id: 1, project_id: 1, owner_id: 8 }],
              project_offtaker_relationships: [{ relationship_id: 1, project_id: 5, offtaker_id: 8 }],
              personnel_entity_relationships: [
                { relationship_id: 1, personnel_id: 7, entity_type: 'Vendor', entity_id: 1 },
                { relationship_id: 2, personnel_id: 1, entity_type: 'Owner', entity_id: 8 },
                { relationship_id: 3, personnel_id: 7, entity_type: 'Constructor', entity_id: 8 },
                // Out of scope: not an orphan whatever it points at.
                { relationship_id: 4, personnel_id: 1, entity_type: 'Project', entity_id: 99 },
              ],
              company_role_assignments: [
                projectAssignment(10, 99, 'vendor', 1),
                { ...projectAssignment(11, 1, 'vendor', 1), role_id: 99 },
                { ...projectAssignment(12, 98, 'vendor', 1), role_id: 99 },
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
        const report = await validateNow(sql);

        // Assess
        expect(report.orphans).toEqual({
          personnelLinks: 3,
          projectLinks: 3,
          unifiedRows: 6,
          sample: [
            { table: 'client_profiles', id: 96, reason: 'missing company' },
            { table: 'company_role_assignments', id: 10, reason: 'missing company' },
            { table: 'company_role_assignments', id: 11, reason: 'missing role' },
            { table: 'company_role_assignments', id: 12, reason: 'missing company' },
            { table: 'person_company_affiliations', id: 20, reason: 'missing company' },
            { table: 'person_company_affiliations', id: 21, reason: 'missing person' },
            { table: 'project_vendor_relationships', id: 1, reason: 'missing project' },
            { table: 'project_owner_relationships', id: 1, reason: 'missing developer' },
            { table: 'project_offtaker_relationships', id: 1, reason: 'missing project and offtaker' },
            { table: 'personnel_entity_relationships', id: 1, reason: 'missing person' },
            { table: 'personnel_entity_relationships', id: 2, reason: 'missing entity' },
            { table: 'personnel_entity_relationships', id: 3, reason: 'missing person and entity' },
          ],
        });
        expect(issue(report, 'unified-orphans')).toEqual({
          severity: 'critical',
          code: 'unified-orphans',
          count: 6,
          message: '6 unified row(s) point at a missing company, role or person',
        });
        expect(issue(report, 'legacy-orphans')).toEqual({
          severity: 'warning',
          code: 'legacy-orphans',
          count: 6,
          message: '6 legacy link(s) point at missing rows',
        });
        expect(report.passed).toBe(false);
      },
    );
  });

  it('V6: legacy orphans alone are a warning and do not fail validation by themselves', async () => {
    // Prepare
    await seed(
      sql,
      merge(
        { company_roles: roleRows(), projects: [project(1)] },
        mappedRecord({ role: 'vendor', id: 1, company: 1, name: 'Alpha Reactors', assignmentId: 1 }),
        {
          project_vendor_relationships: [
            ...Array.from({ length: 19 }, (_, i) => ({
              relationship_id: i + 1,
              project_id: 1,
              vendor_id: 1,
            })),
            { relationship_id: 20, project_id: 2, vendor_id: 1 },
          ],
          company_role_assignments: [projectAssignment(2, 1, 'vendor', 1)],
        },
      ),
    );

    // Act
    const report = await validateNow(sql);

    // Assess
    expect(report.orphans).toEqual({
      personnelLinks: 0,
      projectLinks: 1,
      unifiedRows: 0,
      sample: [{ table: 'project_vendor_relationships', id: 20, reason: 'missing project' }],
    });
    expect(report.issues.map((i) => [i.severity, i.code, i.count])).toEqual([
      ['warning', 'uncovered-project-links', 1],
      ['warning', 'legacy-orphans', 1],
    ]);
    expect(report.passed).toBe(true);
  });

  it('V7: reports companies whose name or R3 fields differ from their legacy records, with samples', async () => {
    // Prepare
    await seed(sql, {
      company_roles: roleRows(),
      technology_vendors: [
        { vendor_id: 1, vendor_name: '\u00a0Alpha Reactors ', notes: 'n1' },
        { vendor_id: 2, vendor_name: 'Beta Fusion' },
        { vendor_id: 3, vendor_name: 'Zeta Power', notes: 'from the vendor' },
      ],
      owners_developers: [{ owner_id: 1, company_name: 'Gamma Energy', notes: 'shared' }],
      clients: [{ client_id: 1, client_name: 'Gamma Energy', client_type: 'Utility', notes: 'client notes' }],
      operators: [{ operator_id: 1, company_name: 'Delta Ops', notes: 'legacy note' }],
      offtakers: [
        { offtaker_id: 1, organization_name: 'Zeta Power', sector: 'Utility', notes: 'from the offtaker' },
      ],
      companies: [
        // Trimmed names (no-break space included) are not drift.
        { company_id: 1, company_name: 'Alpha Reactors', company_type: 'Vendor', notes: 'n1' },
        { company_id: 2, company_name: 'Beta Fusion Inc', company_type: 'Vendor' },
        // Its owner record wins (R3): company_type 'Owner/Developer'; a client record: is_mpr_client.
        { company_id: 3, company_name: 'Gamma Energy', company_type: 'Utility', notes: 'shared' },
        { company_id: 4, company_name: 'Delta Ops', company_type: 'Operator', notes: 'edited in the app' },
        // No legacy record: nothing to differ from.
        { company_id: 5, company_name: 'Epsilon Nuclear', is_mpr_client: true },
        // The vendor record wins over the offtaker's.
        { company_id: 6, company_name: 'Zeta Power', company_type: 'Vendor', notes: 'from the vendor' },
      ],
      company_role_assignments: [
        recordAssignment(1, 1, 'vendor', 1),
        recordAssignment(2, 2, 'vendor', 2),
        recordAssignment(3, 3, 'developer', 1),
        recordAssignment(4, 3, 'client', 1),
        recordAssignment(5, 4, 'operator', 1),
        recordAssignment(6, 6, 'vendor', 3),
        recordAssignment(7, 6, 'offtaker', 1),
      ],
    });

    // Act
    const report = await validateNow(sql);

    // Assess
    expect(report.drift).toEqual({
      count: 3,
      sample: [
        { companyId: 2, company: 'Beta Fusion Inc', field: 'company_name', legacy: 'technology_vendors#2' },
        { companyId: 3, company: 'Gamma Energy', field: 'company_type', legacy: 'owners_developers#1' },
        { companyId: 3, company: 'Gamma Energy', field: 'is_mpr_client', legacy: 'owners_developers#1' },
        { companyId: 4, company: 'Delta Ops', field: 'notes', legacy: 'operators#1' },
      ],
    });
    expect(issue(report, 'drift')).toEqual({
      severity: 'warning',
      code: 'drift',
      count: 3,
      message: '3 company(ies) differ from their legacy records',
    });
  });

  it('V8: reports legacy records with blank names as unmigratable (critical), apart from missing ones', async () => {
    // Prepare
    await seed(
      sql,
      merge(
        { company_roles: roleRows() },
        legacyRecord('vendor', 1, '   '),
        mappedRecord({ role: 'vendor', id: 2, company: 1, name: 'Fine Vendor', assignmentId: 1 }),
        legacyRecord('client', 1, '\t\u00a0\n'),
        // A blank record that has a record assignment anyway must not hide a missing one.
        legacyRecord('operator', 1, ''),
        legacyRecord('operator', 2, 'Real Ops'),
        {
          companies: [{ company_id: 2, company_name: 'Odd Ops', company_type: 'Operator' }],
          company_role_assignments: [recordAssignment(2, 2, 'operator', 1)],
        },
      ),
    );

    // Act
    const report = await validateNow(sql);

    // Assess
    expect(report.unmigratable).toEqual({
      count: 3,
      sample: [
        { table: 'technology_vendors', id: 1 },
        { table: 'clients', id: 1 },
        { table: 'operators', id: 1 },
      ],
    });
    expect(report.companyCoverage).toEqual({
      ...perRole(NO_RECORDS),
      vendor: { total: 2, mapped: 1, missing: 1, missingSample: [{ id: 1, name: '   ' }] },
      client: { total: 1, mapped: 0, missing: 1, missingSample: [{ id: 1, name: '\t\u00a0\n' }] },
      operator: { total: 2, mapped: 1, missing: 1, missingSample: [{ id: 2, name: 'Real Ops' }] },
    });
    expect(report.issues.filter((i) => i.severity === 'critical')).toEqual([
      {
        severity: 'critical',
        code: 'unmigratable-records',
        count: 3,
        message: '3 legacy record(s) have a blank or over-long name',
      },
      {
        severity: 'critical',
        code: 'missing-companies',
        count: 1,
        message: '1 legacy record(s) have no record assignment',
      },
    ]);
    expect(report.passed).toBe(false);
  });

  it('criteria: 19 of 20 links meet the 95 % bars and the run passes; one more uncovered link fails them', async () => {
    // Prepare
    await seed(
      sql,
      merge(
        { company_roles: roleRows() },
        mappedRecord({ role: 'vendor', id: 1, company: 1, name: 'Alpha Reactors', assignmentId: 1 }),
      ),
    );
    await sql.runScript(`
      INSERT INTO projects (project_id, project_name) SELECT g, 'Project ' || g FROM generate_series(1, 21) AS g;
      INSERT INTO project_vendor_relationships (relationship_id, project_id, vendor_id)
        SELECT g, g, 1 FROM generate_series(1, 20) AS g;
      INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id)
        SELECT 1, ${ROLE_IDS.vendor}, 'Project', g FROM generate_series(1, 19) AS g;
      INSERT INTO personnel (personnel_id, full_name) SELECT g, 'Person ' || g FROM generate_series(1, 21) AS g;
      INSERT INTO personnel_entity_relationships (relationship_id, personnel_id, entity_type, entity_id, relationship_role)
        SELECT g, g, 'Vendor', 1, 'Engineer' FROM generate_series(1, 20) AS g;
      INSERT INTO person_company_affiliations (person_id, company_id, title)
        SELECT g, 1, 'Engineer' FROM generate_series(1, 19) AS g;`);

    // Act
    const atBar = await validateNow(sql);
    await sql.runScript(`
      INSERT INTO project_vendor_relationships (relationship_id, project_id, vendor_id) VALUES (21, 21, 1);
      INSERT INTO personnel_entity_relationships (relationship_id, personnel_id, entity_type, entity_id, relationship_role)
        VALUES (21, 21, 'Vendor', 1, 'Engineer');`);
    const belowBar = await validateNow(sql);

    // Assess
    expect(atBar.criteria).toEqual([
      { id: 'no-critical-issues', passed: true, actual: 0, threshold: 0, message: 'no critical issue' },
      {
        id: 'entity-counts-match',
        passed: true,
        actual: 'equal',
        threshold: 'equal',
        message: 'every role has one record assignment per legacy record',
      },
      {
        id: 'project-coverage',
        passed: true,
        actual: 95,
        threshold: 95,
        message: 'project-relationship coverage 95 % (19 of 20) ≥ 95 %',
      },
      {
        id: 'personnel-coverage',
        passed: true,
        actual: 95,
        threshold: 95,
        message: 'personnel-affiliation coverage 95 % (19 of 20) ≥ 95 %',
      },
    ]);
    expect(atBar.passed).toBe(true);
    expect(belowBar.criteria.slice(2)).toEqual([
      {
        id: 'project-coverage',
        passed: false,
        actual: 90.48,
        threshold: 95,
        message: 'project-relationship coverage 90.48 % (19 of 21) < 95 %',
      },
      {
        id: 'personnel-coverage',
        passed: false,
        actual: 90.48,
        threshold: 95,
        message: 'personnel-affiliation coverage 90.48 % (19 of 21) < 95 %',
      },
    ]);
    expect(belowBar.passed).toBe(false);
  });

  it('criteria: 949 of 1000 links fail the 95 % bars, 950 of 1000 meet them', async () => {
    // Prepare
    await seed(
      sql,
      merge(
        { company_roles: roleRows() },
        mappedRecord({ role: 'developer', id: 1, company: 1, name: 'Alpha Power', assignmentId: 1 }),
      ),
    );
    await sql.runScript(`
      INSERT INTO projects (project_id, project_name) SELECT g, 'Project ' || g FROM generate_series(1, 1000) AS g;
      INSERT INTO project_owner_relationships (relationship_id, project_id, owner_id)
        SELECT g, g, 1 FROM generate_series(1, 1000) AS g;
      INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id)
        SELECT 1, ${ROLE_IDS.developer}, 'Project', g FROM generate_series(1, 949) AS g;
      INSERT INTO personnel (personnel_id, full_name) SELECT g, 'Person ' || g FROM generate_series(1, 1000) AS g;
      INSERT INTO personnel_entity_relationships (relationship_id, personnel_id, entity_type, entity_id, relationship_role)
        SELECT g, g, CASE WHEN g % 2 = 0 THEN 'Owner' ELSE 'Developer' END, 1, NULL FROM generate_series(1, 1000) AS g;
      INSERT INTO person_company_affiliations (person_id, company_id, title)
        SELECT g, 1, NULL FROM generate_series(1, 949) AS g;`);

    // Act
    const below = await validateNow(sql);
    await sql.runScript(`
      INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id)
        VALUES (1, ${ROLE_IDS.developer}, 'Project', 950);
      INSERT INTO person_company_affiliations (person_id, company_id, title) VALUES (950, 1, NULL);`);
    const at = await validateNow(sql);

    // Assess
    expect(below.projectRelationshipCoverage.overall).toEqual({ total: 1000, covered: 949, percent: 94.9 });
    expect(below.personnelAffiliationCoverage).toEqual({
      total: 1000,
      covered: 949,
      percent: 94.9,
      outOfScope: 0,
    });
    expect(below.criteria.map((c) => [c.id, c.passed])).toEqual([
      ['no-critical-issues', true],
      ['entity-counts-match', true],
      ['project-coverage', false],
      ['personnel-coverage', false],
    ]);
    expect(below.passed).toBe(false);
    expect(at.projectRelationshipCoverage.overall).toEqual({ total: 1000, covered: 950, percent: 95 });
    expect(at.personnelAffiliationCoverage).toEqual({
      total: 1000,
      covered: 950,
      percent: 95,
      outOfScope: 0,
    });
    expect(at.passed).toBe(true);
  });

  it('criteria: bars compare the exact counts, not the rounded percent, and nothing to cover is 100 %', async () => {
    // Prepare
    await seed(
      sql,
      merge(
        { company_roles: roleRows(), projects: [project(1), project(2), project(3)] },
        mappedRecord({ role: 'offtaker', id: 1, company: 1, name: 'Grid Co', assignmentId: 1 }),
        {
          project_offtaker_relationships: [1, 2, 3].map((p) => ({
            relationship_id: p,
            project_id: p,
            offtaker_id: 1,
          })),
          company_role_assignments: [
            projectAssignment(2, 1, 'offtaker', 1),
            projectAssignment(3, 1, 'offtaker', 2),
          ],
        },
      ),
    );

    // Act
    const strict = await validateNow(sql, { thresholds: { projectCoveragePercent: 66.67 } });
    const lenient = await validateNow(sql, { thresholds: { projectCoveragePercent: 66.66 } });

    // Assess
    expect(criterion(strict, 'project-coverage')).toEqual({
      id: 'project-coverage',
      passed: false,
      actual: 66.67,
      threshold: 66.67,
      message: 'project-relationship coverage 66.67 % (2 of 3) < 66.67 %',
    });
    expect(criterion(lenient, 'project-coverage')?.passed).toBe(true);
    expect(criterion(lenient, 'personnel-coverage')).toEqual({
      id: 'personnel-coverage',
      passed: true,
      actual: 100,
      threshold: 95,
      message: 'personnel-affiliation coverage 100 % (0 of 0) ≥ 95 %',
    });
    expect(lenient.personnelAffiliationCoverage).toEqual({
      total: 0,
      covered: 0,
      percent: 100,
      outOfScope: 0,
    });
    expect(lenient.passed).toBe(true);
  });

  it('guard: a role missing from company_roles is a critical issue that fails validation, not a zero', async () => {
    // Prepare
    await seed(
      sql,
      merge(
        { company_roles: roleRows(['offtaker']) },
        mappedRecord({ role: 'vendor', id: 1, company: 1, name: 'Alpha Reactors', assignmentId: 1 }),
      ),
    );

    // Act
    const oneMissing = await validateNow(sql);
    await resetTables(sql);
    const empty = await validateNow(sql);

    // Assess
    expect(oneMissing.issues).toEqual([
      { severity: 'critical', code: 'missing-roles', count: 1, message: 'company_roles lacks offtaker' },
    ]);
    expect(criterion(oneMissing, 'no-critical-issues')).toEqual({
      id: 'no-critical-issues',
      passed: false,
      actual: 1,
      threshold: 0,
      message: '1 critical issue(s)',
    });
    expect(oneMissing.passed).toBe(false);
    expect(empty.issues).toEqual([
      {
        severity: 'critical',
        code: 'missing-roles',
        count: 6,
        message: 'company_roles lacks client, constructor, developer, offtaker, operator, vendor',
      },
    ]);
    expect(empty.companyCoverage).toEqual(perRole(NO_RECORDS));
    expect(empty.projectRelationshipCoverage).toEqual({ ...perRole(NO_COVERAGE), overall: NO_COVERAGE });
    expect(empty.passed).toBe(false);
  });

  it('guard: a missing legacy or unified table makes validation throw a MissingSchemaError naming it', async () => {
    // Prepare
    await sql.runScript(`
      DROP TABLE project_offtaker_relationships;
      DROP TABLE person_company_affiliations;`);

    try {
      // Act
      const error = await validateNow(sql).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(MissingSchemaError);
      expect((error as MissingSchemaError).missing).toEqual([
        'project_offtaker_relationships',
        'person_company_affiliations',
      ]);
      expect((error as MissingSchemaError).message).toMatch(
        /lacks 2 table\(s\): project_offtaker_relationships, person_company_affiliations/,
      );
    } finally {
      await applySchemas(sql);
    }
  });

  it('guard: a missing title column or company name column makes validation fail, not count zero', async () => {
    // Prepare
    await seed(
      sql,
      merge(
        { company_roles: roleRows() },
        mappedRecord({ role: 'offtaker', id: 1, company: 1, name: 'Grid Co', assignmentId: 1 }),
      ),
    );

    // Act
    await sql.query(
      'ALTER TABLE personnel_entity_relationships RENAME COLUMN relationship_role TO title_text',
    );
    const withoutTitle = await validateNow(sql).catch((e: unknown) => e);
    await sql.query(
      'ALTER TABLE personnel_entity_relationships RENAME COLUMN title_text TO relationship_role',
    );
    await sql.query('ALTER TABLE offtakers RENAME COLUMN organization_name TO org_name');
    const withoutName = await validateNow(sql).catch((e: unknown) => e);
    await sql.query('ALTER TABLE offtakers RENAME COLUMN org_name TO organization_name');

    // Assess
    expect(withoutTitle).toBeInstanceOf(MissingSchemaError);
    expect((withoutTitle as Error).message).toBe(
      'personnel_entity_relationships has neither relationship_role nor role_at_entity (the title column)',
    );
    expect(withoutName).toBeInstanceOf(Error);
    expect((withoutName as Error).message).toMatch(/organization_name/);
  });

  it('confidentiality: the report carries ids and names only, never the notes of confidential or other rows', async () => {
    await withoutUnifiedForeignKeys(
      sql,
      () => resetTables(sql),
      async () => {
        // Prepare
        await seed(sql, {
          company_roles: roleRows(),
          projects: [project(1)],
          personnel: [person(1, 'Ada Byron')],
          technology_vendors: [
            { vendor_id: 1, vendor_name: 'Alpha Reactors', notes: 'SECRET-legacy-vendor-notes' },
          ],
          companies: [
            {
              company_id: 1,
              company_name: 'Alpha Reactors',
              company_type: 'Vendor',
              notes: 'SECRET-company-notes',
            },
          ],
          project_vendor_relationships: [
            {
              relationship_id: 1,
              project_id: 1,
              vendor_id: 1,
              is_confidential: true,
              notes: 'SECRET-pvr-covered',
            },
            {
              relationship_id: 2,
              project_id: 5,
              vendor_id: 1,
              is_confidential: true,
              notes: 'SECRET-pvr-orphan',
            },
          ],
          client_project_relationships: [
            {
              relationship_id: 1,
              client_id: 9,
              project_id: 1,
              is_confidential: true,
              notes: 'SECRET-cpr-orphan',
            },
          ],
          personnel_entity_relationships: [
            {
              relationship_id: 1,
              personnel_id: 1,
              entity_type: 'Vendor',
              entity_id: 1,
              title: 'Chief Scientist',
              is_confidential: true,
              notes: 'SECRET-per-covered',
            },
            {
              relationship_id: 2,
              personnel_id: 9,
              entity_type: 'Vendor',
              entity_id: 1,
              is_confidential: true,
              notes: 'SECRET-per-orphan',
            },
          ],
          company_role_assignments: [
            recordAssignment(1, 1, 'vendor', 1),
            projectAssignment(2, 1, 'vendor', 1, { confidential: false, notes: 'SECRET-assignment-lost' }),
            projectAssignment(3, 99, 'vendor', 1, { confidential: true, notes: 'SECRET-assignment-orphan' }),
          ],
          person_company_affiliations: [
            { affiliation_id: 1, person_id: 1, company_id: 1, title: 'Chief Scientist', notes: 'SECRET-aff' },
            { affiliation_id: 2, person_id: 1, company_id: 98, notes: 'SECRET-aff-orphan' },
          ],
          client_profiles: [{ company_id: 97, relationship_notes: 'SECRET-profile-notes' }],
        });

        // Act
        const report = await validateNow(sql);

        // Assess: the rows carrying secrets are in the report, their notes are not.
        expect(issue(report, 'confidentiality-lost')?.count).toBe(1);
        expect(report.orphans.sample).toEqual([
          { table: 'client_profiles', id: 97, reason: 'missing company' },
          { table: 'company_role_assignments', id: 3, reason: 'missing company' },
          { table: 'person_company_affiliations', id: 2, reason: 'missing company' },
          { table: 'project_vendor_relationships', id: 2, reason: 'missing project' },
          { table: 'client_project_relationships', id: 1, reason: 'missing client' },
          { table: 'personnel_entity_relationships', id: 2, reason: 'missing person' },
        ]);
        expect(report.drift.sample).toEqual([
          { companyId: 1, company: 'Alpha Reactors', field: 'notes', legacy: 'technology_vendors#1' },
        ]);
        expect(report.personnelAffiliationCoverage).toEqual({
          total: 2,
          covered: 1,
          percent: 50,
          outOfScope: 0,
        });
        expect(JSON.stringify(report)).not.toMatch(/SECRET/);
      },
    );
  });

  it('indexes: creates a missing index the checks need once, only when allowed, and reports the ones it found', async () => {
    // Prepare: the affiliations' unique key (person_id, company_id, …) already serves the person lookups.
    await sql.query('DROP INDEX company_role_assignments_context_idx');
    const affiliationKey = {
      name: 'person_company_affiliations_person_id_company_id_title_star_key',
      created: false,
    };

    // Act
    const dryRun = await validateNow(sql, { createIndexes: false });
    const first = await validateNow(sql);
    const second = await validateNow(sql);

    // Assess
    expect(dryRun.indexes).toEqual([affiliationKey]);
    expect(first.indexes).toEqual([
      { name: 'company_role_assignments_context_idx', created: true },
      affiliationKey,
    ]);
    expect(second.indexes).toEqual([
      { name: 'company_role_assignments_context_idx', created: false },
      affiliationKey,
    ]);
    expect([dryRun.statements, first.statements, second.statements]).toEqual([9, 10, 9]);
  });

  it('statements: validation sends the same statements on ten times the data', async () => {
    // Prepare
    await validateNow(sql); // the indexes exist from here on
    const validateAtScale = async (scale: number) => {
      await resetTables(sql);
      await loadDemoData(sql, generateDemoData({ scale, defects: true }));
      await runAllSteps(sql);
      return validateNow(sql);
    };
    const legacyRows = (report: ValidationReport) =>
      ROLE_KEYS.reduce((sum, role) => sum + report.companyCoverage[role].total, 0) +
      report.projectRelationshipCoverage.overall.total +
      report.personnelAffiliationCoverage.total;

    // Act
    const small = await validateAtScale(1);
    const large = await validateAtScale(10);

    // Assess
    expect(legacyRows(large)).toBeGreaterThanOrEqual(9 * legacyRows(small));
    expect(small.statements).toBe(9);
    expect(large.statements).toBe(small.statements);
  });
});
