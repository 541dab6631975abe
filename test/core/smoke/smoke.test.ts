import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_STEPS, runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import { type DemoDataset, generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { ROLE_MAPPINGS } from '../../../lib/core/mapping/roles.ts';
import { applySchemas, countRows } from '../../../lib/core/schema/apply.ts';
import { LEGACY_TABLES } from '../../../lib/core/schema/legacy.sql.ts';
import { UNIFIED_TABLES } from '../../../lib/core/schema/unified.sql.ts';
import {
  type SmokeCheck,
  type SmokeReport,
  smokeReportSchema,
} from '../../../lib/core/smoke/report-schema.ts';
import {
  runSmokeChecks,
  SMOKE_HTTP_PATHS,
  type SmokeOptions,
  smokeProbeName,
} from '../../../lib/core/smoke/smoke.ts';
import { PgliteSqlClient } from '../../../lib/core/sql/pglite-client.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';
import { unifiedStateHash } from '../../support/unified-state.ts';

const NOW = new Date('2026-11-25T08:00:00.000Z');
const HTTP_SKIPPED = {
  id: 'http',
  status: 'skip',
  message: 'no application URL is configured: HTTP checks skipped',
};

/** A check without its timing, which no test can predict. */
function withoutTiming(check: SmokeCheck): Omit<SmokeCheck, 'durationMs'> {
  const { durationMs: _durationMs, ...rest } = check;
  return rest;
}

function check(report: SmokeReport, id: string): Omit<SmokeCheck, 'durationMs'> | undefined {
  const found = report.checks.find((c) => c.id === id);
  return found && withoutTiming(found);
}

async function nextVendorId(sql: SqlClient): Promise<number> {
  const { rows } = await sql.query<{ last_value: number; is_called: boolean }>(
    'SELECT last_value, is_called FROM technology_vendors_vendor_id_seq',
  );
  const row = rows[0];
  if (!row) throw new Error('no vendor sequence');
  return row.is_called ? Number(row.last_value) + 1 : Number(row.last_value);
}

/** Everything a write could change: row counts and a hash of every legacy and unified table, and the sequence. */
async function databaseState(sql: SqlClient) {
  const legacy = await sql.query<{ t: string; h: string }>(
    LEGACY_TABLES.map(
      (t) =>
        `SELECT '${t}' AS t, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${t} x`,
    ).join(' UNION ALL '),
  );
  return {
    counts: await countRows(sql),
    legacy: legacy.rows,
    unified: await unifiedStateHash(sql),
    nextVendorId: await nextVendorId(sql),
  };
}

/** Per role: the legacy rows and those with a record assignment, read from the dataset itself. */
function expectedRoleCounts(dataset: DemoDataset, migrated: boolean): Record<string, number> {
  const roles = dataset.tables.company_roles ?? [];
  const assignments = dataset.tables.company_role_assignments ?? [];
  const counts: Record<string, number> = {};
  for (const role of ROLE_MAPPINGS) {
    const records = dataset.tables[role.legacyTable] ?? [];
    const roleId = roles.find((r) => r.role_code === role.code)?.role_id;
    const mapped = records.filter((record) =>
      assignments.some(
        (a) =>
          a.role_id === roleId &&
          a.context_type === role.recordContextType &&
          a.context_id === record[role.idColumn],
      ),
    ).length;
    counts[`${role.code}.legacy`] = records.length;
    counts[`${role.code}.mapped`] = migrated ? records.length : mapped;
  }
  return counts;
}

function withoutCompanies(details: Record<string, number | string> | undefined) {
  return Object.fromEntries(Object.entries(details ?? {}).filter(([key]) => !key.endsWith('.companies')));
}

describe.each(realDatabases)('smoke checks on $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;
  const dataset = generateDemoData();

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  async function loadFresh(migrate: boolean) {
    await sql.query(`TRUNCATE ${[...LEGACY_TABLES, ...UNIFIED_TABLES].join(', ')} RESTART IDENTITY CASCADE`);
    await loadDemoData(sql, dataset);
    if (migrate) for (const step of BACKFILL_STEPS) await runBackfillToEnd(sql, step);
  }

  const options = (extra: Partial<SmokeOptions> = {}): SmokeOptions => ({
    runId: 'run-1',
    stage: 'test',
    dryRun: false,
    now: () => NOW,
    ...extra,
  });

  it('passes on the migrated demo, warning that no dual-write was detected', async () => {
    // Prepare
    await loadFresh(true);
    const vendorId = await nextVendorId(sql);
    const firstProject = Math.min(...(dataset.tables.projects ?? []).map((p) => Number(p.project_id)));
    const companiesPerRole = await sql.query<{ role_code: string; n: number }>(
      `SELECT r.role_code, count(*)::int8 AS n
         FROM (SELECT DISTINCT company_id, role_id FROM company_role_assignments) AS x
         JOIN company_roles r ON r.role_id = x.role_id GROUP BY r.role_code`,
    );
    const network = await sql.query<{ n: number }>(
      `SELECT count(*)::int8 AS n FROM company_role_assignments a JOIN projects p ON p.project_id = a.context_id
        WHERE a.context_type = 'Project'`,
    );
    const companies = await sql.query<{ n: number }>('SELECT count(*)::int8 AS n FROM companies');

    // Act
    const report = await runSmokeChecks(sql, options());

    // Assess
    expect(smokeReportSchema.parse(report)).toEqual(report);
    expect(report).toMatchObject({
      kind: 'smoke',
      schemaVersion: 1,
      runId: 'run-1',
      stage: 'test',
      generatedAt: '2026-11-25T08:00:00.000Z',
      passed: true,
      dryRun: false,
    });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['dual-write-probe', 'warn'],
      ['role-counts', 'pass'],
      ['company-list-query', 'pass'],
      ['network-query', 'pass'],
      ['http', 'skip'],
    ]);
    for (const c of report.checks) expect(c.durationMs).toBeGreaterThanOrEqual(0);
    expect(check(report, 'dual-write-probe')).toEqual({
      id: 'dual-write-probe',
      status: 'warn',
      message:
        'dual-write not detected: the probe vendor made no company or VendorRecord assignment, its project link ' +
        "no 'Project' assignment; rolled back, nothing left behind",
      details: {
        probeName: 'smoke-probe run-1',
        leftoverRows: 0,
        vendorId,
        projectId: firstProject,
        projectSource: 'existing',
        companies: 0,
        recordAssignments: 0,
        projectAssignments: 0,
      },
    });
    const legacyTotal = ROLE_MAPPINGS.reduce(
      (sum, r) => sum + (dataset.tables[r.legacyTable] ?? []).length,
      0,
    );
    expect(check(report, 'role-counts')).toEqual({
      id: 'role-counts',
      status: 'pass',
      message: `every legacy company record (${legacyTotal}) has its record assignment in the unified schema`,
      details: {
        ...expectedRoleCounts(dataset, true),
        ...Object.fromEntries(
          ROLE_MAPPINGS.map((r) => [
            `${r.code}.companies`,
            Number(companiesPerRole.rows.find((x) => x.role_code === r.code)?.n ?? 0),
          ]),
        ),
      },
    });
    expect(check(report, 'company-list-query')?.message).toBe(
      `the company list returned ${Math.min(50, Number(companies.rows[0]?.n))} row(s)`,
    );
    expect(check(report, 'company-list-query')?.details).toEqual({
      rows: Math.min(50, Number(companies.rows[0]?.n)),
      withRoles: Math.min(50, Number(companies.rows[0]?.n)),
    });
    expect(check(report, 'network-query')?.details?.rows).toBe(Math.min(500, Number(network.rows[0]?.n)));
    expect(check(report, 'network-query')?.message).toBe(
      `the network query returned ${Math.min(500, Number(network.rows[0]?.n))} project edge(s)`,
    );
    expect(check(report, 'http')).toEqual(HTTP_SKIPPED);
  });

  it('leaves nothing behind after the probe (only the vendor sequence moves on)', async () => {
    // Prepare
    await loadFresh(true);
    const before = await databaseState(sql);

    // Act
    const report = await runSmokeChecks(sql, options({ runId: 'run-2' }));

    // Assess
    const after = await databaseState(sql);
    expect(check(report, 'dual-write-probe')?.details?.leftoverRows).toBe(0);
    expect({ ...after, nextVendorId: 0 }).toEqual({ ...before, nextVendorId: 0 });
    expect(after.nextVendorId).toBe(before.nextVendorId + 1);
    const named = await sql.query<{ n: number }>(
      `SELECT ((SELECT count(*) FROM technology_vendors WHERE vendor_name LIKE 'smoke-probe%')
             + (SELECT count(*) FROM companies WHERE company_name LIKE 'smoke-probe%')
             + (SELECT count(*) FROM projects WHERE project_name LIKE 'smoke-probe%'))::int8 AS n`,
    );
    expect(Number(named.rows[0]?.n)).toBe(0);
  });

  it('in a dry run: skips the probe, warns about the unmigrated counts, and writes nothing', async () => {
    // Prepare
    await loadFresh(false);
    const before = await databaseState(sql);

    // Act
    const report = await runSmokeChecks(sql, options({ dryRun: true }));

    // Assess
    expect(await databaseState(sql)).toEqual(before);
    expect(report.passed).toBe(true);
    expect(report.dryRun).toBe(true);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['dual-write-probe', 'skip'],
      ['role-counts', 'warn'],
      ['company-list-query', 'pass'],
      ['network-query', 'pass'],
      ['http', 'skip'],
    ]);
    expect(check(report, 'dual-write-probe')).toEqual({
      id: 'dual-write-probe',
      status: 'skip',
      message:
        'dry run: the probe is not run, since a dry run writes nothing (even rolled-back inserts consume sequence values)',
    });
    const counts = expectedRoleCounts(dataset, false);
    expect(withoutCompanies(check(report, 'role-counts')?.details)).toEqual(counts);
    const short = ROLE_MAPPINGS.filter((r) => counts[`${r.code}.legacy`] !== counts[`${r.code}.mapped`]);
    const unmapped = short.reduce(
      (sum, r) => sum + Number(counts[`${r.code}.legacy`]) - Number(counts[`${r.code}.mapped`]),
      0,
    );
    expect(check(report, 'role-counts')?.message).toBe(
      `dry run: ${unmapped} legacy company record(s) have no record assignment (mapped: ${short
        .map((r) => `${r.code} ${counts[`${r.code}.mapped`]} of ${counts[`${r.code}.legacy`]}`)
        .join(', ')}); the unified schema is not migrated yet, the live run migrates them`,
    );
  });

  it('fails the counts check on a live run over an unmigrated database', async () => {
    // Prepare
    await loadFresh(false);

    // Act
    const report = await runSmokeChecks(sql, options());

    // Assess
    expect(report.passed).toBe(false);
    const counts = check(report, 'role-counts');
    expect(counts?.status).toBe('fail');
    expect(counts?.message).toMatch(
      /^unified counts differ from legacy counts: \d+ legacy company record\(s\) have no record assignment \(mapped: /,
    );
    expect(withoutCompanies(counts?.details)).toEqual(expectedRoleCounts(dataset, false));
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['role-counts']);
  });

  it('fails the company list and network checks on a live run with an empty unified schema', async () => {
    // Prepare
    await sql.query(`TRUNCATE ${[...LEGACY_TABLES, ...UNIFIED_TABLES].join(', ')} RESTART IDENTITY CASCADE`);

    // Act
    const report = await runSmokeChecks(sql, options());
    const dryRun = await runSmokeChecks(sql, options({ dryRun: true }));

    // Assess
    expect(report.checks.map((c) => [c.id, c.status, c.message])).toEqual([
      [
        'dual-write-probe',
        'warn',
        'dual-write not detected: the probe vendor made no company or VendorRecord assignment, its project link ' +
          "no 'Project' assignment; rolled back, nothing left behind",
      ],
      [
        'role-counts',
        'pass',
        'every legacy company record (0) has its record assignment in the unified schema',
      ],
      ['company-list-query', 'fail', 'the company list returned no rows'],
      ['network-query', 'fail', 'the network query returned no project edges'],
      ['http', 'skip', HTTP_SKIPPED.message],
    ]);
    expect(check(report, 'dual-write-probe')?.details?.projectSource).toBe('probe');
    expect(dryRun.passed).toBe(true);
    expect(dryRun.checks.map((c) => [c.id, c.status, c.message]).slice(2, 4)).toEqual([
      [
        'company-list-query',
        'warn',
        'dry run: the company list returned no rows (the unified schema is not migrated yet)',
      ],
      [
        'network-query',
        'warn',
        'dry run: the network query returned no project edges (the unified schema is not migrated yet)',
      ],
    ]);
  });

  it('passes the probe when a dual-write trigger mirrors the vendor and its project link', async () => {
    // Prepare
    await loadFresh(true);
    await sql.runScript(DUAL_WRITE_TRIGGERS);
    const before = await databaseState(sql);

    // Act
    const report = await runSmokeChecks(sql, options({ runId: 'run-3' }));

    // Assess
    await sql.runScript(DROP_DUAL_WRITE_TRIGGERS);
    const after = await databaseState(sql);
    expect(check(report, 'dual-write-probe')).toMatchObject({
      status: 'pass',
      message:
        'dual-write detected: the probe vendor and its project link appeared in the unified schema; ' +
        'rolled back, nothing left behind',
      details: { companies: 1, recordAssignments: 1, projectAssignments: 1, leftoverRows: 0 },
    });
    expect({ ...after, nextVendorId: 0 }).toEqual({ ...before, nextVendorId: 0 });
  });

  it('fails the probe when its insert fails, and still leaves nothing behind', async () => {
    // Prepare
    await loadFresh(true);
    await sql.runScript(FAILING_LINK_TRIGGER);
    const before = await databaseState(sql);

    // Act
    const report = await runSmokeChecks(sql, options({ runId: 'run-4' }));

    // Assess
    await sql.runScript('DROP TRIGGER smoke_test_refuse ON project_vendor_relationships');
    const after = await databaseState(sql);
    const probe = check(report, 'dual-write-probe');
    expect(probe?.status).toBe('fail');
    expect(probe?.message).toMatch(
      /^probe failed: .*links refused by the test.*; rolled back, nothing left behind$/,
    );
    expect(probe?.details).toEqual({ probeName: smokeProbeName('run-4'), leftoverRows: 0 });
    expect(report.passed).toBe(false);
    expect({ ...after, nextVendorId: 0 }).toEqual({ ...before, nextVendorId: 0 });
  });
});

