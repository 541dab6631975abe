/**
 * The legacy NukeWorks schema: six role-specific company tables, personnel with a polymorphic link
 * table, projects and five (plus one client) project-relationship tables. We create it for the demo and
 * the tests; real databases were created by the application, so the tools rely only on these columns.
 */

export const LEGACY_COMPANY_TABLES = [
  'technology_vendors',
  'owners_developers',
  'clients',
  'operators',
  'constructors',
  'offtakers',
] as const;

export const LEGACY_PROJECT_RELATIONSHIP_TABLES = [
  'project_vendor_relationships',
  'project_owner_relationships',
  'project_operator_relationships',
  'project_constructor_relationships',
  'project_offtaker_relationships',
  'client_project_relationships',
] as const;

export const LEGACY_TABLES = [
  ...LEGACY_COMPANY_TABLES,
  'personnel',
  'projects',
  'personnel_entity_relationships',
  ...LEGACY_PROJECT_RELATIONSHIP_TABLES,
] as const;

export type LegacyTable = (typeof LEGACY_TABLES)[number];

/** NukeWorks's SQL migrations call it relationship_role; its application models role_at_entity. */
export type PersonnelTitleColumn = 'relationship_role' | 'role_at_entity';

export interface LegacySchemaOptions {
  personnelTitleColumn?: PersonnelTitleColumn;
  /**
   * Foreign keys on the relationship tables. Databases from SQLite days have none, and rows there may
   * point at rows that no longer exist; the demo data needs that, so the default is without.
   */
  foreignKeys?: boolean;
}

const AUDIT = `created_by integer,
  created_date timestamp NOT NULL DEFAULT now(),
  modified_by integer,
  modified_date timestamp`;

export function legacySchemaSql(options: LegacySchemaOptions = {}): string {
  const title = options.personnelTitleColumn ?? 'relationship_role';
  const fk = (target: string) => (options.foreignKeys ? ` REFERENCES ${target}` : '');
  return `
CREATE TABLE IF NOT EXISTS technology_vendors (
  vendor_id serial PRIMARY KEY,
  vendor_name text NOT NULL,
  notes text,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS owners_developers (
  owner_id serial PRIMARY KEY,
  company_name text NOT NULL,
  company_type text,
  target_customers text,
  engagement_level text,
  notes text,
  last_contact_date date,
  last_contact_type text,
  relationship_strength text,
  relationship_notes text,
  client_priority text,
  client_status text,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS clients (
  client_id serial PRIMARY KEY,
  client_name text NOT NULL,
  client_type text,
  notes text,
  mpr_primary_poc integer,
  mpr_secondary_poc integer,
  last_contact_date date,
  last_contact_type text,
  last_contact_by integer,
  last_contact_notes text,
  next_planned_contact_date date,
  next_planned_contact_type text,
  next_planned_contact_assigned_to integer,
  relationship_strength text,
  relationship_notes text,
  client_priority text,
  client_status text,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS operators (
  operator_id serial PRIMARY KEY,
  company_name text NOT NULL,
  notes text,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS constructors (
  constructor_id serial PRIMARY KEY,
  company_name text NOT NULL,
  notes text,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS offtakers (
  offtaker_id serial PRIMARY KEY,
  organization_name text NOT NULL,
  sector text,
  notes text,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS personnel (
  personnel_id serial PRIMARY KEY,
  full_name text NOT NULL,
  email text,
  phone text,
  role text,
  personnel_type text,
  organization_type text,
  organization_id integer,
  notes text,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS projects (
  project_id serial PRIMARY KEY,
  project_name text NOT NULL,
  location text,
  project_status text,
  notes text,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS personnel_entity_relationships (
  relationship_id serial PRIMARY KEY,
  personnel_id integer NOT NULL${fk('personnel')},
  entity_type text NOT NULL,
  entity_id integer NOT NULL,
  ${title} text,
  notes text,
  is_confidential boolean NOT NULL DEFAULT false,
  ${AUDIT},
  UNIQUE (personnel_id, entity_type, entity_id)
);

CREATE TABLE IF NOT EXISTS project_vendor_relationships (
  relationship_id serial PRIMARY KEY,
  project_id integer NOT NULL${fk('projects')},
  vendor_id integer NOT NULL${fk('technology_vendors')},
  notes text,
  is_confidential boolean NOT NULL DEFAULT false,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS project_owner_relationships (
  relationship_id serial PRIMARY KEY,
  project_id integer NOT NULL${fk('projects')},
  owner_id integer NOT NULL${fk('owners_developers')},
  notes text,
  is_confidential boolean NOT NULL DEFAULT false,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS project_operator_relationships (
  relationship_id serial PRIMARY KEY,
  project_id integer NOT NULL${fk('projects')},
  operator_id integer NOT NULL${fk('operators')},
  notes text,
  is_confidential boolean NOT NULL DEFAULT false,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS project_constructor_relationships (
  relationship_id serial PRIMARY KEY,
  project_id integer NOT NULL${fk('projects')},
  constructor_id integer NOT NULL${fk('constructors')},
  notes text,
  is_confidential boolean NOT NULL DEFAULT false,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS project_offtaker_relationships (
  relationship_id serial PRIMARY KEY,
  project_id integer NOT NULL${fk('projects')},
  offtaker_id integer NOT NULL${fk('offtakers')},
  agreement_type text,
  contracted_volume text,
  notes text,
  is_confidential boolean NOT NULL DEFAULT false,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS client_project_relationships (
  relationship_id serial PRIMARY KEY,
  client_id integer NOT NULL${fk('clients')},
  project_id integer NOT NULL${fk('projects')},
  relationship_type text,
  is_confidential boolean NOT NULL DEFAULT false,
  notes text,
  ${AUDIT}
);
`;
}
