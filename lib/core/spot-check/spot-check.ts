import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { companySourcesCtes, recordCompanySql } from '../mapping/record-sources.ts';
import { ROLE_MAPPINGS, type RoleCode, type RoleMapping, trimmedNameSql } from '../mapping/roles.ts';
import { requireSchemas } from '../schema/introspect.ts';
import { CLIENT_PROFILE_FIELDS } from '../schema/unified.sql.ts';
import { type SqlClient, sqlParam } from '../sql/types.ts';
import {
  type LinkStatus,
  recordRef,
  roleCodeSchema,
  type SpotCheckField,
  type SpotCheckRecord,
  type SpotCheckReport,
  spotCheckReportSchema,
} from './report-schema.ts';

/**
 * Spot-check: a reproducible sample of legacy company records, each compared with the unified rows the
 * rules R1–R6 give it. It is a second, independent reading of the rules — record by record, from the
 * legacy side — next to validation's set-wide counts, and what an operator shows a data owner.
 *
 * The sample is `perRole` records per role ordered by md5(seed || ':<role>:' || id): the same seed on the same
 * data picks the same records on every server and adapter. Five statements (plus the schema check)
 * whatever the sample size: the sample is passed to the later ones as JSON.
 */

export const spotCheckOptionsSchema = z.object({
  runId: z.string().min(1).default('spot-check'),
  stage: z.string().min(1).default('local'),
  perRole: z.number().int().min(1).max(1_000).default(3),
  /** Any text; a random one when absent (the report names it, so the sample can be shown again). */
  seed: z.string().min(1).max(200).optional(),
  roles: z.array(roleCodeSchema).min(1).optional(),
  /** Links listed per record and kind (the differing ones first); counts always cover all. */
  linkLimit: z.number().int().min(0).max(1_000).default(25),
  now: z.custom<() => Date>((v) => typeof v === 'function').optional(),
});
export type SpotCheckOptions = z.input<typeof spotCheckOptionsSchema>;

/** Free-text fields: compared, never copied into the report. */
const REDACTED_PROFILE_FIELDS: ReadonlySet<string> = new Set(['relationship_notes']);

export function randomSeed(): string {
  return randomBytes(4).toString('hex');
}

const roleValues = () =>
  ROLE_MAPPINGS.map(
    (role, order) => `('${role.code}', ${order}, '${role.legacyTable}', '${role.recordContextType}')`,
  ).join(', ');

/** The sample with each record's role data and the company of its record assignment. */
const PICKED_CTE = `picked AS (
  SELECT s.role, s.legacy_id, m.role_order, m.legacy_table, m.context_type,
         (SELECT a.company_id FROM company_role_assignments a
            JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = s.role
           WHERE a.context_type = m.context_type AND a.context_id = s.legacy_id
           ORDER BY a.assignment_id LIMIT 1) AS company_id
    FROM jsonb_to_recordset(CAST(:sample AS jsonb)) AS s(role text, legacy_id int)
    JOIN (VALUES ${roleValues()}) AS m(role, role_order, legacy_table, context_type) ON m.role = s.role
)`;

function sampleSql(roles: readonly RoleMapping[]): string {
  return roles
    .map(
      (role) => `(SELECT '${role.code}'::text AS role, l.${role.idColumn} AS legacy_id
                    FROM ${role.legacyTable} l
                   ORDER BY md5(CAST(:seed AS text) || ':${role.code}:' || l.${role.idColumn}::text), l.${role.idColumn}
                   LIMIT :perRole)`,
    )
    .join('\nUNION ALL\n');
}

const profileJson = (alias: string) =>
  `json_build_object(${CLIENT_PROFILE_FIELDS.map((f) => `'${f}', ${alias}.${f}`).join(', ')})`;

