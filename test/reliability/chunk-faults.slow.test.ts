import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InjectedFault, loadMigrationDefinition, runMigrationLocally } from '../../lib/cli/local-run.ts';
import { BACKFILL_STEPS, type BackfillStep } from '../../lib/core/backfill/index.ts';
import { LocalReportStore } from '../../lib/core/reports/local-store.ts';
import { applySchemas } from '../../lib/core/schema/apply.ts';
import {
  LEGACY_COMPANY_TABLES,
  LEGACY_PROJECT_RELATIONSHIP_TABLES,
  LEGACY_TABLES,
} from '../../lib/core/schema/legacy.sql.ts';
import { UNIFIED_TABLES } from '../../lib/core/schema/unified.sql.ts';
import { DatabaseConnectionError, StatementTimeoutError } from '../../lib/core/sql/errors.ts';
import type { PagedReadRequest, SqlClient, SqlParams, SqlRow, SqlSession } from '../../lib/core/sql/types.ts';
import { type Fixture, type Row, seed } from '../support/backfill-fixtures.ts';
import { legacyChecksums, lostUnifiedRows, unifiedRowKeys } from '../support/checksums.ts';
import { realDatabases, type TestDatabase } from '../support/databases.ts';
import { unifiedNaturalState, unifiedStateHash } from '../support/unified-state.ts';

/**
 * Fault injection inside the backfills, through the whole state machine (the committed ASL, run
 * locally, each Task served by its Lambda handler). In the first, a middle and the last chunk of each
 * backfill step, one of four faults strikes: a thrown error, the connection dropped mid-transaction, a
 * statement timeout, the Lambda's time running out (its sandbox killed mid-chunk); and, after a chunk
 * committed, the commit's acknowledgement lost with the connection. The machine's retry (or, for the
 * error it does not retry, a fresh execution) must end in the unified state of a fault-free run: the
 * same rows by natural key, the same ids, no duplicate, nothing lost, the legacy tables untouched.
 *
 * On the PostgreSQL server the connection drop and the timeout are real (pg_terminate_backend on the
 * chunk's own connection; statement_timeout firing); on PGlite (one in-process connection) they are
 * the adapter's error classes thrown inside the transaction, which rolls it back the same way.
 */

const FAULT_KINDS = ['thrown-error', 'connection-dropped', 'statement-timeout', 'lambda-timeout'] as const;
type FaultKind = (typeof FAULT_KINDS)[number];
const POSITIONS = ['first', 'middle', 'last'] as const;
type Position = (typeof POSITIONS)[number];

interface Scenario {
  step: BackfillStep;
  position: Position;
  kind: FaultKind;
  /** Inside the chunk's transaction (before its first write), or just after it committed. */
  timing: 'mid-transaction' | 'after-commit';
}

const SCENARIOS: Scenario[] = [
  ...BACKFILL_STEPS.flatMap((step) =>
    POSITIONS.flatMap((position) =>
      FAULT_KINDS.map((kind): Scenario => ({ step, position, kind, timing: 'mid-transaction' })),
    ),
  ),
  ...BACKFILL_STEPS.flatMap((step) =>
    POSITIONS.map(
      (position): Scenario => ({ step, position, kind: 'connection-dropped', timing: 'after-commit' }),
    ),
  ),
];

const CHUNK_SIZE = 3;

