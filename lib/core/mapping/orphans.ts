import { ROLE_MAPPINGS, type RoleMapping } from './roles.ts';

/**
 * What an orphan is, as SQL, written once for the backfill (which skips orphaned links), validation (V6
 * counts and samples them) and `orphans list` (which lists every one of them), so the three always agree.
 *
 * - A legacy project link is an orphan when its project or its company record is gone.
 * - A company-related personnel link (entity_type of a company role) is an orphan when its person or its
 *   company record is gone; links to anything else (e.g. 'Project') are out of scope, never orphans.
 * - A unified row is an orphan when the company, role or person it points at is gone.
 *
 * Legacy data may come from SQLite days without enforced foreign keys, and personnel links are
 * polymorphic, so none of this can be left to constraints.
 */

export const PERSONNEL_LINK_TABLE = 'personnel_entity_relationships';

export function projectExistsSql(projectIdSql: string): string {
  return `EXISTS (SELECT 1 FROM projects p WHERE p.project_id = ${projectIdSql})`;
}

export function personExistsSql(personIdSql: string): string {
  return `EXISTS (SELECT 1 FROM personnel p WHERE p.personnel_id = ${personIdSql})`;
}

/** True when legacy company record `idSql` of `role` exists. */
export function legacyRecordExistsSql(role: RoleMapping, idSql: string): string {
  return `EXISTS (SELECT 1 FROM ${role.legacyTable} e WHERE e.${role.idColumn} = ${idSql})`;
}

/** The entity_type values of personnel links that point at the given roles' records, as an SQL list. */
export function personnelEntityTypesSql(roles: readonly RoleMapping[]): string {
  return roles
    .flatMap((r) => r.personnelEntityTypes)
    .map((t) => `'${t}'`)
    .join(', ');
}

export const COMPANY_ENTITY_TYPES_SQL = personnelEntityTypesSql(ROLE_MAPPINGS);

/** True when the company record a personnel link names exists; false for out-of-scope entity types. */
export function personnelEntityExistsSql(entityTypeSql: string, entityIdSql: string): string {
  const branches = ROLE_MAPPINGS.flatMap((role) =>
    role.personnelEntityTypes.map((t) => `WHEN '${t}' THEN ${legacyRecordExistsSql(role, entityIdSql)}`),
  );
  return `CASE ${entityTypeSql} ${branches.join(' ')} ELSE false END`;
}

/** Why a project link of `role` is an orphan, from its two existence flags (SQL booleans). */
export function projectLinkOrphanReasonSql(
  role: RoleMapping,
  projectExists: string,
  entityExists: string,
): string {
  return `CASE WHEN NOT ${projectExists} AND NOT ${entityExists} THEN 'missing project and ${role.code}'
               WHEN NOT ${projectExists} THEN 'missing project' ELSE 'missing ${role.code}' END`;
}

/** Why a personnel link is an orphan, from its two existence flags (SQL booleans). */
export function personnelLinkOrphanReasonSql(personExists: string, entityExists: string): string {
  return `CASE WHEN NOT ${personExists} AND NOT ${entityExists} THEN 'missing person and entity'
               WHEN NOT ${personExists} THEN 'missing person' ELSE 'missing entity' END`;
}

/**
 * Every orphan of one table, as SQL returning `id` (the row's key), `reason` and `refs` (a JSON object of
 * the keys the row points at, so an operator can look them up), in no particular order.
 */
export interface OrphanQuery {
  table: string;
  /** Legacy links are skipped by the migration (a warning); unified orphans are critical. */
  kind: 'legacy' | 'unified';
  sql: string;
}

export function projectLinkOrphansQuery(role: RoleMapping): OrphanQuery {
  const entity = role.projectLinkEntityColumn;
  return {
    table: role.projectLinkTable,
    kind: 'legacy',
    sql: `SELECT x.id, ${projectLinkOrphanReasonSql(role, 'x.project_exists', 'x.entity_exists')} AS reason,
                 json_build_object('project_id', x.project_id, '${entity}', x.entity_id) AS refs
            FROM (SELECT l.relationship_id AS id, l.project_id, l.${entity} AS entity_id,
                         ${projectExistsSql('l.project_id')} AS project_exists,
                         ${legacyRecordExistsSql(role, `l.${entity}`)} AS entity_exists
                    FROM ${role.projectLinkTable} l) AS x
           WHERE NOT (x.project_exists AND x.entity_exists)`,
  };
}