/** Each sampled record with its legacy fields, its company, and what R3/R4 expect of the company. */
function recordsSql(): string {
  const legacy = ROLE_MAPPINGS.map(
    (role) => `SELECT p.role, p.legacy_id, l.${role.nameColumn} AS legacy_name,
                      ${trimmedNameSql(`l.${role.nameColumn}`)} AS trimmed_name,
                      ${role.companyTypeSql} AS company_type, l.notes,
                      ${role.code === 'client' ? profileJson('l') : 'NULL::json'} AS own_profile
                 FROM picked p JOIN ${role.legacyTable} l ON l.${role.idColumn} = p.legacy_id
                WHERE p.role = '${role.code}'`,
  ).join('\n      UNION ALL\n      ');
  return `WITH ${PICKED_CTE},
    legacy AS (${legacy}),
    assigned AS (SELECT DISTINCT company_id FROM picked WHERE company_id IS NOT NULL),
    ${companySourcesCtes('AND a.company_id IN (SELECT company_id FROM assigned)')}
    SELECT p.role, p.legacy_id, lg.legacy_name, lg.trimmed_name, lg.company_type AS own_type, lg.own_profile,
           ra.assignment_id, ra.n AS record_assignments, p.company_id,
           co.company_id IS NOT NULL AS company_exists, co.company_name, co.company_type, co.is_mpr_client,
           w.legacy_table AS winner_table, w.legacy_id AS winner_id, w.company_type AS expected_type,
           co.notes IS NOT DISTINCT FROM w.notes AS notes_match,
           lg.notes IS NOT DISTINCT FROM w.notes AS own_notes_equal_winner,
           coalesce(f.any_client, false) AS any_client,
           ps.client_id AS profile_source_id, ps.expected_profile, cp.actual_profile,
           (SELECT json_agg(json_build_object('role', r.role_code, 'contextType', a.context_type,
                                              'contextId', a.context_id, 'isPrimary', a.is_primary)
                            ORDER BY a.assignment_id)
              FROM company_role_assignments a JOIN company_roles r ON r.role_id = a.role_id
             WHERE a.company_id = p.company_id AND a.context_type <> 'Project') AS record_assignments_json,
           (SELECT json_object_agg(x.role_code, x.n) FROM (
              SELECT r.role_code, count(*)::int AS n
                FROM company_role_assignments a JOIN company_roles r ON r.role_id = a.role_id
               WHERE a.company_id = p.company_id AND a.context_type = 'Project' GROUP BY r.role_code) AS x)
             AS project_assignments,
           (SELECT count(*) FROM person_company_affiliations x WHERE x.company_id = p.company_id)::int
             AS company_affiliations
      FROM picked p
      LEFT JOIN legacy lg ON lg.role = p.role AND lg.legacy_id = p.legacy_id
      LEFT JOIN LATERAL (
        SELECT min(a.assignment_id) AS assignment_id, count(*)::int AS n
          FROM company_role_assignments a JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = p.role
         WHERE a.context_type = p.context_type AND a.context_id = p.legacy_id) AS ra ON true
      LEFT JOIN companies co ON co.company_id = p.company_id
      LEFT JOIN winners w ON w.company_key = p.company_id
      LEFT JOIN flags f ON f.company_key = p.company_id
      LEFT JOIN LATERAL (
        SELECT l.client_id, ${profileJson('l')} AS expected_profile
          FROM company_role_assignments a
          JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = 'client'
          JOIN clients l ON l.client_id = a.context_id
         WHERE a.context_type = 'ClientRecord' AND a.company_id = p.company_id
         ORDER BY l.client_id LIMIT 1) AS ps ON true
      LEFT JOIN LATERAL (
        SELECT ${profileJson('c')} AS actual_profile FROM client_profiles c WHERE c.company_id = p.company_id
      ) AS cp ON true`;
}

