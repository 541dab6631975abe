import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backfillCompanies,
  backfillPersonnelAffiliations,
  backfillProjectRelationships,
} from '../../../lib/core/backfill/index.ts';
import {
  DEMO_PRIMARY_KEYS,
  type DemoDataset,
  type DemoRow,
  type DemoTable,
  generateDemoData,
} from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { ROLE_MAPPINGS, type RoleMapping } from '../../../lib/core/mapping/roles.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import {
  CLIENT_PROFILE_COLUMNS,
  legacyTableHashes,
  type Row,
  resetTables,
  roleOfTable,
  type StepResults,
} from '../../support/backfill-fixtures.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';

/**
 * The demo datasets through companies → personnel → projects: one test per planted case (and per
 * defect), on the exact unified rows the case must end in, plus whole-dataset checks of R2 and R4–R7
 * against expectations computed here from the dataset, independently of the backfill's SQL.
 */

const PLANTED_CASES = [
  'same-company-several-tables',
  'stray-whitespace',
  'case-variants',
  'inner-whitespace-variants',
  'same-name-one-table',
  'hostile-names',
  'null-titles',
  'personnel-orphans',
  'out-of-scope-links',
  'project-orphans',
  'confidential-links',
  'client-crm-fields',
  'already-migrated',
  'reuse-by-name',
  'drift',
  'stale-assignment',
];
const DEFECT_CASES = ['blank-name', 'coverage-sinking-orphans'];

/** Big enough for every orphan, conflict and unmigratable record of the demo. */
const SAMPLE_SIZE = 1000;

const PERSON_LINKS = 'personnel_entity_relationships';

interface Company {
  company_id: number;
  company_name: string;
  company_type: string | null;
  notes: string | null;
  is_mpr_client: boolean;
  is_internal: boolean;
}

interface Assignment {
  assignment_id: number;
  company_id: number;
  role_id: number;
  role_code: string;
  context_type: string;
  context_id: number | null;
  is_primary: boolean;
  is_confidential: boolean;
  notes: string | null;
}

interface Affiliation {
  affiliation_id: number;
  person_id: number;
  company_id: number;
  title: string | null;
  notes: string | null;
  is_primary: boolean;
}

/** The unified rows after the run, read once. */
interface UnifiedState {
  companies: Company[];
  assignments: Assignment[];
  profiles: Row[];
  affiliations: Affiliation[];
  /** Every column of these tables' rows. */
  full: Record<'companies' | 'company_role_assignments' | 'company_roles', Row[]>;
}

/** Legacy whitespace as the backfill trims it (R2). */
function trimmed(name: unknown): string {
  return String(name ?? '').replace(/^[ \t\n\r\f\v\u00a0]+|[ \t\n\r\f\v\u00a0]+$/g, '');
}

function projectLinkRole(table: string): RoleMapping {
  const role = ROLE_MAPPINGS.find((r) => r.projectLinkTable === table);
  if (!role) throw new Error(`${table} is not a project link table`);
  return role;
}

function personLinkRole(entityType: unknown): RoleMapping | undefined {
  return ROLE_MAPPINGS.find((r) => r.personnelEntityTypes.includes(String(entityType)));
}

const byNumber = (a: number, b: number) => a - b;
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** An assignment as the tests compare it: without its id and role id. */
function shape(a: Assignment) {
  return {
    company_id: a.company_id,
    role_code: a.role_code,
    context_type: a.context_type,
    context_id: a.context_id,
    is_primary: a.is_primary,
    is_confidential: a.is_confidential,
    notes: a.notes,
  };
}
type AssignmentShape = ReturnType<typeof shape>;

function sortShapes(shapes: AssignmentShape[]): AssignmentShape[] {
  return [...shapes].sort(
    (a, b) =>
      a.company_id - b.company_id ||
      byText(a.context_type, b.context_type) ||
      byText(a.role_code, b.role_code) ||
      (a.context_id ?? 0) - (b.context_id ?? 0),
  );
}

/** What the run produced, and the dataset it ran on, with look-ups by legacy key. */
class DemoOutcome {
  constructor(
    readonly dataset: DemoDataset,
    readonly live: StepResults,
    readonly dry: StepResults,
    readonly state: UnifiedState,
  ) {}

  rows(table: DemoTable | string): DemoRow[] {
    return this.dataset.tables[table] ?? [];
  }

  row(table: DemoTable, id: number): DemoRow {
    const found = this.rows(table).find((r) => r[DEMO_PRIMARY_KEYS[table]] === id);
    if (!found) throw new Error(`dataset has no ${table} #${id}`);
    return found;
  }

  has(table: DemoTable, id: unknown): boolean {
    return this.rows(table).some((r) => r[DEMO_PRIMARY_KEYS[table]] === id);
  }

  /** A unified row after the run, every column (the state holds companies and assignments so). */
  after(table: 'companies' | 'company_role_assignments' | 'company_roles', id: number): Row | undefined {
    return this.state.full[table].find((r) => r[DEMO_PRIMARY_KEYS[table]] === id);
  }

  /** The ids of a case's rows in one table, in the case's order. */
  ids(caseId: string, table: DemoTable): number[] {
    const found = this.dataset.cases.find((c) => c.id === caseId);
    if (!found) throw new Error(`no case ${caseId}`);
    return found.rows.filter((r) => r.table === table).map((r) => r.id);
  }

  one(caseId: string, table: DemoTable): number {
    const [id, ...more] = this.ids(caseId, table);
    if (id === undefined || more.length > 0) throw new Error(`${caseId} has not one ${table} row`);
    return id;
  }

  company(companyId: number): Company {
    const found = this.state.companies.find((c) => c.company_id === companyId);
    if (!found) throw new Error(`no company ${companyId}`);
    return found;
  }

  companiesNamed(name: string): Company[] {
    return this.state.companies.filter((c) => c.company_name === name);
  }

  recordAssignments(table: DemoTable, legacyId: number): Assignment[] {
    const role = roleOfTable(table);
    return this.state.assignments.filter(
      (a) =>
        a.role_code === role.code && a.context_type === role.recordContextType && a.context_id === legacyId,
    );
  }