/** What an application-side dual-write in the database would do: mirror vendors and their project links. */
const DUAL_WRITE_TRIGGERS = `
CREATE FUNCTION smoke_test_vendor_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE company integer;
BEGIN
  INSERT INTO companies (company_name, company_type) VALUES (NEW.vendor_name, 'Vendor') RETURNING company_id INTO company;
  INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id)
    SELECT company, role_id, 'VendorRecord', NEW.vendor_id FROM company_roles WHERE role_code = 'vendor';
  RETURN NEW;
END $$;
CREATE TRIGGER smoke_test_vendor_mirror AFTER INSERT ON technology_vendors
  FOR EACH ROW EXECUTE FUNCTION smoke_test_vendor_mirror();
CREATE FUNCTION smoke_test_link_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id)
    SELECT a.company_id, a.role_id, 'Project', NEW.project_id FROM company_role_assignments a
     WHERE a.context_type = 'VendorRecord' AND a.context_id = NEW.vendor_id;
  RETURN NEW;
END $$;
CREATE TRIGGER smoke_test_link_mirror AFTER INSERT ON project_vendor_relationships
  FOR EACH ROW EXECUTE FUNCTION smoke_test_link_mirror();
`;

const DROP_DUAL_WRITE_TRIGGERS = `
DROP TRIGGER smoke_test_vendor_mirror ON technology_vendors;
DROP TRIGGER smoke_test_link_mirror ON project_vendor_relationships;
DROP FUNCTION smoke_test_vendor_mirror();
DROP FUNCTION smoke_test_link_mirror();
`;