/** The legacy records whose trimmed name equals a sampled record's: R2 gives them all one company. */
function sameNameSql(): string {
  const named = ROLE_MAPPINGS.map(
    (role) => `SELECT p.role, p.legacy_id, ${trimmedNameSql(`l.${role.nameColumn}`)} AS name
                 FROM picked p JOIN ${role.legacyTable} l ON l.${role.idColumn} = p.legacy_id
                WHERE p.role = '${role.code}'`,
  ).join('\n      UNION ALL\n      ');
  const same = ROLE_MAPPINGS.map(
    (
      role,
      order,
    ) => `SELECT '${role.code}' AS role, ${order} AS role_order, '${role.legacyTable}' AS legacy_table,
                             l.${role.idColumn} AS legacy_id, ${trimmedNameSql(`l.${role.nameColumn}`)} AS name,
                             ${recordCompanySql(role, `l.${role.idColumn}`)} AS company_id
                        FROM ${role.legacyTable} l
                       WHERE ${trimmedNameSql(`l.${role.nameColumn}`)} IN (SELECT name FROM names)`,
  ).join('\n      UNION ALL\n      ');
  return `WITH ${PICKED_CTE},
    named AS (${named}),
    names AS (SELECT DISTINCT name FROM named WHERE name <> ''),
    same AS (${same}),
    ranked AS (
      SELECT n.role AS picked_role, n.legacy_id AS picked_id, s.role, s.legacy_table, s.legacy_id, s.company_id,
             row_number() OVER (PARTITION BY n.role, n.legacy_id ORDER BY s.role_order, s.legacy_id) AS rn
        FROM named n JOIN same s ON s.name = n.name)
    SELECT picked_role, picked_id, role, legacy_table, legacy_id, company_id FROM ranked
     WHERE rn <= 50 ORDER BY picked_role, picked_id, rn`;
}

const LINK_RANK = `CASE status WHEN 'missing' THEN 0 WHEN 'confidentiality-lost' THEN 0
                               WHEN 'not-migrated-record' THEN 1 WHEN 'orphan' THEN 2 ELSE 3 END`;

/** Window counts over all of a record's links, and the first :linkLimit of them, differing ones first. */
const cappedLinks = (columns: string) => `counted AS (
      SELECT ${columns}, status,
             count(*) OVER w AS total,
             count(*) FILTER (WHERE status IN ('missing', 'confidentiality-lost')) OVER w AS differing,
             count(*) FILTER (WHERE status = 'orphan') OVER w AS orphans,
             row_number() OVER (PARTITION BY role, legacy_id ORDER BY ${LINK_RANK}, relationship_id) AS rn
        FROM statused WINDOW w AS (PARTITION BY role, legacy_id))
    SELECT * FROM counted WHERE rn <= :linkLimit OR rn = 1 ORDER BY role, legacy_id, rn`;

function personnelSql(titleColumn: string): string {
  const entityTypes = ROLE_MAPPINGS.flatMap((role) =>
    role.personnelEntityTypes.map((type) => `('${role.code}', '${type}')`),
  ).join(', ');
  return `WITH ${PICKED_CTE},
    links AS (
      -- A confidential link's title is free text the reports must not carry.
      SELECT p.role, p.legacy_id, p.company_id, l.relationship_id, l.personnel_id,
             CASE WHEN l.is_confidential THEN '(confidential)' ELSE l."${titleColumn}" END AS title,
             pe.full_name, pe.personnel_id IS NOT NULL AS person_exists, f.affiliation_id
        FROM picked p
        JOIN (VALUES ${entityTypes}) AS et(role, entity_type) ON et.role = p.role
        JOIN personnel_entity_relationships l ON l.entity_type = et.entity_type AND l.entity_id = p.legacy_id
        LEFT JOIN personnel pe ON pe.personnel_id = l.personnel_id
        LEFT JOIN LATERAL (
          SELECT f.affiliation_id FROM person_company_affiliations f
           WHERE f.person_id = l.personnel_id AND f.company_id = p.company_id
             AND f.title IS NOT DISTINCT FROM l."${titleColumn}"
           ORDER BY f.affiliation_id LIMIT 1) AS f ON true),
    statused AS (
      SELECT *, CASE WHEN NOT person_exists THEN 'orphan'
                     WHEN company_id IS NULL THEN 'not-migrated-record'
                     WHEN affiliation_id IS NULL THEN 'missing' ELSE 'migrated' END AS status
        FROM links),
    ${cappedLinks('role, legacy_id, relationship_id, personnel_id, full_name, title, affiliation_id')}`;
}