  /** The company the record's (single) record assignment points at. */
  recordCompany(table: DemoTable, legacyId: number): Company {
    const assignments = this.recordAssignments(table, legacyId);
    expect(assignments, `record assignments of ${table} #${legacyId}`).toHaveLength(1);
    return this.company((assignments[0] as Assignment).company_id);
  }

  assignmentsOf(companyId: number): AssignmentShape[] {
    return sortShapes(this.state.assignments.filter((a) => a.company_id === companyId).map(shape));
  }

  projectAssignment(companyId: number, roleCode: string, projectId: number): Assignment[] {
    return this.state.assignments.filter(
      (a) =>
        a.company_id === companyId &&
        a.role_code === roleCode &&
        a.context_type === 'Project' &&
        a.context_id === projectId,
    );
  }

  affiliationsOf(personId: number) {
    return this.state.affiliations
      .filter((f) => f.person_id === personId)
      .map(({ company_id, title, notes, is_primary }) => ({ company_id, title, notes, is_primary }))
      .sort((a, b) => a.company_id - b.company_id || byText(a.title ?? '', b.title ?? ''));
  }

  conflictsOf(companyId: number) {
    return this.live.companies.conflicts.sample.filter((c) => c.companyId === companyId);
  }

  profileOf(companyId: number): Row[] {
    return this.state.profiles.filter((p) => p.company_id === companyId);
  }

  /** The record assignment a legacy record had before the run (a dual-write's), if any. */
  preexistingRecordCompany(table: DemoTable, legacyId: number): number | undefined {
    const role = roleOfTable(table);
    const roleIds = new Set(
      this.rows('company_roles')
        .filter((r) => r.role_code === role.code)
        .map((r) => r.role_id),
    );
    const found = this.rows('company_role_assignments').find(
      (a) => roleIds.has(a.role_id) && a.context_type === role.recordContextType && a.context_id === legacyId,
    );
    return found ? Number(found.company_id) : undefined;
  }

  /** A project link row as the assignment it gives on its own (before other rows of its identity). */
  projectLinkShape(table: DemoTable, id: number): AssignmentShape {
    const role = projectLinkRole(table);
    const link = this.row(table, id);
    return {
      company_id: this.recordCompany(
        role.legacyTable as DemoTable,
        Number(link[role.projectLinkEntityColumn]),
      ).company_id,
      role_code: role.code,
      context_type: 'Project',
      context_id: Number(link.project_id),
      is_primary: false,
      is_confidential: Boolean(link.is_confidential),
      notes: (link.notes as string | null) ?? null,
    };
  }

  recordShape(table: DemoTable, id: number, companyId: number): AssignmentShape {
    const role = roleOfTable(table);
    return {
      company_id: companyId,
      role_code: role.code,
      context_type: role.recordContextType,
      context_id: id,
      is_primary: true,
      is_confidential: false,
      notes: null,
    };
  }

  /** The orphan entry R6 reports for a project link row, from the dataset. */
  projectOrphan(table: DemoTable, id: number) {
    const role = projectLinkRole(table);
    const link = this.row(table, id);
    const projectMissing = !this.has('projects', link.project_id);
    const entityMissing = !this.has(role.legacyTable as DemoTable, link[role.projectLinkEntityColumn]);
    const reason =
      projectMissing && entityMissing
        ? `missing project and ${role.code}`
        : projectMissing
          ? 'missing project'
          : entityMissing
            ? `missing ${role.code}`
            : 'not an orphan';
    return { table, id, reason };
  }
}

async function readState(sql: SqlClient): Promise<UnifiedState> {
  const companies = await sql.query<Company>(
    `SELECT company_id, company_name, company_type, notes, is_mpr_client, is_internal FROM companies ORDER BY company_id`,
  );
  const assignments = await sql.query<Assignment>(
    `SELECT a.assignment_id, a.company_id, a.role_id, r.role_code, a.context_type, a.context_id, a.is_primary,
            a.is_confidential, a.notes
       FROM company_role_assignments a JOIN company_roles r ON r.role_id = a.role_id ORDER BY a.assignment_id`,
  );
  const profiles = await sql.query<Row>(
    `SELECT company_id, ${CLIENT_PROFILE_COLUMNS.join(', ')} FROM client_profiles ORDER BY company_id`,
  );
  const affiliations = await sql.query<Affiliation>(
    `SELECT affiliation_id, person_id, company_id, title, notes, is_primary
       FROM person_company_affiliations ORDER BY affiliation_id`,
  );
  const full = {} as UnifiedState['full'];
  for (const table of ['companies', 'company_role_assignments', 'company_roles'] as const) {
    full[table] = (await sql.query<Row>(`SELECT * FROM ${table} ORDER BY ${DEMO_PRIMARY_KEYS[table]}`)).rows;
  }
  return {
    full,
    companies: companies.rows,
    assignments: assignments.rows,
    profiles: profiles.rows,
    affiliations: affiliations.rows,
  };
}

const crmFields = (row: DemoRow) =>
  Object.fromEntries(CLIENT_PROFILE_COLUMNS.map((f) => [f, row[f] ?? null]));

