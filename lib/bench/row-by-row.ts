import { ROLE_MAPPINGS, trimmedNameSql } from '../core/mapping/roles.ts';
import { CLIENT_PROFILE_FIELDS } from '../core/schema/unified.sql.ts';
import type { SqlClient, SqlSession } from '../core/sql/types.ts';

/**
 * The row-by-row approach of the plan's scripts, as its ORM runs it: iterate the legacy rows and, for
 * each one, look the role up, look the existing assignment up, look the company up by name, insert
 * what is missing, and flush (commit) — one transaction and several round trips per legacy row.
 * Implemented here only to measure it; it produces the same end state as our backfill (the benchmark
 * checks that before it reports a figure).
 */

export interface RowByRowResult {
  legacyRows: number;
  statements: number;
  elapsedMs: number;
}

type Row = Record<string, unknown>;

async function roleId(tx: SqlSession, code: string): Promise<number> {
  const { rows } = await tx.query<{ role_id: number }>(
    'SELECT role_id FROM company_roles WHERE role_code = :code',
    { code },
  );
  return Number(rows[0]?.role_id);
}

async function companyByName(tx: SqlSession, name: string): Promise<Row | undefined> {
  const { rows } = await tx.query('SELECT * FROM companies WHERE company_name = :name', { name });
  return rows[0];
}

