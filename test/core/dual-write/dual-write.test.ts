import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDualWriteCommand } from '../../../lib/cli/commands/dual-write.ts';
import type { CliIo } from '../../../lib/cli/output.ts';
import { BACKFILL_STEPS, runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import { generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { DUAL_WRITE_TABLES } from '../../../lib/core/dual-write/dual-write.sql.ts';
import {
  dualWriteStatus,
  installDualWrite,
  uninstallDualWrite,
} from '../../../lib/core/dual-write/dual-write.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import type { ValidationReport } from '../../../lib/core/validation/report-schema.ts';
import { validate } from '../../../lib/core/validation/validate.ts';
import { runCliCaptured } from '../../support/cli.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';

/** Dual-write triggers on a backfilled demo database: every legacy write keeps the unified schema in step. */

/** Legacy links that are neither covered nor orphans (e.g. links to blank-named records). */
function uncoveredNonOrphans(report: ValidationReport) {
  const project = report.projectRelationshipCoverage.overall;
  const personnel = report.personnelAffiliationCoverage;
  return {
    project: project.total - project.covered - report.orphans.projectLinks,
    personnel: personnel.total - personnel.covered - report.orphans.personnelLinks,
  };
}

describe.each(realDatabases)('dual write: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;
  let baselineGap: ReturnType<typeof uncoveredNonOrphans>;
  let personId: number;
  let projectId: number;

  const one = async <T>(text: string, params: Record<string, string | number | boolean | null> = {}) =>
    (await sql.query<T & object>(text, params)).rows[0];

  const recordCompany = async (contextType: string, legacyId: number) =>
    (
      await one<{ company_id: number }>(
        `SELECT company_id FROM company_role_assignments WHERE context_type = :ct AND context_id = :id`,
        { ct: contextType, id: legacyId },
      )
    )?.company_id ?? null;

  const company = (companyId: number | null) =>
    one<{ company_name: string; company_type: string | null; notes: string | null; is_mpr_client: boolean }>(
      `SELECT company_name, company_type, notes, is_mpr_client FROM companies WHERE company_id = :id`,
      { id: companyId },
    );

  const syncErrors = async (table: string, legacyId: number) =>
    (
      await sql.query<{ operation: string; message: string; sql_state: string | null }>(
        `SELECT operation, message, sql_state FROM company_migration_sync_errors
          WHERE legacy_table = :table AND legacy_id = :id ORDER BY error_id`,
        { table, id: legacyId },
      )
    ).rows;

  const affiliations = async (companyId: number | null) =>
    (
      await sql.query<{ title: string | null; notes: string | null }>(
        `SELECT title, notes FROM person_company_affiliations
          WHERE person_id = :person AND company_id = :company ORDER BY title NULLS FIRST`,
        { person: personId, company: companyId },
      )
    ).rows;

  const projectAssignment = async (companyId: number | null, roleCode: string) =>
    (
      await sql.query<{ is_confidential: boolean; notes: string | null }>(
        `SELECT a.is_confidential, a.notes FROM company_role_assignments a
           JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = :role
          WHERE a.company_id = :company AND a.context_type = 'Project' AND a.context_id = :project`,
        { company: companyId, role: roleCode, project: projectId },
      )
    ).rows;

  const installedObjects = async () => ({
    triggers: Number(
      (
        await one<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND t.tgname LIKE 'company\\_migration%'`,
        )
      )?.n,
    ),
    functions: Number(
      (
        await one<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = current_schema() AND p.proname LIKE 'company\\_migration%'`,
        )
      )?.n,
    ),
    tables: Number(
      (
        await one<{ n: number }>(
          `SELECT count(*)::int AS n FROM information_schema.tables
            WHERE table_schema = current_schema() AND table_name LIKE 'company\\_migration\\_sync%'`,
        )
      )?.n,
    ),
  });

  const report = () => validate(sql, { runId: 'run-dual-write', stage: 'test' });

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
    await loadDemoData(sql, generateDemoData({ defects: true }));
    for (const step of BACKFILL_STEPS) await runBackfillToEnd(sql, step);
    baselineGap = uncoveredNonOrphans(await report());
    personId = Number((await one<{ id: number }>('SELECT min(personnel_id) AS id FROM personnel'))?.id);
    projectId = Number((await one<{ id: number }>('SELECT min(project_id) AS id FROM projects'))?.id);
  }, 120_000);

  afterAll(async () => {
    await database?.dispose();
  });

  it('status before install reports nothing installed', async () => {
    // Act
    const status = await dualWriteStatus(sql);

    // Assess
    expect(status.installed).toBe(false);
    expect(status.partial).toBe(false);
    expect(status.triggers.every((t) => !t.present)).toBe(true);
    expect(status.errorsTable).toBe(false);
  });

  it('installs every trigger and function; a second install changes nothing', async () => {
    // Act
    await installDualWrite(sql);
    const once = await installedObjects();
    await installDualWrite(sql);
    const twice = await installedObjects();
    const status = await dualWriteStatus(sql);

    // Assess
    expect(once).toEqual({
      triggers: DUAL_WRITE_TABLES.length,
      functions: status.functionsExpected,
      tables: 1,
    });
    expect(twice).toEqual(once);
    expect(status.installed).toBe(true);
    expect(status.syncErrors).toBe(0);
    expect(status.latestError).toBeNull();
  });

  it('a new vendor gets a company and a record assignment', async () => {
    // Act
    await sql.query(
      `INSERT INTO technology_vendors (vendor_id, vendor_name, notes) VALUES (95001, ' DW Alpha Fusion ', 'n1')`,
    );

    // Assess
    const companyId = await recordCompany('VendorRecord', 95001);
    expect(companyId).not.toBeNull();
    expect(await company(companyId)).toEqual({
      company_name: 'DW Alpha Fusion',
      company_type: 'Vendor',
      notes: 'n1',
      is_mpr_client: false,
    });
    expect(await syncErrors('technology_vendors', 95001)).toEqual([]);
  });

  it('a client named like an existing vendor company reuses it, flags it and gets a client profile', async () => {
    // Prepare
    await sql.query(
      `INSERT INTO technology_vendors (vendor_id, vendor_name, notes) VALUES (95002, 'DW Shared Name Co', 'vendor notes')`,
    );
    const vendorCompany = await recordCompany('VendorRecord', 95002);

    // Act
    await sql.query(
      `INSERT INTO clients (client_id, client_name, client_type, notes, client_status, client_priority)
       VALUES (95003, 'DW Shared Name Co', 'Utility', 'client notes', 'Active', 'High')`,
    );

    // Assess
    expect(await recordCompany('ClientRecord', 95003)).toBe(vendorCompany);
    expect(await company(vendorCompany)).toMatchObject({
      company_type: 'Vendor',
      notes: 'vendor notes',
      is_mpr_client: true,
    });
    expect(
      await one(`SELECT client_status, client_priority FROM client_profiles WHERE company_id = :id`, {
        id: vendorCompany,
      }),
    ).toEqual({ client_status: 'Active', client_priority: 'High' });
  });

  it('renaming the only record of a company renames the company', async () => {
    // Act
    await sql.query(`UPDATE technology_vendors SET vendor_name = 'DW Alpha Renamed' WHERE vendor_id = 95001`);

    // Assess
    expect((await company(await recordCompany('VendorRecord', 95001)))?.company_name).toBe(
      'DW Alpha Renamed',
    );
  });

  it('a rename onto another company name records a sync error and the legacy update commits', async () => {
    // Act
    const result = await sql.query(
      `UPDATE technology_vendors SET vendor_name = 'DW Shared Name Co', notes = 'n2' WHERE vendor_id = 95001`,
    );

    // Assess
    expect(result.rowsAffected).toBe(1);
    expect(await one(`SELECT vendor_name FROM technology_vendors WHERE vendor_id = 95001`)).toEqual({
      vendor_name: 'DW Shared Name Co',
    });
    const companyId = await recordCompany('VendorRecord', 95001);
    expect(await company(companyId)).toMatchObject({ company_name: 'DW Alpha Renamed', notes: 'n2' });
    const errors = await syncErrors('technology_vendors', 95001);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.operation).toBe('UPDATE');
    expect(errors[0]?.message).toMatch(/another company/);
  });

  it('a blank-named record records a sync error and nothing else', async () => {
    // Prepare
    const companiesBefore = await one<{ n: number }>('SELECT count(*)::int AS n FROM companies');

    // Act
    await sql.query(`INSERT INTO operators (operator_id, company_name) VALUES (95004, E' \\t ')`);

    // Assess
    expect(await recordCompany('OperatorRecord', 95004)).toBeNull();
    expect(await one('SELECT count(*)::int AS n FROM companies')).toEqual(companiesBefore);
    const errors = await syncErrors('operators', 95004);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/blank name/);
  });

  it('deleting a record removes its assignment, and its company when nothing else uses it', async () => {
    // Prepare
    await sql.query(
      `INSERT INTO constructors (constructor_id, company_name) VALUES (95005, 'DW Short Lived Builders')`,
    );
    const shortLived = await recordCompany('ConstructorRecord', 95005);
    const shared = await recordCompany('ClientRecord', 95003);

    // Act
    await sql.query(`DELETE FROM constructors WHERE constructor_id = 95005`);
    await sql.query(`DELETE FROM clients WHERE client_id = 95003`);

    // Assess
    expect(shortLived).not.toBeNull();
    expect(await recordCompany('ConstructorRecord', 95005)).toBeNull();
    expect(await company(shortLived)).toBeUndefined();
    expect(await recordCompany('ClientRecord', 95003)).toBeNull();
    expect((await company(shared))?.company_name).toBe('DW Shared Name Co');
    expect(await recordCompany('VendorRecord', 95002)).toBe(shared);
  });

  it('personnel links keep one affiliation per (person, company, title), NULL titles included', async () => {
    // Prepare
    // A second vendor record of the same company: the legacy table allows one link per person and entity.
    await sql.query(
      `INSERT INTO technology_vendors (vendor_id, vendor_name) VALUES (95006, 'DW Shared Name Co')`,
    );
    const target = await recordCompany('VendorRecord', 95002);
    const insertLink = (id: number, title: string | null, notes: string, entityId = 95002) =>
      sql.query(
        `INSERT INTO personnel_entity_relationships (relationship_id, personnel_id, entity_type, entity_id, relationship_role, notes)
         VALUES (:id, :person, 'Vendor', :entity, :title, :notes)`,
        { id, person: personId, entity: entityId, title, notes },
      );

    // Act
    await insertLink(95010, null, 'first');
    const afterFirst = await affiliations(target);
    await insertLink(95011, null, 'second', 95006);
    const afterSecond = await affiliations(target);
    await sql.query(
      `UPDATE personnel_entity_relationships SET relationship_role = 'CTO' WHERE relationship_id = 95011`,
    );
    const afterUpdate = await affiliations(target);
    await sql.query(`DELETE FROM personnel_entity_relationships WHERE relationship_id = 95010`);
    const afterDelete = await affiliations(target);
    await insertLink(95012, 'CTO', 'third');
    await sql.query(
      `INSERT INTO personnel_entity_relationships (relationship_id, personnel_id, entity_type, entity_id, relationship_role)
       VALUES (95013, 99999999, 'Vendor', 95002, NULL)`,
    );

    // Assess
    expect(afterFirst).toEqual([{ title: null, notes: 'first' }]);
    expect(afterSecond).toEqual([{ title: null, notes: 'first' }]);
    expect(afterUpdate).toEqual([
      { title: null, notes: 'first' },
      { title: 'CTO', notes: 'second' },
    ]);
    expect(afterDelete).toEqual([{ title: 'CTO', notes: 'second' }]);
    expect(await affiliations(target)).toEqual([{ title: 'CTO', notes: 'second' }]);
    expect(await syncErrors('personnel_entity_relationships', 95013)).toEqual([]);
  });

  it('project links keep one confidential-if-any Project assignment with the lowest link notes', async () => {
    // Prepare
    const target = await recordCompany('VendorRecord', 95002);
    const insertLink = (id: number, confidential: boolean, notes: string) =>
      sql.query(
        `INSERT INTO project_vendor_relationships (relationship_id, project_id, vendor_id, is_confidential, notes)
         VALUES (:id, :project, 95002, :confidential, :notes)`,
        { id, project: projectId, confidential, notes },
      );

    // Act
    await insertLink(95020, false, 'a');
    const afterInsert = await projectAssignment(target, 'vendor');
    await insertLink(95021, false, 'b');
    await sql.query(
      `UPDATE project_vendor_relationships SET is_confidential = true WHERE relationship_id = 95021`,
    );
    const afterUpdate = await projectAssignment(target, 'vendor');
    await sql.query(`DELETE FROM project_vendor_relationships WHERE relationship_id = 95020`);
    const afterFirstDelete = await projectAssignment(target, 'vendor');
    await insertLink(95022, false, 'c');
    await sql.query(`DELETE FROM project_vendor_relationships WHERE relationship_id IN (95021, 95022)`);
    const afterAllDeleted = await projectAssignment(target, 'vendor');
    await insertLink(95023, true, 'kept');

    // Assess
    expect(afterInsert).toEqual([{ is_confidential: false, notes: 'a' }]);
    expect(afterUpdate).toEqual([{ is_confidential: true, notes: 'a' }]);
    expect(afterFirstDelete).toEqual([{ is_confidential: true, notes: 'b' }]);
    expect(afterAllDeleted).toEqual([]);
    expect(await projectAssignment(target, 'vendor')).toEqual([{ is_confidential: true, notes: 'kept' }]);
  });

  it('links written before their record existed map once the record is inserted', async () => {
    // Prepare
    await sql.query(
      `INSERT INTO project_operator_relationships (relationship_id, project_id, operator_id, is_confidential, notes)
       VALUES (95040, :project, 95041, true, 'early link')`,
      { project: projectId },
    );
    await sql.query(
      `INSERT INTO personnel_entity_relationships (relationship_id, personnel_id, entity_type, entity_id, relationship_role, notes)
       VALUES (95042, :person, 'Operator', 95041, 'Plant Manager', 'early person')`,
      { person: personId },
    );

    // Act
    await sql.query(`INSERT INTO operators (operator_id, company_name) VALUES (95041, 'DW Late Operator')`);

    // Assess
    const operatorCompany = await recordCompany('OperatorRecord', 95041);
    expect(operatorCompany).not.toBeNull();
    expect(await projectAssignment(operatorCompany, 'operator')).toEqual([
      { is_confidential: true, notes: 'early link' },
    ]);
    expect(await affiliations(operatorCompany)).toEqual([{ title: 'Plant Manager', notes: 'early person' }]);
  });

  it('validation after all these writes shows every non-orphan link still covered', async () => {
    // Act
    const after = await report();

    // Assess
    expect(uncoveredNonOrphans(after)).toEqual(baselineGap);
    expect(baselineGap).toEqual({ project: 0, personnel: 0 });
    expect(after.orphans.unifiedRows).toBe(0);
    expect(after.issues.map((i) => i.code)).not.toContain('confidentiality-lost');
    expect(after.issues.map((i) => i.code)).not.toContain('missing-companies');
  });

  it('an SQL error inside a trigger is recorded and the legacy write still commits', async () => {
    // Prepare
    await sql.query(
      `ALTER TABLE companies ADD CONSTRAINT dw_test_forbidden CHECK (company_name <> 'DW Forbidden Name')`,
    );

    // Act
    try {
      await sql.query(
        `INSERT INTO technology_vendors (vendor_id, vendor_name) VALUES (95007, 'DW Forbidden Name')`,
      );
    } finally {
      await sql.query('ALTER TABLE companies DROP CONSTRAINT dw_test_forbidden');
    }

    // Assess
    expect(await one('SELECT vendor_name FROM technology_vendors WHERE vendor_id = 95007')).toEqual({
      vendor_name: 'DW Forbidden Name',
    });
    expect(await recordCompany('VendorRecord', 95007)).toBeNull();
    expect(
      await one(`SELECT count(*)::int AS n FROM companies WHERE company_name = 'DW Forbidden Name'`),
    ).toEqual({
      n: 0,
    });
    expect(await syncErrors('technology_vendors', 95007)).toEqual([
      expect.objectContaining({ operation: 'INSERT', sql_state: '23514' }),
    ]);
  });

  it('status counts the sync errors and names the latest', async () => {
    // Act
    const status = await dualWriteStatus(sql);

    // Assess
    expect(status.installed).toBe(true);
    expect(status.syncErrors).toBe(3);
    expect(status.latestError).toMatchObject({
      legacyTable: 'technology_vendors',
      legacyId: 95007,
      operation: 'INSERT',
      sqlState: '23514',
    });
  });

  it('uninstall drops every trigger, function and the sync-errors table; twice is fine; writes no longer sync', async () => {
    // Act
    await uninstallDualWrite(sql, { keepErrors: true });
    const kept = await installedObjects();
    await uninstallDualWrite(sql);
    await uninstallDualWrite(sql);
    const gone = await installedObjects();
    const status = await dualWriteStatus(sql);
    await sql.query(
      `INSERT INTO offtakers (offtaker_id, organization_name) VALUES (95030, 'DW After Uninstall')`,
    );

    // Assess
    expect(kept).toEqual({ triggers: 0, functions: 0, tables: 1 });
    expect(gone).toEqual({ triggers: 0, functions: 0, tables: 0 });
    expect(status).toMatchObject({ installed: false, partial: false, errorsTable: false, syncErrors: 0 });
    expect(await recordCompany('OfftakerRecord', 95030)).toBeNull();
  });
});

