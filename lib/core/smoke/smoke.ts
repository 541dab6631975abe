import { performance } from 'node:perf_hooks';
import { ROLE_MAPPINGS, roleMapping } from '../mapping/roles.ts';
import type { SqlClient, SqlSession } from '../sql/types.ts';
import { type SmokeCheck, type SmokeReport, smokeReportSchema } from './report-schema.ts';

/**
 * Smoke checks: does the application still work on the (migrated) data?
 *
 * (a) `dual-write-probe`: a test vendor inserted in a transaction that is always rolled back; does the
 *     unified schema show it (company, VendorRecord assignment) and its project link ('Project'
 *     assignment)? Not detected is a warning: the dual-write may live in the application, not the
 *     database. Skipped in a dry run, which writes nothing (rolled-back inserts still consume ids).
 * (b) `role-counts`, `company-list-query`, `network-query`: the dashboard's figures and queries.
 * (c) `http-*`: the application's pages, when its base URL is configured.
 */

export interface SmokeOptions {
  runId: string;
  stage: string;
  /** Predicts: runs no probe, and counts not yet migrated warn instead of failing. */
  dryRun: boolean;
  /** The application's base URL (e.g. https://crm.example.com); no HTTP checks without it. */
  appBaseUrl?: string | undefined;
  /** The fetch to use (tests inject one); the global fetch by default. */
  fetch?: typeof fetch;
  /** Per request, body included; default 10 s. */
  httpTimeoutMs?: number;
  now?: () => Date;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

/** The application's pages the HTTP checks request, each under the base URL. */
export const SMOKE_HTTP_PATHS = [
  { id: 'http-companies', path: '/companies', label: 'company list' },
  { id: 'http-dashboard', path: '/dashboard', label: 'dashboard' },
  { id: 'http-network', path: '/api/network', label: 'network diagram data' },
] as const;

/** The dashboard's company list: the first 50 companies by name, each with its role codes. */
export const COMPANY_LIST_SQL = `
  SELECT c.company_id, c.company_name, c.company_type, c.is_mpr_client,
         coalesce(json_agg(DISTINCT r.role_code ORDER BY r.role_code) FILTER (WHERE r.role_code IS NOT NULL),
                  '[]') AS role_codes
    FROM companies c
    LEFT JOIN company_role_assignments a ON a.company_id = c.company_id
    LEFT JOIN company_roles r ON r.role_id = a.role_id AND r.is_active
   GROUP BY c.company_id, c.company_name, c.company_type, c.is_mpr_client
   ORDER BY c.company_name, c.company_id
   LIMIT 50`;

/** The network diagram's data: companies and their project edges (company → project, by role). */
export const NETWORK_SQL = `
  SELECT c.company_id, c.company_name, r.role_code, p.project_id, p.project_name, a.is_confidential
    FROM company_role_assignments a
    JOIN companies c ON c.company_id = a.company_id
    JOIN company_roles r ON r.role_id = a.role_id
    JOIN projects p ON p.project_id = a.context_id
   WHERE a.context_type = 'Project'
   ORDER BY c.company_id, p.project_id, r.role_code
   LIMIT 500`;

/** The probe vendor's name: distinctive, and the same for the whole run. */
export function smokeProbeName(runId: string): string {
  return `smoke-probe ${runId}`;
}

type Details = Record<string, number | string>;

interface Outcome {
  status: SmokeCheck['status'];
  message: string;
  details?: Details;
}

export async function runSmokeChecks(sql: SqlClient, options: SmokeOptions): Promise<SmokeReport> {
  const checks: SmokeCheck[] = [];
  checks.push(await timed('dual-write-probe', () => dualWriteProbe(sql, options)));
  checks.push(await timed('role-counts', () => roleCounts(sql, options.dryRun)));
  checks.push(await timed('company-list-query', () => companyList(sql, options.dryRun)));
  checks.push(await timed('network-query', () => network(sql, options.dryRun)));
  checks.push(...(await httpChecks(options)));
  return smokeReportSchema.parse({
    kind: 'smoke',
    schemaVersion: 1,
    runId: options.runId,
    stage: options.stage,
    generatedAt: (options.now?.() ?? new Date()).toISOString(),
    passed: checks.every((c) => c.status !== 'fail'),
    dryRun: options.dryRun,
    checks,
  });
}

/** Runs one check; an error fails it (with its first line), it never ends the run. */
async function timed(id: string, run: () => Promise<Outcome>): Promise<SmokeCheck> {
  const started = performance.now();
  let outcome: Outcome;
  try {
    outcome = await run();
  } catch (error) {
    outcome = { status: 'fail', message: `check failed: ${firstLine(error)}` };
  }
  const check: SmokeCheck = {
    id,
    status: outcome.status,
    message: outcome.message,
    durationMs: since(started),
  };
  if (outcome.details) check.details = outcome.details;
  return check;
}

function since(started: number): number {
  return Math.max(0, Math.round((performance.now() - started) * 10) / 10);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.trim() || text;
}

// (a) The dual-write probe ------------------------------------------------------------------------------

interface ProbeObservation {
  vendorId: number;
  projectId: number;
  projectSource: 'existing' | 'probe';
  companies: number;
  recordAssignments: number;
  projectAssignments: number;
}

/** Thrown at the end of the probe so that its transaction always rolls back; carries what was seen. */
class RollbackSignal extends Error {
  constructor(readonly observation: ProbeObservation) {
    super('smoke probe: rolled back on purpose');
    this.name = 'RollbackSignal';
  }
}

async function dualWriteProbe(sql: SqlClient, options: SmokeOptions): Promise<Outcome> {
  if (options.dryRun) {
    return {
      status: 'skip',
      message:
        'dry run: the probe is not run, since a dry run writes nothing (even rolled-back inserts consume sequence values)',
    };
  }
  const name = smokeProbeName(options.runId);
  let observation: ProbeObservation | undefined;
  let probeError: unknown;
  try {
    await sql.transaction(async (tx) => {
      throw new RollbackSignal(await probe(tx, name));
    });
    probeError = new Error('the probe transaction committed');
  } catch (error) {
    if (error instanceof RollbackSignal) observation = error.observation;
    else probeError = error;
  }
  const leftovers = await probeLeftovers(sql, name, observation?.vendorId ?? null);
  const details: Details = { probeName: name, leftoverRows: leftovers };
  if (observation) {
    Object.assign(details, {
      vendorId: observation.vendorId,
      projectId: observation.projectId,
      projectSource: observation.projectSource,
      companies: observation.companies,
      recordAssignments: observation.recordAssignments,
      projectAssignments: observation.projectAssignments,
    });
  }
  const cleanup =
    leftovers === 0
      ? 'rolled back, nothing left behind'
      : `${leftovers} probe row(s) left behind: the rollback did not hold`;
  if (!observation)
    return { status: 'fail', message: `probe failed: ${firstLine(probeError)}; ${cleanup}`, details };
  if (leftovers > 0) return { status: 'fail', message: cleanup, details };
  const companySeen = observation.companies > 0 || observation.recordAssignments > 0;
  const projectSeen = observation.projectAssignments > 0;
  if (companySeen && projectSeen) {
    return {
      status: 'pass',
      message: `dual-write detected: the probe vendor and its project link appeared in the unified schema; ${cleanup}`,
      details,
    };
  }
  const missing = companySeen
    ? "the probe vendor appeared as a company, but its project link made no 'Project' assignment"
    : "the probe vendor made no company or VendorRecord assignment, its project link no 'Project' assignment";
  return { status: 'warn', message: `dual-write not detected: ${missing}; ${cleanup}`, details };
}

/** Inside the transaction: insert the probe vendor and its project link, and see what appeared. */
async function probe(tx: SqlSession, name: string): Promise<ProbeObservation> {
  const vendor = roleMapping('vendor');
  const inserted = await tx.query<{ id: number }>(
    `INSERT INTO ${vendor.legacyTable} (${vendor.nameColumn}) VALUES (:name) RETURNING ${vendor.idColumn} AS id`,
    { name },
  );
  const vendorId = Number(inserted.rows[0]?.id);
  const company = await tx.query<{ companies: number; record_assignments: number }>(
    `SELECT (SELECT count(*) FROM companies WHERE company_name = :name)::int8 AS companies,
            (SELECT count(*) FROM company_role_assignments a JOIN company_roles r ON r.role_id = a.role_id
              WHERE r.role_code = :role AND a.context_type = :recordContext AND a.context_id = :vendorId)::int8
              AS record_assignments`,
    { name, role: vendor.code, recordContext: vendor.recordContextType, vendorId },
  );

  const existing = await tx.query<{ id: number }>(
    'SELECT project_id AS id FROM projects ORDER BY project_id LIMIT 1',
  );
  let projectId = existing.rows[0]?.id;
  const projectSource = projectId === undefined ? 'probe' : 'existing';
  if (projectId === undefined) {
    const created = await tx.query<{ id: number }>(
      'INSERT INTO projects (project_name) VALUES (:name) RETURNING project_id AS id',
      { name },
    );
    projectId = created.rows[0]?.id;
  }
  await tx.query(
    `INSERT INTO ${vendor.projectLinkTable} (project_id, ${vendor.projectLinkEntityColumn})
     VALUES (:projectId, :vendorId)`,
    { projectId: Number(projectId), vendorId },
  );
  const project = await tx.query<{ project_assignments: number }>(
    `SELECT count(*)::int8 AS project_assignments
       FROM company_role_assignments a JOIN company_roles r ON r.role_id = a.role_id
      WHERE r.role_code = :role AND a.context_type = 'Project' AND a.context_id = :projectId
        AND a.company_id IN (SELECT c.company_id FROM companies c WHERE c.company_name = :name
                             UNION
                             SELECT ra.company_id FROM company_role_assignments ra
                              WHERE ra.context_type = :recordContext AND ra.context_id = :vendorId)`,
    {
      name,
      role: vendor.code,
      recordContext: vendor.recordContextType,
      vendorId,
      projectId: Number(projectId),
    },
  );
  return {
    vendorId,
    projectId: Number(projectId),
    projectSource,
    companies: Number(company.rows[0]?.companies ?? 0),
    recordAssignments: Number(company.rows[0]?.record_assignments ?? 0),
    projectAssignments: Number(project.rows[0]?.project_assignments ?? 0),
  };
}

/** Rows the probe could have left: by its name, and by its vendor id (ids are never reused). */
async function probeLeftovers(sql: SqlClient, name: string, vendorId: number | null): Promise<number> {
  const vendor = roleMapping('vendor');
  const { rows } = await sql.query<{ n: number }>(
    `SELECT ((SELECT count(*) FROM ${vendor.legacyTable} WHERE ${vendor.nameColumn} = :name)
           + (SELECT count(*) FROM projects WHERE project_name = :name)
           + (SELECT count(*) FROM companies WHERE company_name = :name)
           + (SELECT count(*) FROM ${vendor.projectLinkTable} WHERE ${vendor.projectLinkEntityColumn} = :vendorId)
           + (SELECT count(*) FROM company_role_assignments
               WHERE context_type = :recordContext AND context_id = :vendorId))::int8 AS n`,
    { name, vendorId, recordContext: vendor.recordContextType },
  );
  return Number(rows[0]?.n ?? 0);
}

// (b) Dashboard sanity ----------------------------------------------------------------------------------

function roleCountsSql(): string {
  return ROLE_MAPPINGS.map(
    (role) => `SELECT '${role.code}' AS role,
      (SELECT count(*) FROM ${role.legacyTable})::int8 AS legacy,
      (SELECT count(*) FROM ${role.legacyTable} l
        WHERE EXISTS (SELECT 1 FROM company_role_assignments a JOIN company_roles r ON r.role_id = a.role_id
                       WHERE r.role_code = '${role.code}' AND a.context_type = '${role.recordContextType}'
                         AND a.context_id = l.${role.idColumn}))::int8 AS mapped,
      (SELECT count(DISTINCT a.company_id) FROM company_role_assignments a
         JOIN company_roles r ON r.role_id = a.role_id WHERE r.role_code = '${role.code}')::int8 AS companies`,
  ).join('\nUNION ALL\n');
}

/** Per role: legacy records, those with their record assignment, and companies holding the role. */
async function roleCounts(sql: SqlClient, dryRun: boolean): Promise<Outcome> {
  const { rows } = await sql.query<{ role: string; legacy: number; mapped: number; companies: number }>(
    roleCountsSql(),
  );
  const details: Details = {};
  const short: string[] = [];
  let legacyTotal = 0;
  let unmapped = 0;
  for (const role of ROLE_MAPPINGS) {
    const row = rows.find((r) => r.role === role.code);
    const legacy = Number(row?.legacy ?? 0);
    const mapped = Number(row?.mapped ?? 0);
    details[`${role.code}.legacy`] = legacy;
    details[`${role.code}.mapped`] = mapped;
    details[`${role.code}.companies`] = Number(row?.companies ?? 0);
    legacyTotal += legacy;
    unmapped += legacy - mapped;
    if (mapped !== legacy) short.push(`${role.code} ${mapped} of ${legacy}`);
  }
  if (short.length === 0) {
    return {
      status: 'pass',
      message: `every legacy company record (${legacyTotal}) has its record assignment in the unified schema`,
      details,
    };
  }
  const which = `${unmapped} legacy company record(s) have no record assignment (mapped: ${short.join(', ')})`;
  if (dryRun) {
    return {
      status: 'warn',
      message: `dry run: ${which}; the unified schema is not migrated yet, the live run migrates them`,
      details,
    };
  }
  return { status: 'fail', message: `unified counts differ from legacy counts: ${which}`, details };
}

async function companyList(sql: SqlClient, dryRun: boolean): Promise<Outcome> {
  const { rows } = await sql.query<{ company_id: number; role_codes: unknown }>(COMPANY_LIST_SQL);
  const withRoles = rows.filter((r) => Array.isArray(r.role_codes) && r.role_codes.length > 0).length;
  const details: Details = { rows: rows.length, withRoles };
  if (rows.length > 0) {
    return { status: 'pass', message: `the company list returned ${rows.length} row(s)`, details };
  }
  return emptyResult('the company list returned no rows', dryRun, details);
}

async function network(sql: SqlClient, dryRun: boolean): Promise<Outcome> {
  const { rows } = await sql.query<{ company_id: number; project_id: number }>(NETWORK_SQL);
  const details: Details = {
    rows: rows.length,
    companies: new Set(rows.map((r) => r.company_id)).size,
    projects: new Set(rows.map((r) => r.project_id)).size,
  };
  if (rows.length > 0) {
    return { status: 'pass', message: `the network query returned ${rows.length} project edge(s)`, details };
  }
  return emptyResult('the network query returned no project edges', dryRun, details);
}

function emptyResult(message: string, dryRun: boolean, details: Details): Outcome {
  return dryRun
    ? { status: 'warn', message: `dry run: ${message} (the unified schema is not migrated yet)`, details }
    : { status: 'fail', message, details };
}

// (c) HTTP ----------------------------------------------------------------------------------------------

async function httpChecks(options: SmokeOptions): Promise<SmokeCheck[]> {
  if (!options.appBaseUrl) {
    return [
      {
        id: 'http',
        status: 'skip',
        message: 'no application URL is configured: HTTP checks skipped',
        durationMs: 0,
      },
    ];
  }
  const base = parseBaseUrl(options.appBaseUrl);
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.httpTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const checks: SmokeCheck[] = [];
  for (const page of SMOKE_HTTP_PATHS) {
    checks.push(
      await timed(page.id, async () => {
        if (typeof base === 'string') return { status: 'fail', message: base };
        return getPage(fetchImpl, base, page.path, page.label, timeoutMs);
      }),
    );
  }
  return checks;
}

/** The base URL without a trailing slash, or why it is not usable. */
function parseBaseUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'the application URL is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `the application URL must be http:// or https:// (got ${url.protocol}//)`;
  return url;
}

/** The URL to show in a report: no credentials, no query. */
function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

async function getPage(
  fetchImpl: typeof fetch,
  base: URL,
  path: string,
  label: string,
  timeoutMs: number,
): Promise<Outcome> {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  const details: Details = { url: shown(url) };
  try {
    const response = await fetchImpl(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
    // The whole body, so the timing is what a browser waits for (and the connection is released).
    const body = await response.arrayBuffer();
    details.status = response.status;
    details.bytes = body.byteLength;
    if (response.redirected && response.url) details.finalUrl = shown(new URL(response.url));
    if (response.status >= 200 && response.status < 300) {
      return { status: 'pass', message: `GET ${path} (${label}) answered ${response.status}`, details };
    }
    return { status: 'fail', message: `GET ${path} (${label}) answered ${response.status}`, details };
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      return { status: 'fail', message: `GET ${path} (${label}) timed out after ${timeoutMs} ms`, details };
    }
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${firstLine(error.cause)}` : '';
    return { status: 'fail', message: `GET ${path} (${label}) failed: ${firstLine(error)}${cause}`, details };
  }
}