function projectsSql(): string {
  const links = ROLE_MAPPINGS.map(
    (role) => `SELECT '${role.code}' AS role, l.relationship_id, l.project_id,
                      l.${role.projectLinkEntityColumn} AS entity_id, l.is_confidential
                 FROM ${role.projectLinkTable} l
                WHERE l.${role.projectLinkEntityColumn} IN (SELECT legacy_id FROM picked WHERE role = '${role.code}')`,
  ).join('\n      UNION ALL\n      ');
  return `WITH ${PICKED_CTE},
    links AS (${links}),
    joined AS (
      SELECT p.role, p.legacy_id, p.company_id, k.relationship_id, k.project_id, k.is_confidential,
             pr.project_name, pr.project_id IS NOT NULL AS project_exists,
             pa.assignment_id, pa.is_confidential AS assignment_confidential
        FROM picked p
        JOIN links k ON k.role = p.role AND k.entity_id = p.legacy_id
        LEFT JOIN projects pr ON pr.project_id = k.project_id
        LEFT JOIN LATERAL (
          SELECT a.assignment_id, a.is_confidential FROM company_role_assignments a
            JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = p.role
           WHERE a.company_id = p.company_id AND a.context_type = 'Project' AND a.context_id = k.project_id
           ORDER BY a.assignment_id LIMIT 1) AS pa ON true),
    statused AS (
      SELECT *, CASE WHEN NOT project_exists THEN 'orphan'
                     WHEN company_id IS NULL THEN 'not-migrated-record'
                     WHEN assignment_id IS NULL THEN 'missing'
                     WHEN is_confidential AND NOT assignment_confidential THEN 'confidentiality-lost'
                     ELSE 'migrated' END AS status
        FROM joined),
    ${cappedLinks('role, legacy_id, relationship_id, project_id, project_name, is_confidential, assignment_id')}`;
}

type Row = Record<string, unknown>;
type Value = string | number | boolean | null;

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const asValue = (v: unknown): Value =>
  v === null || v === undefined
    ? null
    : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
      ? v
      : String(v);
const keyOf = (role: string, id: unknown) => `${role}#${num(id)}`;

function groupBy(rows: Row[], role = 'role', id = 'legacy_id'): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = keyOf(String(row[role]), row[id]);
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return groups;
}

/** The rows hold the first links of a record (at least one, for the counts over all of them). */
function linkSummary<T>(rows: Row[], limit: number, item: (row: Row) => T) {
  const first = rows[0];
  return {
    total: num(first?.total),
    differing: num(first?.differing),
    orphans: num(first?.orphans),
    listed: rows.filter((r) => num(r.rn) <= limit).map(item),
  };
}

/** R3/R4 field by field; differences and notes are added to the given lists. */
function compareFields(
  row: Row,
  role: RoleMapping,
  differences: string[],
  notes: string[],
): SpotCheckField[] {
  const self = recordRef(role.legacyTable, num(row.legacy_id));
  const winner = row.winner_table ? recordRef(String(row.winner_table), num(row.winner_id)) : null;
  const fields: SpotCheckField[] = [
    {
      field: 'company_name',
      legacy: str(row.legacy_name),
      expected: str(row.trimmed_name),
      unified: str(row.company_name),
      source: self,
      matches: row.company_name === row.trimmed_name,
      redacted: false,
    },
    {
      field: 'company_type',
      legacy: str(row.own_type),
      expected: str(row.expected_type),
      unified: str(row.company_type),
      source: winner,
      matches: row.company_type === row.expected_type,
      redacted: false,
    },
    {
      field: 'notes',
      legacy: null,
      expected: null,
      unified: null,
      source: winner,
      matches: row.notes_match === true,
      redacted: true,
    },
    {
      field: 'is_mpr_client',
      legacy: role.code === 'client',
      expected: row.any_client === true ? true : null,
      unified: row.is_mpr_client === true,
      source: null,
      matches: row.any_client !== true || row.is_mpr_client === true,
      redacted: false,
    },
  ];
  if (winner && winner !== self) {
    if (row.own_type !== row.expected_type)
      notes.push(`R3 keeps company_type of ${winner}, not this record's`);
    if (row.own_notes_equal_winner !== true) notes.push(`R3 keeps the notes of ${winner}, not this record's`);
  }
  if (row.any_client === true) {
    const expected = (row.expected_profile ?? {}) as Row;
    const actual = row.actual_profile as Row | null;
    const own = row.own_profile as Row | null;
    const source = row.profile_source_id === null ? null : recordRef('clients', num(row.profile_source_id));
    if (!actual) differences.push('no client profile, yet the company has a client record (R4)');
    for (const field of CLIENT_PROFILE_FIELDS) {
      const redacted = REDACTED_PROFILE_FIELDS.has(field);
      const matches = actual !== null && asValue(actual[field]) === asValue(expected[field]);
      fields.push({
        field: `client_profiles.${field}`,
        legacy: redacted ? null : asValue(own?.[field]),
        expected: redacted ? null : asValue(expected[field]),
        unified: redacted ? null : asValue(actual?.[field]),
        source,
        matches,
        redacted,
      });
    }
    if (source && role.code === 'client' && source !== self) {
      notes.push(`R4 takes the client profile from ${source}, the company's lowest client record`);
    }
  }
  for (const f of fields) {
    if (f.matches || (f.field.startsWith('client_profiles.') && !row.actual_profile)) continue;
    differences.push(
      f.redacted
        ? `${f.field} differs from ${f.source ?? 'the rules'} (free text, not shown)`
        : `${f.field} is ${JSON.stringify(f.unified)}, the rules give ${JSON.stringify(f.expected)}${f.source ? ` (from ${f.source})` : ''}`,
    );
  }
  return fields;
}