describe.each(realDatabases)('dual write with the role_at_entity title column: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql, { personnelTitleColumn: 'role_at_entity' });
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('generates the personnel trigger with the detected title column', async () => {
    // Prepare
    await installDualWrite(sql);
    await sql.query(`INSERT INTO personnel (personnel_id, full_name) VALUES (1, 'Ada Example')`);
    await sql.query(`INSERT INTO clients (client_id, client_name) VALUES (1, 'Example Utility')`);

    // Act
    await sql.query(
      `INSERT INTO personnel_entity_relationships (relationship_id, personnel_id, entity_type, entity_id, role_at_entity)
       VALUES (1, 1, 'Client', 1, 'Buyer'), (2, 1, 'Client', 2, NULL)`,
    );
    await sql.query(`INSERT INTO clients (client_id, client_name) VALUES (2, 'Example Utility')`);

    // Assess
    const { rows } = await sql.query(
      `SELECT f.title, c.company_name, c.is_mpr_client FROM person_company_affiliations f
         JOIN companies c ON c.company_id = f.company_id ORDER BY f.title NULLS FIRST`,
    );
    expect(rows).toEqual([
      { title: null, company_name: 'Example Utility', is_mpr_client: true },
      { title: 'Buyer', company_name: 'Example Utility', is_mpr_client: true },
    ]);
    expect((await dualWriteStatus(sql)).syncErrors).toBe(0);
  });
});

