import { legacyRecordExistsSql } from '../mapping/orphans.ts';
import { recordCompanySql } from '../mapping/record-sources.ts';
import { type RoleMapping, trimmedNameSql } from '../mapping/roles.ts';

/**
 * Which company a legacy entity belongs to, as SQL.
 *
 * - live: the company its record assignment points at (the companies step made it); NULL when the
 *   entity has none (it was not migrated, e.g. a blank name).
 * - dry: what the companies step would give it, without writing: its record assignment's company,
 *   else the company whose name equals its trimmed name, else a company yet to be created.
 *
 * Both return a `company_key` (text) that identifies the company — '<id>' live; 'c:<id>' or
 * 'n:<name>' dry — and `company_id` where the company exists.
 */
export type ResolveMode = 'live' | 'dry';

export function companyKeySql(role: RoleMapping, entityIdSql: string, mode: ResolveMode): string {
  if (mode === 'live') return `(${recordCompanySql(role, entityIdSql)})::text`;
  const name = trimmedNameSql(`e.${role.nameColumn}`);
  return `coalesce('c:' || ${recordCompanySql(role, entityIdSql)},
            (SELECT CASE WHEN ${name} = '' THEN NULL ELSE coalesce('c:' || co.company_id, 'n:' || ${name}) END
               FROM ${role.legacyTable} e LEFT JOIN companies co ON co.company_name = ${name}
              WHERE e.${role.idColumn} = ${entityIdSql}))`;
}

/** The existing company's id for a key made by companyKeySql; NULL for a company yet to be created. */
export function companyIdFromKeySql(keySql: string, mode: ResolveMode): string {
  return mode === 'live'
    ? `(${keySql})::int`
    : `CASE WHEN ${keySql} LIKE 'c:%' THEN substr(${keySql}, 3)::int END`;
}

/** The orphan definition's own test (lib/core/mapping/orphans.ts), under the name the steps use. */
export const entityExistsSql = legacyRecordExistsSql;

/** Bounds that cover every key: a dry run reads everything as one range. */
export const WHOLE_RANGE = { after: -2_147_483_648, upto: 2_147_483_647 } as const;
