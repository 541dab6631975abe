import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  backfillCompanies,
  backfillPersonnelAffiliations,
  backfillProjectRelationships,
} from '../../../lib/core/backfill/index.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import {
  affiliationRows,
  assignmentRows,
  clientProfileRows,
  companyRows,
  type Fixture,
  legacyTableHashes,
  type Row,
  resetTables,
  runAllSteps,
  seed,
} from '../../support/backfill-fixtures.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';

/**
 * The backfill's mapping rules R1–R7, one small hand-built case (or a few) per rule, each compared
 * with the exact unified rows it must give. Every test starts from empty legacy and unified tables.
 */

const PERSON_LINKS = 'personnel_entity_relationships';

/** The 'Project' assignments, with their companies' names and their roles' codes. */
async function projectAssignments(sql: SqlClient): Promise<Row[]> {
  return (await assignmentRows(sql)).filter((r) => r.context_type === 'Project');
}

const CRM_FROM_SEVEN = {
  relationship_strength: 'Medium',
  relationship_notes: 'from client seven',
  client_priority: 'Low',
  client_status: 'Prospect',
  last_contact_date: '2025-03-04',
  last_contact_type: 'Call',
  last_contact_by: 3,
  next_planned_contact_date: '2026-02-01',
  next_planned_contact_type: 'Email',
  next_planned_contact_assigned_to: 4,
};
const CRM_FROM_FOUR = {
  relationship_strength: 'Strong',
  relationship_notes: 'from client four',
  client_priority: 'High',
  client_status: 'Active',
  last_contact_date: '2025-06-30',
  last_contact_type: 'Meeting',
  last_contact_by: 1,
  next_planned_contact_date: '2026-01-15',
  next_planned_contact_type: 'Site Visit',
  next_planned_contact_assigned_to: 2,
};
const CRM_FROM_NINE = {
  relationship_strength: 'Medium',
  relationship_notes: null,
  client_priority: 'High',
  client_status: 'Active',
  last_contact_date: null,
  last_contact_type: null,
  last_contact_by: null,
  next_planned_contact_date: '2026-03-01',
  next_planned_contact_type: 'Call',
  next_planned_contact_assigned_to: 5,
};

