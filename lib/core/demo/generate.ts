/**
 * Deterministic demo data for the legacy NukeWorks tables (and a few unified rows a dual-write would
 * have left behind). Same options, same rows: a seeded PRNG, explicit primary keys, fixed dates.
 *
 * The special cases every migration step has to handle are planted once, first, with the lowest ids
 * (so their ids do not move with `scale`); the bulk rows follow, `scale` times the base size; the
 * optional critical defects come last. Each case is listed with the exact rows that carry it.
 *
 * Bulk rows are deliberately plain: every bulk company name is unique across the whole dataset
 * (trimmed, case- and spacing-insensitive), bulk links point only at bulk entities and bulk projects,
 * and no bulk row is an orphan or out of scope. So whatever is special comes from a listed case.
 */
import type { LegacyTable } from '../schema/legacy.sql.ts';
import { CLIENT_PROFILE_FIELDS, type UnifiedTable } from '../schema/unified.sql.ts';
import {
  CLIENT_NAMES,
  CONSTRUCTOR_NAMES,
  FIRST_NAMES,
  INTERNAL_TITLES,
  LAST_NAMES,
  NAME_SUFFIXES,
  OFFTAKERS,
  PROJECT_KINDS,
  PROJECT_SITES,
  PROJECT_STATUSES,
  PROJECTS,
  type ProjectSeed,
  REACTOR_TECHNOLOGIES,
  REGIONS,
  TITLES,
  UTILITY_NAMES,
  VENDOR_NAMES,
} from './names.ts';

export const DEFAULT_DEMO_SEED = 20261125;

export interface DemoOptions {
  /** Default 20261125. */
  seed?: number;
  /** Multiplies the bulk rows (the planted cases stay as they are); a positive integer, default 1. */
  scale?: number;
  /** Adds critical defects (a blank name, coverage-sinking orphans) as their own cases. */
  defects?: boolean;
}

export type DemoRow = Record<string, string | number | boolean | null>;

export interface DemoCase {
  id: string;
  description: string;
  /** The rows that carry the case: table and primary-key value. */
  rows: { table: string; id: number }[];
}

export interface DemoDataset {
  /** Legacy and unified tables that have rows; every row has every column of its table. */
  tables: Record<string, DemoRow[]>;
  cases: DemoCase[];
}

export type DemoTable = LegacyTable | UnifiedTable;

/** The primary-key column of every table (client_profiles' is its company_id). */
export const DEMO_PRIMARY_KEYS = {
  technology_vendors: 'vendor_id',
  owners_developers: 'owner_id',
  clients: 'client_id',
  operators: 'operator_id',
  constructors: 'constructor_id',
  offtakers: 'offtaker_id',
  personnel: 'personnel_id',
  projects: 'project_id',
  personnel_entity_relationships: 'relationship_id',
  project_vendor_relationships: 'relationship_id',
  project_owner_relationships: 'relationship_id',
  project_operator_relationships: 'relationship_id',
  project_constructor_relationships: 'relationship_id',
  project_offtaker_relationships: 'relationship_id',
  client_project_relationships: 'relationship_id',
  companies: 'company_id',
  company_roles: 'role_id',
  company_role_assignments: 'assignment_id',
  client_profiles: 'company_id',
  person_company_affiliations: 'affiliation_id',
} as const satisfies Record<DemoTable, string>;

/**
 * The key that holds a personnel link's title. The loader renames it to the column the database
 * has (`relationship_role` or `role_at_entity`).
 */
export const DEMO_TITLE_KEY = 'relationship_role';

const AUDIT_COLUMNS = ['created_by', 'created_date', 'modified_by', 'modified_date'] as const;
const LINK_COLUMNS = ['notes', 'is_confidential', ...AUDIT_COLUMNS] as const;

/** Every column of every table, in table order: rows carry all of them (NULL explicitly). */
export const DEMO_COLUMNS: Record<DemoTable, readonly string[]> = {
  technology_vendors: ['vendor_id', 'vendor_name', 'notes', ...AUDIT_COLUMNS],
  owners_developers: [
    'owner_id',
    'company_name',
    'company_type',
    'target_customers',
    'engagement_level',
    'notes',
    'last_contact_date',
    'last_contact_type',
    'relationship_strength',
    'relationship_notes',
    'client_priority',
    'client_status',
    ...AUDIT_COLUMNS,
  ],
  clients: [
    'client_id',
    'client_name',
    'client_type',
    'notes',
    'mpr_primary_poc',
    'mpr_secondary_poc',
    'last_contact_date',
    'last_contact_type',
    'last_contact_by',
    'last_contact_notes',
    'next_planned_contact_date',
    'next_planned_contact_type',
    'next_planned_contact_assigned_to',
    'relationship_strength',
    'relationship_notes',
    'client_priority',
    'client_status',
    ...AUDIT_COLUMNS,
  ],
  operators: ['operator_id', 'company_name', 'notes', ...AUDIT_COLUMNS],
  constructors: ['constructor_id', 'company_name', 'notes', ...AUDIT_COLUMNS],
  offtakers: ['offtaker_id', 'organization_name', 'sector', 'notes', ...AUDIT_COLUMNS],
  personnel: [
    'personnel_id',
    'full_name',
    'email',
    'phone',
    'role',
    'personnel_type',
    'organization_type',
    'organization_id',
    'notes',
    ...AUDIT_COLUMNS,
  ],
  projects: ['project_id', 'project_name', 'location', 'project_status', 'notes', ...AUDIT_COLUMNS],
  personnel_entity_relationships: [
    'relationship_id',
    'personnel_id',
    'entity_type',
    'entity_id',
    DEMO_TITLE_KEY,
    ...LINK_COLUMNS,
  ],
  project_vendor_relationships: ['relationship_id', 'project_id', 'vendor_id', ...LINK_COLUMNS],
  project_owner_relationships: ['relationship_id', 'project_id', 'owner_id', ...LINK_COLUMNS],
  project_operator_relationships: ['relationship_id', 'project_id', 'operator_id', ...LINK_COLUMNS],
  project_constructor_relationships: ['relationship_id', 'project_id', 'constructor_id', ...LINK_COLUMNS],
  project_offtaker_relationships: [
    'relationship_id',
    'project_id',
    'offtaker_id',
    'agreement_type',
    'contracted_volume',
    ...LINK_COLUMNS,
  ],
  client_project_relationships: [
    'relationship_id',
    'client_id',
    'project_id',
    'relationship_type',
    'is_confidential',
    'notes',
    ...AUDIT_COLUMNS,
  ],
  companies: [
    'company_id',
    'company_name',
    'company_type',
    'sector',
    'website',
    'headquarters_country',
    'headquarters_region',
    'is_mpr_client',
    'is_internal',
    'notes',
    ...AUDIT_COLUMNS,
  ],
  company_roles: ['role_id', 'role_code', 'role_label', 'description', 'is_active', ...AUDIT_COLUMNS],
  company_role_assignments: [
    'assignment_id',
    'company_id',
    'role_id',
    'context_type',
    'context_id',
    'is_primary',
    'start_date',
    'end_date',
    'is_confidential',
    'notes',
    ...AUDIT_COLUMNS,
  ],
  client_profiles: ['company_id', ...CLIENT_PROFILE_FIELDS, ...AUDIT_COLUMNS],
  person_company_affiliations: [
    'affiliation_id',
    'person_id',
    'company_id',
    'title',
    'department',
    'is_primary',
    'start_date',
    'end_date',
    'notes',
    ...AUDIT_COLUMNS,
  ],
};