/** A small legacy database with a few chunks per phase: shared names, client fields, links, orphans. */
function fixture(): Fixture {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const rows = (n: number, make: (i: number) => Row) => range(n).map(make);
  return {
    technology_vendors: rows(8, (i) => ({
      vendor_id: i,
      vendor_name: `Vendor ${i}`,
      notes: `vendor note ${i}`,
    })),
    owners_developers: rows(5, (i) => ({ owner_id: i, company_name: i === 2 ? 'Vendor 2' : `Owner ${i}` })),
    clients: rows(5, (i) => ({
      client_id: i,
      client_name: i === 1 ? 'Owner 1' : `Client ${i}`,
      relationship_strength: i % 2 ? 'Strong' : 'Weak',
      client_priority: `P${i}`,
    })),
    operators: rows(4, (i) => ({ operator_id: i, company_name: i === 3 ? 'Vendor 3' : `Operator ${i}` })),
    constructors: rows(3, (i) => ({ constructor_id: i, company_name: `Constructor ${i}` })),
    offtakers: rows(3, (i) => ({
      offtaker_id: i,
      organization_name: i === 1 ? 'Client 2' : `Offtaker ${i}`,
    })),
    personnel: rows(10, (i) => ({ personnel_id: i, full_name: `Person ${i}` })),
    projects: rows(6, (i) => ({ project_id: i, project_name: `Project ${i}` })),
    personnel_entity_relationships: rows(18, (i) => ({
      relationship_id: i,
      personnel_id: ((i - 1) % 10) + 1,
      entity_type:
        ['Vendor', 'Owner', 'Client', 'Operator', 'Constructor', 'Offtaker', 'Project'][i % 7] ?? 'Vendor',
      entity_id: ((i - 1) % 3) + 1,
      title: i % 4 === 0 ? null : `Title ${i % 3}`,
      is_confidential: i % 5 === 0,
    })),
    project_vendor_relationships: rows(7, (i) => ({
      relationship_id: i,
      project_id: ((i - 1) % 6) + 1,
      vendor_id: i === 7 ? 404 : ((i - 1) % 8) + 1,
      is_confidential: i % 3 === 0,
    })),
    project_owner_relationships: rows(4, (i) => ({ relationship_id: i, project_id: i, owner_id: i })),
    project_operator_relationships: rows(4, (i) => ({
      relationship_id: i,
      project_id: i + 1,
      operator_id: i,
    })),
    project_constructor_relationships: rows(3, (i) => ({
      relationship_id: i,
      project_id: i,
      constructor_id: i,
    })),
    project_offtaker_relationships: rows(3, (i) => ({ relationship_id: i, project_id: i, offtaker_id: i })),
    client_project_relationships: rows(4, (i) => ({ relationship_id: i, client_id: i, project_id: i })),
  };
}

/** Which step a chunk transaction belongs to, from its first statement (the chunk's bounds). */
const STEP_OF_TABLE = new Map<string, BackfillStep>([
  ...LEGACY_COMPANY_TABLES.map((t) => [t, 'companies'] as const),
  ['personnel_entity_relationships', 'personnel'],
  ...LEGACY_PROJECT_RELATIONSHIP_TABLES.map((t) => [t, 'projects'] as const),
]);
function stepOfChunk(sql: string): BackfillStep | null {
  if (/SELECT DISTINCT company_id FROM company_role_assignments/.test(sql)) return 'companies';
  const table = /FROM (\w+)\s+WHERE \w+ > :after/.exec(sql)?.[1];
  return table ? (STEP_OF_TABLE.get(table) ?? null) : null;
}

interface FaultPlan {
  scenario: Scenario;
  /** 1-based: the chunk of the step the fault strikes. */
  chunk: number;
  adapter: SqlClient['adapter'];
}

/**
 * The run's SqlClient with a fault armed: counts the chunk transactions of each step (a transaction whose
 * first statement reads a chunk's bounds and which goes on to a second statement) and strikes once.
 */
class FaultySql implements SqlClient {
  readonly chunks: Record<BackfillStep, number> = { companies: 0, personnel: 0, projects: 0 };
  struck = false;

  constructor(
    private readonly inner: SqlClient,
    private readonly plan: FaultPlan | null,
  ) {}

  get adapter() {
    return this.inner.adapter;
  }
  get statementsIssued() {
    return this.inner.statementsIssued;
  }
  query<R extends object = SqlRow>(sql: string, params?: SqlParams) {
    return this.inner.query<R>(sql, params);
  }
  runScript(script: string) {
    return this.inner.runScript(script);
  }
  readPages<R extends object = SqlRow>(request: PagedReadRequest) {
    return this.inner.readPages<R>(request);
  }
  close() {
    return this.inner.close();
  }

  async transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T> {
    let step: BackfillStep | null = null;
    let statements = 0;
    let target = false;
    const result = await this.inner.transaction((tx) =>
      work({
        query: async <R extends object = SqlRow>(sql: string, params?: SqlParams) => {
          statements++;
          if (statements === 1) step = stepOfChunk(sql);
          if (statements === 2 && step) {
            this.chunks[step]++;
            target = this.armedFor(step);
            if (target && this.plan?.scenario.timing === 'mid-transaction') {
              this.struck = true;
              await strike(this.plan, tx);
            }
          }
          return tx.query<R>(sql, params);
        },
        runScript: (script) => tx.runScript(script),
        readPages: (request) => tx.readPages(request),
      }),
    );
    if (target && this.plan?.scenario.timing === 'after-commit') {
      // Committed, but the acknowledgement is lost with the connection: the caller sees only the error.
      this.struck = true;
      throw new DatabaseConnectionError('injected: connection lost after COMMIT', { adapter: this.adapter });
    }
    return result;
  }