describe.each(realDatabases)('backfill rules: $name', (adapter) => {
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
  });

  describe('R1 roles', () => {
    it('R1: creates the six roles with their labels when none exist, and none on a second run', async () => {
      // Act
      const first = await backfillCompanies(sql);
      const second = await backfillCompanies(sql);

      // Assess
      const { rows } = await sql.query(
        'SELECT role_code, role_label, is_active FROM company_roles ORDER BY role_code COLLATE "C"',
      );
      expect(rows).toEqual([
        { role_code: 'client', role_label: 'MPR Client', is_active: true },
        { role_code: 'constructor', role_label: 'Constructor', is_active: true },
        { role_code: 'developer', role_label: 'Owner / Developer', is_active: true },
        { role_code: 'offtaker', role_label: 'Off-taker', is_active: true },
        { role_code: 'operator', role_label: 'Operator', is_active: true },
        { role_code: 'vendor', role_label: 'Technology Vendor', is_active: true },
      ]);
      expect(first.counts.rolesCreated).toBe(6);
      expect(second.counts.rolesCreated).toBe(0);
    });

    it('R1: leaves existing roles (other labels, unusual role_ids) unchanged and finds roles by code', async () => {
      // Prepare
      await seed(sql, {
        company_roles: [
          { role_id: 1, role_code: 'client', role_label: 'Client', description: 'set by the application' },
          {
            role_id: 907,
            role_code: 'vendor',
            role_label: 'Reactor Vendors (legacy label)',
            description: null,
          },
        ],
        technology_vendors: [{ vendor_id: 1, vendor_name: 'Acme Reactors' }],
        clients: [{ client_id: 1, client_name: 'Beta Utility' }],
      });
      const before = await sql.query('SELECT * FROM company_roles ORDER BY role_id');

      // Act
      const result = await backfillCompanies(sql);

      // Assess
      const { rows: kept } = await sql.query(
        'SELECT * FROM company_roles WHERE role_id IN (1, 907) ORDER BY role_id',
      );
      expect(kept).toEqual(before.rows);
      const { rows: created } = await sql.query(
        `SELECT role_code, role_label FROM company_roles WHERE role_id NOT IN (1, 907) ORDER BY role_code COLLATE "C"`,
      );
      expect(created).toEqual([
        { role_code: 'constructor', role_label: 'Constructor' },
        { role_code: 'developer', role_label: 'Owner / Developer' },
        { role_code: 'offtaker', role_label: 'Off-taker' },
        { role_code: 'operator', role_label: 'Operator' },
      ]);
      const { rows: assignments } = await sql.query(
        `SELECT c.company_name, a.role_id, a.context_type, a.context_id
           FROM company_role_assignments a JOIN companies c USING (company_id) ORDER BY a.role_id`,
      );
      expect(assignments).toEqual([
        { company_name: 'Beta Utility', role_id: 1, context_type: 'ClientRecord', context_id: 1 },
        { company_name: 'Acme Reactors', role_id: 907, context_type: 'VendorRecord', context_id: 1 },
      ]);
      expect(result.counts.rolesCreated).toBe(4);
    });
  });

  describe('R2 companies', () => {
    it('R2: maps every row of the six legacy tables to a company through a primary record assignment', async () => {
      // Prepare
      await seed(sql, {
        technology_vendors: [{ vendor_id: 11, vendor_name: 'Vendor Eleven' }],
        owners_developers: [{ owner_id: 22, company_name: 'Owner Twenty-Two' }],
        clients: [{ client_id: 33, client_name: 'Client Thirty-Three' }],
        operators: [{ operator_id: 44, company_name: 'Operator Forty-Four' }],
        constructors: [{ constructor_id: 55, company_name: 'Constructor Fifty-Five' }],
        offtakers: [{ offtaker_id: 66, organization_name: 'Offtaker Sixty-Six' }],
      });

      // Act
      const result = await backfillCompanies(sql);

      // Assess
      const record = (company_name: string, role_code: string, context_type: string, context_id: number) => ({
        company_name,
        role_code,
        context_type,
        context_id,
        is_primary: true,
        is_confidential: false,
        notes: null,
      });
      expect(await assignmentRows(sql)).toEqual([
        record('Client Thirty-Three', 'client', 'ClientRecord', 33),
        record('Constructor Fifty-Five', 'constructor', 'ConstructorRecord', 55),
        record('Offtaker Sixty-Six', 'offtaker', 'OfftakerRecord', 66),
        record('Operator Forty-Four', 'operator', 'OperatorRecord', 44),
        record('Owner Twenty-Two', 'developer', 'OwnerRecord', 22),
        record('Vendor Eleven', 'vendor', 'VendorRecord', 11),
      ]);
      expect((await companyRows(sql)).map((c) => c.company_name)).toEqual([
        'Client Thirty-Three',
        'Constructor Fifty-Five',
        'Offtaker Sixty-Six',
        'Operator Forty-Four',
        'Owner Twenty-Two',
        'Vendor Eleven',
      ]);
      expect(result.counts).toMatchObject({
        companiesCreated: 6,
        companiesReused: 0,
        recordAssignmentsInserted: 6,
        recordAssignmentsUpdated: 0,
      });
      expect(result.unmigratable).toEqual({ count: 0, sample: [] });
    });

    it('R2: an existing record assignment is sticky: a renamed record keeps its company, whose name stays', async () => {
      // Prepare: vendor 1 was migrated as 'Old Name Nuclear' and renamed since; a company with its new
      // name exists too. Client record 2's assignment shares vendor 2's context_id but not its role.
      await seed(sql, {
        technology_vendors: [
          { vendor_id: 1, vendor_name: 'New Name Nuclear' },
          { vendor_id: 2, vendor_name: 'New Name Nuclear' },
        ],
        companies: [
          { company_id: 10, company_name: 'Old Name Nuclear' },
          { company_id: 11, company_name: 'New Name Nuclear' },
          { company_id: 12, company_name: 'Other Record Holder' },
        ],
        company_roles: [
          { role_id: 1, role_code: 'vendor', role_label: 'Technology Vendor' },
          { role_id: 2, role_code: 'client', role_label: 'MPR Client' },
        ],
        company_role_assignments: [
          { assignment_id: 1, company_id: 10, role_id: 1, context_type: 'VendorRecord', context_id: 1 },
          {
            assignment_id: 2,
            company_id: 12,
            role_id: 2,
            context_type: 'ClientRecord',
            context_id: 2,
            is_primary: true,
          },
        ],
      });

      // Act
      const result = await backfillCompanies(sql);

      // Assess
      const { rows: companies } = await sql.query(
        'SELECT company_id, company_name FROM companies ORDER BY company_id',
      );
      expect(companies).toEqual([
        { company_id: 10, company_name: 'Old Name Nuclear' },
        { company_id: 11, company_name: 'New Name Nuclear' },
        { company_id: 12, company_name: 'Other Record Holder' },
      ]);
      const { rows: assignments } = await sql.query(
        `SELECT assignment_id, company_id, role_id, context_type, context_id, is_primary
           FROM company_role_assignments ORDER BY assignment_id`,
      );
      expect(assignments).toEqual([
        // Made primary, as every record assignment is.
        {
          assignment_id: 1,
          company_id: 10,
          role_id: 1,
          context_type: 'VendorRecord',
          context_id: 1,
          is_primary: true,
        },
        {
          assignment_id: 2,
          company_id: 12,
          role_id: 2,
          context_type: 'ClientRecord',
          context_id: 2,
          is_primary: true,
        },
        {
          assignment_id: 3,
          company_id: 11,
          role_id: 1,
          context_type: 'VendorRecord',
          context_id: 2,
          is_primary: true,
        },
      ]);
      expect(result.counts).toMatchObject({
        companiesCreated: 0,
        companiesReused: 1,
        recordAssignmentsInserted: 1,
        recordAssignmentsUpdated: 1,
      });
    });

    it('R2: reuses the company whose name equals the legacy name with surrounding whitespace trimmed', async () => {
      // Prepare
      await seed(sql, {
        companies: [{ company_id: 7, company_name: 'Acme' }],
        technology_vendors: [{ vendor_id: 1, vendor_name: '  Acme ' }],
        clients: [{ client_id: 1, client_name: '\t\u00a0Acme\u000b\n' }],
        operators: [{ operator_id: 1, company_name: 'Acme' }],
      });

      // Act
      const result = await backfillCompanies(sql);

      // Assess
      const { rows } = await sql.query(
        `SELECT a.company_id, a.context_type, a.context_id FROM company_role_assignments a
          ORDER BY a.context_type COLLATE "C"`,
      );
      expect(rows).toEqual([
        { company_id: 7, context_type: 'ClientRecord', context_id: 1 },
        { company_id: 7, context_type: 'OperatorRecord', context_id: 1 },
        { company_id: 7, context_type: 'VendorRecord', context_id: 1 },
      ]);
      expect((await companyRows(sql)).map((c) => c.company_name)).toEqual(['Acme']);
      expect(result.counts).toMatchObject({ companiesCreated: 0, companiesReused: 3 });
    });

    it('R2: trims whitespace only: names that start or end with the letter v keep it', async () => {
      // Prepare
      await seed(sql, {
        technology_vendors: [{ vendor_id: 1, vendor_name: ' Energoatom Kyiv ' }],
        constructors: [{ constructor_id: 1, company_name: 'vBuild Nuclear' }],
        offtakers: [{ offtaker_id: 1, organization_name: 'v' }],
      });

      // Act
      const result = await backfillCompanies(sql);

      // Assess
      expect((await companyRows(sql)).map((c) => c.company_name)).toEqual([
        'Energoatom Kyiv',
        'v',
        'vBuild Nuclear',
      ]);
      expect(result.unmigratable).toEqual({ count: 0, sample: [] });
    });

    it('R2: matches names exactly: other case or inner spacing makes another company', async () => {
      // Prepare
      await seed(sql, {
        companies: [{ company_id: 3, company_name: 'ACME' }],
        technology_vendors: [{ vendor_id: 1, vendor_name: 'Acme' }],
        operators: [{ operator_id: 1, company_name: 'Acme  Corp' }],
        constructors: [{ constructor_id: 1, company_name: 'Acme Corp' }],
      });

      // Act
      const result = await backfillCompanies(sql);

      // Assess
      expect((await companyRows(sql)).map((c) => c.company_name)).toEqual([
        'ACME',
        'Acme',
        'Acme  Corp',
        'Acme Corp',
      ]);
      expect((await assignmentRows(sql)).map((a) => [a.company_name, a.context_type, a.context_id])).toEqual([
        ['Acme Corp', 'ConstructorRecord', 1],
        ['Acme  Corp', 'OperatorRecord', 1],
        ['Acme', 'VendorRecord', 1],
      ]);
      expect(result.counts).toMatchObject({ companiesCreated: 3, companiesReused: 0 });
    });

    it.each([1, 1000])(
      'R2: two records with one name in one table make one company with two record assignments (chunkSize %i)',
      async (chunkSize) => {
        // Prepare
        await seed(sql, {
          technology_vendors: [
            { vendor_id: 1, vendor_name: 'Twin Reactors' },
            { vendor_id: 2, vendor_name: 'Other Reactors' },
            { vendor_id: 3, vendor_name: 'Twin Reactors ' },
          ],
        });

        // Act
        const result = await backfillCompanies(sql, { chunkSize });

        // Assess
        expect((await companyRows(sql)).map((c) => c.company_name)).toEqual([
          'Other Reactors',
          'Twin Reactors',
        ]);
        expect(
          (await assignmentRows(sql)).map((a) => [
            a.company_name,
            a.context_type,
            a.context_id,
            a.is_primary,
          ]),
        ).toEqual([
          ['Twin Reactors', 'VendorRecord', 1, true],
          ['Other Reactors', 'VendorRecord', 2, true],
          ['Twin Reactors', 'VendorRecord', 3, true],
        ]);
        expect(result.counts).toMatchObject({
          companiesCreated: 2,
          companiesReused: 1,
          recordAssignmentsInserted: 3,
        });
      },
    );

    it.each([1, 1000])(
      'R2, R5, R6: rows whose keys are zero or negative are migrated like any other, as the dry run predicts (chunkSize %i)',
      async (chunkSize) => {
        // Prepare: ids a legacy import set explicitly.
        await seed(sql, {
          technology_vendors: [
            { vendor_id: -5, vendor_name: 'Negative Key Nuclear' },
            { vendor_id: 0, vendor_name: 'Zero Key Nuclear' },
            { vendor_id: 1, vendor_name: 'Positive Key Nuclear' },
          ],
          personnel: [{ personnel_id: 0, full_name: 'Zero Person' }],
          projects: [{ project_id: 0, project_name: 'Project Zero' }],
          [PERSON_LINKS]: [
            { relationship_id: -1, personnel_id: 0, entity_type: 'Vendor', entity_id: -5, title: 'CEO' },
          ],
          project_vendor_relationships: [{ relationship_id: 0, project_id: 0, vendor_id: 0 }],
        });
        const predicted = {
          companies: await backfillCompanies(sql, { dryRun: true }),
          personnel: await backfillPersonnelAffiliations(sql, { dryRun: true }),
          projects: await backfillProjectRelationships(sql, { dryRun: true }),
        };

        // Act
        const result = await runAllSteps(sql, { chunkSize });

        // Assess
        expect(
          (await assignmentRows(sql)).map((a) => [a.company_name, a.context_type, a.context_id]),
        ).toEqual([
          ['Zero Key Nuclear', 'Project', 0],
          ['Negative Key Nuclear', 'VendorRecord', -5],
          ['Zero Key Nuclear', 'VendorRecord', 0],
          ['Positive Key Nuclear', 'VendorRecord', 1],
        ]);
        expect(await affiliationRows(sql)).toEqual([
          {
            person_id: 0,
            company_name: 'Negative Key Nuclear',
            title: 'CEO',
            notes: null,
            is_primary: false,
          },
        ]);
        expect(result.companies.counts).toEqual(predicted.companies.counts);
        expect(result.personnel.counts).toEqual(predicted.personnel.counts);
        expect(result.projects.counts).toEqual(predicted.projects.counts);
      },
    );

    it('R2: a record whose trimmed name is empty is not migrated and is reported with its table and id', async () => {
      // Prepare
      await seed(sql, {
        technology_vendors: [{ vendor_id: 1, vendor_name: '\n' }],
        owners_developers: [{ owner_id: 3, company_name: '' }],
        operators: [
          { operator_id: 5, company_name: '   ' },
          { operator_id: 6, company_name: 'Fine Operator' },
        ],
        offtakers: [{ offtaker_id: 9, organization_name: '\t\u00a0 ' }],
      });

      // Act
      const predicted = await backfillCompanies(sql, { dryRun: true });
      const result = await backfillCompanies(sql);

      // Assess
      const unmigratable = {
        count: 4,
        sample: [
          { table: 'technology_vendors', id: 1 },
          { table: 'owners_developers', id: 3 },
          { table: 'operators', id: 5 },
          { table: 'offtakers', id: 9 },
        ],
      };
      expect(result.unmigratable).toEqual(unmigratable);
      expect(predicted.unmigratable).toEqual(unmigratable);
      expect((await companyRows(sql)).map((c) => c.company_name)).toEqual(['Fine Operator']);
      expect((await assignmentRows(sql)).map((a) => [a.company_name, a.context_type, a.context_id])).toEqual([
        ['Fine Operator', 'OperatorRecord', 6],
      ]);
    });
  });

  describe('R3 company fields', () => {
    it('R3: company_type and notes by role, is_mpr_client from client records, is_internal false', async () => {
      // Prepare
      await seed(sql, {
        technology_vendors: [{ vendor_id: 1, vendor_name: 'V Co', notes: 'vendor notes' }],
        owners_developers: [
          { owner_id: 1, company_name: 'O Co', company_type: null },
          { owner_id: 2, company_name: 'O2 Co', company_type: 'Utility', notes: 'owner notes' },
        ],
        clients: [
          { client_id: 1, client_name: 'C Co', client_type: null },
          { client_id: 2, client_name: 'C2 Co', client_type: 'Investor', notes: 'client notes' },
        ],
        operators: [{ operator_id: 1, company_name: 'Op Co', notes: 'op notes' }],
        constructors: [{ constructor_id: 1, company_name: 'Con Co' }],
        offtakers: [
          { offtaker_id: 1, organization_name: 'Off Co', sector: null },
          { offtaker_id: 2, organization_name: 'Off2 Co', sector: 'Data Centers', notes: 'offtaker notes' },
        ],
      });

      // Act
      const result = await backfillCompanies(sql);

      // Assess
      const company = (company_name: string, company_type: string, notes: string | null, client = false) => ({
        company_name,
        company_type,
        notes,
        is_mpr_client: client,
        is_internal: false,
      });
      expect(await companyRows(sql)).toEqual([
        company('C Co', 'Client', null, true),
        company('C2 Co', 'Investor', 'client notes', true),
        company('Con Co', 'Constructor', null),
        company('O Co', 'Owner/Developer', null),
        company('O2 Co', 'Utility', 'owner notes'),
        company('Off Co', 'Off-taker', null),
        company('Off2 Co', 'Data Centers', 'offtaker notes'),
        company('Op Co', 'Operator', 'op notes'),
        company('V Co', 'Vendor', 'vendor notes'),
      ]);
      expect(result.conflicts).toEqual({ count: 0, sample: [] });
    });

    it.each([1, 1000])(
      'R3: several records of one company: the first by role order then id wins, the others are conflicts naming both (chunkSize %i)',
      async (chunkSize) => {
        // Prepare: the winner is owners_developers 4 (developer comes before client, operator and offtaker;
        // 4 before 8), although offtaker 1 has the lowest id and owner 8 comes first in its table.
        await seed(sql, {
          offtakers: [
            { offtaker_id: 1, organization_name: 'Omni Nuclear', sector: null, notes: 'owner four' },
          ],
          operators: [{ operator_id: 2, company_name: 'Omni Nuclear ', notes: null }],
          clients: [
            {
              client_id: 5,
              client_name: 'Omni Nuclear',
              client_type: 'Owner/Developer',
              notes: 'owner four',
            },
            { client_id: 3, client_name: 'Omni Nuclear', client_type: 'Utility', notes: 'client three' },
          ],
          owners_developers: [
            { owner_id: 8, company_name: 'Omni Nuclear', company_type: 'Developer', notes: 'owner four' },
            { owner_id: 4, company_name: '  Omni Nuclear', company_type: null, notes: 'owner four' },
          ],
        });

        // Act
        const result = await backfillCompanies(sql, { chunkSize });

        // Assess
        expect(await companyRows(sql)).toEqual([
          {
            company_name: 'Omni Nuclear',
            company_type: 'Owner/Developer',
            notes: 'owner four',
            is_mpr_client: true,
            is_internal: false,
          },
        ]);
        const { rows } = await sql.query<{ company_id: number }>('SELECT company_id FROM companies');
        const companyId = rows[0]?.company_id;
        const conflict = (field: string, differsIn: string) => ({
          companyId,
          field,
          keptFrom: 'owners_developers#4',
          differsIn,
        });
        expect(result.conflicts).toEqual({
          count: 6,
          sample: [
            conflict('company_type', 'owners_developers#8'),
            conflict('company_type', 'clients#3'),
            conflict('company_type', 'operators#2'),
            conflict('company_type', 'offtakers#1'),
            conflict('notes', 'clients#3'),
            conflict('notes', 'operators#2'),
          ],
        });
      },
    );

    it('R3: an existing company takes its fields from its records, keeps is_internal and never loses is_mpr_client', async () => {
      // Prepare
      await seed(sql, {
        companies: [
          {
            company_id: 5,
            company_name: 'Legacy Grid',
            company_type: 'Utility (set in the application)',
            notes: 'entered in the application',
            sector: 'Utilities',
            website: 'https://grid.example',
            is_mpr_client: false,
            is_internal: true,
          },
          { company_id: 6, company_name: 'Flagged Vendor', is_mpr_client: true },
        ],
        operators: [{ operator_id: 1, company_name: 'Legacy Grid', notes: 'operator notes' }],
        clients: [
          { client_id: 2, client_name: 'Legacy Grid', client_type: 'Cooperative', notes: 'client notes' },
        ],
        technology_vendors: [{ vendor_id: 3, vendor_name: 'Flagged Vendor' }],
      });

      // Act
      const result = await backfillCompanies(sql);

      // Assess
      const { rows } = await sql.query(
        `SELECT company_id, company_name, company_type, notes, sector, website, is_mpr_client, is_internal
           FROM companies ORDER BY company_id`,
      );
      expect(rows).toEqual([
        {
          company_id: 5,
          company_name: 'Legacy Grid',
          company_type: 'Cooperative',
          notes: 'client notes',
          sector: 'Utilities',
          website: 'https://grid.example',
          is_mpr_client: true,
          is_internal: true,
        },
        {
          company_id: 6,
          company_name: 'Flagged Vendor',
          company_type: 'Vendor',
          notes: null,
          sector: null,
          website: null,
          is_mpr_client: true,
          is_internal: false,
        },
      ]);
      expect(result.conflicts).toEqual({
        count: 2,
        sample: [
          { companyId: 5, field: 'company_type', keptFrom: 'clients#2', differsIn: 'operators#1' },
          { companyId: 5, field: 'notes', keptFrom: 'clients#2', differsIn: 'operators#1' },
        ],
      });
      expect(result.counts.companiesUpdated).toBe(2);
    });
  });

  describe('R4 client profiles', () => {
    it('R4: one client profile per company, holding the CRM fields of its lowest client_id', async () => {
      // Prepare: 'Solo Client' exists with an out-of-date profile.
      await seed(sql, {
        clients: [
          {
            client_id: 7,
            client_name: 'Grid Co',
            last_contact_notes: 'not a profile field',
            ...CRM_FROM_SEVEN,
          },
          { client_id: 4, client_name: 'Grid Co ', ...CRM_FROM_FOUR },
          { client_id: 9, client_name: 'Solo Client', ...CRM_FROM_NINE },
        ],
        technology_vendors: [{ vendor_id: 1, vendor_name: 'Vendor Only' }],
        companies: [{ company_id: 20, company_name: 'Solo Client' }],
        client_profiles: [
          { company_id: 20, ...CRM_FROM_SEVEN, relationship_strength: 'Weak', client_status: 'Inactive' },
        ],
      });

      // Act
      const result = await backfillCompanies(sql);

      // Assess
      expect(await clientProfileRows(sql)).toEqual([
        { company_name: 'Grid Co', ...CRM_FROM_FOUR },
        { company_name: 'Solo Client', ...CRM_FROM_NINE },
      ]);
      expect(result.counts).toMatchObject({ clientProfilesInserted: 1, clientProfilesUpdated: 1 });
    });
  });

  describe.each(['relationship_role', 'role_at_entity'] as const)(
    'R5 with the title in %s',
    (titleColumn) => {
      beforeAll(async () => {
        await sql.query(`DROP TABLE ${PERSON_LINKS}`);
        await applySchemas(sql, { personnelTitleColumn: titleColumn });
        const { rows } = await sql.query(
          `SELECT column_name FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = '${PERSON_LINKS}'
            AND column_name IN ('relationship_role', 'role_at_entity')`,
        );
        expect(rows).toEqual([{ column_name: titleColumn }]);
      });

      const companiesOfEveryKind: Fixture = {
        technology_vendors: [
          { vendor_id: 1, vendor_name: 'Alpha Vendor' },
          { vendor_id: 2, vendor_name: 'Decoy Vendor' },
        ],
        owners_developers: [
          { owner_id: 1, company_name: 'Beta Owner' },
          { owner_id: 2, company_name: 'Gamma Developer' },
        ],
        clients: [{ client_id: 1, client_name: 'Delta Client' }],
        operators: [{ operator_id: 1, company_name: 'Epsilon Operator' }],
        constructors: [{ constructor_id: 1, company_name: 'Zeta Constructor' }],
        offtakers: [{ offtaker_id: 1, organization_name: 'Eta Offtaker' }],
      };

      it('R5: each company link becomes an affiliation with its title and notes, not primary', async () => {
        // Prepare: the Developer link's entity_id 2 is owners_developers 2, not technology_vendors 2.
        const link = (
          id: number,
          person: number,
          type: string,
          entity: number,
          title: string,
          notes: string | null,
        ) => ({
          relationship_id: id,
          personnel_id: person,
          entity_type: type,
          entity_id: entity,
          title,
          notes,
        });
        await seed(sql, {
          ...companiesOfEveryKind,
          personnel: [
            { personnel_id: 1, full_name: 'Ann Example' },
            { personnel_id: 2, full_name: 'Ben Example' },
          ],
          [PERSON_LINKS]: [
            link(1, 1, 'Vendor', 1, 'CEO', 'vendor link'),
            link(2, 1, 'Owner', 1, 'Board Member', null),
            link(3, 1, 'Developer', 2, 'Developer Lead', 'developer link'),
            link(4, 2, 'Client', 1, 'Sponsor', null),
            link(5, 2, 'Operator', 1, 'Plant Manager', null),
            link(6, 2, 'Constructor', 1, 'Site Lead', null),
            link(7, 2, 'Offtaker', 1, 'Buyer', 'offtake link'),
          ],
        });
        await backfillCompanies(sql);

        // Act
        const result = await backfillPersonnelAffiliations(sql);

        // Assess
        const affiliation = (
          person_id: number,
          company_name: string,
          title: string,
          notes: string | null,
        ) => ({
          person_id,
          company_name,
          title,
          notes,
          is_primary: false,
        });
        expect(await affiliationRows(sql)).toEqual([
          affiliation(1, 'Alpha Vendor', 'CEO', 'vendor link'),
          affiliation(1, 'Beta Owner', 'Board Member', null),
          affiliation(1, 'Gamma Developer', 'Developer Lead', 'developer link'),
          affiliation(2, 'Delta Client', 'Sponsor', null),
          affiliation(2, 'Epsilon Operator', 'Plant Manager', null),
          affiliation(2, 'Eta Offtaker', 'Buyer', 'offtake link'),
          affiliation(2, 'Zeta Constructor', 'Site Lead', null),
        ]);
        expect(result.counts).toEqual({
          affiliationsInserted: 7,
          affiliationsUpdated: 0,
          linksMigrated: 7,
          linksUnmapped: 0,
          linksOutOfScope: 0,
        });
        expect(result.orphans).toEqual({ count: 0, sample: [] });
      });

      it.each([1, 1000])(
        'R5: NULL titles are equal (links collapse, an existing NULL-title affiliation counts), different titles are not (chunkSize %i)',
        async (chunkSize) => {
          // Prepare: 'Opg' is one owners_developers and one operators record; 'Westing' two vendors and a
          // constructor, and already exists with José's NULL-title affiliation.
          const link = (
            id: number,
            person: number,
            type: string,
            entity: number,
            title: string | null,
            notes: string | null,
          ) => ({
            relationship_id: id,
            personnel_id: person,
            entity_type: type,
            entity_id: entity,
            title,
            notes,
          });
          await seed(sql, {
            owners_developers: [{ owner_id: 1, company_name: 'Opg' }],
            operators: [{ operator_id: 1, company_name: 'Opg' }],
            technology_vendors: [
              { vendor_id: 1, vendor_name: 'Westing' },
              { vendor_id: 2, vendor_name: 'Westing' },
            ],
            constructors: [{ constructor_id: 1, company_name: 'Westing' }],
            personnel: [
              { personnel_id: 1, full_name: 'Zoë Müller' },
              { personnel_id: 2, full_name: 'José Peña' },
              { personnel_id: 3, full_name: 'Kim Lee' },
            ],
            [PERSON_LINKS]: [
              link(1, 1, 'Operator', 1, null, 'operator link'),
              link(2, 1, 'Owner', 1, null, 'owner link'),
              link(3, 1, 'Developer', 1, null, null),
              link(4, 2, 'Vendor', 1, null, null),
              link(5, 2, 'Constructor', 1, 'Licensing Manager', null),
              link(6, 3, 'Vendor', 2, 'CTO', 'second record'),
              link(7, 3, 'Vendor', 1, 'CTO', 'first record'),
              link(8, 3, 'Constructor', 1, 'CEO', null),
            ],
            companies: [{ company_id: 40, company_name: 'Westing' }],
            person_company_affiliations: [
              { affiliation_id: 9, person_id: 2, company_id: 40, title: null, notes: null, is_primary: true },
            ],
          });
          await backfillCompanies(sql, { chunkSize });

          // Act
          const result = await backfillPersonnelAffiliations(sql, { chunkSize });

          // Assess
          expect(await affiliationRows(sql)).toEqual([
            { person_id: 1, company_name: 'Opg', title: null, notes: 'operator link', is_primary: false },
            { person_id: 2, company_name: 'Westing', title: null, notes: null, is_primary: true },
            {
              person_id: 2,
              company_name: 'Westing',
              title: 'Licensing Manager',
              notes: null,
              is_primary: false,
            },
            { person_id: 3, company_name: 'Westing', title: 'CEO', notes: null, is_primary: false },
            {
              person_id: 3,
              company_name: 'Westing',
              title: 'CTO',
              notes: 'second record',
              is_primary: false,
            },
          ]);
          const { rows } = await sql.query(
            'SELECT affiliation_id FROM person_company_affiliations WHERE person_id = 2 AND title IS NULL',
          );
          expect(rows).toEqual([{ affiliation_id: 9 }]);
          expect(result.counts).toMatchObject({
            affiliationsInserted: 4,
            affiliationsUpdated: 0,
            linksMigrated: 8,
          });
        },
      );

      it("R5: links of another entity_type (e.g. 'Project') are out of scope: counted, not migrated, not orphans", async () => {
        // Prepare
        await seed(sql, {
          technology_vendors: [{ vendor_id: 1, vendor_name: 'Alpha Vendor' }],
          projects: [{ project_id: 1, project_name: 'Pilot Plant' }],
          personnel: [{ personnel_id: 1, full_name: 'Ann Example' }],
          [PERSON_LINKS]: [
            {
              relationship_id: 1,
              personnel_id: 1,
              entity_type: 'Project',
              entity_id: 1,
              title: 'Project Manager',
            },
            {
              relationship_id: 2,
              personnel_id: 1,
              entity_type: 'Internal',
              entity_id: 1,
              title: 'Licensing',
            },
            { relationship_id: 3, personnel_id: 99, entity_type: 'Project', entity_id: 77, title: null },
            { relationship_id: 4, personnel_id: 1, entity_type: 'Vendor', entity_id: 1, title: 'CEO' },
          ],
        });
        await backfillCompanies(sql);

        // Act
        const result = await backfillPersonnelAffiliations(sql);

        // Assess
        expect(result.counts).toEqual({
          affiliationsInserted: 1,
          affiliationsUpdated: 0,
          linksMigrated: 1,
          linksUnmapped: 0,
          linksOutOfScope: 3,
        });
        expect(result.orphans).toEqual({ count: 0, sample: [] });
        expect(await affiliationRows(sql)).toEqual([
          { person_id: 1, company_name: 'Alpha Vendor', title: 'CEO', notes: null, is_primary: false },
        ]);
      });

      it('R5: links to a missing person or entity are orphans (counted, sampled, not migrated)', async () => {
        // Prepare: technology_vendors 2 exists, owners_developers 2 does not; operators 3 is not migrated.
        const link = (id: number, person: number, type: string, entity: number) => ({
          relationship_id: id,
          personnel_id: person,
          entity_type: type,
          entity_id: entity,
          title: `title ${id}`,
        });
        await seed(sql, {
          technology_vendors: [
            { vendor_id: 1, vendor_name: 'Alpha Vendor' },
            { vendor_id: 2, vendor_name: 'Decoy Vendor' },
          ],
          owners_developers: [{ owner_id: 1, company_name: 'Beta Owner' }],
          operators: [{ operator_id: 3, company_name: '   ' }],
          personnel: [{ personnel_id: 1, full_name: 'Ann Example' }],
          [PERSON_LINKS]: [
            link(1, 1, 'Vendor', 1),
            link(2, 99, 'Vendor', 1),
            link(3, 1, 'Vendor', 98),
            link(4, 98, 'Developer', 97),
            link(5, 1, 'Developer', 2),
            link(6, 1, 'Operator', 3),
          ],
        });
        await backfillCompanies(sql);

        // Act
        const predicted = await backfillPersonnelAffiliations(sql, { dryRun: true, sampleSize: 2 });
        const result = await backfillPersonnelAffiliations(sql);

        // Assess
        // Samples come in chunk order: by person, then link id.
        const orphan = (id: number, reason: string) => ({ table: PERSON_LINKS, id, reason });
        expect(result.orphans).toEqual({
          count: 4,
          sample: [
            orphan(3, 'missing entity'),
            orphan(5, 'missing entity'),
            orphan(4, 'missing person and entity'),
            orphan(2, 'missing person'),
          ],
        });
        expect(predicted.orphans).toEqual({
          count: 4,
          sample: [orphan(3, 'missing entity'), orphan(5, 'missing entity')],
        });
        expect(result.counts).toMatchObject({ linksMigrated: 1, linksUnmapped: 1, affiliationsInserted: 1 });
        expect(await affiliationRows(sql)).toEqual([
          { person_id: 1, company_name: 'Alpha Vendor', title: 'title 1', notes: null, is_primary: false },
        ]);
      });
    },
  );

  describe('R6 project relationships', () => {
    it("R6: each project link becomes a 'Project' assignment of the entity's company and role", async () => {
      // Prepare
      await seed(sql, {
        technology_vendors: [{ vendor_id: 1, vendor_name: 'Alpha Vendor' }],
        owners_developers: [{ owner_id: 1, company_name: 'Beta Owner' }],
        clients: [{ client_id: 1, client_name: 'Delta Client' }],
        operators: [{ operator_id: 1, company_name: 'Epsilon Operator' }],
        constructors: [{ constructor_id: 1, company_name: 'Zeta Constructor' }],
        offtakers: [{ offtaker_id: 1, organization_name: 'Eta Offtaker' }],
        projects: [
          { project_id: 1, project_name: 'Pilot Plant' },
          { project_id: 2, project_name: 'Second Site' },
        ],
        project_vendor_relationships: [
          { relationship_id: 1, project_id: 1, vendor_id: 1, notes: 'vendor link' },
        ],
        project_owner_relationships: [
          { relationship_id: 1, project_id: 2, owner_id: 1, is_confidential: true },
        ],
        client_project_relationships: [
          {
            relationship_id: 1,
            client_id: 1,
            project_id: 1,
            relationship_type: 'Siting Study',
            notes: 'client link',
          },
        ],
        project_operator_relationships: [{ relationship_id: 1, project_id: 2, operator_id: 1 }],
        project_constructor_relationships: [
          {
            relationship_id: 1,
            project_id: 1,
            constructor_id: 1,
            is_confidential: true,
            notes: 'constructor link',
          },
        ],
        project_offtaker_relationships: [
          {
            relationship_id: 1,
            project_id: 2,
            offtaker_id: 1,
            agreement_type: 'PPA',
            notes: 'offtaker link',
          },
        ],
      });
      await backfillCompanies(sql);

      // Act
      const result = await backfillProjectRelationships(sql);

      // Assess
      const project = (
        company_name: string,
        role_code: string,
        id: number,
        confidential: boolean,
        notes: string | null,
      ) => ({
        company_name,
        role_code,
        context_type: 'Project',
        context_id: id,
        is_primary: false,
        is_confidential: confidential,
        notes,
      });
      expect(await projectAssignments(sql)).toEqual([
        project('Delta Client', 'client', 1, false, 'client link'),
        project('Zeta Constructor', 'constructor', 1, true, 'constructor link'),
        project('Beta Owner', 'developer', 2, true, null),
        project('Eta Offtaker', 'offtaker', 2, false, 'offtaker link'),
        project('Epsilon Operator', 'operator', 2, false, null),
        project('Alpha Vendor', 'vendor', 1, false, 'vendor link'),
      ]);
      expect(result.counts).toEqual({
        assignmentsInserted: 6,
        assignmentsUpdated: 0,
        linksMigrated: 6,
        linksUnmapped: 0,
      });
    });

    it.each([1, 1000])(
      'R6: links on one identity make one assignment: confidential when any is (never lost), notes from the lowest relationship_id (chunkSize %i)',
      async (chunkSize) => {
        // Prepare: 'Twin' is two vendors, an owner and an operator, and already has a confidential
        // Project assignment (for project 3) from the application.
        const link = (
          id: number,
          project: number,
          vendor: number,
          confidential: boolean,
          notes: string | null,
        ) => ({
          relationship_id: id,
          project_id: project,
          vendor_id: vendor,
          is_confidential: confidential,
          notes,
        });
        await seed(sql, {
          technology_vendors: [
            { vendor_id: 1, vendor_name: 'Twin' },
            { vendor_id: 2, vendor_name: 'Twin' },
          ],
          owners_developers: [{ owner_id: 1, company_name: 'Twin' }],
          operators: [{ operator_id: 1, company_name: 'Twin' }],
          projects: [
            { project_id: 1, project_name: 'P1' },
            { project_id: 2, project_name: 'P2' },
            { project_id: 3, project_name: 'P3' },
          ],
          project_vendor_relationships: [
            link(1, 2, 1, false, null),
            link(2, 1, 2, false, 'lowest'),
            link(3, 1, 1, true, 'later'),
            link(4, 2, 2, false, 'not the lowest'),
            link(5, 1, 2, false, 'same entity again'),
            link(6, 3, 1, false, 'legacy notes'),
          ],
          project_owner_relationships: [
            { relationship_id: 1, project_id: 1, owner_id: 1, notes: 'owner link' },
          ],
          project_operator_relationships: [
            { relationship_id: 1, project_id: 1, operator_id: 1, is_confidential: true, notes: null },
            { relationship_id: 2, project_id: 1, operator_id: 1, is_confidential: false, notes: 'second' },
          ],
          companies: [{ company_id: 30, company_name: 'Twin' }],
          company_roles: [{ role_id: 1, role_code: 'vendor', role_label: 'Technology Vendor' }],
          company_role_assignments: [
            {
              assignment_id: 1,
              company_id: 30,
              role_id: 1,
              context_type: 'Project',
              context_id: 3,
              is_confidential: true,
              notes: 'application notes',
            },
          ],
        });
        await backfillCompanies(sql, { chunkSize });

        // Act
        const result = await backfillProjectRelationships(sql, { chunkSize });

        // Assess
        const project = (role_code: string, id: number, confidential: boolean, notes: string | null) => ({
          company_name: 'Twin',
          role_code,
          context_type: 'Project',
          context_id: id,
          is_primary: false,
          is_confidential: confidential,
          notes,
        });
        expect(await projectAssignments(sql)).toEqual([
          project('developer', 1, false, 'owner link'),
          project('operator', 1, true, null),
          project('vendor', 1, true, 'lowest'),
          project('vendor', 2, false, null),
          project('vendor', 3, true, 'legacy notes'),
        ]);
        expect(result.counts).toEqual({
          assignmentsInserted: 4,
          assignmentsUpdated: 1,
          linksMigrated: 9,
          linksUnmapped: 0,
        });
      },
    );

    it('R6: links to a missing project or entity are orphans (counted, sampled, not migrated)', async () => {
      // Prepare: operators 2 exists but is not migrated (blank name): unmapped, not an orphan.
      await seed(sql, {
        technology_vendors: [{ vendor_id: 1, vendor_name: 'Alpha Vendor' }],
        clients: [{ client_id: 1, client_name: 'Delta Client' }],
        operators: [{ operator_id: 2, company_name: '  ' }],
        projects: [{ project_id: 1, project_name: 'Pilot Plant' }],
        project_vendor_relationships: [
          { relationship_id: 1, project_id: 1, vendor_id: 1 },
          { relationship_id: 2, project_id: 99, vendor_id: 1 },
          { relationship_id: 3, project_id: 1, vendor_id: 77 },
        ],
        project_owner_relationships: [{ relationship_id: 1, project_id: 98, owner_id: 5 }],
        client_project_relationships: [
          { relationship_id: 1, client_id: 1, project_id: 1 },
          { relationship_id: 2, client_id: 9, project_id: 1 },
        ],
        project_operator_relationships: [{ relationship_id: 1, project_id: 1, operator_id: 2 }],
      });
      await backfillCompanies(sql);

      // Act
      const predicted = await backfillProjectRelationships(sql, { dryRun: true });
      const result = await backfillProjectRelationships(sql);

      // Assess
      // Samples come table by table, in chunk order: by project, then link id.
      const orphans = {
        count: 4,
        sample: [
          { table: 'project_vendor_relationships', id: 3, reason: 'missing vendor' },
          { table: 'project_vendor_relationships', id: 2, reason: 'missing project' },
          { table: 'project_owner_relationships', id: 1, reason: 'missing project and developer' },
          { table: 'client_project_relationships', id: 2, reason: 'missing client' },
        ],
      };
      expect(result.orphans).toEqual(orphans);
      expect(predicted.orphans).toEqual(orphans);
      expect(result.counts).toEqual({
        assignmentsInserted: 2,
        assignmentsUpdated: 0,
        linksMigrated: 2,
        linksUnmapped: 1,
      });
      expect((await projectAssignments(sql)).map((a) => [a.company_name, a.role_code, a.context_id])).toEqual(
        [
          ['Delta Client', 'client', 1],
          ['Alpha Vendor', 'vendor', 1],
        ],
      );
    });
  });

  describe('R7 what is written', () => {
    it('R7: no legacy table changes, and unified rows R1–R6 do not reach are left as they were', async () => {
      // Prepare: a row in every legacy table, with duplicates, a blank name, orphans and out-of-scope
      // links; and unified rows no rule touches.
      await seed(sql, {
        technology_vendors: [
          { vendor_id: 1, vendor_name: ' Twin ', notes: 'vendor' },
          { vendor_id: 2, vendor_name: 'Twin', notes: 'other vendor' },
        ],
        owners_developers: [
          { owner_id: 1, company_name: 'Twin', company_type: 'Utility', relationship_strength: 'Strong' },
        ],
        clients: [{ client_id: 1, client_name: 'Twin', ...CRM_FROM_SEVEN }],
        operators: [{ operator_id: 1, company_name: '   ' }],
        constructors: [{ constructor_id: 1, company_name: 'Builder' }],
        offtakers: [{ offtaker_id: 1, organization_name: 'Buyer', sector: 'Industry' }],
        personnel: [{ personnel_id: 1, full_name: 'Ann Example' }],
        projects: [{ project_id: 1, project_name: 'Pilot Plant' }],
        [PERSON_LINKS]: [
          { relationship_id: 1, personnel_id: 1, entity_type: 'Vendor', entity_id: 1, title: null },
          { relationship_id: 2, personnel_id: 1, entity_type: 'Owner', entity_id: 1, title: null },
          { relationship_id: 3, personnel_id: 1, entity_type: 'Project', entity_id: 1, title: 'PM' },
          { relationship_id: 4, personnel_id: 2, entity_type: 'Client', entity_id: 1, title: 'CEO' },
        ],
        project_vendor_relationships: [
          { relationship_id: 1, project_id: 1, vendor_id: 1, is_confidential: true },
          { relationship_id: 2, project_id: 1, vendor_id: 2, notes: 'second' },
        ],
        project_owner_relationships: [{ relationship_id: 1, project_id: 1, owner_id: 1 }],
        client_project_relationships: [{ relationship_id: 1, client_id: 1, project_id: 2 }],
        project_operator_relationships: [{ relationship_id: 1, project_id: 1, operator_id: 1 }],
        project_constructor_relationships: [{ relationship_id: 1, project_id: 1, constructor_id: 1 }],
        project_offtaker_relationships: [{ relationship_id: 1, project_id: 1, offtaker_id: 7 }],
        companies: [
          {
            company_id: 50,
            company_name: 'Unrelated',
            company_type: 'Consultant',
            notes: 'no legacy record',
          },
        ],
        company_roles: [{ role_id: 70, role_code: 'partner', role_label: 'Partner' }],
        company_role_assignments: [
          { assignment_id: 80, company_id: 50, role_id: 70, context_type: 'Program', context_id: 1 },
        ],
        client_profiles: [{ company_id: 50, ...CRM_FROM_NINE }],
        person_company_affiliations: [{ affiliation_id: 90, person_id: 1, company_id: 50, title: 'Advisor' }],
      });
      const legacyBefore = await legacyTableHashes(sql);
      const untouched = `SELECT
          (SELECT row_to_json(c)::text FROM companies c WHERE company_id = 50) AS company,
          (SELECT row_to_json(r)::text FROM company_roles r WHERE role_id = 70) AS role,
          (SELECT row_to_json(a)::text FROM company_role_assignments a WHERE assignment_id = 80) AS assignment,
          (SELECT row_to_json(p)::text FROM client_profiles p WHERE company_id = 50) AS profile,
          (SELECT row_to_json(f)::text FROM person_company_affiliations f WHERE affiliation_id = 90) AS affiliation`;
      const unifiedBefore = await sql.query(untouched);

      // Act
      for (const dryRun of [true, false, false]) await runAllSteps(sql, { dryRun, chunkSize: 1 });

      // Assess
      expect(Object.keys(legacyBefore)).toHaveLength(15);
      expect(await legacyTableHashes(sql)).toEqual(legacyBefore);
      expect((await sql.query(untouched)).rows).toEqual(unifiedBefore.rows);
      expect(Object.values(unifiedBefore.rows[0] ?? {})).not.toContain(null);
      // The run did migrate something, so the unchanged hashes are not for want of work.
      expect((await companyRows(sql)).map((c) => c.company_name)).toEqual([
        'Builder',
        'Buyer',
        'Twin',
        'Unrelated',
      ]);
    });
  });
});
