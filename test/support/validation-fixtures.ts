/**
 * Helpers for the validation check tests: hand-built legacy and unified rows that are consistent with
 * the mapping rules (so a fixture shows only the defect a test plants), the unified foreign keys dropped
 * and restored around a test, and the report sections' empty values.
 */

import type { DemoTable } from '../../lib/core/demo/generate.ts';
import { type RoleCode, roleMapping } from '../../lib/core/mapping/roles.ts';
import type { SqlSession } from '../../lib/core/sql/types.ts';
import { ROLE_KEYS, type RoleKey } from '../../lib/core/validation/report-schema.ts';
import type { Fixture, Row } from './backfill-fixtures.ts';

/** Role ids deliberately out of ROLE_MAPPINGS order: the checks must look roles up by their code. */
export const ROLE_IDS: Readonly<Record<RoleKey, number>> = {
  vendor: 16,
  developer: 15,
  client: 14,
  operator: 13,
  constructor: 12,
  offtaker: 11,
};

/** company_roles with every role the mapping needs, except `without`. */
export function roleRows(without: readonly RoleKey[] = []): Row[] {
  return ROLE_KEYS.filter((role) => !without.includes(role)).map((role) => ({
    role_id: ROLE_IDS[role],
    role_code: role,
    role_label: roleMapping(role).label,
  }));
}

/** The company_type R3 gives a company from a legacy row of `role` whose type column is NULL. */
const DEFAULT_COMPANY_TYPE: Readonly<Record<RoleKey, string>> = {
  vendor: 'Vendor',
  developer: 'Owner/Developer',
  client: 'Client',
  operator: 'Operator',
  constructor: 'Constructor',
  offtaker: 'Off-taker',
};

/** Concatenates the rows of several fixtures, table by table. */
export function merge(...parts: Fixture[]): Fixture {
  const merged: Fixture = {};
  for (const part of parts) {
    for (const [table, rows] of Object.entries(part) as [DemoTable, Row[]][]) {
      merged[table] = [...(merged[table] ?? []), ...rows];
    }
  }
  return merged;
}

/** A legacy company row of `role`. */
export function legacyRecord(role: RoleCode, id: number, name: string, extra: Row = {}): Fixture {
  const mapping = roleMapping(role);
  return { [mapping.legacyTable]: [{ [mapping.idColumn]: id, [mapping.nameColumn]: name, ...extra }] };
}

export interface AssignmentSpec {
  id: number;
  company: number;
  role: RoleKey;
  contextType: string;
  contextId: number | null;
  confidential?: boolean;
  notes?: string | null;
}

export function assignment(spec: AssignmentSpec): Row {
  return {
    assignment_id: spec.id,
    company_id: spec.company,
    role_id: ROLE_IDS[spec.role],
    context_type: spec.contextType,
    context_id: spec.contextId,
    is_confidential: spec.confidential ?? false,
    notes: spec.notes ?? null,
  };
}

/** The record assignment tying legacy row `legacyId` of `role` to `company`. */
export function recordAssignment(id: number, company: number, role: RoleKey, legacyId: number): Row {
  return assignment({
    id,
    company,
    role,
    contextType: roleMapping(role).recordContextType,
    contextId: legacyId,
  });
}

/** The 'Project' assignment of `company` in `role` on `project`. */
export function projectAssignment(
  id: number,
  company: number,
  role: RoleKey,
  project: number,
  extra: Partial<AssignmentSpec> = {},
): Row {
  return assignment({ id, company, role, contextType: 'Project', contextId: project, ...extra });
}

export interface MappedRecordSpec {
  role: RoleKey;
  /** The legacy row's id. */
  id: number;
  company: number;
  name: string;
  assignmentId: number;
}

/**
 * A legacy record, its company (fields as R3 gives them, so no drift) and its record assignment: a
 * legacy record the backfill migrated correctly.
 */
export function mappedRecord(spec: MappedRecordSpec): Fixture {
  return merge(legacyRecord(spec.role, spec.id, spec.name), {
    companies: [
      {
        company_id: spec.company,
        company_name: spec.name,
        company_type: DEFAULT_COMPANY_TYPE[spec.role],
        is_mpr_client: spec.role === 'client',
      },
    ],
    company_role_assignments: [recordAssignment(spec.assignmentId, spec.company, spec.role, spec.id)],
  });
}

/** The same value for every role (spread it and override some roles). */
export function perRole<T>(value: T): Record<RoleKey, T> {
  return Object.fromEntries(ROLE_KEYS.map((role) => [role, value])) as Record<RoleKey, T>;
}

const UNIFIED_FK_TABLES = ['company_role_assignments', 'person_company_affiliations', 'client_profiles'];

/**
 * Runs `work` without the unified foreign keys (so unified rows can point at missing rows), then empties
 * the tables it touched and puts the foreign keys back as they were. Real databases may lack them.
 */
export async function withoutUnifiedForeignKeys(
  sql: SqlSession,
  reset: () => Promise<void>,
  work: () => Promise<void>,
): Promise<void> {
  const { rows: keys } = await sql.query<{ table: string; name: string; definition: string }>(
    `SELECT c.conrelid::regclass::text AS "table", c.conname AS name, pg_get_constraintdef(c.oid) AS definition
       FROM pg_constraint c
      WHERE c.contype = 'f'
        AND c.conrelid IN (${UNIFIED_FK_TABLES.map((t) => `'${t}'::regclass`).join(', ')})
      ORDER BY 1, 2`,
  );
  for (const key of keys) await sql.query(`ALTER TABLE ${key.table} DROP CONSTRAINT "${key.name}"`);
  try {
    await work();
  } finally {
    await reset();
    for (const key of keys) {
      await sql.query(`ALTER TABLE ${key.table} ADD CONSTRAINT "${key.name}" ${key.definition}`);
    }
  }
}