export function personnelLinkOrphansQuery(): OrphanQuery {
  return {
    table: PERSONNEL_LINK_TABLE,
    kind: 'legacy',
    sql: `SELECT x.id, ${personnelLinkOrphanReasonSql('x.person_exists', 'x.entity_exists')} AS reason,
                 json_build_object('personnel_id', x.personnel_id, 'entity_type', x.entity_type,
                                   'entity_id', x.entity_id) AS refs
            FROM (SELECT l.relationship_id AS id, l.personnel_id, l.entity_type, l.entity_id,
                         ${personExistsSql('l.personnel_id')} AS person_exists,
                         ${personnelEntityExistsSql('l.entity_type', 'l.entity_id')} AS entity_exists
                    FROM ${PERSONNEL_LINK_TABLE} l
                   WHERE l.entity_type IN (${COMPANY_ENTITY_TYPES_SQL})) AS x
           WHERE NOT (x.person_exists AND x.entity_exists)`,
  };
}

export function unifiedOrphansQueries(): OrphanQuery[] {
  return [
    {
      table: 'company_role_assignments',
      kind: 'unified',
      sql: `SELECT a.assignment_id AS id,
                   CASE WHEN c.company_id IS NULL THEN 'missing company' ELSE 'missing role' END AS reason,
                   json_build_object('company_id', a.company_id, 'role_id', a.role_id) AS refs
              FROM company_role_assignments a
              LEFT JOIN companies c ON c.company_id = a.company_id
              LEFT JOIN company_roles r ON r.role_id = a.role_id
             WHERE c.company_id IS NULL OR r.role_id IS NULL`,
    },
    {
      table: 'person_company_affiliations',
      kind: 'unified',
      sql: `SELECT f.affiliation_id AS id,
                   CASE WHEN c.company_id IS NULL THEN 'missing company' ELSE 'missing person' END AS reason,
                   json_build_object('person_id', f.person_id, 'company_id', f.company_id) AS refs
              FROM person_company_affiliations f
              LEFT JOIN companies c ON c.company_id = f.company_id
              LEFT JOIN personnel p ON p.personnel_id = f.person_id
             WHERE c.company_id IS NULL OR p.personnel_id IS NULL`,
    },
    {
      table: 'client_profiles',
      kind: 'unified',
      sql: `SELECT cp.company_id AS id, 'missing company' AS reason,
                   json_build_object('company_id', cp.company_id) AS refs
              FROM client_profiles cp LEFT JOIN companies c ON c.company_id = cp.company_id
             WHERE c.company_id IS NULL`,
    },
  ];
}

/** Every kind of orphan, table by table: unified tables first (critical), then the legacy links. */
export function allOrphanQueries(): OrphanQuery[] {
  return [
    ...unifiedOrphansQueries(),
    ...ROLE_MAPPINGS.map(projectLinkOrphansQuery),
    personnelLinkOrphansQuery(),
  ];
}

/**
 * The legacy link tables whose orphans `orphans archive` moves, each with the same orphan test as its
 * query above, written against one row (`alias`) so that the archive's DELETE can re-check every row it
 * removes in its own WHERE clause: a link repaired by someone else meanwhile is no longer deleted.
 */
export interface LegacyLinkOrphans {
  table: string;
  /** The table's primary key (every legacy link table has a serial relationship_id). */
  keyColumn: 'relationship_id';
  /** Which kind of link the table holds, as `orphans archive --kind` names it. */
  group: 'project-links' | 'personnel-links';
  /** SQL true when row `alias` is an orphan. */
  isOrphanSql(alias: string): string;
  /** SQL for why row `alias` is an orphan (the reasons `orphans list` gives). */
  reasonSql(alias: string): string;
}

function projectLinkOrphans(role: RoleMapping): LegacyLinkOrphans {
  const flags = (alias: string) =>
    [
      projectExistsSql(`${alias}.project_id`),
      legacyRecordExistsSql(role, `${alias}.${role.projectLinkEntityColumn}`),
    ] as const;
  return {
    table: role.projectLinkTable,
    keyColumn: 'relationship_id',
    group: 'project-links',
    isOrphanSql: (alias) => `NOT (${flags(alias).join(' AND ')})`,
    reasonSql: (alias) => projectLinkOrphanReasonSql(role, ...flags(alias)),
  };
}

function personnelLinkOrphans(): LegacyLinkOrphans {
  const flags = (alias: string) =>
    [
      personExistsSql(`${alias}.personnel_id`),
      personnelEntityExistsSql(`${alias}.entity_type`, `${alias}.entity_id`),
    ] as const;
  return {
    table: PERSONNEL_LINK_TABLE,
    keyColumn: 'relationship_id',
    group: 'personnel-links',
    isOrphanSql: (alias) =>
      `(${alias}.entity_type IN (${COMPANY_ENTITY_TYPES_SQL}) AND NOT (${flags(alias).join(' AND ')}))`,
    reasonSql: (alias) => personnelLinkOrphanReasonSql(...flags(alias)),
  };
}

/** Every legacy link table that can hold orphans, in the order `orphans list` shows them. */
export function legacyLinkOrphans(): LegacyLinkOrphans[] {
  return [...ROLE_MAPPINGS.map(projectLinkOrphans), personnelLinkOrphans()];
}
