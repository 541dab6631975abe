import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_COLUMNS,
  DEMO_PRIMARY_KEYS,
  DEMO_TITLE_KEY,
  type DemoDataset,
  type DemoRow,
  type DemoTable,
  demoNameKey,
  generateDemoData,
} from '../../../lib/core/demo/generate.ts';
import {
  DEMO_LOAD_BATCH_ROWS,
  DemoDataRefusedError,
  type LoadProgress,
  loadDemoData,
} from '../../../lib/core/demo/load.ts';
import { type ApplySchemaOptions, applySchemas, countRows } from '../../../lib/core/schema/apply.ts';
import { PgliteSqlClient } from '../../../lib/core/sql/pglite-client.ts';
import type { SqlClient, SqlSession } from '../../../lib/core/sql/types.ts';
import {
  openServerDatabase,
  serverUrl,
  type TestDatabase,
  uniqueSchemaName,
} from '../../support/databases.ts';

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

/** Names that are the same company (or look like it) on purpose, by a planted case. */
const PLANTED_DUPLICATE_NAMES = [
  'westinghouse electric company',
  'ontario power generation',
  'bruce power',
  'x-energy',
  'holtec international',
  'nuscale power',
  'tennessee valley authority',
  'kairos power',
  'dominion energy',
  'terrapower',
].sort();

/** Legacy company tables: their name column, personnel entity types, project link table and column. */
const COMPANY_TABLES = [
  {
    table: 'technology_vendors',
    name: 'vendor_name',
    types: ['Vendor'],
    link: 'project_vendor_relationships',
    column: 'vendor_id',
  },
  {
    table: 'owners_developers',
    name: 'company_name',
    types: ['Owner', 'Developer'],
    link: 'project_owner_relationships',
    column: 'owner_id',
  },
  {
    table: 'clients',
    name: 'client_name',
    types: ['Client'],
    link: 'client_project_relationships',
    column: 'client_id',
  },
  {
    table: 'operators',
    name: 'company_name',
    types: ['Operator'],
    link: 'project_operator_relationships',
    column: 'operator_id',
  },
  {
    table: 'constructors',
    name: 'company_name',
    types: ['Constructor'],
    link: 'project_constructor_relationships',
    column: 'constructor_id',
  },
  {
    table: 'offtakers',
    name: 'organization_name',
    types: ['Offtaker'],
    link: 'project_offtaker_relationships',
    column: 'offtaker_id',
  },
] as const;

function rowsOf(dataset: DemoDataset, table: string): DemoRow[] {
  return dataset.tables[table] ?? [];
}

function idsOf(dataset: DemoDataset, table: DemoTable): Set<unknown> {
  return new Set(rowsOf(dataset, table).map((r) => r[DEMO_PRIMARY_KEYS[table]]));
}

function projectLinkOrphans(dataset: DemoDataset): { orphans: number; total: number } {
  const projects = idsOf(dataset, 'projects');
  let orphans = 0;
  let total = 0;
  for (const spec of COMPANY_TABLES) {
    const entities = idsOf(dataset, spec.table);
    for (const row of rowsOf(dataset, spec.link)) {
      total++;
      if (!projects.has(row.project_id) || !entities.has(row[spec.column])) orphans++;
    }
  }
  return { orphans, total };
}

function personnelLinkOrphans(dataset: DemoDataset): { orphans: number; total: number } {
  const people = idsOf(dataset, 'personnel');
  const entitiesByType = new Map<string, Set<unknown>>();
  for (const spec of COMPANY_TABLES) {
    for (const type of spec.types) entitiesByType.set(type, idsOf(dataset, spec.table));
  }
  let orphans = 0;
  let total = 0;
  for (const row of rowsOf(dataset, 'personnel_entity_relationships')) {
    const entities = entitiesByType.get(String(row.entity_type));
    if (!entities) continue; // out of scope
    total++;
    if (!people.has(row.personnel_id) || !entities.has(row.entity_id)) orphans++;
  }
  return { orphans, total };
}