const FAILING_LINK_TRIGGER = `
CREATE OR REPLACE FUNCTION smoke_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'links refused by the test';
END $$;
CREATE TRIGGER smoke_test_refuse BEFORE INSERT ON project_vendor_relationships
  FOR EACH ROW EXECUTE FUNCTION smoke_test_refuse();
`;

describe('smoke HTTP checks', () => {
  let sql: PgliteSqlClient;

  beforeAll(async () => {
    sql = await PgliteSqlClient.open();
    await applySchemas(sql);
    await loadDemoData(sql, generateDemoData());
    for (const step of BACKFILL_STEPS) await runBackfillToEnd(sql, step);
  });

  afterAll(async () => {
    await sql?.close();
  });

  const options = (extra: Partial<SmokeOptions>): SmokeOptions => ({
    runId: 'run-http',
    stage: 'test',
    dryRun: true,
    now: () => NOW,
    ...extra,
  });

  function httpChecks(report: SmokeReport) {
    return report.checks.filter((c) => c.id.startsWith('http')).map(withoutTiming);
  }

  it('requests each page under the base URL and passes on 2xx', async () => {
    // Prepare
    const requested: string[] = [];
    const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      requested.push(`${init?.method} ${String(input)} ${init?.signal instanceof AbortSignal}`);
      return new Response('<html>ok</html>', { status: 200 });
    }) as typeof fetch;

    // Act
    const report = await runSmokeChecks(
      sql,
      options({ appBaseUrl: 'https://user:secret@crm.example.com/app/?x=1', fetch: fakeFetch }),
    );

    // Assess
    expect(requested).toEqual([
      'GET https://user:secret@crm.example.com/app/companies?x=1 true',
      'GET https://user:secret@crm.example.com/app/dashboard?x=1 true',
      'GET https://user:secret@crm.example.com/app/api/network?x=1 true',
    ]);
    expect(report.passed).toBe(true);
    expect(httpChecks(report)).toEqual([
      {
        id: 'http-companies',
        status: 'pass',
        message: 'GET /companies (company list) answered 200',
        details: { url: 'https://crm.example.com/app/companies', status: 200, bytes: 15 },
      },
      {
        id: 'http-dashboard',
        status: 'pass',
        message: 'GET /dashboard (dashboard) answered 200',
        details: { url: 'https://crm.example.com/app/dashboard', status: 200, bytes: 15 },
      },
      {
        id: 'http-network',
        status: 'pass',
        message: 'GET /api/network (network diagram data) answered 200',
        details: { url: 'https://crm.example.com/app/api/network', status: 200, bytes: 15 },
      },
    ]);
    expect(SMOKE_HTTP_PATHS.map((p) => p.path)).toEqual(['/companies', '/dashboard', '/api/network']);
  });

  it('fails a page that answers outside 2xx, times out, or cannot be reached', async () => {
    // Prepare
    const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const path = new URL(String(input)).pathname;
      if (path === '/dashboard') return new Response('down', { status: 503 });
      if (path === '/api/network') {
        return new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        });
      }
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    }) as typeof fetch;

    // Act
    const report = await runSmokeChecks(
      sql,
      options({ appBaseUrl: 'http://app.test', fetch: fakeFetch, httpTimeoutMs: 50 }),
    );

    // Assess
    expect(report.passed).toBe(false);
    expect(httpChecks(report)).toEqual([
      {
        id: 'http-companies',
        status: 'fail',
        message: 'GET /companies (company list) failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9',
        details: { url: 'http://app.test/companies' },
      },
      {
        id: 'http-dashboard',
        status: 'fail',
        message: 'GET /dashboard (dashboard) answered 503',
        details: { url: 'http://app.test/dashboard', status: 503, bytes: 4 },
      },
      {
        id: 'http-network',
        status: 'fail',
        message: 'GET /api/network (network diagram data) timed out after 50 ms',
        details: { url: 'http://app.test/api/network' },
      },
    ]);
    const network = report.checks.find((c) => c.id === 'http-network');
    expect(network?.durationMs).toBeGreaterThanOrEqual(45);
  });

  it('fails every page when the application URL is not http(s)', async () => {
    // Act
    const report = await runSmokeChecks(sql, options({ appBaseUrl: 'ftp://app.test' }));

    // Assess
    expect(httpChecks(report).map((c) => [c.id, c.status, c.message])).toEqual(
      SMOKE_HTTP_PATHS.map((p) => [
        p.id,
        'fail',
        'the application URL must be http:// or https:// (got ftp://)',
      ]),
    );
  });

  describe('against a real HTTP server', () => {
    let server: Server;
    let base: string;

    beforeAll(async () => {
      server = createServer((request, response) => {
        if (request.url === '/companies') response.writeHead(200).end('companies');
        else if (request.url === '/dashboard') setTimeout(() => response.writeHead(200).end('late'), 2_000);
        else response.writeHead(404).end('not here');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('reports status and timing of each page through the global fetch', async () => {
      // Act
      const report = await runSmokeChecks(sql, options({ appBaseUrl: base, httpTimeoutMs: 300 }));

      // Assess
      expect(httpChecks(report)).toEqual([
        {
          id: 'http-companies',
          status: 'pass',
          message: 'GET /companies (company list) answered 200',
          details: { url: `${base}/companies`, status: 200, bytes: 9 },
        },
        {
          id: 'http-dashboard',
          status: 'fail',
          message: 'GET /dashboard (dashboard) timed out after 300 ms',
          details: { url: `${base}/dashboard` },
        },
        {
          id: 'http-network',
          status: 'fail',
          message: 'GET /api/network (network diagram data) answered 404',
          details: { url: `${base}/api/network`, status: 404, bytes: 8 },
        },
      ]);
      const dashboard = report.checks.find((c) => c.id === 'http-dashboard');
      expect(dashboard?.durationMs).toBeGreaterThanOrEqual(290);
      expect(dashboard?.durationMs).toBeLessThan(2_000);
    });
  });
});