/** Runs the spot-check and returns its report (which the caller publishes). */
export async function spotCheck(sql: SqlClient, rawOptions: SpotCheckOptions = {}): Promise<SpotCheckReport> {
  const options = spotCheckOptionsSchema.parse(rawOptions);
  const seed = options.seed ?? randomSeed();
  const roles = ROLE_MAPPINGS.filter((r) => !options.roles || options.roles.includes(r.code));
  const statementsBefore = sql.statementsIssued;
  const { personnelTitleColumn } = await requireSchemas(sql);

  const { rows: sampled } = await sql.query<{ role: RoleCode; legacy_id: number }>(sampleSql(roles), {
    seed,
    perRole: options.perRole,
  });
  const order = (role: string) => ROLE_MAPPINGS.findIndex((r) => r.code === role);
  const sample = sampled
    .map((s) => ({ role: s.role, legacy_id: Number(s.legacy_id) }))
    .sort((a, b) => order(a.role) - order(b.role) || a.legacy_id - b.legacy_id);
  const params = { sample: sqlParam.json(sample), linkLimit: options.linkLimit };
  const records = (await sql.query<Row>(recordsSql(), params)).rows;
  const sameName = groupBy((await sql.query<Row>(sameNameSql(), params)).rows, 'picked_role', 'picked_id');
  const people = groupBy((await sql.query<Row>(personnelSql(personnelTitleColumn), params)).rows);
  const projects = groupBy((await sql.query<Row>(projectsSql(), params)).rows);

  const byKey = new Map(records.map((r) => [keyOf(String(r.role), r.legacy_id), r]));
  const results: SpotCheckRecord[] = [];
  for (const picked of sample) {
    const row = byKey.get(keyOf(picked.role, picked.legacy_id));
    if (!row) continue;
    results.push(
      checkRecord(
        row,
        sameName.get(keyOf(picked.role, picked.legacy_id)) ?? [],
        people.get(keyOf(picked.role, picked.legacy_id)) ?? [],
        projects.get(keyOf(picked.role, picked.legacy_id)) ?? [],
        options.linkLimit,
      ),
    );
  }
  const count = (verdict: SpotCheckRecord['verdict']) => results.filter((r) => r.verdict === verdict).length;
  return spotCheckReportSchema.parse({
    kind: 'spot-check',
    schemaVersion: 1,
    runId: options.runId,
    stage: options.stage,
    generatedAt: (options.now?.() ?? new Date()).toISOString(),
    seed,
    perRole: options.perRole,
    roles: roles.map((r) => r.code),
    passed: count('differs') === 0,
    counts: {
      sampled: results.length,
      matching: count('matches'),
      differing: count('differs'),
      unmigratable: count('unmigratable'),
    },
    records: results,
    statements: sql.statementsIssued - statementsBefore,
  });
}