/** Values for the NOT NULL columns without a value of their own. */
const NOT_NULL_DEFAULTS: Readonly<Record<string, boolean>> = {
  is_confidential: false,
  is_primary: false,
  is_mpr_client: false,
  is_internal: false,
  is_active: true,
};

/** The six legacy company kinds: table, name column, personnel entity_type and project link table. */
const ENTITIES = {
  vendor: {
    table: 'technology_vendors',
    nameColumn: 'vendor_name',
    entityType: 'Vendor',
    linkTable: 'project_vendor_relationships',
    linkColumn: 'vendor_id',
  },
  owner: {
    table: 'owners_developers',
    nameColumn: 'company_name',
    entityType: 'Owner',
    linkTable: 'project_owner_relationships',
    linkColumn: 'owner_id',
  },
  client: {
    table: 'clients',
    nameColumn: 'client_name',
    entityType: 'Client',
    linkTable: 'client_project_relationships',
    linkColumn: 'client_id',
  },
  operator: {
    table: 'operators',
    nameColumn: 'company_name',
    entityType: 'Operator',
    linkTable: 'project_operator_relationships',
    linkColumn: 'operator_id',
  },
  constructor: {
    table: 'constructors',
    nameColumn: 'company_name',
    entityType: 'Constructor',
    linkTable: 'project_constructor_relationships',
    linkColumn: 'constructor_id',
  },
  offtaker: {
    table: 'offtakers',
    nameColumn: 'organization_name',
    entityType: 'Offtaker',
    linkTable: 'project_offtaker_relationships',
    linkColumn: 'offtaker_id',
  },
} as const satisfies Record<
  string,
  { table: DemoTable; nameColumn: string; entityType: string; linkTable: DemoTable; linkColumn: string }
>;

type EntityKind = keyof typeof ENTITIES;

/** Generation order of the bulk companies; owners take the utility names before operators do. */
const ENTITY_KINDS: readonly EntityKind[] = [
  'vendor',
  'owner',
  'client',
  'operator',
  'constructor',
  'offtaker',
];

/** Bulk rows at scale 1. */
const BASE_COMPANIES: Record<EntityKind, number> = {
  vendor: 60,
  owner: 40,
  client: 30,
  operator: 25,
  constructor: 20,
  offtaker: 25,
};
const BASE_PROJECT_LINKS: Record<EntityKind, number> = {
  vendor: 180,
  owner: 130,
  client: 110,
  operator: 100,
  constructor: 90,
  offtaker: 90,
};
const BASE_PROJECTS = 80;
const BASE_INTERNAL_STAFF = 30;
const BASE_EXTERNAL_PEOPLE = 270;

const STRENGTHS = ['Strong', 'Medium', 'Weak'] as const;
const PRIORITIES = ['High', 'Medium', 'Low'] as const;
const STATUSES = ['Active', 'Prospect', 'Inactive'] as const;
const CONTACT_TYPES = ['Meeting', 'Call', 'Email', 'Conference', 'Site Visit'] as const;
const CLIENT_TYPES = [
  'Utility',
  'Vendor',
  'Investor',
  'Government Agency',
  'Developer',
  'Laboratory',
] as const;
const OWNER_TYPES = [
  'Utility',
  'Independent Power Producer',
  'Developer',
  'Cooperative',
  'State Company',
] as const;
const TARGET_CUSTOMERS = [
  'Grid',
  'Data Centers',
  'Industrial Heat',
  'Hydrogen Production',
  'District Heating',
  'Desalination',
] as const;
const ENGAGEMENT_LEVELS = ['High', 'Medium', 'Low'] as const;
const AGREEMENT_TYPES = [
  'Power Purchase Agreement',
  'Heat Supply Agreement',
  'Memorandum of Understanding',
  'Letter of Intent',
  'Framework Agreement',
] as const;
const CLIENT_PROJECT_TYPES = [
  "Owner's Engineer",
  'Licensing Support',
  'Feasibility Study',
  'Siting Study',
  'Independent Review',
  'Procurement Support',
] as const;

const LONG_NAME =
  'International Consortium for Advanced Small Modular Reactor Deployment, Fuel Cycle Research, ' +
  'Grid Integration Studies, Workforce Development and Public Engagement across Central and Eastern ' +
  'Europe, the Baltic States, Scandinavia and the Western Balkans (Joint Undertaking under the European ' +
  'Partnership for Nuclear Innovation and Industrial Decarbonisation)';

/** A small seeded PRNG (mulberry32): fast, and the same sequence on every platform. */
class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return at(items, Math.floor(this.next() * items.length));
  }

  shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [at(copy, j), at(copy, i)];
    }
    return copy;
  }
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`demo data: index ${index} out of range (${items.length})`);
  return item;
}

const DAY_MS = 86_400_000;
const START_2023 = Date.UTC(2023, 0, 1);
const END_2025 = Date.UTC(2026, 0, 1) - 1000;

function timestampText(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function dateText(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Names compared as the migration's near-duplicate checks would: trimmed, spacing and case folded. */
export function demoNameKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

const FOLDED: Readonly<Record<string, string>> = { ø: 'o', ł: 'l', ß: 'ss', æ: 'ae', đ: 'd', œ: 'oe' };

/** 'Siobhán O'Connor' → 'siobhan.o.connor': the local part of a made-up e-mail address. */
function emailLocalPart(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[øłßæđœ]/g, (c) => FOLDED[c] ?? c)
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.+|\.+$/g, '');
}

type CaseRow = { table: DemoTable; id: number };

class DatasetBuilder {
  readonly tables = new Map<DemoTable, DemoRow[]>();
  readonly cases: DemoCase[] = [];
  private readonly nextIds = new Map<DemoTable, number>();
  private readonly companyNames = new Set<string>();
  private readonly projectNames = new Set<string>();
  private readonly personNames = new Set<string>();

  constructor(readonly rng: Random) {}

  /** Adds a row with every column of its table; the primary key is the next id unless given. */
  add(table: DemoTable, values: DemoRow): number {
    const pk = DEMO_PRIMARY_KEYS[table];
    const given = values[pk];
    const id = typeof given === 'number' ? given : this.allocate(table);
    if (typeof given === 'number' && given >= (this.nextIds.get(table) ?? 1))
      this.nextIds.set(table, given + 1);
    const columns = DEMO_COLUMNS[table];
    const audit = 'created_date' in values ? undefined : this.audit();
    const row: DemoRow = {};
    for (const column of columns) {
      if (column === pk) row[column] = id;
      else if (column in values) row[column] = values[column] ?? null;
      else if (audit && column in audit) row[column] = audit[column] ?? null;
      else row[column] = NOT_NULL_DEFAULTS[column] ?? null;
    }
    for (const key of Object.keys(values)) {
      if (!columns.includes(key)) throw new Error(`demo data: ${table} has no column ${key}`);
    }
    let rows = this.tables.get(table);
    if (!rows) {
      rows = [];
      this.tables.set(table, rows);
    }
    rows.push(row);
    return id;
  }