/** One test per case id: the exact outcome the case must have. */
const CASE_TESTS: Record<string, (o: DemoOutcome) => void> = {
  'same-company-several-tables'(o) {
    const id = (table: DemoTable) => o.one('same-company-several-tables', table);
    const west = o.recordCompany('technology_vendors', id('technology_vendors'));
    const opg = o.recordCompany('owners_developers', id('owners_developers'));
    const vendorRow = o.row('technology_vendors', id('technology_vendors'));
    const ownerRow = o.row('owners_developers', id('owners_developers'));
    expect(o.recordCompany('constructors', id('constructors'))).toEqual(west);
    expect(o.recordCompany('operators', id('operators'))).toEqual(opg);
    expect(o.recordCompany('clients', id('clients'))).toEqual(opg);
    expect(west).toEqual({
      company_id: west.company_id,
      company_name: 'Westinghouse Electric Company',
      company_type: 'Vendor',
      notes: vendorRow.notes,
      is_mpr_client: false,
      is_internal: false,
    });
    expect(opg).toEqual({
      company_id: opg.company_id,
      company_name: 'Ontario Power Generation',
      company_type: ownerRow.company_type,
      notes: ownerRow.notes,
      is_mpr_client: true,
      is_internal: false,
    });
    expect(o.assignmentsOf(west.company_id)).toEqual(
      sortShapes([
        o.recordShape('technology_vendors', id('technology_vendors'), west.company_id),
        o.recordShape('constructors', id('constructors'), west.company_id),
        o.projectLinkShape('project_vendor_relationships', id('project_vendor_relationships')),
        o.projectLinkShape('project_constructor_relationships', id('project_constructor_relationships')),
      ]),
    );
    expect(o.assignmentsOf(opg.company_id)).toEqual(
      sortShapes([
        o.recordShape('owners_developers', id('owners_developers'), opg.company_id),
        o.recordShape('operators', id('operators'), opg.company_id),
        o.recordShape('clients', id('clients'), opg.company_id),
        o.projectLinkShape('project_owner_relationships', id('project_owner_relationships')),
        o.projectLinkShape('project_operator_relationships', id('project_operator_relationships')),
        o.projectLinkShape('client_project_relationships', id('client_project_relationships')),
      ]),
    );
    const conflict = (companyId: number, field: string, keptFrom: string, differsIn: string) => ({
      companyId,
      field,
      keptFrom,
      differsIn,
    });
    const v = `technology_vendors#${id('technology_vendors')}`;
    const ow = `owners_developers#${id('owners_developers')}`;
    expect(o.conflictsOf(west.company_id)).toEqual([
      conflict(west.company_id, 'company_type', v, `constructors#${id('constructors')}`),
      conflict(west.company_id, 'notes', v, `constructors#${id('constructors')}`),
    ]);
    expect(o.conflictsOf(opg.company_id)).toEqual([
      conflict(opg.company_id, 'company_type', ow, `clients#${id('clients')}`),
      conflict(opg.company_id, 'company_type', ow, `operators#${id('operators')}`),
      conflict(opg.company_id, 'notes', ow, `clients#${id('clients')}`),
      conflict(opg.company_id, 'notes', ow, `operators#${id('operators')}`),
    ]);
  },

  'stray-whitespace'(o) {
    const operatorId = o.one('stray-whitespace', 'operators');
    const clientId = o.one('stray-whitespace', 'clients');
    expect(o.row('operators', operatorId).company_name).toBe('  Bruce Power ');
    const bruce = o.recordCompany('operators', operatorId);
    expect(o.recordCompany('clients', clientId)).toEqual(bruce);
    const clientRow = o.row('clients', clientId);
    // The client record comes first in role order, so it gives the fields.
    expect(bruce).toEqual({
      company_id: bruce.company_id,
      company_name: 'Bruce Power',
      company_type: clientRow.client_type,
      notes: clientRow.notes,
      is_mpr_client: true,
      is_internal: false,
    });
    expect(o.companiesNamed('  Bruce Power ')).toEqual([]);
    expect(o.conflictsOf(bruce.company_id).map((c) => [c.field, c.keptFrom, c.differsIn])).toEqual([
      ['company_type', `clients#${clientId}`, `operators#${operatorId}`],
      ['notes', `clients#${clientId}`, `operators#${operatorId}`],
    ]);
    expect(o.assignmentsOf(bruce.company_id)).toEqual(
      sortShapes([
        o.recordShape('operators', operatorId, bruce.company_id),
        o.recordShape('clients', clientId, bruce.company_id),
        o.projectLinkShape(
          'project_operator_relationships',
          o.one('stray-whitespace', 'project_operator_relationships'),
        ),
        o.projectLinkShape(
          'client_project_relationships',
          o.one('stray-whitespace', 'client_project_relationships'),
        ),
      ]),
    );
  },

  'case-variants'(o) {
    const vendor = o.recordCompany('technology_vendors', o.one('case-variants', 'technology_vendors'));
    const client = o.recordCompany('clients', o.one('case-variants', 'clients'));
    expect(vendor.company_id).not.toBe(client.company_id);
    expect([vendor.company_name, vendor.company_type, vendor.is_mpr_client]).toEqual([
      'X-energy',
      'Vendor',
      false,
    ]);
    expect([client.company_name, client.company_type, client.is_mpr_client]).toEqual([
      'X-Energy',
      'Vendor',
      true,
    ]);
    expect(o.profileOf(vendor.company_id)).toEqual([]);
    expect(o.profileOf(client.company_id)).toHaveLength(1);
    expect(o.assignmentsOf(vendor.company_id)).toEqual(
      sortShapes([
        o.recordShape('technology_vendors', o.one('case-variants', 'technology_vendors'), vendor.company_id),
        o.projectLinkShape(
          'project_vendor_relationships',
          o.one('case-variants', 'project_vendor_relationships'),
        ),
      ]),
    );
    expect(o.assignmentsOf(client.company_id)).toEqual(
      sortShapes([
        o.recordShape('clients', o.one('case-variants', 'clients'), client.company_id),
        o.projectLinkShape(
          'client_project_relationships',
          o.one('case-variants', 'client_project_relationships'),
        ),
      ]),
    );
  },

  'inner-whitespace-variants'(o) {
    const vendor = o.recordCompany(
      'technology_vendors',
      o.one('inner-whitespace-variants', 'technology_vendors'),
    );
    const builder = o.recordCompany('constructors', o.one('inner-whitespace-variants', 'constructors'));
    expect(vendor.company_id).not.toBe(builder.company_id);
    expect([vendor.company_name, builder.company_name]).toEqual([
      'Holtec International',
      'Holtec  International',
    ]);
    expect([vendor.company_type, builder.company_type]).toEqual(['Vendor', 'Constructor']);
  },

  'same-name-one-table'(o) {
    const [first = 0, second = 0] = o.ids('same-name-one-table', 'technology_vendors');
    const nuscale = o.recordCompany('technology_vendors', first);
    expect(o.recordCompany('technology_vendors', second)).toEqual(nuscale);
    expect(o.companiesNamed('NuScale Power')).toEqual([nuscale]);
    expect([nuscale.company_type, nuscale.notes]).toEqual([
      'Vendor',
      o.row('technology_vendors', first).notes,
    ]);
    expect(o.conflictsOf(nuscale.company_id).map((c) => [c.field, c.keptFrom, c.differsIn])).toEqual([
      ['notes', `technology_vendors#${first}`, `technology_vendors#${second}`],
    ]);
    // The links: two land on Doicești SMR (the lower relationship_id gives the notes), one on ENTRA1.
    const links = o
      .ids('same-name-one-table', 'project_vendor_relationships')
      .map((id) => o.row('project_vendor_relationships', id))
      .sort((a, b) => Number(a.relationship_id) - Number(b.relationship_id));
    const doicesti = Number(o.rows('projects').find((p) => p.project_name === 'Doicești SMR')?.project_id);
    const onDoicesti = links.filter((l) => l.project_id === doicesti);
    const elsewhere = links.filter((l) => l.project_id !== doicesti);
    expect(onDoicesti).toHaveLength(2);
    expect(onDoicesti.map((l) => l.is_confidential).sort()).toEqual([false, true]);
    expect(elsewhere).toHaveLength(1);
    expect(o.assignmentsOf(nuscale.company_id)).toEqual(
      sortShapes([
        o.recordShape('technology_vendors', first, nuscale.company_id),
        o.recordShape('technology_vendors', second, nuscale.company_id),
        {
          ...o.projectLinkShape('project_vendor_relationships', Number(onDoicesti[0]?.relationship_id)),
          is_confidential: true,
        },
        o.projectLinkShape('project_vendor_relationships', Number(elsewhere[0]?.relationship_id)),
      ]),
    );
  },

  'hostile-names'(o) {
    const tables: DemoTable[] = [
      'technology_vendors',
      'owners_developers',
      'clients',
      'operators',
      'constructors',
      'offtakers',
    ];
    const records = tables.flatMap((table) => o.ids('hostile-names', table).map((id) => ({ table, id })));
    expect(records).toHaveLength(8);
    const companyIds = new Set<number>();
    for (const { table, id } of records) {
      const name = String(o.row(table, id)[roleOfTable(table).nameColumn]);
      const company = o.recordCompany(table, id);
      expect(company.company_name).toBe(name);
      expect(company.company_name).toBe(trimmed(name));
      companyIds.add(company.company_id);
    }
    expect(companyIds.size).toBe(8);
    const names = [...companyIds].map((id) => o.company(id).company_name);
    expect(names).toContain("Robert'); DROP TABLE companies;--");
    expect(names.some((n) => n.length > 300)).toBe(true);
    for (const table of ROLE_MAPPINGS.map((r) => r.projectLinkTable as DemoTable)) {
      for (const id of o.ids('hostile-names', table)) {
        const expected = o.projectLinkShape(table, id);
        const found = o.projectAssignment(
          expected.company_id,
          expected.role_code,
          Number(expected.context_id),
        );
        expect(found.map(shape)).toEqual([expected]);
      }
    }
    for (const id of o.ids('hostile-names', PERSON_LINKS)) {
      const link = o.row(PERSON_LINKS, id);
      const role = personLinkRole(link.entity_type) as RoleMapping;
      const company = o.recordCompany(role.legacyTable as DemoTable, Number(link.entity_id));
      expect(o.affiliationsOf(Number(link.personnel_id))).toContainEqual({
        company_id: company.company_id,
        title: link.relationship_role,
        notes: link.notes,
        is_primary: false,
      });
    }
  },

  'null-titles'(o) {
    const [zoe = 0, jose = 0] = o.ids('null-titles', 'personnel');
    const links = o.ids('null-titles', PERSON_LINKS).map((id) => o.row(PERSON_LINKS, id));
    const [zoeFirst] = links.filter((l) => l.personnel_id === zoe);
    const opg = o.recordCompany('owners_developers', Number(zoeFirst?.entity_id));
    const westVendorId = Number(
      links.find((l) => l.personnel_id === jose && l.entity_type === 'Vendor')?.entity_id,
    );
    const west = o.recordCompany('technology_vendors', westVendorId);
    expect(
      links.filter((l) => l.personnel_id === zoe).map((l) => [l.entity_type, l.relationship_role]),
    ).toEqual([
      ['Owner', null],
      ['Developer', null],
      ['Operator', null],
    ]);
    expect(o.affiliationsOf(zoe)).toEqual([
      { company_id: opg.company_id, title: null, notes: zoeFirst?.notes ?? null, is_primary: false },
    ]);
    expect(o.affiliationsOf(jose)).toEqual([
      { company_id: west.company_id, title: null, notes: null, is_primary: false },
      { company_id: west.company_id, title: 'Licensing Manager', notes: null, is_primary: false },
    ]);
    // Aisha's NULL-title affiliation was there already: still exactly one, with its id.
    const aishaLink = links.find((l) => l.personnel_id !== zoe && l.personnel_id !== jose) as DemoRow;
    const aisha = Number(aishaLink.personnel_id);
    const existing = o.rows('person_company_affiliations').filter((f) => f.person_id === aisha);
    expect(existing).toHaveLength(1);
    expect(o.state.affiliations.filter((f) => f.person_id === aisha)).toEqual([
      {
        affiliation_id: existing[0]?.affiliation_id,
        person_id: aisha,
        company_id: existing[0]?.company_id,
        title: null,
        notes: null,
        is_primary: true,
      },
    ]);
  },

  'personnel-orphans'(o) {
    const ids = o.ids('personnel-orphans', PERSON_LINKS);
    const expected = ids.map((id) => {
      const link = o.row(PERSON_LINKS, id);
      const role = personLinkRole(link.entity_type) as RoleMapping;
      const person = o.has('personnel', link.personnel_id);
      const entity = o.has(role.legacyTable as DemoTable, link.entity_id);
      const reason =
        !person && !entity ? 'missing person and entity' : !person ? 'missing person' : 'missing entity';
      expect(person && entity).toBe(false);
      return { table: PERSON_LINKS, id, reason };
    });
    expect(expected.map((e) => e.reason)).toEqual([
      'missing entity',
      'missing entity',
      'missing person',
      'missing person',
    ]);
    expect(o.live.personnel.orphans).toEqual({ count: 4, sample: expected });
    // Tomás has no other links, so no affiliation at all; the deleted person has none either.
    for (const id of ids) {
      const person = Number(o.row(PERSON_LINKS, id).personnel_id);
      expect(o.affiliationsOf(person)).toEqual([]);
    }
  },

  'out-of-scope-links'(o) {
    const links = o.ids('out-of-scope-links', PERSON_LINKS).map((id) => o.row(PERSON_LINKS, id));
    expect(links.map((l) => l.entity_type)).toEqual(['Project', 'Project', 'Internal']);
    expect(o.live.personnel.counts.linksOutOfScope).toBe(3);
    const orphanIds = o.live.personnel.orphans.sample.map((s) => s.id);
    for (const link of links) {
      expect(orphanIds).not.toContain(link.relationship_id);
      expect(o.affiliationsOf(Number(link.personnel_id))).toEqual([]);
    }
  },

  'project-orphans'(o) {
    const caseRows = (o.dataset.cases.find((c) => c.id === 'project-orphans')?.rows ?? []).map((r) =>
      o.projectOrphan(r.table as DemoTable, r.id),
    );
    expect(caseRows).toHaveLength(10);
    expect(caseRows.filter((r) => r.reason === 'not an orphan')).toEqual([]);
    // The sample lists orphans table by table in role order, by relationship_id.
    const order = ROLE_MAPPINGS.map((r) => r.projectLinkTable);
    const expected = [...caseRows].sort(
      (a, b) => order.indexOf(a.table) - order.indexOf(b.table) || a.id - b.id,
    );
    const inCase = o.live.projects.orphans.sample.filter((s) =>
      caseRows.some((r) => r.table === s.table && r.id === s.id),
    );
    expect(inCase).toEqual(expected);
    const deletedProjects = caseRows
      .filter((r) => r.reason === 'missing project')
      .map((r) => o.row(r.table, r.id).project_id);
    expect(deletedProjects).toHaveLength(4);
    expect(
      o.state.assignments.filter(
        (a) => a.context_type === 'Project' && deletedProjects.includes(a.context_id),
      ),
    ).toEqual([]);
  },

  'confidential-links'(o) {
    const [open = 0, confidential = 0] = o.ids('confidential-links', 'project_owner_relationships');
    const edfOpen = o.projectLinkShape('project_owner_relationships', open);
    expect(o.projectLinkShape('project_owner_relationships', confidential)).toMatchObject({
      company_id: edfOpen.company_id,
      context_id: edfOpen.context_id,
      is_confidential: true,
    });
    expect(open).toBeLessThan(confidential);
    expect(edfOpen.is_confidential).toBe(false);
    expect(
      o.projectAssignment(edfOpen.company_id, 'developer', Number(edfOpen.context_id)).map(shape),
    ).toEqual([{ ...edfOpen, is_confidential: true }]);
    const tva = o.projectLinkShape(
      'client_project_relationships',
      o.one('confidential-links', 'client_project_relationships'),
    );
    expect(tva.is_confidential).toBe(true);
    expect(o.projectAssignment(tva.company_id, 'client', Number(tva.context_id)).map(shape)).toEqual([tva]);
    const nuscale = o.projectLinkShape(
      'project_vendor_relationships',
      o.one('confidential-links', 'project_vendor_relationships'),
    );
    expect(
      o
        .projectAssignment(nuscale.company_id, 'vendor', Number(nuscale.context_id))
        .map((a) => a.is_confidential),
    ).toEqual([true]);
    const [siobhanFirst, siobhanSecond, michaelTva] = o
      .ids('confidential-links', PERSON_LINKS)
      .map((id) => o.row(PERSON_LINKS, id));
    expect(siobhanSecond?.personnel_id).toBe(siobhanFirst?.personnel_id);
    expect(o.affiliationsOf(Number(siobhanFirst?.personnel_id))).toEqual([
      {
        company_id: nuscale.company_id,
        title: 'VP Business Development',
        notes: siobhanFirst?.notes,
        is_primary: false,
      },
    ]);
    expect(o.affiliationsOf(Number(michaelTva?.personnel_id))).toContainEqual({
      company_id: tva.company_id,
      title: 'VP Business Development',
      notes: michaelTva?.notes,
      is_primary: false,
    });
  },

  'client-crm-fields'(o) {
    const clientIds = o.ids('client-crm-fields', 'clients');
    expect(clientIds).toHaveLength(5);
    const byCompany = new Map<number, number[]>();
    for (const id of clientIds) {
      const company = o.recordCompany('clients', id).company_id;
      byCompany.set(company, [...(byCompany.get(company) ?? []), id]);
    }
    // OPG, Bruce Power, Dominion Energy and TVA (two records).
    expect([...byCompany.values()].map((ids) => ids.length).sort()).toEqual([1, 1, 1, 2]);
    for (const [company, ids] of byCompany) {
      const lowest = Math.min(...ids);
      expect(o.profileOf(company)).toEqual([{ company_id: company, ...crmFields(o.row('clients', lowest)) }]);
    }
    const [tvaA = 0, tvaB = 0] = [...byCompany.values()].find((ids) => ids.length === 2) ?? [];
    expect(crmFields(o.row('clients', tvaA))).not.toEqual(crmFields(o.row('clients', tvaB)));
    const tva = o.recordCompany('clients', Math.min(tvaA, tvaB));
    expect(o.company(tva.company_id).company_type).toBe(o.row('clients', Math.min(tvaA, tvaB)).client_type);
    expect(
      o.projectAssignment(
        tva.company_id,
        'client',
        Number(
          o.row('client_project_relationships', o.one('client-crm-fields', 'client_project_relationships'))
            .project_id,
        ),
      ),
    ).toHaveLength(1);
  },

  'already-migrated'(o) {
    // Roles: the two the dual-write made, as they were; the other four created with the spec's labels.
    const planted = o.rows('company_roles');
    expect(planted.map((r) => [r.role_id, r.role_code, r.role_label])).toEqual([
      [1, 'client', 'Client'],
      [2, 'vendor', 'Technology Vendor'],
    ]);
    expect(o.state.full.company_roles.slice(0, 2)).toEqual(planted);
    const created = o.state.full.company_roles.slice(2).map((r) => [r.role_code, r.role_label]);
    expect(created.sort()).toEqual([
      ['constructor', 'Constructor'],
      ['developer', 'Owner / Developer'],
      ['offtaker', 'Off-taker'],
      ['operator', 'Operator'],
    ]);
    expect(o.live.companies.counts.rolesCreated).toBe(4);
    // Companies: same ids and names; R3 fields from their legacy records; the rest as they were.
    const vendorId = o.one('already-migrated', 'technology_vendors');
    const clientId = o.one('already-migrated', 'clients');
    const [kairosRow, dominionRow] = o.rows('companies').slice(0, 2) as [DemoRow, DemoRow];
    expect(o.recordCompany('technology_vendors', vendorId)).toEqual({
      company_id: kairosRow.company_id,
      company_name: 'Kairos Power',
      company_type: 'Vendor',
      notes: o.row('technology_vendors', vendorId).notes,
      is_mpr_client: false,
      is_internal: false,
    });
    expect(o.recordCompany('clients', clientId)).toEqual({
      company_id: dominionRow.company_id,
      company_name: 'Dominion Energy',
      company_type: o.row('clients', clientId).client_type,
      notes: o.row('clients', clientId).notes,
      is_mpr_client: true,
      is_internal: false,
    });
    // Columns R3 does not set are as the dual-write left them.
    for (const before of [kairosRow, dominionRow]) {
      const { company_type: _t, notes: _n, is_mpr_client: _m, modified_date: _d, ...kept } = before;
      expect(o.after('companies', Number(before.company_id))).toMatchObject(kept);
    }
    // Assignments: the four kept with their ids; Kairos's Hermes 2 link added.
    const existing = o
      .rows('company_role_assignments')
      .filter((a) => o.ids('already-migrated', 'company_role_assignments').includes(Number(a.assignment_id)));
    expect(existing).toHaveLength(4);
    for (const before of existing) {
      const after = o.state.assignments.find((a) => a.assignment_id === before.assignment_id);
      expect(after).toMatchObject({
        company_id: before.company_id,
        role_id: before.role_id,
        context_type: before.context_type,
        context_id: before.context_id,
        is_primary: before.is_primary,
      });
    }
    const [hermes = 0, hermes2 = 0] = o.ids('already-migrated', 'project_vendor_relationships');
    const kairosProjects = [hermes, hermes2].map((id) =>
      o.projectLinkShape('project_vendor_relationships', id),
    );
    const dominionProject = o.projectLinkShape(
      'client_project_relationships',
      o.one('already-migrated', 'client_project_relationships'),
    );
    const maxPlantedId = Math.max(...o.rows('company_role_assignments').map((a) => Number(a.assignment_id)));
    const idOf = (s: AssignmentShape) =>
      o.projectAssignment(s.company_id, s.role_code, Number(s.context_id)).map((a) => a.assignment_id);
    expect(idOf(kairosProjects[0] as AssignmentShape)).toEqual([3]);
    expect(idOf(dominionProject)).toEqual([4]);
    const [hermes2Id] = idOf(kairosProjects[1] as AssignmentShape);
    expect(hermes2Id).toBeGreaterThan(maxPlantedId);
    expect(o.assignmentsOf(Number(kairosRow.company_id))).toEqual(
      sortShapes([
        o.recordShape('technology_vendors', vendorId, Number(kairosRow.company_id)),
        ...kairosProjects,
      ]),
    );
    expect(o.assignmentsOf(Number(dominionRow.company_id))).toEqual(
      sortShapes([o.recordShape('clients', clientId, Number(dominionRow.company_id)), dominionProject]),
    );
    // Dominion's client profile: still one, the lowest (only) client record's fields.
    expect(o.profileOf(Number(dominionRow.company_id))).toEqual([
      { company_id: dominionRow.company_id, ...crmFields(o.row('clients', clientId)) },
    ]);
    // Affiliations: the three kept with their ids and is_primary; no second copy of any.
    for (const before of o.rows('person_company_affiliations')) {
      const same = o.state.affiliations.filter(
        (f) =>
          f.person_id === before.person_id && f.company_id === before.company_id && f.title === before.title,
      );
      expect(same).toEqual([
        {
          affiliation_id: before.affiliation_id,
          person_id: before.person_id,
          company_id: before.company_id,
          title: before.title,
          notes: null,
          is_primary: true,
        },
      ]);
    }
  },

  'reuse-by-name'(o) {
    const terrapower = o.one('reuse-by-name', 'companies');
    const vendorId = o.one('reuse-by-name', 'technology_vendors');
    expect(o.recordCompany('technology_vendors', vendorId).company_id).toBe(terrapower);
    expect(o.companiesNamed('TerraPower').map((c) => c.company_id)).toEqual([terrapower]);
    expect(o.assignmentsOf(terrapower)).toEqual(
      sortShapes([
        o.recordShape('technology_vendors', vendorId, terrapower),
        o.projectLinkShape(
          'project_vendor_relationships',
          o.one('reuse-by-name', 'project_vendor_relationships'),
        ),
      ]),
    );
  },

  drift(o) {
    const geh = o.one('drift', 'companies');
    const vendorId = o.one('drift', 'technology_vendors');
    const assignmentId = o.one('drift', 'company_role_assignments');
    expect(o.row('technology_vendors', vendorId).vendor_name).toBe('GE Vernova Hitachi Nuclear Energy');
    expect(
      o.recordAssignments('technology_vendors', vendorId).map((a) => [a.assignment_id, a.company_id]),
    ).toEqual([[assignmentId, geh]]);
    expect(o.company(geh).company_name).toBe('GE Hitachi Nuclear Energy');
    expect(o.companiesNamed('GE Vernova Hitachi Nuclear Energy')).toEqual([]);
    expect(o.assignmentsOf(geh)).toEqual(
      sortShapes([
        o.recordShape('technology_vendors', vendorId, geh),
        ...o
          .ids('drift', 'project_vendor_relationships')
          .map((id) => o.projectLinkShape('project_vendor_relationships', id)),
      ]),
    );
  },

  'stale-assignment'(o) {
    const usnc = o.one('stale-assignment', 'companies');
    const assignmentId = o.one('stale-assignment', 'company_role_assignments');
    const planted = o.row('company_role_assignments', assignmentId);
    expect(o.has('technology_vendors', planted.context_id)).toBe(false);
    // Both rows exactly as loaded, every column; and the company has no other assignment.
    expect(o.after('companies', usnc)).toEqual(o.row('companies', usnc));
    expect(o.after('company_role_assignments', assignmentId)).toEqual(planted);
    expect(o.state.assignments.filter((a) => a.company_id === usnc).map((a) => a.assignment_id)).toEqual([
      assignmentId,
    ]);
  },

  'blank-name'(o) {
    const operatorId = o.one('blank-name', 'operators');
    expect(trimmed(o.row('operators', operatorId).company_name)).toBe('');
    expect(o.live.companies.unmigratable).toEqual({
      count: 1,
      sample: [{ table: 'operators', id: operatorId }],
    });
    expect(o.recordAssignments('operators', operatorId)).toEqual([]);
    expect(o.state.companies.filter((c) => trimmed(c.company_name) === '')).toEqual([]);
  },

  'coverage-sinking-orphans'(o) {
    const ids = o.ids('coverage-sinking-orphans', 'project_vendor_relationships');
    const expected = ids.map((id) => o.projectOrphan('project_vendor_relationships', id));
    expect(expected.filter((e) => e.reason === 'not an orphan')).toEqual([]);
    expect(ids.length).toBeGreaterThan(50);
    const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => Number(a.id) - Number(b.id);
    const inSample = o.live.projects.orphans.sample.filter(
      (s) => s.table === 'project_vendor_relationships' && ids.includes(Number(s.id)),
    );
    expect(inSample.sort(byId)).toEqual([...expected].sort(byId));
    // With the project-orphans case's links, these are all the orphans.
    const plantedOrphans = o.dataset.cases.find((c) => c.id === 'project-orphans')?.rows.length;
    expect(o.live.projects.orphans.count).toBe(Number(plantedOrphans) + ids.length);
  },
};