function checkRecord(
  row: Row,
  sameName: Row[],
  people: Row[],
  projects: Row[],
  linkLimit: number,
): SpotCheckRecord {
  const role = ROLE_MAPPINGS.find((r) => r.code === row.role) as RoleMapping;
  const differences: string[] = [];
  const notes: string[] = [];
  const companyId = numOrNull(row.company_id);
  const blank = row.trimmed_name === '';

  const affiliations = {
    ...linkSummary(people, linkLimit, (r) => ({
      relationshipId: num(r.relationship_id),
      personId: num(r.personnel_id),
      personName: str(r.full_name),
      title: str(r.title),
      status: String(r.status) as LinkStatus,
      affiliationId: numOrNull(r.affiliation_id),
    })),
    companyAffiliations: num(row.company_affiliations),
  };
  const projectLinks = linkSummary(projects, linkLimit, (r) => ({
    relationshipId: num(r.relationship_id),
    projectId: num(r.project_id),
    projectName: str(r.project_name),
    confidential: r.is_confidential === true,
    status: String(r.status) as LinkStatus,
    assignmentId: numOrNull(r.assignment_id),
  }));
  const legacyRecords = sameName.map((r) => ({
    record: recordRef(String(r.legacy_table), num(r.legacy_id)),
    role: r.role as RoleCode,
    companyId: numOrNull(r.company_id),
  }));

  let fields: SpotCheckField[] = [];
  if (companyId === null) {
    if (!blank) {
      const links = affiliations.total - affiliations.orphans + projectLinks.total - projectLinks.orphans;
      differences.push(
        `no record assignment: the record has no company (R2)${links > 0 ? `; its ${links} link(s) are not migrated` : ''}`,
      );
    }
  } else if (row.company_exists !== true) {
    differences.push(`its record assignment points at company ${companyId}, which does not exist`);
  } else {
    if (blank) differences.push(`blank name, yet assigned to company ${companyId}`);
    if (num(row.record_assignments) > 1) {
      differences.push(`${num(row.record_assignments)} record assignments instead of one`);
    }
    fields = compareFields(row, role, differences, notes);
    for (const other of legacyRecords) {
      if (other.companyId !== companyId) {
        differences.push(
          `${other.record} has the same name but ${other.companyId === null ? 'no company' : `company ${other.companyId}`} (R2: one company per name)`,
        );
      }
    }
    if (affiliations.differing > 0) {
      differences.push(`${affiliations.differing} personnel link(s) without their affiliation (R5)`);
    }
    const lost = projectLinks.listed.filter((l) => l.status === 'confidentiality-lost').length;
    if (projectLinks.differing > 0) {
      differences.push(
        `${projectLinks.differing} project link(s) without their 'Project' assignment or its confidentiality (R6)` +
          (lost > 0 ? `, ${lost} listed as confidentiality lost` : ''),
      );
    }
  }
  if (affiliations.orphans + projectLinks.orphans > 0) {
    notes.push(
      `${affiliations.orphans + projectLinks.orphans} link(s) point at a deleted person or project: not migrated, by design`,
    );
  }
  const recordAssignments = (
    (row.record_assignments_json ?? []) as {
      role: string;
      contextType: string;
      contextId: number | null;
      isPrimary: boolean;
    }[]
  ).map((a) => ({ ...a, contextId: numOrNull(a.contextId) }));
  const own = recordAssignments.find(
    (a) => a.contextType === role.recordContextType && a.contextId === num(row.legacy_id),
  );
  if (own && !own.isPrimary) differences.push('its record assignment is not primary');
  const verdict = differences.length > 0 ? 'differs' : blank ? 'unmigratable' : 'matches';
  if (verdict === 'unmigratable') notes.push('blank name: cannot become a company (V8); fix it in NukeWorks');
  return {
    role: role.code,
    legacyTable: role.legacyTable,
    legacyId: num(row.legacy_id),
    legacyName: str(row.legacy_name),
    company:
      companyId === null
        ? null
        : {
            companyId,
            name: str(row.company_name),
            recordAssignmentId: num(row.assignment_id),
            recordAssignments: num(row.record_assignments),
          },
    fields,
    roles: {
      legacyRecords,
      recordAssignments,
      projectAssignments: Object.fromEntries(
        Object.entries((row.project_assignments ?? {}) as Record<string, unknown>).map(([k, v]) => [
          k,
          num(v),
        ]),
      ),
    },
    affiliations,
    projects: projectLinks,
    verdict,
    differences,
    notes,
  };
}