  private armedFor(step: BackfillStep): boolean {
    return !this.struck && this.plan?.scenario.step === step && this.chunks[step] === this.plan.chunk;
  }
}

/** The fault itself, inside the chunk's transaction, before its first write. */
async function strike(plan: FaultPlan, tx: SqlSession): Promise<never> {
  const real = plan.adapter === 'pg';
  switch (plan.scenario.kind) {
    case 'thrown-error':
      throw new Error('injected: the handler threw');
    case 'connection-dropped':
      if (real) await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
      throw new DatabaseConnectionError('injected: connection dropped', { adapter: plan.adapter });
    case 'statement-timeout':
      if (real) {
        await tx.query(`SET LOCAL statement_timeout = '20ms'`);
        await tx.query('SELECT pg_sleep(2)');
      }
      throw new StatementTimeoutError('injected: statement timeout', { adapter: plan.adapter });
    case 'lambda-timeout':
      // What Step Functions reports when the Lambda runtime kills an invocation at its timeout.
      throw Object.assign(new Error('Task timed out after 900.00 seconds'), { name: 'Sandbox.Timedout' });
  }
}

/**
 * Task states whose Lambda handler a fault can strike on a fault-free run's path, and the two RDS
 * snapshot calls. UndoRun is off that path (it runs only when post-validation fails and the input asks
 * for it); its faults are covered in test/e2e/migration-state-machine.test.ts.
 */
const SNAPSHOT_STATES = ['CreateSnapshot', 'DescribeSnapshot'];
const OFF_PATH_STATES = ['ReportFailure', 'UndoRun'];
const LAMBDA_STATES = Object.entries(loadMigrationDefinition().States)
  .filter(
    ([name, state]) =>
      state.Type === 'Task' && !OFF_PATH_STATES.includes(name) && !SNAPSHOT_STATES.includes(name),
  )
  .map(([name]) => name);

type StateFaultKind = FaultKind | 'rds-throttled';
const STATE_SCENARIOS: { state: string; kind: StateFaultKind }[] = [
  ...LAMBDA_STATES.flatMap((state) => FAULT_KINDS.map((kind) => ({ state, kind }))),
  // The snapshot states call RDS, not a handler: its throttling is retried, anything else is not.
  ...SNAPSHOT_STATES.flatMap((state) => [
    { state, kind: 'rds-throttled' as const },
    { state, kind: 'thrown-error' as const },
  ]),
];

/** The error a Task state reports for each kind of fault. */
function stateFault(kind: StateFaultKind, state: string): Error {
  switch (kind) {
    case 'thrown-error':
      return new Error(`injected: ${state} threw`);
    case 'connection-dropped':
      return new DatabaseConnectionError('injected: connection dropped', { adapter: 'pglite' });
    case 'statement-timeout':
      return new StatementTimeoutError('injected: statement timeout', { adapter: 'pglite' });
    case 'lambda-timeout':
      return Object.assign(new Error('Task timed out after 900.00 seconds'), { name: 'Sandbox.Timedout' });
    case 'rds-throttled':
      return Object.assign(new Error('Rate exceeded'), { name: 'Rds.ThrottlingException' });
  }
}

/** Which chunk each position means, from the fault-free run's chunk count. */
function chunkAt(position: Position, chunks: number): number {
  if (position === 'first') return 1;
  if (position === 'last') return chunks;
  return Math.ceil(chunks / 2);
}