  /** The next id of `table`; used alone, it leaves a gap: a row that was deleted. */
  allocate(table: DemoTable): number {
    const id = this.nextIds.get(table) ?? 1;
    this.nextIds.set(table, id + 1);
    return id;
  }

  count(table: DemoTable): number {
    return this.tables.get(table)?.length ?? 0;
  }

  addCase(id: string, description: string, rows: CaseRow[]): void {
    this.cases.push({ id, description, rows: rows.map((r) => ({ table: r.table, id: r.id })) });
  }

  /** Marks a name as used; planted names may repeat on purpose. */
  plantCompanyName(name: string): void {
    this.companyNames.add(demoNameKey(name));
  }

  /** Takes a name if no company has it yet (in any table, any case or spacing). */
  claimCompanyName(name: string): boolean {
    return claim(this.companyNames, name);
  }

  claimProjectName(name: string): boolean {
    return claim(this.projectNames, name);
  }

  claimPersonName(name: string): boolean {
    return claim(this.personNames, name);
  }

  audit(): DemoRow {
    const rng = this.rng;
    const created = START_2023 + rng.int(0, 1094) * DAY_MS + rng.int(7 * 3600, 19 * 3600) * 1000;
    const daysLeft = Math.floor((END_2025 - created) / DAY_MS) - 1;
    const modified =
      rng.chance(0.45) && daysLeft >= 1
        ? created + rng.int(1, Math.min(400, daysLeft)) * DAY_MS + rng.int(0, 3600) * 1000
        : null;
    return {
      created_by: rng.chance(0.1) ? null : rng.int(1, 12),
      created_date: timestampText(created),
      modified_by: modified === null ? null : rng.int(1, 12),
      modified_date: modified === null ? null : timestampText(modified),
    };
  }

  /** A date in 2024–2025 (last contacts). */
  pastDate(): string {
    return dateText(Date.UTC(2024, 0, 2) + this.rng.int(0, 690) * DAY_MS);
  }

  /** A date in the first half of 2026 (planned contacts). */
  futureDate(): string {
    return dateText(Date.UTC(2026, 0, 5) + this.rng.int(0, 170) * DAY_MS);
  }

  entity(kind: EntityKind, name: string, values: DemoRow = {}): number {
    const spec = ENTITIES[kind];
    return this.add(spec.table, { [spec.nameColumn]: name, ...values });
  }

  projectLink(kind: EntityKind, entityId: number, projectId: number, values: DemoRow = {}): number {
    const spec = ENTITIES[kind];
    return this.add(spec.linkTable, {
      project_id: projectId,
      [spec.linkColumn]: entityId,
      ...this.linkDetails(kind),
      ...values,
    });
  }

  personLink(
    personId: number,
    entityType: string,
    entityId: number,
    title: string | null,
    values: DemoRow = {},
  ) {
    return this.add('personnel_entity_relationships', {
      personnel_id: personId,
      entity_type: entityType,
      entity_id: entityId,
      [DEMO_TITLE_KEY]: title,
      ...values,
    });
  }

  project(seed: ProjectSeed, values: DemoRow = {}): number {
    this.claimProjectName(seed.name);
    return this.add('projects', {
      project_name: seed.name,
      location: seed.location,
      project_status: this.rng.pick(PROJECT_STATUSES),
      notes: null,
      ...values,
    });
  }

  person(fullName: string, values: DemoRow): number {
    this.claimPersonName(fullName);
    const rng = this.rng;
    return this.add('personnel', {
      full_name: fullName,
      email: `${emailLocalPart(fullName) || 'contact'}@${values.organization_type === 'Internal' ? 'mpr.example' : 'example.com'}`,
      phone: rng.chance(0.3)
        ? null
        : `+1-${rng.int(201, 989)}-555-01${String(rng.int(0, 99)).padStart(2, '0')}`,
      personnel_type: 'External',
      notes: null,
      ...values,
    });
  }

  /** Details of a project link that only some link tables have. */
  private linkDetails(kind: EntityKind): DemoRow {
    const rng = this.rng;
    const notes = rng.chance(0.25)
      ? rng.pick(['Confirmed at kickoff', 'Per press release', 'From RFP response'])
      : null;
    if (kind === 'offtaker') {
      const volume = rng.chance(0.5) ? `${rng.int(2, 60) * 10} MWe` : `${rng.int(1, 40) * 25} MWth`;
      return {
        agreement_type: rng.pick(AGREEMENT_TYPES),
        contracted_volume: rng.chance(0.2) ? null : volume,
        notes,
      };
    }
    if (kind === 'client') return { relationship_type: rng.pick(CLIENT_PROJECT_TYPES), notes };
    return { notes };
  }
}

function claim(taken: Set<string>, name: string): boolean {
  const key = demoNameKey(name);
  if (taken.has(key)) return false;
  taken.add(key);
  return true;
}

/** Pool names first (shuffled), then '<pool name> <Region> <Suffix>', then the same with a numeral. */
function* companyNameCandidates(
  rng: Random,
  pool: readonly string[],
  suffixes: readonly string[],
): Generator<{ name: string; base: string }> {
  const shuffled = rng.shuffled(pool);
  for (const base of shuffled) yield { name: base, base };
  // k ↦ (base, region, suffix) is a bijection over one round; neighbours differ in all three.
  const perRound = shuffled.length * REGIONS.length * suffixes.length;
  for (let k = 0; ; k++) {
    const b = k % shuffled.length;
    const q = Math.floor(k / shuffled.length);
    const base = at(shuffled, b);
    const region = at(REGIONS, (q + b) % REGIONS.length);
    const suffix = at(suffixes, (Math.floor(q / REGIONS.length) + b) % suffixes.length);
    if (base.includes(suffix) || base.includes(region)) continue;
    const round = Math.floor(k / perRound) + 1;
    const name = `${base} ${region} ${suffix}`;
    yield { name: round === 1 ? name : `${name} ${round}`, base };
  }
}

function* projectCandidates(rng: Random): Generator<ProjectSeed> {
  yield* rng.shuffled(PROJECTS);
  const sites = rng.shuffled(PROJECT_SITES);
  for (let round = 1; ; round++) {
    for (const kind of PROJECT_KINDS) {
      for (const site of sites) {
        const name = `${site.name} ${kind}`;
        yield {
          name: round === 1 ? name : `${name} Phase ${round}`,
          location: `${site.name}, ${site.location}`,
        };
      }
    }
  }
}