describe.each(realDatabases)('backfill of the demo cases: $name', (adapter) => {
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

  describe.each([
    { label: 'default demo', defects: false },
    { label: 'demo with defects', defects: true },
  ])('$label', ({ defects }) => {
    const dataset = generateDemoData({ defects });
    let outcome: DemoOutcome;
    let legacyBefore: Record<string, string>;
    let legacyAfter: Record<string, string>;

    beforeAll(async () => {
      await resetTables(sql);
      await loadDemoData(sql, dataset);
      legacyBefore = await legacyTableHashes(sql);
      const request = { sampleSize: SAMPLE_SIZE };
      const dry: Partial<StepResults> = {};
      const live: Partial<StepResults> = {};
      dry.companies = await backfillCompanies(sql, { ...request, dryRun: true });
      live.companies = await backfillCompanies(sql, request);
      dry.personnel = await backfillPersonnelAffiliations(sql, { ...request, dryRun: true });
      live.personnel = await backfillPersonnelAffiliations(sql, request);
      dry.projects = await backfillProjectRelationships(sql, { ...request, dryRun: true });
      live.projects = await backfillProjectRelationships(sql, request);
      legacyAfter = await legacyTableHashes(sql);
      outcome = new DemoOutcome(dataset, live as StepResults, dry as StepResults, await readState(sql));
    });

    it('has exactly the cases tested here', () => {
      expect(dataset.cases.map((c) => c.id)).toEqual(
        defects ? [...PLANTED_CASES, ...DEFECT_CASES] : PLANTED_CASES,
      );
      for (const id of dataset.cases.map((c) => c.id)) expect(CASE_TESTS).toHaveProperty([id]);
    });

    for (const demoCase of dataset.cases) {
      it(`${demoCase.id}: ${demoCase.description.slice(0, 80)}…`, () => {
        (CASE_TESTS[demoCase.id] as (o: DemoOutcome) => void)(outcome);
      });
    }

    it('every step finished, and its dry run predicted its counts, orphans and unmigratable records', () => {
      for (const step of ['companies', 'personnel', 'projects'] as const) {
        const { live, dry } = outcome;
        expect(live[step].done).toBe(true);
        expect(dry[step].counts).toEqual(live[step].counts);
        expect(dry[step].orphans).toEqual(live[step].orphans);
        expect(dry[step].unmigratable).toEqual(live[step].unmigratable);
        expect(dry[step].conflicts.count).toBe(live[step].conflicts.count);
      }
      // Only the defects are unmigratable; only the planted cases give orphans.
      expect(outcome.live.companies.unmigratable.count).toBe(defects ? 1 : 0);
      expect(outcome.live.personnel.orphans.count).toBe(4);
      expect(outcome.live.projects.orphans.count).toBe(
        10 + (defects ? outcome.ids('coverage-sinking-orphans', 'project_vendor_relationships').length : 0),
      );
    });

    it('R2 over the whole dataset: each named record has one primary record assignment, to its own or its sticky company', () => {
      const o = outcome;
      let records = 0;
      for (const role of ROLE_MAPPINGS) {
        const table = role.legacyTable as DemoTable;
        for (const row of o.rows(table)) {
          const id = Number(row[role.idColumn]);
          const name = trimmed(row[role.nameColumn]);
          if (name === '') {
            expect(o.recordAssignments(table, id)).toEqual([]);
            continue;
          }
          records++;
          const [assignment, ...more] = o.recordAssignments(table, id);
          expect(more).toEqual([]);
          expect(assignment?.is_primary).toBe(true);
          const sticky = o.preexistingRecordCompany(table, id);
          if (sticky !== undefined) expect(assignment?.company_id).toBe(sticky);
          else expect(o.company(Number(assignment?.company_id)).company_name).toBe(name);
        }
      }
      // Besides one per named record, only the planted ones whose record is gone (stale-assignment).
      const stale = o.rows('company_role_assignments').filter((a) => {
        const role = ROLE_MAPPINGS.find((r) => r.recordContextType === a.context_type);
        return role && !o.has(role.legacyTable as DemoTable, a.context_id);
      });
      expect(stale).toHaveLength(1);
      const recordTypes = new Set(ROLE_MAPPINGS.map((r) => r.recordContextType));
      expect(o.state.assignments.filter((a) => recordTypes.has(a.context_type))).toHaveLength(
        records + stale.length,
      );
      // Companies the backfill created are not internal.
      const planted = new Set(o.rows('companies').map((c) => c.company_id));
      expect(o.state.companies.filter((c) => !planted.has(c.company_id) && c.is_internal)).toEqual([]);
    });

    it('R4 over the whole dataset: one profile per company with client records, from its lowest client_id', () => {
      const o = outcome;
      const lowest = new Map<number, number>();
      for (const row of o.rows('clients')) {
        if (trimmed(row.client_name) === '') continue;
        const company = o.recordCompany('clients', Number(row.client_id)).company_id;
        lowest.set(company, Math.min(lowest.get(company) ?? Number.MAX_SAFE_INTEGER, Number(row.client_id)));
      }
      const expected = [...lowest]
        .map(([company, client]) => ({ company_id: company, ...crmFields(o.row('clients', client)) }))
        .sort((a, b) => a.company_id - b.company_id);
      expect(o.state.profiles).toEqual(expected);
      const mprClients = o.state.companies.filter((c) => c.is_mpr_client).map((c) => c.company_id);
      expect(mprClients).toEqual([...lowest.keys()].sort(byNumber));
    });

    it('R5 over the whole dataset: affiliations are exactly the (person, company, title) identities of the links', () => {
      const o = outcome;
      const people = new Set(o.rows('personnel').map((p) => p.personnel_id));
      const expected = new Map<
        string,
        {
          person_id: number;
          company_id: number;
          title: string | null;
          notes: string | null;
          is_primary: boolean;
        }
      >();
      const links = [...o.rows(PERSON_LINKS)].sort(
        (a, b) => Number(a.relationship_id) - Number(b.relationship_id),
      );
      for (const link of links) {
        const role = personLinkRole(link.entity_type);
        if (!role || !people.has(link.personnel_id) || !o.has(role.legacyTable as DemoTable, link.entity_id))
          continue;
        const [assignment] = o.recordAssignments(role.legacyTable as DemoTable, Number(link.entity_id));
        if (!assignment) continue;
        const title = (link.relationship_role as string | null) ?? null;
        const key = JSON.stringify([link.personnel_id, assignment.company_id, title]);
        if (!expected.has(key))
          expected.set(key, {
            person_id: Number(link.personnel_id),
            company_id: assignment.company_id,
            title,
            notes: (link.notes as string | null) ?? null,
            is_primary: false,
          });
      }
      for (const before of o.rows('person_company_affiliations')) {
        const key = JSON.stringify([before.person_id, before.company_id, before.title]);
        const found = expected.get(key);
        expect(found, 'every planted affiliation has legacy links').toBeDefined();
        if (found) found.is_primary = Boolean(before.is_primary);
      }
      const order = (a: { person_id: number; company_id: number; title: string | null }, b: typeof a) =>
        a.person_id - b.person_id || a.company_id - b.company_id || byText(a.title ?? '', b.title ?? '');
      const actual = o.state.affiliations.map(({ affiliation_id: _id, ...rest }) => rest).sort(order);
      expect(actual).toEqual([...expected.values()].sort(order));
      expect(o.live.personnel.counts.linksMigrated).toBe(
        links.filter((l) => {
          const role = personLinkRole(l.entity_type);
          return role && people.has(l.personnel_id) && o.has(role.legacyTable as DemoTable, l.entity_id);
        }).length,
      );
    });

    it('R6 over the whole dataset: Project assignments are exactly the identities of the links (confidential OR, lowest notes)', () => {
      const o = outcome;
      const projects = new Set(o.rows('projects').map((p) => p.project_id));
      const expected = new Map<string, AssignmentShape>();
      for (const role of ROLE_MAPPINGS) {
        const table = role.projectLinkTable as DemoTable;
        const links = [...o.rows(table)].sort(
          (a, b) => Number(a.relationship_id) - Number(b.relationship_id),
        );
        for (const link of links) {
          const entity = link[role.projectLinkEntityColumn];
          if (!projects.has(link.project_id) || !o.has(role.legacyTable as DemoTable, entity)) continue;
          const shaped = o.projectLinkShape(table, Number(link.relationship_id));
          const key = JSON.stringify([shaped.company_id, role.code, shaped.context_id]);
          const first = expected.get(key);
          if (first) first.is_confidential ||= shaped.is_confidential;
          else expected.set(key, shaped);
        }
      }
      const roleCodes = new Map(o.rows('company_roles').map((r) => [r.role_id, String(r.role_code)]));
      for (const before of o.rows('company_role_assignments').filter((a) => a.context_type === 'Project')) {
        const key = JSON.stringify([before.company_id, roleCodes.get(before.role_id), before.context_id]);
        const found = expected.get(key);
        expect(found, 'every planted Project assignment has legacy links').toBeDefined();
        if (found) found.is_confidential ||= Boolean(before.is_confidential);
      }
      const actual = o.state.assignments.filter((a) => a.context_type === 'Project').map(shape);
      expect(sortShapes(actual)).toEqual(sortShapes([...expected.values()]));
      expect(actual.some((a) => a.is_confidential)).toBe(true);
    });

    it('R7: the legacy tables are exactly as loaded', () => {
      expect(Object.keys(legacyBefore)).toHaveLength(15);
      expect(legacyAfter).toEqual(legacyBefore);
    });
  });
});