describe.each(realDatabases)('faults inside the backfills, through the state machine: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;
  let reports: string;
  let runs = 0;
  const reference = {
    chunks: { companies: 0, personnel: 0, projects: 0 } as Record<BackfillStep, number>,
    natural: {} as Record<string, string[]>,
    withIds: '',
  };
  const scenariosRun: string[] = [];

  async function reset(): Promise<void> {
    await sql.query(`TRUNCATE ${[...LEGACY_TABLES, ...UNIFIED_TABLES].join(', ')} RESTART IDENTITY CASCADE`);
    await seed(sql, fixture());
    // A company the application created before the migration: it must survive every scenario.
    await sql.query(
      `INSERT INTO companies (company_name, company_type, is_mpr_client, is_internal) VALUES ('Vendor 5', 'Vendor', false, false)`,
    );
  }

  function execute(client: SqlClient, faults: InjectedFault[] = []) {
    runs++;
    // The snapshot states run too (a stub stands in for the RDS snapshot), so faults can strike them.
    return runMigrationLocally({
      deps: { sql: client, store: new LocalReportStore(reports), stage: { snapshots: true } },
      runId: `run-fault-${runs}`,
      input: { stage: 'test', chunkSize: CHUNK_SIZE },
      takeSnapshot: async (snapshotId) => ({ snapshotId, status: 'available' }),
      retryPauseMs: 0,
      faults,
    });
  }

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
    reports = mkdtempSync(join(tmpdir(), 'chunk-faults-'));
    await reset();
    const counting = new FaultySql(sql, null);
    const clean = await execute(counting);
    expect(clean.status, JSON.stringify(clean.error)).toBe('SUCCEEDED');
    reference.chunks = { ...counting.chunks };
    reference.natural = await unifiedNaturalState(sql);
    reference.withIds = await unifiedStateHash(sql, { withAuditTimes: false });
  });

  afterAll(async () => {
    await database?.dispose();
    rmSync(reports, { recursive: true, force: true });
  });

  it('the fault-free run has several chunks in every step (so first, middle and last differ)', () => {
    for (const step of BACKFILL_STEPS) expect(reference.chunks[step]).toBeGreaterThanOrEqual(5);
  });

  it.each(SCENARIOS)(
    '$kind $timing in the $position chunk of $step: same end state as a fault-free run',
    async (scenario) => {
      // Prepare
      await reset();
      const before = await unifiedRowKeys(sql);
      const legacyBefore = await legacyChecksums(sql);
      const chunk = chunkAt(scenario.position, reference.chunks[scenario.step]);
      const faulty = new FaultySql(sql, { scenario, chunk, adapter: sql.adapter });

      // Act: the machine retries what it retries; the error it does not retry ends the execution, and the
      // operator starts a fresh one.
      const first = await execute(faulty);
      const fresh = first.status === 'FAILED' ? await execute(sql) : null;

      // Assess
      expect(faulty.struck).toBe(true);
      if (scenario.kind === 'thrown-error') {
        expect(first.status).toBe('FAILED');
        expect(first.error?.name).toBe('Error');
        expect(fresh?.status).toBe('SUCCEEDED');
      } else {
        expect(first.status, JSON.stringify(first.error)).toBe('SUCCEEDED');
        const state = `Backfill${scenario.step[0]?.toUpperCase()}${scenario.step.slice(1)}`;
        expect(first.retries[state]).toBe(1);
      }
      expect(await unifiedNaturalState(sql)).toEqual(reference.natural);
      expect(await unifiedStateHash(sql, { withAuditTimes: false })).toBe(reference.withIds);
      expect(await legacyChecksums(sql)).toEqual(legacyBefore);
      expect(lostUnifiedRows(before, await unifiedRowKeys(sql))).toEqual([]);
      scenariosRun.push(`${scenario.kind}/${scenario.timing}/${scenario.step}/${scenario.position}`);
    },
  );

  // A fault in a Task state itself (before its handler runs) does not depend on the back end: on PGlite.
  it.runIf(backend.name === 'pglite').each(STATE_SCENARIOS)(
    '$kind in Task state $state: same end state as a fault-free run',
    async ({ state, kind }) => {
      // Prepare
      await reset();
      const before = await unifiedRowKeys(sql);
      const legacyBefore = await legacyChecksums(sql);
      const retried = kind !== 'thrown-error';

      // Act
      const first = await execute(sql, [{ state, times: 1, error: () => stateFault(kind, state) }]);
      const fresh = first.status === 'FAILED' ? await execute(sql) : null;

      // Assess
      expect(first.invocations[state]).toBeGreaterThanOrEqual(retried ? 2 : 1);
      if (retried) {
        expect(first.status, JSON.stringify(first.error)).toBe('SUCCEEDED');
        expect(first.retries[state]).toBe(1);
      } else {
        expect(first.status).toBe('FAILED');
        expect(fresh?.status).toBe('SUCCEEDED');
      }
      expect(await unifiedNaturalState(sql)).toEqual(reference.natural);
      expect(await unifiedStateHash(sql, { withAuditTimes: false })).toBe(reference.withIds);
      expect(await legacyChecksums(sql)).toEqual(legacyBefore);
      expect(lostUnifiedRows(before, await unifiedRowKeys(sql))).toEqual([]);
      scenariosRun.push(`${kind}/${state}`);
    },
  );

  it('ran every scenario on this back end', () => {
    const expected = SCENARIOS.length + (backend.name === 'pglite' ? STATE_SCENARIOS.length : 0);
    expect(new Set(scenariosRun).size).toBe(expected);
  });
});