/** Distinct person names: every first × last pairing, then with middle initials. */
function* personNameCandidates(rng: Random): Generator<string> {
  const total = FIRST_NAMES.length * LAST_NAMES.length;
  let step = Math.floor(total * 0.618);
  while (gcd(step, total) !== 1) step++;
  const offset = rng.int(0, total - 1);
  const initials = 'ABCDEFGHJKLMNPRSTVW';
  for (let round = 0; ; round++) {
    let middle = '';
    if (round > 0) {
      const r = round - 1;
      middle = `${initials[r % initials.length]}${r >= initials.length ? initials[Math.floor(r / initials.length) % initials.length] : ''}. `;
    }
    for (let i = 0; i < total; i++) {
      const j = (offset + i * step) % total;
      yield `${at(FIRST_NAMES, j % FIRST_NAMES.length)} ${middle}${at(LAST_NAMES, Math.floor(j / FIRST_NAMES.length))}`;
    }
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function take<T>(source: Generator<T>, accept: (candidate: T) => boolean): T {
  for (;;) {
    const next = source.next();
    if (next.done) throw new Error('demo data: a name source ran dry');
    if (accept(next.value)) return next.value;
  }
}

function projectSeed(name: string): ProjectSeed {
  const seed = PROJECTS.find((p) => p.name === name);
  if (!seed) throw new Error(`demo data: no project ${name} in the pool`);
  return seed;
}

/** What the bulk and the defects reuse from the planted cases. */
interface Planted {
  internalStaff: number[];
  deletedVendor: number;
  deletedProjects: number[];
}

const rows = (table: DemoTable, ...ids: number[]): CaseRow[] => ids.map((id) => ({ table, id }));

function plantCases(b: DatasetBuilder): Planted {
  const rng = b.rng;

  // Projects the cases use, and two deleted ones.
  const project = (name: string, status: string) => b.project(projectSeed(name), { project_status: status });
  const darlington = project('Darlington New Nuclear Project', 'Under Construction');
  const kemmerer = project('Kemmerer Unit 1', 'Under Construction');
  const clinch = project('Clinch River SMR', 'Licensing');
  const longMott = project('Long Mott Generating Station', 'Licensing');
  const palisades = project('Palisades Restart', 'Under Construction');
  const vogtle = project('Vogtle Units 3 and 4', 'Operating');
  const hermes = project('Hermes Demonstration Reactor', 'Under Construction');
  const hermes2 = project('Hermes 2', 'Licensing');
  const bruceC = project('Bruce C', 'Planning');
  const lubiatowo = project('Lubiatowo-Kopalino Nuclear Power Plant', 'Licensing');
  const dukovany = project('Dukovany II', 'Planning');
  const hinkley = project('Hinkley Point C', 'Under Construction');
  const sizewell = project('Sizewell C', 'Under Construction');
  const doicesti = project('Doicești SMR', 'Planning');
  const entra1 = project('ENTRA1 Tennessee Valley SMR Fleet', 'Planning');
  const northAnna = project('North Anna SMR Study', 'Planning');
  const deletedProjects = [b.allocate('projects'), b.allocate('projects')];

  // The consultancy's own staff: the clients' points of contact.
  const internal = (name: string, title: string) =>
    b.person(name, {
      role: title,
      personnel_type: 'Internal',
      organization_type: 'Internal',
      organization_id: null,
    });
  const emily = internal('Emily Johnson', 'Account Manager');
  const davidKim = internal('David Kim', 'Principal Engineer');
  const liam = internal('Liam Fitzgerald', 'Licensing Specialist');
  const internalStaff = [emily, davidKim, liam];

  const company = (kind: EntityKind, name: string, values: DemoRow = {}) => {
    b.plantCompanyName(name);
    return b.entity(kind, name, values);
  };
  const crm = (
    strength: string,
    priority: string,
    status: string,
    primary: number,
    secondary: number | null,
  ) => ({
    mpr_primary_poc: primary,
    mpr_secondary_poc: secondary,
    last_contact_date: b.pastDate(),
    last_contact_type: rng.pick(CONTACT_TYPES),
    last_contact_by: primary,
    last_contact_notes: 'Discussed licensing schedule and next procurement milestones',
    next_planned_contact_date: b.futureDate(),
    next_planned_contact_type: rng.pick(CONTACT_TYPES),
    next_planned_contact_assigned_to: secondary ?? primary,
    relationship_strength: strength,
    relationship_notes: `${strength} relationship; executive sponsor engaged`,
    client_priority: priority,
    client_status: status,
  });

  // 1 same-company-several-tables
  const westVendor = company('vendor', 'Westinghouse Electric Company', {
    notes: 'AP1000 and AP300 technology vendor',
  });
  const westConstructor = company('constructor', 'Westinghouse Electric Company', {
    notes: 'Consortium lead for AP1000 construction',
  });
  const opgOwner = company('owner', 'Ontario Power Generation', {
    company_type: 'Utility',
    target_customers: 'Grid',
    engagement_level: 'High',
    notes: 'Owner of the Darlington New Nuclear Project (BWRX-300)',
    relationship_strength: 'Strong',
    client_priority: 'High',
    client_status: 'Active',
  });
  const opgOperator = company('operator', 'Ontario Power Generation', {
    notes: 'Licensed operator of Darlington and Pickering',
  });
  const opgClient = company('client', 'Ontario Power Generation', {
    client_type: 'Crown Corporation',
    notes: 'Owner’s engineer support for DNNP',
    ...crm('Strong', 'High', 'Active', emily, davidKim),
  });
  const case1Links = [
    ...rows('project_vendor_relationships', b.projectLink('vendor', westVendor, vogtle)),
    ...rows('project_constructor_relationships', b.projectLink('constructor', westConstructor, vogtle)),
    ...rows('project_owner_relationships', b.projectLink('owner', opgOwner, darlington)),
    ...rows('project_operator_relationships', b.projectLink('operator', opgOperator, darlington)),
    ...rows('client_project_relationships', b.projectLink('client', opgClient, darlington)),
  ];
  b.addCase(
    'same-company-several-tables',
    "One company in several legacy tables under the same name, with differing notes/types: 'Westinghouse " +
      "Electric Company' (vendor, constructor) and 'Ontario Power Generation' (developer, operator, client); " +
      'each pair/triple maps to one company with several roles and field conflicts.',
    [
      ...rows('technology_vendors', westVendor),
      ...rows('constructors', westConstructor),
      ...rows('owners_developers', opgOwner),
      ...rows('operators', opgOperator),
      ...rows('clients', opgClient),
      ...case1Links,
    ],
  );

  // 2 stray-whitespace
  const bruceOperator = company('operator', '  Bruce Power ', { notes: 'Bruce A and B operator' });
  const bruceClient = company('client', 'Bruce Power', {
    client_type: 'Utility',
    notes: 'Major Component Replacement support',
    ...crm('Medium', 'Medium', 'Active', emily, davidKim),
  });
  b.addCase(
    'stray-whitespace',
    "'  Bruce Power ' (operator, stray spaces) and 'Bruce Power' (client): the trimmed names are equal, so one company.",
    [
      ...rows('operators', bruceOperator),
      ...rows('clients', bruceClient),
      ...rows('project_operator_relationships', b.projectLink('operator', bruceOperator, bruceC)),
      ...rows('client_project_relationships', b.projectLink('client', bruceClient, bruceC)),
    ],
  );

  // 3 case-variants
  const xVendor = company('vendor', 'X-energy', { notes: 'Xe-100 high-temperature gas-cooled reactor' });
  const xClient = company('client', 'X-Energy', {
    client_type: 'Vendor',
    notes: 'TRISO-X fuel facility licensing',
    relationship_strength: 'Medium',
    client_priority: 'Medium',
    client_status: 'Prospect',
  });
  b.addCase(
    'case-variants',
    "'X-energy' (vendor) and 'X-Energy' (client) differ only in case: exact matching makes two companies.",
    [
      ...rows('technology_vendors', xVendor),
      ...rows('clients', xClient),
      ...rows('project_vendor_relationships', b.projectLink('vendor', xVendor, longMott)),
      ...rows('client_project_relationships', b.projectLink('client', xClient, longMott)),
    ],
  );

  // 4 inner-whitespace-variants
  const holtecVendor = company('vendor', 'Holtec International', {
    notes: 'SMR-300 vendor and Palisades owner',
  });
  const holtecConstructor = company('constructor', 'Holtec  International', {
    notes: 'Self-performs SMR-300 construction',
  });
  b.addCase(
    'inner-whitespace-variants',
    "'Holtec International' (vendor) and 'Holtec  International' (constructor, two inner spaces) differ only in " +
      'inner spacing: exact matching makes two companies.',
    [
      ...rows('technology_vendors', holtecVendor),
      ...rows('constructors', holtecConstructor),
      ...rows('project_vendor_relationships', b.projectLink('vendor', holtecVendor, palisades)),
      ...rows(
        'project_constructor_relationships',
        b.projectLink('constructor', holtecConstructor, palisades),
      ),
    ],
  );

  // 5 same-name-one-table
  const nuscaleA = company('vendor', 'NuScale Power', { notes: 'VOYGR SMR vendor' });
  const nuscaleB = company('vendor', 'NuScale Power', {
    notes: 'Duplicate record from the 2023 conference import',
  });
  const nuscaleConfidential = b.projectLink('vendor', nuscaleB, doicesti, { is_confidential: true });
  b.addCase(
    'same-name-one-table',
    "Two technology_vendors named 'NuScale Power', both with project links; both link Doicești SMR (one " +
      'link confidential), so those two land on one confidential identity.',
    [
      ...rows('technology_vendors', nuscaleA, nuscaleB),
      ...rows(
        'project_vendor_relationships',
        b.projectLink('vendor', nuscaleA, doicesti),
        nuscaleConfidential,
        b.projectLink('vendor', nuscaleB, entra1),
      ),
    ],
  );

  // 6 hostile-names
  const obrien = company('constructor', "O'Brien & Sons Nuclear; Ltd.", {
    notes: 'Civil works subcontractor',
  });
  const atomic = company('client', '"Atomic" Fuel Partners', {
    client_type: 'Investor',
    notes: 'Fuel fabrication investment vehicle',
  });
  const robert = company('owner', "Robert'); DROP TABLE companies;--", {
    company_type: 'Developer',
    notes: 'Entered by a penetration tester in 2024; kept on purpose',
  });
  const edf = company('owner', 'Électricité de France', {
    company_type: 'State Company',
    engagement_level: 'Medium',
  });
  const pej = company('owner', 'Polskie Elektrownie Jądrowe', {
    company_type: 'State Company',
    engagement_level: 'High',
  });
  const cez = company('operator', 'ČEZ Group', { notes: 'Operates Dukovany and Temelín' });
  const toshiba = company('vendor', '東芝エネルギーシステムズ株式会社', {
    notes: 'Toshiba Energy Systems & Solutions',
  });
  const longClient = company('client', LONG_NAME, {
    client_type: 'Government Agency',
    notes: 'Name longer than 300 characters',
  });
  const hostileLinks = [
    ...rows('project_constructor_relationships', b.projectLink('constructor', obrien, darlington)),
    ...rows('client_project_relationships', b.projectLink('client', atomic, kemmerer)),
    ...rows('project_owner_relationships', b.projectLink('owner', robert, palisades)),
    ...rows('project_owner_relationships', b.projectLink('owner', edf, hinkley)),
    ...rows('project_owner_relationships', b.projectLink('owner', pej, lubiatowo)),
    ...rows('project_operator_relationships', b.projectLink('operator', cez, dukovany)),
    ...rows('project_vendor_relationships', b.projectLink('vendor', toshiba, clinch)),
    ...rows('client_project_relationships', b.projectLink('client', longClient, lubiatowo)),
  ];

  // 12 client-crm-fields (planted before the people who link to them)
  const tvaA = company('client', 'Tennessee Valley Authority', {
    client_type: 'Utility',
    notes: 'Clinch River BWRX-300 early site permit',
    ...crm('Strong', 'High', 'Active', davidKim, emily),
  });
  const tvaB = company('client', 'Tennessee Valley Authority', {
    client_type: 'Federal Agency',
    notes: 'Second record opened by the fleet team',
    ...crm('Medium', 'Low', 'Prospect', emily, liam),
  });

  // 13 already-migrated: legacy rows that a dual-write already copied
  const kairos = company('vendor', 'Kairos Power', { notes: 'KP-FHR fluoride salt-cooled reactor' });
  const dominion = company('client', 'Dominion Energy', {
    client_type: 'Utility',
    notes: 'SMR siting at North Anna',
    ...crm('Strong', 'Medium', 'Active', emily, davidKim),
  });
  const terrapower = company('vendor', 'TerraPower', { notes: 'Natrium sodium fast reactor' });
  const gevh = company('vendor', 'GE Vernova Hitachi Nuclear Energy', {
    notes: 'BWRX-300; renamed from GE Hitachi',
  });
  const deletedVendor = b.allocate('technology_vendors');
  const staleVendor = b.allocate('technology_vendors');
  const deletedOwner = b.allocate('owners_developers');
  const deletedClient = b.allocate('clients');
  const deletedOperator = b.allocate('operators');
  const deletedConstructor = b.allocate('constructors');
  const deletedOfftaker = b.allocate('offtakers');

  // People of the cases
  const external = (name: string, title: string | null, kind: EntityKind, organization: number) =>
    b.person(name, {
      role: title,
      organization_type: ENTITIES[kind].entityType,
      organization_id: organization,
    });
  const zoe = external('Zoë Müller', null, 'owner', opgOwner);
  const jose = external('José Peña', 'Licensing Manager', 'constructor', westConstructor);
  const siobhan = external("Siobhán O'Connor", 'VP Business Development', 'vendor', nuscaleA);
  const kenji = external('Kenji Tanaka', 'Chief Technology Officer', 'vendor', toshiba);
  const malgorzata = external('Małgorzata Kowalska', 'Licensing Manager', 'owner', pej);
  const jiri = external('Jiří Dvořák', 'Chief Nuclear Officer', 'operator', cez);
  const camille = external('Camille Lefèvre', 'Director of Regulatory Affairs', 'owner', edf);
  const ingrid = external('Ingrid Lindqvist', 'Programme Director', 'client', longClient);
  const conor = external("Conor O'Brien", 'Managing Director', 'constructor', obrien);
  const sarah = external('Sarah Thompson', 'Chief Nuclear Officer', 'vendor', kairos);
  const aisha = external('Aisha Haddad', null, 'vendor', kairos);
  const michael = external('Michael Chen', 'VP Business Development', 'client', dominion);
  const priya = external('Priya Sharma', 'Project Manager', 'owner', opgOwner);
  const tomas = external('Tomás Núñez', 'Supply Chain Manager', 'vendor', westVendor);
  const deletedPerson = b.allocate('personnel');

  const hostilePeople = [
    b.personLink(kenji, 'Vendor', toshiba, 'Chief Technology Officer'),
    b.personLink(malgorzata, 'Owner', pej, 'Licensing Manager'),
    b.personLink(jiri, 'Operator', cez, 'Chief Nuclear Officer'),
    b.personLink(camille, 'Developer', edf, 'Director of Regulatory Affairs'),
    b.personLink(ingrid, 'Client', longClient, 'Programme Director'),
    b.personLink(conor, 'Constructor', obrien, 'Managing Director'),
    b.personLink(conor, 'Owner', robert, "Director; 'Special' Projects"),
  ];
  b.addCase(
    'hostile-names',
    'Names with an apostrophe, double quotes, semicolons and SQL-looking text, non-Latin and accented ' +
      'letters, and one name longer than 300 characters; each has project and personnel links.',
    [
      ...rows('constructors', obrien),
      ...rows('clients', atomic, longClient),
      ...rows('owners_developers', robert, edf, pej),
      ...rows('operators', cez),
      ...rows('technology_vendors', toshiba),
      ...hostileLinks,
      ...rows('personnel_entity_relationships', ...hostilePeople),
    ],
  );

  // 7 null-titles
  const nullTitles = [
    b.personLink(zoe, 'Owner', opgOwner, null),
    b.personLink(zoe, 'Developer', opgOwner, null),
    b.personLink(zoe, 'Operator', opgOperator, null),
    b.personLink(jose, 'Vendor', westVendor, null),
  ];
  const joseTitled = b.personLink(jose, 'Constructor', westConstructor, 'Licensing Manager');
  const aishaNull = b.personLink(aisha, 'Vendor', kairos, null);
  b.addCase(
    'null-titles',
    'Personnel links without a title. Zoë Müller has three (Owner and Developer on the OPG owners_developers ' +
      'record, Operator on the OPG operators record): one OPG affiliation with a NULL title. José Peña has a ' +
      'NULL-title link to the Westinghouse vendor and a titled one to the Westinghouse constructor: two ' +
      'affiliations. Aisha Haddad’s NULL-title affiliation already exists (already-migrated).',
    [
      ...rows('personnel', zoe, jose),
      ...rows('personnel_entity_relationships', ...nullTitles, joseTitled, aishaNull),
    ],
  );

  // 8 personnel-orphans
  b.addCase(
    'personnel-orphans',
    'Personnel links to deleted entities (a vendor and a client id with no row) and from a deleted person ' +
      '(a personnel id with no row): orphans, counted in coverage but never migrated.',
    rows(
      'personnel_entity_relationships',
      b.personLink(tomas, 'Vendor', deletedVendor, 'Licensing Manager'),
      b.personLink(tomas, 'Client', deletedClient, 'Supply Chain Manager'),
      b.personLink(deletedPerson, 'Vendor', westVendor, 'Project Director'),
      b.personLink(deletedPerson, 'Operator', bruceOperator, 'Plant Manager'),
    ),
  );

  // 9 out-of-scope-links
  b.addCase(
    'out-of-scope-links',
    "Personnel links with entity_type 'Project' and 'Internal': not company links, out of the migration's scope.",
    rows(
      'personnel_entity_relationships',
      b.personLink(priya, 'Project', darlington, 'Project Manager'),
      b.personLink(priya, 'Project', clinch, 'Licensing Lead'),
      b.personLink(liam, 'Internal', 1, 'Licensing Specialist'),
    ),
  );

  // 10 project-orphans: one per link table to a deleted entity, and four to deleted projects
  const [deletedProjectA = 0, deletedProjectB = 0] = deletedProjects;
  b.addCase(
    'project-orphans',
    'Project links to deleted entities (one per link table) and to deleted projects: orphans, counted in ' +
      'coverage but never migrated.',
    [
      ...rows('project_vendor_relationships', b.projectLink('vendor', deletedVendor, vogtle)),
      ...rows('project_owner_relationships', b.projectLink('owner', deletedOwner, darlington)),
      ...rows('client_project_relationships', b.projectLink('client', deletedClient, clinch)),
      ...rows('project_operator_relationships', b.projectLink('operator', deletedOperator, bruceC)),
      ...rows('project_constructor_relationships', b.projectLink('constructor', deletedConstructor, vogtle)),
      ...rows('project_offtaker_relationships', b.projectLink('offtaker', deletedOfftaker, kemmerer)),
      ...rows('project_vendor_relationships', b.projectLink('vendor', toshiba, deletedProjectA)),
      ...rows('project_owner_relationships', b.projectLink('owner', pej, deletedProjectB)),
      ...rows('project_operator_relationships', b.projectLink('operator', cez, deletedProjectA)),
      ...rows('project_constructor_relationships', b.projectLink('constructor', obrien, deletedProjectB)),
    ],
  );

  // 11 confidential-links
  const sizewellOpen = b.projectLink('owner', edf, sizewell, { is_confidential: false });
  const sizewellConfidential = b.projectLink('owner', edf, sizewell, { is_confidential: true });
  const tvaConfidential = b.projectLink('client', tvaA, clinch, { is_confidential: true });
  b.addCase(
    'confidential-links',
    'Confidential links. EDF → Sizewell C twice (one confidential, one not): one confidential identity. ' +
      'TVA (first client record) → Clinch River only confidentially. NuScale → Doicești (see ' +
      'same-name-one-table). Siobhán O’Connor’s personnel link to the first NuScale record is confidential; ' +
      'her link to the second one, same title, is not (one affiliation).',
    [
      ...rows('project_owner_relationships', sizewellOpen, sizewellConfidential),
      ...rows('client_project_relationships', tvaConfidential),
      ...rows('project_vendor_relationships', nuscaleConfidential),
      ...rows(
        'personnel_entity_relationships',
        b.personLink(siobhan, 'Vendor', nuscaleA, 'VP Business Development', { is_confidential: true }),
        b.personLink(siobhan, 'Vendor', nuscaleB, 'VP Business Development'),
        b.personLink(michael, 'Client', tvaA, 'VP Business Development', { is_confidential: true }),
      ),
    ],
  );

  b.addCase(
    'client-crm-fields',
    'Clients with every CRM field filled (OPG, Bruce Power, Dominion Energy, TVA); TVA has two client ' +
      'records with different CRM values: the lower client_id (the first) gives the client profile.',
    [
      ...rows('clients', opgClient, bruceClient, dominion, tvaA, tvaB),
      ...rows('client_project_relationships', b.projectLink('client', tvaB, entra1)),
    ],
  );

  // 13–16: the unified rows a dual-write left behind. Role ids deliberately not in vendor-first order.
  const clientRole = b.add('company_roles', {
    role_id: 1,
    role_code: 'client',
    role_label: 'Client',
    description: 'Organisations the consultancy works for',
    is_active: true,
  });
  const vendorRole = b.add('company_roles', {
    role_id: 2,
    role_code: 'vendor',
    role_label: 'Technology Vendor',
    description: 'Reactor and technology vendors',
    is_active: true,
  });
  const unifiedCompany = (name: string, values: DemoRow) => {
    b.plantCompanyName(name);
    return b.add('companies', { company_name: name, is_mpr_client: false, is_internal: false, ...values });
  };
  const kairosCompany = unifiedCompany('Kairos Power', {
    company_type: 'Technology Vendor',
    sector: 'Nuclear Technology',
    website: 'https://kairospower.com',
    headquarters_country: 'United States',
    headquarters_region: 'California',
    notes: 'KP-FHR fluoride salt-cooled reactor',
  });
  const dominionCompany = unifiedCompany('Dominion Energy', {
    company_type: 'Utility',
    sector: 'Utilities',
    website: 'https://www.dominionenergy.com',
    headquarters_country: 'United States',
    headquarters_region: 'Virginia',
    is_mpr_client: true,
  });
  const terrapowerCompany = unifiedCompany('TerraPower', {
    company_type: 'Technology Vendor',
    sector: 'Nuclear Technology',
    headquarters_country: 'United States',
    headquarters_region: 'Washington',
  });
  const gehCompany = unifiedCompany('GE Hitachi Nuclear Energy', {
    company_type: 'Technology Vendor',
    sector: 'Nuclear Technology',
    headquarters_country: 'United States',
    headquarters_region: 'North Carolina',
  });
  const usncCompany = unifiedCompany('Ultra Safe Nuclear Corporation', {
    company_type: 'Technology Vendor',
    sector: 'Nuclear Technology',
    headquarters_country: 'United States',
    headquarters_region: 'Washington',
    notes: 'Vendor record deleted from the legacy CRM after the assets were sold',
  });
  const assignment = (
    companyId: number,
    roleId: number,
    contextType: string,
    contextId: number,
    primary: boolean,
  ) =>
    b.add('company_role_assignments', {
      company_id: companyId,
      role_id: roleId,
      context_type: contextType,
      context_id: contextId,
      is_primary: primary,
      is_confidential: false,
    });
  const kairosRecord = assignment(kairosCompany, vendorRole, 'VendorRecord', kairos, true);
  const dominionRecord = assignment(dominionCompany, clientRole, 'ClientRecord', dominion, true);
  const kairosHermes = assignment(kairosCompany, vendorRole, 'Project', hermes, false);
  const dominionNorthAnna = assignment(dominionCompany, clientRole, 'Project', northAnna, false);
  const gehRecord = assignment(gehCompany, vendorRole, 'VendorRecord', gevh, true);
  const usncRecord = assignment(usncCompany, vendorRole, 'VendorRecord', staleVendor, true);
  const dominionRow = b.tables.get('clients')?.find((r) => r.client_id === dominion) ?? {};
  const profile = b.add('client_profiles', {
    company_id: dominionCompany,
    relationship_strength: dominionRow.relationship_strength ?? null,
    relationship_notes: dominionRow.relationship_notes ?? null,
    client_priority: dominionRow.client_priority ?? null,
    client_status: dominionRow.client_status ?? null,
    last_contact_date: dominionRow.last_contact_date ?? null,
    last_contact_type: dominionRow.last_contact_type ?? null,
    last_contact_by: dominionRow.last_contact_by ?? null,
    next_planned_contact_date: dominionRow.next_planned_contact_date ?? null,
    next_planned_contact_type: dominionRow.next_planned_contact_type ?? null,
    next_planned_contact_assigned_to: dominionRow.next_planned_contact_assigned_to ?? null,
  });
  const affiliation = (person: number, companyId: number, title: string | null, primary: boolean) =>
    b.add('person_company_affiliations', {
      person_id: person,
      company_id: companyId,
      title,
      is_primary: primary,
    });
  const affiliations = [
    affiliation(sarah, kairosCompany, 'Chief Nuclear Officer', true),
    affiliation(aisha, kairosCompany, null, true),
    affiliation(michael, dominionCompany, 'VP Business Development', true),
  ];
  b.addCase(
    'already-migrated',
    "Rows a dual-write already made: company_roles with only 'client' (role_id 1) and 'vendor' (role_id 2); " +
      'Kairos Power and Dominion Energy with their record assignments, one Project assignment each (Kairos → ' +
      'Hermes; its Hermes 2 link is not yet migrated), Dominion’s client profile, and three affiliations ' +
      '(one with a NULL title). The backfill must add nothing for what is already there.',
    [
      ...rows('company_roles', clientRole, vendorRole),
      ...rows('companies', kairosCompany, dominionCompany),
      ...rows('company_role_assignments', kairosRecord, dominionRecord, kairosHermes, dominionNorthAnna),
      ...rows('client_profiles', profile),
      ...rows('person_company_affiliations', ...affiliations),
      ...rows('technology_vendors', kairos),
      ...rows('clients', dominion),
      ...rows(
        'project_vendor_relationships',
        b.projectLink('vendor', kairos, hermes),
        b.projectLink('vendor', kairos, hermes2),
      ),
      ...rows('client_project_relationships', b.projectLink('client', dominion, northAnna)),
      ...rows(
        'personnel_entity_relationships',
        b.personLink(sarah, 'Vendor', kairos, 'Chief Nuclear Officer'),
        aishaNull,
        b.personLink(michael, 'Client', dominion, 'VP Business Development'),
      ),
    ],
  );
  b.addCase(
    'reuse-by-name',
    "Company 'TerraPower' exists without any assignment; the legacy vendor 'TerraPower' must map to it by name.",
    [
      ...rows('companies', terrapowerCompany),
      ...rows('technology_vendors', terrapower),
      ...rows('project_vendor_relationships', b.projectLink('vendor', terrapower, kemmerer)),
    ],
  );
  b.addCase(
    'drift',
    "A record assignment links vendor 'GE Vernova Hitachi Nuclear Energy' (renamed after migration) to company " +
      "'GE Hitachi Nuclear Energy': the assignment is sticky, the name differs (a field conflict, not a new company).",
    [
      ...rows('companies', gehCompany),
      ...rows('company_role_assignments', gehRecord),
      ...rows('technology_vendors', gevh),
      ...rows(
        'project_vendor_relationships',
        b.projectLink('vendor', gevh, clinch),
        b.projectLink('vendor', gevh, darlington),
      ),
    ],
  );
  b.addCase(
    'stale-assignment',
    "Company 'Ultra Safe Nuclear Corporation' has a VendorRecord assignment whose technology_vendors row was deleted.",
    [...rows('companies', usncCompany), ...rows('company_role_assignments', usncRecord)],
  );

  return { internalStaff, deletedVendor, deletedProjects };
}

interface Bulk {
  projects: number[];
  entities: Record<EntityKind, number[]>;
}

const NAME_POOLS: Record<EntityKind, readonly string[]> = {
  vendor: VENDOR_NAMES,
  owner: UTILITY_NAMES,
  client: [...CLIENT_NAMES, ...UTILITY_NAMES, ...VENDOR_NAMES],
  operator: UTILITY_NAMES,
  constructor: CONSTRUCTOR_NAMES,
  offtaker: OFFTAKERS.map((o) => o.name),
};

function generateBulk(b: DatasetBuilder, scale: number, planted: Planted): Bulk {
  const rng = b.rng;

  const projects: number[] = [];
  const projectSource = projectCandidates(rng);
  for (let i = 0; i < BASE_PROJECTS * scale; i++) {
    const seed = take(projectSource, (p) => b.claimProjectName(p.name));
    projects.push(
      b.project(seed, {
        notes: rng.chance(0.3) ? `${rng.pick(REACTOR_TECHNOLOGIES)} deployment` : null,
      }),
    );
  }

  const personSource = personNameCandidates(rng);
  const nextPersonName = () => take(personSource, (name) => b.claimPersonName(name));
  const staff = [...planted.internalStaff];
  for (let i = 0; i < BASE_INTERNAL_STAFF * scale; i++) {
    staff.push(
      b.person(nextPersonName(), {
        role: rng.pick(INTERNAL_TITLES),
        personnel_type: 'Internal',
        organization_type: 'Internal',
        organization_id: null,
      }),
    );
  }

  const entities = {} as Record<EntityKind, number[]>;
  for (const kind of ENTITY_KINDS) {
    const source = companyNameCandidates(rng, NAME_POOLS[kind], NAME_SUFFIXES[kind]);
    const ids: number[] = [];
    for (let i = 0; i < BASE_COMPANIES[kind] * scale; i++) {
      const { name, base } = take(source, (c) => b.claimCompanyName(c.name));
      ids.push(b.entity(kind, name, companyFields(b, kind, base, staff)));
    }
    entities[kind] = ids;
  }

  // External people: one organisation each, sometimes a second or third link elsewhere.
  const everyEntity = ENTITY_KINDS.flatMap((kind) => entities[kind].map((id) => ({ kind, id })));
  for (let i = 0; i < BASE_EXTERNAL_PEOPLE * scale; i++) {
    const home = rng.pick(everyEntity);
    const title = rng.pick(TITLES);
    const person = b.person(nextPersonName(), {
      role: title,
      organization_type: ENTITIES[home.kind].entityType,
      organization_id: home.id,
      notes: rng.chance(0.05) ? 'Met at the ANS annual meeting' : null,
    });
    const links = [home];
    if (rng.chance(0.55)) links.push(rng.pick(everyEntity));
    if (rng.chance(0.12)) links.push(rng.pick(everyEntity));
    const seen = new Set<string>();
    links.forEach((link, n) => {
      const key = `${link.kind}:${link.id}`;
      if (seen.has(key)) return;
      seen.add(key);
      const entityType =
        link.kind === 'owner' && rng.chance(0.3) ? 'Developer' : ENTITIES[link.kind].entityType;
      const linkTitle = rng.chance(0.04) ? null : n === 0 || rng.chance(0.6) ? title : rng.pick(TITLES);
      b.personLink(person, entityType, link.id, linkTitle, { is_confidential: rng.chance(0.03) });
    });
  }

  for (const kind of ENTITY_KINDS) {
    const pairs = new Set<string>();
    const candidates = entities[kind];
    for (let i = 0; i < BASE_PROJECT_LINKS[kind] * scale; i++) {
      let entity: number;
      let projectId: number;
      do {
        entity = rng.pick(candidates);
        projectId = rng.pick(projects);
      } while (pairs.has(`${entity}:${projectId}`));
      pairs.add(`${entity}:${projectId}`);
      b.projectLink(kind, entity, projectId, { is_confidential: rng.chance(0.05) });
    }
  }
  return { projects, entities };
}

function companyFields(b: DatasetBuilder, kind: EntityKind, base: string, staff: readonly number[]): DemoRow {
  const rng = b.rng;
  switch (kind) {
    case 'vendor':
      return { notes: rng.chance(0.6) ? `Developer of a ${rng.pick(REACTOR_TECHNOLOGIES)} design` : null };
    case 'owner': {
      const engaged = rng.chance(0.6);
      return {
        company_type: rng.pick(OWNER_TYPES),
        target_customers: rng.chance(0.7) ? rng.pick(TARGET_CUSTOMERS) : null,
        engagement_level: rng.pick(ENGAGEMENT_LEVELS),
        notes: rng.chance(0.4) ? 'Evaluating new nuclear for its 2035 resource plan' : null,
        last_contact_date: engaged ? b.pastDate() : null,
        last_contact_type: engaged ? rng.pick(CONTACT_TYPES) : null,
        relationship_strength: engaged ? rng.pick(STRENGTHS) : null,
        relationship_notes: engaged && rng.chance(0.5) ? 'Regular contact through the owners group' : null,
        client_priority: engaged ? rng.pick(PRIORITIES) : null,
        client_status: engaged ? rng.pick(STATUSES) : null,
      };
    }
    case 'client': {
      const contacted = rng.chance(0.8);
      const planned = rng.chance(0.5);
      const secondary = rng.chance(0.5) ? rng.pick(staff) : null;
      return {
        client_type: rng.pick(CLIENT_TYPES),
        notes: rng.chance(0.4) ? 'Master services agreement in place' : null,
        mpr_primary_poc: rng.pick(staff),
        mpr_secondary_poc: secondary,
        last_contact_date: contacted ? b.pastDate() : null,
        last_contact_type: contacted ? rng.pick(CONTACT_TYPES) : null,
        last_contact_by: contacted ? rng.pick(staff) : null,
        last_contact_notes: contacted && rng.chance(0.5) ? 'Followed up on proposal' : null,
        next_planned_contact_date: planned ? b.futureDate() : null,
        next_planned_contact_type: planned ? rng.pick(CONTACT_TYPES) : null,
        next_planned_contact_assigned_to: planned ? rng.pick(staff) : null,
        relationship_strength: rng.pick(STRENGTHS),
        relationship_notes: rng.chance(0.4) ? 'Long-standing relationship with the licensing team' : null,
        client_priority: rng.pick(PRIORITIES),
        client_status: rng.pick(STATUSES),
      };
    }
    case 'operator':
      return { notes: rng.chance(0.5) ? 'Operating fleet under NRC oversight' : null };
    case 'constructor':
      return { notes: rng.chance(0.5) ? 'Pre-qualified for nuclear safety-related work' : null };
    case 'offtaker':
      return {
        sector: OFFTAKERS.find((o) => o.name === base)?.sector ?? 'Utilities',
        notes: rng.chance(0.4) ? 'Seeking firm clean power for 24/7 load' : null,
      };
  }
}

function plantDefects(b: DatasetBuilder, planted: Planted, bulk: Bulk): void {
  const rng = b.rng;
  const blank = b.entity('operator', '   ', { notes: 'Imported from a spreadsheet row without a name' });
  b.addCase(
    'blank-name',
    "An operators row whose company_name is '   ': a critical defect.",
    rows('operators', blank),
  );

  const linkTables = Object.values(ENTITIES).map((e) => e.linkTable);
  const total = linkTables.reduce((sum, table) => sum + b.count(table), 0);
  const extra = Math.ceil(total * 0.1);
  const vendors = bulk.entities.vendor;
  const added: number[] = [];
  for (let i = 0; i < extra; i++) {
    added.push(
      i % 2 === 0
        ? b.projectLink('vendor', planted.deletedVendor, rng.pick(bulk.projects))
        : b.projectLink('vendor', rng.pick(vendors), rng.pick(planted.deletedProjects)),
    );
  }
  b.addCase(
    'coverage-sinking-orphans',
    `${extra} project_vendor_relationships rows (10% of the project links) to a deleted vendor or a deleted ` +
      'project: project-relationship coverage falls below 95%.',
    rows('project_vendor_relationships', ...added),
  );
}

/** The demo dataset: the same options always give deep-equal output. */
export function generateDemoData(options: DemoOptions = {}): DemoDataset {
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  const scale = options.scale ?? 1;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`demo seed must be an integer (got ${seed})`);
  if (!Number.isSafeInteger(scale) || scale < 1) {
    throw new RangeError(`demo scale must be a positive integer (got ${scale})`);
  }
  const builder = new DatasetBuilder(new Random(seed));
  const planted = plantCases(builder);
  const bulk = generateBulk(builder, scale, planted);
  if (options.defects) plantDefects(builder, planted, bulk);

  const tables: Record<string, DemoRow[]> = {};
  for (const table of Object.keys(DEMO_PRIMARY_KEYS) as DemoTable[]) {
    const tableRows = builder.tables.get(table);
    if (tableRows && tableRows.length > 0) tables[table] = tableRows;
  }
  return { tables, cases: builder.cases };
}