function duplicateNames(dataset: DemoDataset): string[] {
  const counts = new Map<string, number>();
  const names = [
    ...COMPANY_TABLES.flatMap((spec) => rowsOf(dataset, spec.table).map((r) => String(r[spec.name]))),
    ...rowsOf(dataset, 'companies').map((r) => String(r.company_name)),
  ];
  for (const name of names) counts.set(demoNameKey(name), (counts.get(demoNameKey(name)) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([name]) => name);
}

function tableSizes(dataset: DemoDataset): Record<string, number> {
  return Object.fromEntries(Object.entries(dataset.tables).map(([table, rows]) => [table, rows.length]));
}

const ALL_TABLES = Object.keys(DEMO_PRIMARY_KEYS) as DemoTable[];

const ROLLBACK = new Error('rollback');

/** Runs `work` in a transaction that is rolled back, and returns what it returned. */
async function rolledBack<T>(sql: SqlClient, work: (tx: SqlSession) => Promise<T>): Promise<T> {
  let result: T | undefined;
  await sql
    .transaction(async (tx) => {
      result = await work(tx);
      throw ROLLBACK;
    })
    .catch((error: unknown) => {
      if (error !== ROLLBACK) throw error;
    });
  return result as T;
}

/** The row counts countRows must report after loading `dataset` into empty tables. */
function expectedCounts(dataset: DemoDataset): { table: string; rows: number }[] {
  return ALL_TABLES.map((table) => ({ table, rows: rowsOf(dataset, table).length }));
}

/** Every row of every table, read back and renamed to the dataset's keys. */
async function readBack(sql: SqlSession, titleColumn: string): Promise<Record<string, DemoRow[]>> {
  const tables: Record<string, DemoRow[]> = {};
  for (const table of ALL_TABLES) {
    const { rows } = await sql.query<DemoRow>(`SELECT * FROM ${table} ORDER BY ${DEMO_PRIMARY_KEYS[table]}`);
    if (rows.length === 0) continue;
    tables[table] = rows.map((row) => {
      if (table !== 'personnel_entity_relationships' || titleColumn === DEMO_TITLE_KEY) return row;
      const { [titleColumn]: title = null, ...rest } = row;
      return { ...rest, [DEMO_TITLE_KEY]: title };
    });
  }
  return tables;
}

describe('generateDemoData', () => {
  let demo: DemoDataset;
  let withDefects: DemoDataset;

  beforeAll(() => {
    demo = generateDemoData();
    withDefects = generateDemoData({ defects: true });
  });

  it('returns the same data for the same options, and other data for another seed', () => {
    // Act
    const again = generateDemoData();
    const otherSeed = generateDemoData({ seed: 7 });

    // Assess
    expect(again).toEqual(demo);
    expect(generateDemoData({ scale: 2, defects: true })).toEqual(
      generateDemoData({ scale: 2, defects: true }),
    );
    expect(otherSeed).not.toEqual(demo);
    expect(otherSeed.cases.map((c) => c.id)).toEqual(demo.cases.map((c) => c.id));
  });

  it('has roughly the base sizes at scale 1', () => {
    // Act
    const sizes = tableSizes(demo);

    // Assess
    expect(sizes.technology_vendors).toBeGreaterThanOrEqual(60);
    expect(sizes.owners_developers).toBeGreaterThanOrEqual(40);
    expect(sizes.clients).toBeGreaterThanOrEqual(30);
    expect(sizes.operators).toBeGreaterThanOrEqual(25);
    expect(sizes.constructors).toBeGreaterThanOrEqual(20);
    expect(sizes.offtakers).toBeGreaterThanOrEqual(25);
    expect(sizes.personnel).toBeGreaterThanOrEqual(300);
    expect(sizes.projects).toBeGreaterThanOrEqual(80);
    expect(sizes.personnel_entity_relationships).toBeGreaterThan(400);
    expect(sizes.personnel_entity_relationships).toBeLessThan(520);
    const projectLinks = COMPANY_TABLES.reduce((sum, spec) => sum + (sizes[spec.link] ?? 0), 0);
    expect(projectLinks).toBeGreaterThan(650);
    expect(projectLinks).toBeLessThan(800);
  });

  it('multiplies the generated rows by the scale and plants the cases once', () => {
    // Prepare
    const one = tableSizes(demo);
    const two = tableSizes(generateDemoData({ scale: 2 }));

    // Act
    const three = tableSizes(generateDemoData({ scale: 3 }));

    // Assess
    for (const table of Object.keys(one)) {
      const planted = 2 * (one[table] ?? 0) - (two[table] ?? 0);
      const generated = (one[table] ?? 0) - planted;
      const generatedAtThree = (three[table] ?? 0) - planted;
      if (table === 'personnel_entity_relationships') {
        // Each person has one to three links, at random.
        expect(generatedAtThree / generated).toBeGreaterThan(2.7);
        expect(generatedAtThree / generated).toBeLessThan(3.3);
      } else {
        expect(generatedAtThree, table).toBe(3 * generated);
      }
    }
    expect(three.technology_vendors).toBeGreaterThan(2.5 * (one.technology_vendors ?? 0));
  });

  it('rejects a scale that is not a positive integer', () => {
    // Act / Assess
    expect(() => generateDemoData({ scale: 0 })).toThrow(RangeError);
    expect(() => generateDemoData({ scale: 1.5 })).toThrow(/positive integer/);
  });

  it('gives every row every column of its table, and unique primary keys', () => {
    // Act / Assess
    for (const dataset of [demo, withDefects]) {
      for (const [table, rows] of Object.entries(dataset.tables)) {
        const columns = DEMO_COLUMNS[table as DemoTable];
        expect(columns, table).toBeDefined();
        for (const row of rows) expect(Object.keys(row)).toEqual(columns);
        expect(idsOf(dataset, table as DemoTable).size, table).toBe(rows.length);
        for (const row of rows) expect(row.created_date).toMatch(/^202[345]-\d\d-\d\d \d\d:\d\d:\d\d$/);
      }
    }
  });

  it('lists every special case with rows that exist in the dataset', () => {
    // Act
    const plain = demo.cases.map((c) => c.id);
    const defective = withDefects.cases.map((c) => c.id);

    // Assess
    expect(plain).toEqual(PLANTED_CASES);
    expect(defective).toEqual([...PLANTED_CASES, ...DEFECT_CASES]);
    for (const demoCase of withDefects.cases) {
      expect(demoCase.description.length, demoCase.id).toBeGreaterThan(20);
      expect(demoCase.rows.length, demoCase.id).toBeGreaterThan(0);
      for (const { table, id } of demoCase.rows) {
        expect(idsOf(withDefects, table as DemoTable).has(id), `${demoCase.id}: ${table} ${id}`).toBe(true);
      }
    }
  });

  it('keeps the planted cases at the same ids whatever the scale', () => {
    // Act
    const bigger = generateDemoData({ scale: 4, defects: true });

    // Assess
    const planted = (d: DemoDataset) => d.cases.filter((c) => PLANTED_CASES.includes(c.id));
    expect(planted(bigger)).toEqual(planted(demo));
  });

  it('keeps orphans under 2% of project and company personnel links, and above 5% with defects', () => {
    // Act
    const projects = projectLinkOrphans(demo);
    const people = personnelLinkOrphans(demo);
    const defectiveProjects = projectLinkOrphans(withDefects);

    // Assess
    expect(projects.orphans).toBeGreaterThan(0);
    expect(projects.orphans / projects.total).toBeLessThan(0.02);
    expect(people.orphans).toBeGreaterThan(0);
    expect(people.orphans / people.total).toBeLessThan(0.02);
    expect(defectiveProjects.orphans / defectiveProjects.total).toBeGreaterThanOrEqual(0.05);
  });

  it('has every orphan in an orphan case', () => {
    // Prepare
    const orphanCases = ['personnel-orphans', 'project-orphans', 'coverage-sinking-orphans'];
    const listed = new Set(
      withDefects.cases
        .filter((c) => orphanCases.includes(c.id))
        .flatMap((c) => c.rows.map((r) => `${r.table}:${r.id}`)),
    );

    // Act
    const projectsCount = projectLinkOrphans(withDefects).orphans;
    const peopleCount = personnelLinkOrphans(withDefects).orphans;

    // Assess
    const linkTables = new Set<string>([
      ...COMPANY_TABLES.map((s) => s.link),
      'personnel_entity_relationships',
    ]);
    expect([...listed].filter((key) => linkTables.has(key.split(':')[0] ?? ''))).toHaveLength(
      projectsCount + peopleCount,
    );
  });

  it('has no duplicate company names beyond the planted cases, at any scale', () => {
    // Act
    const atOne = duplicateNames(withDefects);
    const atTwenty = duplicateNames(generateDemoData({ scale: 20, defects: true }));

    // Assess
    expect(atOne.sort()).toEqual(PLANTED_DUPLICATE_NAMES);
    expect(atTwenty.sort()).toEqual(PLANTED_DUPLICATE_NAMES);
  });

  it('plants hostile names, and a blank name only with defects', () => {
    // Prepare
    const names = (d: DemoDataset) =>
      COMPANY_TABLES.flatMap((spec) => rowsOf(d, spec.table).map((r) => String(r[spec.name])));

    // Act
    const plain = names(demo);
    const defective = names(withDefects);

    // Assess
    expect(plain).toEqual(
      expect.arrayContaining([
        "O'Brien & Sons Nuclear; Ltd.",
        '"Atomic" Fuel Partners',
        "Robert'); DROP TABLE companies;--",
        'Électricité de France',
        'ČEZ Group',
        'Polskie Elektrownie Jądrowe',
        '東芝エネルギーシステムズ株式会社',
        '  Bruce Power ',
        'Holtec  International',
      ]),
    );
    expect(plain.some((n) => n.length > 300)).toBe(true);
    expect(plain.filter((n) => n.trim() === '')).toEqual([]);
    expect(defective.filter((n) => n.trim() === '')).toEqual(['   ']);
  });

  it('fills every CRM field of the client-crm-fields clients, two of them TVA', () => {
    // Prepare
    const ids = new Set(
      demo.cases
        .find((c) => c.id === 'client-crm-fields')
        ?.rows.flatMap((r) => (r.table === 'clients' ? [r.id] : [])),
    );

    // Act
    const clients = rowsOf(demo, 'clients').filter((r) => ids.has(Number(r.client_id)));

    // Assess
    expect(clients).toHaveLength(5);
    for (const client of clients) {
      const { modified_by: _by, modified_date: _date, ...fields } = client;
      expect(Object.entries(fields).filter(([, value]) => value === null)).toEqual([]);
    }
    const tva = clients.filter((r) => r.client_name === 'Tennessee Valley Authority');
    expect(tva.map((r) => r.client_priority)).toEqual(['High', 'Low']);
  });

  it('plants the already-migrated rows with role ids not in vendor-first order', () => {
    // Act
    const roles = rowsOf(demo, 'company_roles').map((r) => [r.role_id, r.role_code]);
    const contexts = new Set(rowsOf(demo, 'company_role_assignments').map((r) => r.context_type));

    // Assess
    expect(roles).toEqual([
      [1, 'client'],
      [2, 'vendor'],
    ]);
    expect(contexts).toEqual(new Set(['VendorRecord', 'ClientRecord', 'Project']));
    expect(rowsOf(demo, 'client_profiles')).toHaveLength(1);
  });
});

describe('loadDemoData on PGlite', () => {
  let pglite: PgliteSqlClient;
  let demo: DemoDataset;
  const loadedSchema = uniqueSchemaName('demo');
  let statements: number;
  const progress: LoadProgress[] = [];

  /**
   * A client on the file's one PGlite whose unqualified names live in `schema`. The search path
   * belongs to the connection, so each test takes its client first (tests run one at a time).
   */
  function useSchema(schema: string): Promise<SqlClient> {
    return PgliteSqlClient.wrap(pglite.db, schema);
  }

  /** A fresh schema with both schemas applied. */
  async function freshSchema(options: ApplySchemaOptions = {}): Promise<SqlClient> {
    const client = await useSchema(uniqueSchemaName('demo'));
    await applySchemas(client, options);
    return client;
  }

  beforeAll(async () => {
    pglite = await PgliteSqlClient.open();
    demo = generateDemoData();
    const client = await useSchema(loadedSchema);
    await applySchemas(client);
    const before = client.statementsIssued;
    await loadDemoData(client, demo, (p) => progress.push(p));
    statements = client.statementsIssued - before;
  });

  afterAll(async () => {
    await pglite?.close();
  });

  it('loads every row: the row counts match the dataset', async () => {
    // Prepare
    const loaded = await useSchema(loadedSchema);

    // Act
    const counts = await countRows(loaded);

    // Assess
    expect(counts).toEqual(expectedCounts(demo));
  });

  it('reads back every row exactly as generated, hostile names included', async () => {
    // Prepare
    const loaded = await useSchema(loadedSchema);

    // Act
    const tables = await readBack(loaded, DEMO_TITLE_KEY);

    // Assess
    expect(tables).toEqual(demo.tables);
  });

  it('reports progress up to the total, and uses few statements', () => {
    // Prepare
    const total = Object.values(demo.tables).reduce((sum, rows) => sum + rows.length, 0);

    // Assess
    expect(progress.at(-1)).toMatchObject({ loaded: total, total });
    const loadedSoFar = progress.map((p) => p.loaded);
    expect(loadedSoFar).toEqual([...loadedSoFar].sort((a, b) => a - b));
    expect(statements).toBeLessThanOrEqual(Object.keys(demo.tables).length + 3);
  });

  it('refuses a second load into the same schema and changes nothing', async () => {
    // Prepare
    const loaded = await useSchema(loadedSchema);
    const before = await countRows(loaded);

    // Act
    const attempt = loadDemoData(loaded, generateDemoData({ seed: 99 }));

    // Assess
    await expect(attempt).rejects.toThrow(DemoDataRefusedError);
    await expect(loadDemoData(loaded, demo)).rejects.toThrow(/already holds rows in technology_vendors/);
    expect(await countRows(loaded)).toEqual(before);
  });

  it('refuses when only a unified table has rows', async () => {
    // Prepare
    const client = await freshSchema();
    await client.query("INSERT INTO companies (company_name) VALUES ('Existing Co')");

    // Act
    const attempt = loadDemoData(client, demo);

    // Assess
    await expect(attempt).rejects.toThrow(/companies/);
    expect((await countRows(client)).find((c) => c.table === 'technology_vendors')?.rows).toBe(0);
  });

  it('resets the sequences: rows inserted without an id get the next free one', async () => {
    // Prepare
    const loaded = await useSchema(loadedSchema);
    const maxOf = (table: DemoTable) =>
      Math.max(...rowsOf(demo, table).map((r) => Number(r[DEMO_PRIMARY_KEYS[table]])));

    // Act
    const ids = await rolledBack(loaded, async (tx) => {
      const insert = async (statement: string) => (await tx.query<{ id: number }>(statement)).rows[0]?.id;
      return {
        company: await insert(
          "INSERT INTO companies (company_name) VALUES ('Brand New Nuclear Co') RETURNING company_id AS id",
        ),
        role: await insert(
          "INSERT INTO company_roles (role_code, role_label) VALUES ('operator', 'Operator') RETURNING role_id AS id",
        ),
        assignment: await insert(
          `INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id)
           VALUES (1, 1, 'Project', 999999) RETURNING assignment_id AS id`,
        ),
        vendor: await insert(
          "INSERT INTO technology_vendors (vendor_name) VALUES ('Later Vendor') RETURNING vendor_id AS id",
        ),
        link: await insert(
          `INSERT INTO personnel_entity_relationships (personnel_id, entity_type, entity_id)
           VALUES (1, 'Vendor', 1) RETURNING relationship_id AS id`,
        ),
      };
    });

    // Assess
    expect(ids).toEqual({
      company: maxOf('companies') + 1,
      role: maxOf('company_roles') + 1,
      assignment: maxOf('company_role_assignments') + 1,
      vendor: maxOf('technology_vendors') + 1,
      link: maxOf('personnel_entity_relationships') + 1,
    });
  });

  it('puts the titles in role_at_entity when the database calls the column that', async () => {
    // Prepare
    const client = await freshSchema({ personnelTitleColumn: 'role_at_entity' });

    // Act
    await loadDemoData(client, demo);

    // Assess
    const { rows } = await client.query<{ relationship_id: number; role_at_entity: string | null }>(
      'SELECT relationship_id, role_at_entity FROM personnel_entity_relationships ORDER BY relationship_id',
    );
    const expected = rowsOf(demo, 'personnel_entity_relationships').map((r) => ({
      relationship_id: r.relationship_id,
      role_at_entity: r[DEMO_TITLE_KEY],
    }));
    expect(rows).toEqual(expected);
    expect(rows.filter((r) => r.role_at_entity !== null).length).toBeGreaterThan(400);
    expect(await readBack(client, 'role_at_entity')).toEqual(demo.tables);
  });

  it('loads a larger dataset with defects in batches of at most 2000 rows', async () => {
    // Prepare
    const client = await freshSchema();
    const dataset = generateDemoData({ scale: 5, defects: true });
    const before = client.statementsIssued;

    // Act
    await loadDemoData(client, dataset);

    // Assess
    const batches = Object.values(dataset.tables).reduce(
      (sum, rows) => sum + Math.ceil(rows.length / DEMO_LOAD_BATCH_ROWS),
      0,
    );
    expect(batches).toBeGreaterThan(Object.keys(dataset.tables).length);
    expect(client.statementsIssued - before).toBe(batches + 3);
    expect(await countRows(client)).toEqual(expectedCounts(dataset));
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM operators WHERE trim(company_name) = ''",
    );
    expect(rows).toEqual([{ n: 1 }]);
  });
});

describe.runIf(serverUrl)('loadDemoData on PostgreSQL (DATABASE_URL)', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openServerDatabase();
    await applySchemas(database.client);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('loads every row, reads them back unchanged and refuses a second load', async () => {
    // Prepare
    const demo = generateDemoData({ defects: true });

    // Act
    await loadDemoData(database.client, demo);

    // Assess
    expect(await countRows(database.client)).toEqual(expectedCounts(demo));
    expect(await readBack(database.client, DEMO_TITLE_KEY)).toEqual(demo.tables);
    await expect(loadDemoData(database.client, demo)).rejects.toThrow(DemoDataRefusedError);
    const { rows } = await database.client.query<{ id: number }>(
      "INSERT INTO companies (company_name) VALUES ('Brand New Nuclear Co') RETURNING company_id AS id",
    );
    expect(rows[0]?.id).toBe(Math.max(...rowsOf(demo, 'companies').map((r) => Number(r.company_id))) + 1);
  });
});