export async function runRowByRow(sql: SqlClient): Promise<RowByRowResult> {
  const started = performance.now();
  const before = sql.statementsIssued;
  let legacyRows = 0;

  for (const role of ROLE_MAPPINGS) {
    await sql.transaction(async (tx) => {
      const exists = await tx.query('SELECT role_id FROM company_roles WHERE role_code = :code', {
        code: role.code,
      });
      if (exists.rows.length === 0)
        await tx.query(
          'INSERT INTO company_roles (role_code, role_label, is_active) VALUES (:code, :label, true)',
          { code: role.code, label: role.label },
        );
    });
  }

  // R2–R4: companies, record assignments, client flags and profiles.
  for (const role of ROLE_MAPPINGS) {
    const { rows: records } = await sql.query<Row & { legacy_id: number; name: string }>(
      `SELECT l.*, l.${role.idColumn} AS legacy_id, ${trimmedNameSql(`l.${role.nameColumn}`)} AS name,
              ${role.companyTypeSql} AS derived_type
         FROM ${role.legacyTable} l ORDER BY l.${role.idColumn}`,
    );
    for (const record of records) {
      legacyRows++;
      if (record.name === '') continue;
      await sql.transaction(async (tx) => {
        const rid = await roleId(tx, role.code);
        const existing = await tx.query(
          `SELECT assignment_id FROM company_role_assignments
            WHERE role_id = :rid AND context_type = :ctx AND context_id = :id`,
          { rid, ctx: role.recordContextType, id: record.legacy_id },
        );
        if (existing.rows.length > 0) return;
        let company = await companyByName(tx, record.name);
        if (!company) {
          const inserted = await tx.query(
            `INSERT INTO companies (company_name, company_type, notes, is_mpr_client, is_internal)
             VALUES (:name, :type, :notes, :client, false) RETURNING *`,
            {
              name: record.name,
              type: (record.derived_type as string | null) ?? null,
              notes: (record.notes as string | null) ?? null,
              client: role.code === 'client',
            },
          );
          company = inserted.rows[0];
        } else if (role.code === 'client' && !company.is_mpr_client) {
          await tx.query('UPDATE companies SET is_mpr_client = true WHERE company_id = :id', {
            id: Number(company.company_id),
          });
        }
        const companyId = Number(company?.company_id);
        await tx.query(
          `INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id, is_primary, is_confidential)
           VALUES (:companyId, :rid, :ctx, :id, true, false)`,
          { companyId, rid, ctx: role.recordContextType, id: record.legacy_id },
        );
        if (role.code === 'client') {
          const profile = await tx.query(
            'SELECT company_id FROM client_profiles WHERE company_id = :companyId',
            {
              companyId,
            },
          );
          if (profile.rows.length === 0) {
            const values: Record<string, string | number | null> = { companyId };
            for (const f of CLIENT_PROFILE_FIELDS) values[f] = (record[f] as string | number | null) ?? null;
            await tx.query(
              `INSERT INTO client_profiles (company_id, ${CLIENT_PROFILE_FIELDS.join(', ')})
               VALUES (:companyId, ${CLIENT_PROFILE_FIELDS.map((f) =>
                 f.endsWith('_date') ? `CAST(:${f} AS date)` : `:${f}`,
               ).join(', ')})`,
              values,
            );
          }
        }
      });
    }
  }

  // R5: personnel links.
  const byEntityType = new Map(
    ROLE_MAPPINGS.flatMap((role) => role.personnelEntityTypes.map((t) => [t, role] as const)),
  );
  const { rows: links } = await sql.query<Row>(
    'SELECT * FROM personnel_entity_relationships ORDER BY relationship_id',
  );
  for (const link of links) {
    legacyRows++;
    const role = byEntityType.get(String(link.entity_type));
    if (!role) continue;
    await sql.transaction(async (tx) => {
      const person = await tx.query('SELECT personnel_id FROM personnel WHERE personnel_id = :id', {
        id: Number(link.personnel_id),
      });
      if (person.rows.length === 0) return;
      const entity = await tx.query<{ name: string }>(
        `SELECT ${trimmedNameSql(role.nameColumn)} AS name FROM ${role.legacyTable} WHERE ${role.idColumn} = :id`,
        { id: Number(link.entity_id) },
      );
      const name = entity.rows[0]?.name;
      if (!name) return;
      const company = await companyByName(tx, name);
      if (!company) return;
      const title = (link.relationship_role as string | null) ?? null;
      const existing = await tx.query(
        `SELECT affiliation_id FROM person_company_affiliations
          WHERE person_id = :person AND company_id = :company AND title IS NOT DISTINCT FROM CAST(:title AS text)`,
        { person: Number(link.personnel_id), company: Number(company.company_id), title },
      );
      if (existing.rows.length > 0) return;
      await tx.query(
        `INSERT INTO person_company_affiliations (person_id, company_id, title, notes, is_primary)
         VALUES (:person, :company, :title, :notes, false)`,
        {
          person: Number(link.personnel_id),
          company: Number(company.company_id),
          title,
          notes: (link.notes as string | null) ?? null,
        },
      );
    });
  }

  // R6: project links.
  for (const role of ROLE_MAPPINGS) {
    const { rows: projectLinks } = await sql.query<Row>(
      `SELECT * FROM ${role.projectLinkTable} ORDER BY relationship_id`,
    );
    for (const link of projectLinks) {
      legacyRows++;
      await sql.transaction(async (tx) => {
        const project = await tx.query('SELECT project_id FROM projects WHERE project_id = :id', {
          id: Number(link.project_id),
        });
        if (project.rows.length === 0) return;
        const entity = await tx.query<{ name: string }>(
          `SELECT ${trimmedNameSql(role.nameColumn)} AS name FROM ${role.legacyTable} WHERE ${role.idColumn} = :id`,
          { id: Number(link[role.projectLinkEntityColumn]) },
        );
        const name = entity.rows[0]?.name;
        if (!name) return;
        const company = await companyByName(tx, name);
        if (!company) return;
        const rid = await roleId(tx, role.code);
        const existing = await tx.query<{ assignment_id: number; is_confidential: boolean }>(
          `SELECT assignment_id, is_confidential FROM company_role_assignments
            WHERE company_id = :company AND role_id = :rid AND context_type = 'Project' AND context_id = :project`,
          { company: Number(company.company_id), rid, project: Number(link.project_id) },
        );
        const current = existing.rows[0];
        if (!current) {
          await tx.query(
            `INSERT INTO company_role_assignments
                    (company_id, role_id, context_type, context_id, is_primary, is_confidential, notes)
             VALUES (:company, :rid, 'Project', :project, false, :confidential, :notes)`,
            {
              company: Number(company.company_id),
              rid,
              project: Number(link.project_id),
              confidential: Boolean(link.is_confidential),
              notes: (link.notes as string | null) ?? null,
            },
          );
        } else if (link.is_confidential && !current.is_confidential) {
          await tx.query(
            'UPDATE company_role_assignments SET is_confidential = true WHERE assignment_id = :id',
            {
              id: Number(current.assignment_id),
            },
          );
        }
      });
    }
  }

  return { legacyRows, statements: sql.statementsIssued - before, elapsedMs: performance.now() - started };
}
