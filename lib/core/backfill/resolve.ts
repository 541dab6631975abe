import { legacyRecordExistsSql } from '../mapping/orphans.ts';
import { recordCompaniesSql, recordCompanySql } from '../mapping/record-sources.ts';
import { ROLE_MAPPINGS, type RoleMapping, trimmedNameSql } from '../mapping/roles.ts';

/**
 * Which company a legacy entity belongs to, as SQL.
 *
 * - live: the company its record assignment points at (the companies step made it); NULL when the
 *   entity has none (it was not migrated, e.g. a blank name). A link step joins a whole chunk to its
 *   companies (recordCompanyJoinSql) and keys them by id, '<id>'.
 * - dry: what the companies step would give it, without writing: its record assignment's company,
 *   else the company whose name equals its trimmed name, else a company yet to be created. The key is
 *   'c:<id>' or 'n:<name>' (predictedCompanyKeySql).
 *
 * companyIdFromKeySql gives the `company_id` of either key where the company exists.
 */
export type ResolveMode = 'live' | 'dry';

/** The dry run's company key of one legacy entity (see ResolveMode). */
export function predictedCompanyKeySql(role: RoleMapping, entityIdSql: string): string {
  const name = trimmedNameSql(`e.${role.nameColumn}`);
  return `coalesce('c:' || ${recordCompanySql(role, entityIdSql)},
            (SELECT CASE WHEN ${name} = '' THEN NULL ELSE coalesce('c:' || co.company_id, 'n:' || ${name}) END
               FROM ${role.legacyTable} e LEFT JOIN companies co ON co.company_name = ${name}
              WHERE e.${role.idColumn} = ${entityIdSql}))`;
}

/**
 * Live, a link step resolves a whole chunk's companies with one join against this (alias.company_id:
 * NULL where the entity has no record assignment), rather than one lookup per link: a tenth of the time.
 */
export function recordCompanyJoinSql(role: RoleMapping, entityIdSql: string, alias: string): string {
  return `LEFT JOIN (${recordCompaniesSql(role)}) AS ${alias} ON ${alias}.legacy_id = ${entityIdSql}`;
}

/**
 * The same for personnel links, whose entity_type says which role's records their entity_id keys:
 * alias.company_id from the record companies of every role, by entity type.
 */
export function recordCompanyByEntityTypeJoinSql(
  entityTypeSql: string,
  entityIdSql: string,
  alias: string,
): string {
  const byType = ROLE_MAPPINGS.flatMap((role) =>
    role.personnelEntityTypes.map(
      (type) => `SELECT '${type}'::text AS entity_type, m.* FROM (${recordCompaniesSql(role)}) AS m`,
    ),
  );
  return `LEFT JOIN (${byType.join(' UNION ALL ')}) AS ${alias}
            ON ${alias}.entity_type = ${entityTypeSql} AND ${alias}.legacy_id = ${entityIdSql}`;
}

/** The existing company's id for a company key (see ResolveMode); NULL for a company yet to be created. */
export function companyIdFromKeySql(keySql: string, mode: ResolveMode): string {
  return mode === 'live'
    ? `(${keySql})::int`
    : `CASE WHEN ${keySql} LIKE 'c:%' THEN substr(${keySql}, 3)::int END`;
}

/** The orphan definition's own test (lib/core/mapping/orphans.ts), under the name the steps use. */
export const entityExistsSql = legacyRecordExistsSql;

/** Bounds that cover every key: a dry run reads everything as one range. */
export const WHOLE_RANGE = { after: -2_147_483_648, upto: 2_147_483_647 } as const;
