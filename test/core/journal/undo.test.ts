import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_STEPS, type BackfillRequest, runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import type { DemoOptions } from '../../../lib/core/demo/generate.ts';
import {
  ensureJournal,
  JOURNAL_TABLE,
  JOURNALED_TABLES,
  type JournaledTable,
  journalCte,
  journalReturning,
  RUNS_TABLE,
  registerRun,
} from '../../../lib/core/journal/schema.ts';
import { UndoInputError, undoRun } from '../../../lib/core/journal/undo.ts';
import { combineUndoResults, type UndoResult } from '../../../lib/core/journal/undo-contract.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';
import { resetToDemo as resetDemo } from '../../support/demo-reset.ts';
import { legacyStateHash, unifiedStateHash } from '../../support/unified-state.ts';

/** Issue 8: a run's journal, and an undo that reverses exactly that run. */

describe.each(realDatabases)('undo of a backfill run: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  async function resetToDemo(options: DemoOptions = { defects: true }): Promise<void> {
    await ensureJournal(sql);
    await resetDemo(sql, options, [JOURNAL_TABLE, RUNS_TABLE]);
  }

  async function backfillAll(request: BackfillRequest): Promise<void> {
    for (const step of BACKFILL_STEPS) await runBackfillToEnd(sql, step, request);
  }

  /** Every unified row, and the journal: what a dry run must leave as it found it. */
  async function everythingHash(): Promise<string> {
    const { rows } = await sql.query<{ h: string }>(
      `SELECT md5(coalesce(string_agg(to_jsonb(j)::text, '|' ORDER BY entry_id), '')) AS h FROM ${JOURNAL_TABLE} j`,
    );
    return `${await unifiedStateHash(sql)}|journal:${rows[0]?.h}`;
  }

  /** Calls undo until it is done, as the state machine's loop does. */
  async function undoToEnd(request: Parameters<typeof undoRun>[1]): Promise<UndoResult> {
    const results: UndoResult[] = [];
    for (let call = 0; call < 1_000; call++) {
      const result = await undoRun(sql, request);
      results.push(result);
      if (result.status !== 'in-progress') return combineUndoResults(results);
    }
    throw new Error('undo did not finish');
  }

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('returns the unified tables to their exact earlier state, ids and audit times included (demo data with pre-existing unified rows)', async () => {
    // Prepare
    await resetToDemo();
    const before = await unifiedStateHash(sql);
    const legacyBefore = await legacyStateHash(sql);
    await backfillAll({ runId: 'run-demo', chunkSize: 41 });
    expect(await unifiedStateHash(sql)).not.toBe(before);

    // Act
    const result = await undoToEnd({ runId: 'run-demo', chunkSize: 50 });

    // Assess
    expect(await unifiedStateHash(sql)).toBe(before);
    expect(await legacyStateHash(sql)).toBe(legacyBefore);
    expect(result.status).toBe('undone');
    expect(result.totals.restored).toBeGreaterThan(0); // the demo's dual-write rows were updated by the run
    expect(result.totals.deleted).toBeGreaterThan(0);
    expect(result.totals.keptChanged + result.totals.keptDependent + result.totals.gone).toBe(0);
  });

  it('undoes only the later of two runs, leaving the first run’s rows as they were', async () => {
    // Prepare
    await resetToDemo({ defects: false });
    await backfillAll({ runId: 'run-first' });
    const afterFirst = await unifiedStateHash(sql);
    await sql.runScript(`
      UPDATE technology_vendors SET notes = 'changed before the second run' WHERE vendor_id = (SELECT min(vendor_id) FROM technology_vendors);
      INSERT INTO technology_vendors (vendor_id, vendor_name, notes) VALUES (90001, 'Newcomer Fusion Systems', 'added later');
      INSERT INTO project_vendor_relationships (relationship_id, project_id, vendor_id, is_confidential, notes)
        SELECT 90003, min(project_id), 90001, true, 'new link' FROM projects;`);
    await backfillAll({ runId: 'run-second' });

    // Act
    const result = await undoToEnd({ runId: 'run-second' });

    // Assess
    expect(await unifiedStateHash(sql)).toBe(afterFirst);
    expect(result.totals).toMatchObject({ deleted: 3, restored: 1, keptChanged: 0 });
  });

  it('gives the affiliations and project assignments a later run updated their earlier values back', async () => {
    // Prepare: the second run updates link rows the first one wrote (upsert and update, journaled)
    await resetToDemo({ defects: false });
    await backfillAll({ runId: 'run-first' });
    const afterFirst = await unifiedStateHash(sql);
    await sql.runScript(`
      UPDATE personnel_entity_relationships SET notes = 'changed before the second run';
      UPDATE project_vendor_relationships SET notes = 'changed before the second run', is_confidential = true;`);
    await backfillAll({ runId: 'run-second' });
    const { rows: updates } = await sql.query<{ table_name: string; n: number; with_before: number }>(
      `SELECT table_name, count(*)::int AS n, count(before)::int AS with_before FROM ${JOURNAL_TABLE}
        WHERE run_id = 'run-second' AND op = 'update' GROUP BY table_name ORDER BY table_name`,
    );

    // Act
    const result = await undoToEnd({ runId: 'run-second' });

    // Assess
    expect(updates.map((u) => u.table_name)).toEqual([
      'company_role_assignments',
      'person_company_affiliations',
    ]);
    for (const u of updates) expect(u.with_before).toBe(u.n);
    expect(await unifiedStateHash(sql)).toBe(afterFirst);
    expect(result.totals.restored).toBe(updates.reduce((sum, u) => sum + u.n, 0));
  });

  it('keeps the application’s writes made after the run, and says which of the run’s rows it left', async () => {
    // Prepare
    await resetToDemo();
    const before = await unifiedStateHash(sql);
    await backfillAll({ runId: 'run-busy' });
    const { rows: created } = await sql.query<{ company_id: number; company_name: string }>(
      `SELECT co.company_id, co.company_name FROM companies co
        WHERE co.company_id IN (SELECT row_key FROM ${JOURNAL_TABLE} WHERE run_id = 'run-busy'
                                   AND table_name = 'companies' AND op = 'insert')
          AND NOT EXISTS (SELECT 1 FROM client_profiles p WHERE p.company_id = co.company_id)
        ORDER BY co.company_id LIMIT 1`,
    );
    const renamed = created[0];
    if (!renamed) throw new Error('the demo run created no company');
    await sql.runScript(`
      INSERT INTO companies (company_name, company_type) VALUES ('Written By The Application', 'Vendor');
      UPDATE companies SET company_name = 'Renamed By The Application' WHERE company_id = ${renamed.company_id};`);
    const applicationRows = await sql.query(
      `SELECT * FROM companies WHERE company_name IN ('Written By The Application', 'Renamed By The Application')
        ORDER BY company_id`,
    );

    // Act
    const result = await undoToEnd({ runId: 'run-busy' });

    // Assess
    const after = await sql.query(
      `SELECT * FROM companies WHERE company_name IN ('Written By The Application', 'Renamed By The Application')
        ORDER BY company_id`,
    );
    expect(after.rows).toHaveLength(2);
    expect(after.rows).toEqual(applicationRows.rows);
    expect(result.totals.keptChanged).toBe(1);
    expect(result.changedSince.sample).toEqual([
      { table: 'companies', id: renamed.company_id, runDid: 'insert' },
    ]);
    // Everything else the run wrote is gone: without the two application rows the state is the earlier one.
    await sql.query(
      `DELETE FROM companies WHERE company_name IN ('Written By The Application', 'Renamed By The Application')`,
    );
    expect(await unifiedStateHash(sql)).toBe(before);
  });

  it('keeps a row the application rewrote with the values it already had: its version moved', async () => {
    // Prepare
    await resetToDemo();
    await backfillAll({ runId: 'run-touched' });
    const { rows } = await sql.query<{ id: number }>(
      `SELECT min(row_key)::int AS id FROM ${JOURNAL_TABLE}
        WHERE run_id = 'run-touched' AND table_name = 'companies' AND op = 'insert'`,
    );
    const touched = Number(rows[0]?.id);
    await sql.query(`UPDATE companies SET company_name = company_name WHERE company_id = :id`, {
      id: touched,
    });

    // Act
    const result = await undoToEnd({ runId: 'run-touched' });

    // Assess
    expect(result.totals.keptChanged).toBe(1);
    expect(result.changedSince.sample).toEqual([{ table: 'companies', id: touched, runDid: 'insert' }]);
  });

  it('compares entries an earlier journal recorded as md5 hashes of the row by content', async () => {
    // Prepare: a run journaled as before row versions existed (after_hash = md5 of the row's JSON)
    await resetToDemo();
    const before = await unifiedStateHash(sql);
    await backfillAll({ runId: 'run-md5' });
    for (const { table, key } of JOURNALED_TABLES)
      await sql.query(
        `UPDATE ${JOURNAL_TABLE} j SET after_hash = md5(to_jsonb(t)::text) FROM ${table} t
          WHERE j.run_id = 'run-md5' AND j.table_name = '${table}' AND j.after_hash IS NOT NULL
            AND t.${key} = j.row_key`,
      );
    const { rows } = await sql.query<{ id: number }>(
      `SELECT min(row_key)::int AS id FROM ${JOURNAL_TABLE}
        WHERE run_id = 'run-md5' AND table_name = 'companies' AND op = 'insert'`,
    );
    const renamed = Number(rows[0]?.id);
    await sql.query(`UPDATE companies SET notes = 'changed since' WHERE company_id = :id`, { id: renamed });
    const touched = Number(
      (
        await sql.query<{ id: number }>(
          `SELECT max(row_key)::int AS id FROM ${JOURNAL_TABLE}
            WHERE run_id = 'run-md5' AND table_name = 'companies' AND op = 'insert'`,
        )
      ).rows[0]?.id,
    );
    await sql.query(`UPDATE companies SET company_name = company_name WHERE company_id = :id`, {
      id: touched,
    });

    // Act
    const result = await undoToEnd({ runId: 'run-md5' });

    // Assess: the renamed row stays; the one rewritten with its own values is as the run left it, so it goes
    expect(result.totals.keptChanged).toBe(1);
    expect(result.changedSince.sample).toEqual([{ table: 'companies', id: renamed, runDid: 'insert' }]);
    await sql.query(`DELETE FROM companies WHERE company_id = :id`, { id: renamed });
    expect(await unifiedStateHash(sql)).toBe(before);
  });

  it('stops with a report naming the later rows that depend on what it would remove, and writes nothing', async () => {
    // Prepare
    await resetToDemo();
    await backfillAll({ runId: 'run-linked' });
    const { rows } = await sql.query<{ company_id: number; role_id: number }>(
      `SELECT co.company_id, (SELECT min(role_id) FROM company_roles) AS role_id FROM companies co
        WHERE co.company_id = (SELECT min(row_key) FROM ${JOURNAL_TABLE}
                                WHERE run_id = 'run-linked' AND table_name = 'companies' AND op = 'insert')`,
    );
    const target = rows[0];
    if (!target) throw new Error('the demo run created no company');
    const { rows: added } = await sql.query<{ assignment_id: number }>(
      `INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id)
       VALUES (:company, :role, 'Project', 424242) RETURNING assignment_id`,
      { company: target.company_id, role: target.role_id },
    );
    const stateBefore = await everythingHash();

    // Act
    const stopped = await undoRun(sql, { runId: 'run-linked' });

    // Assess
    expect(stopped.status).toBe('stopped');
    expect(stopped.done).toBe(false);
    expect(stopped.dependents.count).toBe(1);
    expect(stopped.dependents.sample).toEqual([
      {
        table: 'company_role_assignments',
        id: String(added[0]?.assignment_id),
        column: 'company_id',
        references: 'companies',
        referencedId: target.company_id,
      },
    ]);
    expect(await everythingHash()).toBe(stateBefore);
  });

  it('keeps the depended-on rows when told to, and undoes the rest', async () => {
    // Prepare
    await resetToDemo();
    await backfillAll({ runId: 'run-keep' });
    const { rows } = await sql.query<{ company_id: number }>(
      `SELECT min(row_key)::int AS company_id FROM ${JOURNAL_TABLE}
        WHERE run_id = 'run-keep' AND table_name = 'companies' AND op = 'insert'`,
    );
    const companyId = rows[0]?.company_id;
    await sql.query(
      `INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id)
       SELECT :company, min(role_id), 'Project', 424242 FROM company_roles`,
      { company: companyId ?? null },
    );

    // Act
    const result = await undoToEnd({ runId: 'run-keep', keepDependents: true });

    // Assess
    expect(result.status).toBe('undone');
    expect(result.totals.keptDependent).toBeGreaterThanOrEqual(1);
    const kept = await sql.query(`SELECT 1 FROM companies WHERE company_id = :id`, { id: companyId ?? null });
    expect(kept.rows).toHaveLength(1);
    const leftFromRun = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM company_role_assignments a
        WHERE a.assignment_id IN (SELECT row_key FROM ${JOURNAL_TABLE} WHERE run_id = 'run-keep'
                                     AND table_name = 'company_role_assignments' AND op = 'insert')`,
    );
    expect(leftFromRun.rows[0]?.n).toBe(0);
  });

  it('is idempotent: undo twice equals undo once, and the second says it had nothing left', async () => {
    // Prepare
    await resetToDemo();
    await backfillAll({ runId: 'run-twice' });
    const first = await undoToEnd({ runId: 'run-twice' });
    const afterOnce = await everythingHash();

    // Act
    const second = await undoToEnd({ runId: 'run-twice' });

    // Assess
    expect(await everythingHash()).toBe(afterOnce);
    expect(second.status).toBe('undone');
    expect(Object.values(second.totals).every((n) => n === 0)).toBe(true);
    expect(second.alreadyUndone).toBeGreaterThan(0);
    expect(first.totals.deleted).toBeGreaterThan(0);
  });

  it('a dry run writes nothing and predicts exactly what the undo then does', async () => {
    // Prepare
    await resetToDemo();
    await backfillAll({ runId: 'run-dry' });
    const stateBefore = await everythingHash();

    // Act
    const planned = await undoRun(sql, { runId: 'run-dry', dryRun: true });
    const stateAfterDryRun = await everythingHash();
    const done = await undoToEnd({ runId: 'run-dry', chunkSize: 7 });

    // Assess
    expect(stateAfterDryRun).toBe(stateBefore);
    expect(planned.status).toBe('planned');
    expect(planned.tables).toEqual(done.tables);
    expect(done.chunks).toBeGreaterThan(10);
  });

  it('resumes from where the time budget stopped it and ends as one call would', async () => {
    // Prepare
    await resetToDemo();
    const before = await unifiedStateHash(sql);
    await backfillAll({ runId: 'run-budget' });

    // Act
    const first = await undoRun(sql, { runId: 'run-budget', chunkSize: 10, timeBudgetMs: 0 });
    const rest = await undoToEnd({ runId: 'run-budget', chunkSize: 10, timeBudgetMs: 0 });

    // Assess
    expect(first.status).toBe('in-progress');
    expect(first.chunks).toBe(1);
    expect(rest.status).toBe('undone');
    expect(await unifiedStateHash(sql)).toBe(before);
  });

  it('refuses a run the journal does not know, with a clear error', async () => {
    // Prepare
    await resetToDemo();

    // Act
    const undoing = undoRun(sql, { runId: 'run-never-ran' });

    // Assess
    await expect(undoing).rejects.toThrow(UndoInputError);
    await expect(undoRun(sql, { runId: 'run-never-ran' })).rejects.toThrow(
      'run run-never-ran is not in the journal',
    );
  });

  /** A statement of run `runId` writing `table` as a journaled write: `write` is a data-modifying CTE body. */
  async function journaled(
    runId: string,
    table: JournaledTable,
    op: Parameters<typeof journalReturning>[2],
    write: string,
    params: Record<string, number> = {},
  ): Promise<number> {
    const alias = 't';
    const { rows } = await sql.query<{ n: number }>(
      `WITH written AS (${write} RETURNING ${journalReturning(table, alias, op)}),
       ${journalCte('written', table)}
       SELECT count(*)::int AS n FROM written`,
      { ...params, journal_run_id: runId, journal_step: 'test' },
    );
    return rows[0]?.n ?? 0;
  }

  it('puts back the rows a run deleted, parents before children, with their keys and values; an update then a delete restores the first before-image, an insert then a delete leaves nothing', async () => {
    // Prepare: a company with a client profile and an affiliation, after a backfill.
    await resetToDemo();
    await backfillAll({ runId: 'run-before' });
    const { rows } = await sql.query<{ company_id: number }>(
      `SELECT min(p.company_id)::int AS company_id FROM client_profiles p
        WHERE EXISTS (SELECT 1 FROM person_company_affiliations f WHERE f.company_id = p.company_id)`,
    );
    const company = rows[0]?.company_id;
    if (!company) throw new Error('the demo has no company with a profile and an affiliation');
    const before = await unifiedStateHash(sql);
    const runId = 'run-deletes';
    await registerRun(sql, runId);
    const p = { company };
    const updated = await journaled(
      runId,
      'company_role_assignments',
      'update',
      `UPDATE company_role_assignments t SET notes = 'changed, then deleted', modified_date = now()
        WHERE t.company_id = :company`,
      p,
    );
    const inserted = await journaled(
      runId,
      'company_role_assignments',
      'insert',
      `INSERT INTO company_role_assignments AS t (company_id, role_id, context_type, context_id)
       SELECT :company, min(role_id), 'Project', 424242 FROM company_roles`,
      p,
    );
    const deleted = [
      await journaled(
        runId,
        'person_company_affiliations',
        'delete',
        'DELETE FROM person_company_affiliations t WHERE t.company_id = :company',
        p,
      ),
      await journaled(
        runId,
        'client_profiles',
        'delete',
        'DELETE FROM client_profiles t WHERE t.company_id = :company',
        p,
      ),
      await journaled(
        runId,
        'company_role_assignments',
        'delete',
        'DELETE FROM company_role_assignments t WHERE t.company_id = :company',
        p,
      ),
      await journaled(
        runId,
        'companies',
        'delete',
        'DELETE FROM companies t WHERE t.company_id = :company',
        p,
      ),
    ];
    expect(await unifiedStateHash(sql)).not.toBe(before);
    // Undo leaves sequences where the run left them: rows go back with their own keys.
    const sequences = await sql.query(
      `SELECT (SELECT last_value FROM companies_company_id_seq) AS companies,
              (SELECT last_value FROM company_role_assignments_assignment_id_seq) AS assignments`,
    );

    // Act
    const planned = await undoRun(sql, { runId, dryRun: true });
    const undone = await undoToEnd({ runId, chunkSize: 1 });

    // Assess
    expect(await unifiedStateHash(sql)).toBe(before);
    expect(
      await sql.query(
        `SELECT (SELECT last_value FROM companies_company_id_seq) AS companies,
                (SELECT last_value FROM company_role_assignments_assignment_id_seq) AS assignments`,
      ),
    ).toEqual(sequences);
    expect(updated).toBeGreaterThan(0);
    const [affiliations = 0, profiles = 0, assignments = 0, companies = 0] = deleted;
    expect(undone.tables).toMatchObject({
      person_company_affiliations: { reinserted: affiliations },
      client_profiles: { reinserted: profiles },
      // The inserted-then-deleted assignment left nothing to undo.
      company_role_assignments: { reinserted: assignments - inserted, gone: inserted, restored: 0 },
      companies: { reinserted: companies },
    });
    expect(profiles + companies).toBe(2);
    expect(planned.tables).toEqual(undone.tables);
  });

  it('lets a journal created before deletes existed take them, keeping its entries', async () => {
    // Prepare: the journal as the first release created it, with one entry.
    await sql.runScript(`
      DROP TABLE ${JOURNAL_TABLE};
      CREATE TABLE ${JOURNAL_TABLE} (
        entry_id bigserial PRIMARY KEY, run_id text NOT NULL, step text NOT NULL, table_name text NOT NULL,
        op text NOT NULL CHECK (op IN ('insert', 'update')), row_key bigint NOT NULL, after_hash text NOT NULL,
        before jsonb, recorded_at timestamptz NOT NULL DEFAULT now(), undone_at timestamptz, undo_outcome text);
      INSERT INTO ${JOURNAL_TABLE} (run_id, step, table_name, op, row_key, after_hash)
        VALUES ('run-old', 'companies', 'companies', 'insert', 1, 'h');`);
    const refused = await sql
      .query(
        `INSERT INTO ${JOURNAL_TABLE} (run_id, step, table_name, op, row_key) VALUES ('run-new', 'merge', 'companies', 'delete', 1)`,
      )
      .then(
        () => 'accepted',
        () => 'refused',
      );

    // Act
    await ensureJournal(sql);
    await ensureJournal(sql);
    await sql.query(
      `INSERT INTO ${JOURNAL_TABLE} (run_id, step, table_name, op, row_key) VALUES ('run-new', 'merge', 'companies', 'delete', 1)`,
    );

    // Assess
    expect(refused).toBe('refused');
    const { rows } = await sql.query(`SELECT run_id, op, after_hash FROM ${JOURNAL_TABLE} ORDER BY entry_id`);
    expect(rows).toEqual([
      { run_id: 'run-old', op: 'insert', after_hash: 'h' },
      { run_id: 'run-new', op: 'delete', after_hash: null },
    ]);
    const bogus = await sql
      .query(
        `INSERT INTO ${JOURNAL_TABLE} (run_id, step, table_name, op, row_key) VALUES ('run-x', 'x', 'companies', 'upsert', 1)`,
      )
      .then(
        () => 'accepted',
        () => 'refused',
      );
    expect(bogus).toBe('refused');
  });

  it('journals nothing in a dry run of the backfill', async () => {
    // Prepare
    await resetToDemo();

    // Act
    await backfillAll({ runId: 'run-dry-backfill', dryRun: true });

    // Assess
    const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${JOURNAL_TABLE}`);
    expect(rows[0]?.n).toBe(0);
  });
});