describe('company-migration dual-write (CLI)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'company-migration-dual-write-'));
  const dataDir = join(scratch, 'db');
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** The command on a program of its own: the lead wires it into lib/cli/program.ts. */
  async function dualWriteCli(args: string[]): Promise<string> {
    let stdout = '';
    const io: CliIo = {
      stdout: (text) => {
        stdout += text;
      },
      stderr: () => {},
      env: {},
      interactive: false,
    };
    const program = new Command().exitOverride();
    registerDualWriteCommand(program, io);
    await program.parseAsync(['dual-write', ...args, '--data-dir', dataDir], { from: 'user' });
    return stdout;
  }

  beforeAll(async () => {
    expect((await runCliCaptured(['db', 'init', '--demo', '--data-dir', dataDir])).code).toBe(0);
  }, 60_000);

  it('installs, reports status, and uninstalls', async () => {
    // Act
    const before = JSON.parse(await dualWriteCli(['status', '--json']));
    const installed = await dualWriteCli(['install']);
    const status = await dualWriteCli(['status']);
    const statusJson = JSON.parse(await dualWriteCli(['status', '--json']));
    const uninstalled = JSON.parse(await dualWriteCli(['uninstall', '--keep-errors', '--json']));
    const after = JSON.parse(await dualWriteCli(['status', '--json']));

    // Assess
    expect(before).toMatchObject({ installed: false, partial: false, errorsTable: false });
    expect(installed).toMatch(/dual write installed .* 13 triggers/);
    expect(status).toMatch(/: installed\n/);
    expect(status).toMatch(/sync errors: 0/);
    expect(statusJson).toMatchObject({ installed: true, syncErrors: 0 });
    expect(uninstalled).toMatchObject({ uninstalled: true, keptErrors: true });
    expect(after).toMatchObject({ installed: false, partial: false, errorsTable: true });
  }, 60_000);
});
