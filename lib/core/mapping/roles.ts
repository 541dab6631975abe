/**
 * How each legacy role-specific table maps onto the unified schema (rules R1–R6 of the backfill spec).
 * Every step that reads legacy data — backfill, validation, monitoring, smoke — takes its table and
 * column names from here, so the mapping is written down once.
 */

export type RoleCode = 'vendor' | 'developer' | 'client' | 'operator' | 'constructor' | 'offtaker';

export interface RoleMapping {
  code: RoleCode;
  label: string;
  /** The legacy company table of this role and its key and name columns. */
  legacyTable: string;
  idColumn: string;
  nameColumn: string;
  /** context_type of the record assignment that ties a legacy row to its company. */
  recordContextType: string;
  /** SQL for the company_type this role gives a company; `l` is the legacy row (R3). */
  companyTypeSql: string;
  /** entity_type values of personnel_entity_relationships that point at this table (R5). */
  personnelEntityTypes: readonly string[];
  /** The project-relationship table of this role and its entity column (R6). */
  projectLinkTable: string;
  projectLinkEntityColumn: string;
}

/** In role order: when several legacy records map to one company, the first role's record wins (R3). */
export const ROLE_MAPPINGS: readonly RoleMapping[] = [
  {
    code: 'vendor',
    label: 'Technology Vendor',
    legacyTable: 'technology_vendors',
    idColumn: 'vendor_id',
    nameColumn: 'vendor_name',
    recordContextType: 'VendorRecord',
    companyTypeSql: `'Vendor'`,
    personnelEntityTypes: ['Vendor'],
    projectLinkTable: 'project_vendor_relationships',
    projectLinkEntityColumn: 'vendor_id',
  },
  {
    code: 'developer',
    label: 'Owner / Developer',
    legacyTable: 'owners_developers',
    idColumn: 'owner_id',
    nameColumn: 'company_name',
    recordContextType: 'OwnerRecord',
    companyTypeSql: `coalesce(l.company_type, 'Owner/Developer')`,
    personnelEntityTypes: ['Owner', 'Developer'],
    projectLinkTable: 'project_owner_relationships',
    projectLinkEntityColumn: 'owner_id',
  },
  {
    code: 'client',
    label: 'MPR Client',
    legacyTable: 'clients',
    idColumn: 'client_id',
    nameColumn: 'client_name',
    recordContextType: 'ClientRecord',
    companyTypeSql: `coalesce(l.client_type, 'Client')`,
    personnelEntityTypes: ['Client'],
    projectLinkTable: 'client_project_relationships',
    projectLinkEntityColumn: 'client_id',
  },
  {
    code: 'operator',
    label: 'Operator',
    legacyTable: 'operators',
    idColumn: 'operator_id',
    nameColumn: 'company_name',
    recordContextType: 'OperatorRecord',
    companyTypeSql: `'Operator'`,
    personnelEntityTypes: ['Operator'],
    projectLinkTable: 'project_operator_relationships',
    projectLinkEntityColumn: 'operator_id',
  },
  {
    code: 'constructor',
    label: 'Constructor',
    legacyTable: 'constructors',
    idColumn: 'constructor_id',
    nameColumn: 'company_name',
    recordContextType: 'ConstructorRecord',
    companyTypeSql: `'Constructor'`,
    personnelEntityTypes: ['Constructor'],
    projectLinkTable: 'project_constructor_relationships',
    projectLinkEntityColumn: 'constructor_id',
  },
  {
    code: 'offtaker',
    label: 'Off-taker',
    legacyTable: 'offtakers',
    idColumn: 'offtaker_id',
    nameColumn: 'organization_name',
    recordContextType: 'OfftakerRecord',
    companyTypeSql: `coalesce(l.sector, 'Off-taker')`,
    personnelEntityTypes: ['Offtaker'],
    projectLinkTable: 'project_offtaker_relationships',
    projectLinkEntityColumn: 'offtaker_id',
  },
];

export const ROLE_CODES: readonly RoleCode[] = ROLE_MAPPINGS.map((r) => r.code);

/** The roles a call covers: all, or the one entity it is limited to (`backfill --entity`). */
export function rolesFor(entity: RoleCode | undefined): readonly RoleMapping[] {
  return ROLE_MAPPINGS.filter((r) => !entity || r.code === entity);
}

export function roleMapping(code: RoleCode): RoleMapping {
  const mapping = ROLE_MAPPINGS.find((r) => r.code === code);
  if (!mapping) throw new Error(`unknown role ${code}`);
  return mapping;
}

/**
 * Whitespace trimmed from legacy names: ASCII whitespace and the no-break space, which pasted names
 * carry. The backfill matches companies on this trimmed name, exactly and case-sensitively (R2).
 */
export const NAME_TRIM_CHARACTERS = ' \t\n\r\f\v\u00a0';

/**
 * The longest company name (trimmed, in bytes) the migration moves. The unique index on
 * companies.company_name takes entries of at most about 2,700 bytes; a longer legacy name would make
 * the whole chunk fail, every run again. Such a name is treated like a blank one: not migrated, and
 * reported as unmigratable (V8), so one hostile row cannot block the migration of the others.
 */
export const MAX_COMPANY_NAME_BYTES = 2_000;

/** SQL for the trimmed form of a legacy name column: '' when blank, or too long to migrate. */
export function trimmedNameSql(column: string): string {
  // \x0b, not \v: PostgreSQL before 16 reads E'\v' as the letter v (and would trim it off names).
  const trimmed = `btrim(coalesce(${column}, ''), E' \\t\\n\\r\\f\\x0b\\u00a0')`;
  return `(CASE WHEN octet_length(${trimmed}) > ${MAX_COMPANY_NAME_BYTES} THEN '' ELSE ${trimmed} END)`;
}
