/**
 * The unified company schema as the NukeWorks application defines it. The application creates it in
 * real databases; we create it for the demo and the tests, idempotently. The constraints are the
 * application's: note that unique(person_id, company_id, title, start_date) treats NULL titles as
 * distinct, so the backfill's idempotency cannot rest on it.
 */

export const UNIFIED_TABLES = [
  'companies',
  'company_roles',
  'company_role_assignments',
  'client_profiles',
  'person_company_affiliations',
] as const;

export type UnifiedTable = (typeof UNIFIED_TABLES)[number];

/** The CRM fields a client profile holds (R4 copies them from the company's lowest client record). */
export const CLIENT_PROFILE_FIELDS = [
  'relationship_strength',
  'relationship_notes',
  'client_priority',
  'client_status',
  'last_contact_date',
  'last_contact_type',
  'last_contact_by',
  'next_planned_contact_date',
  'next_planned_contact_type',
  'next_planned_contact_assigned_to',
] as const;

const AUDIT = `created_by integer,
  created_date timestamp NOT NULL DEFAULT now(),
  modified_by integer,
  modified_date timestamp`;

export const UNIFIED_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS companies (
  company_id serial PRIMARY KEY,
  company_name text NOT NULL UNIQUE,
  company_type text,
  sector text,
  website text,
  headquarters_country text,
  headquarters_region text,
  is_mpr_client boolean NOT NULL DEFAULT false,
  is_internal boolean NOT NULL DEFAULT false,
  notes text,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS company_roles (
  role_id serial PRIMARY KEY,
  role_code text NOT NULL UNIQUE,
  role_label text NOT NULL,
  description text,
  is_active boolean NOT NULL DEFAULT true,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS company_role_assignments (
  assignment_id serial PRIMARY KEY,
  company_id integer NOT NULL REFERENCES companies (company_id),
  role_id integer NOT NULL REFERENCES company_roles (role_id),
  context_type text NOT NULL,
  context_id integer,
  is_primary boolean NOT NULL DEFAULT false,
  start_date date,
  end_date date,
  is_confidential boolean NOT NULL DEFAULT false,
  notes text,
  ${AUDIT},
  UNIQUE (company_id, role_id, context_type, context_id)
);

CREATE INDEX IF NOT EXISTS company_role_assignments_context_idx
  ON company_role_assignments (context_type, context_id);

CREATE TABLE IF NOT EXISTS client_profiles (
  company_id integer PRIMARY KEY REFERENCES companies (company_id),
  relationship_strength text,
  relationship_notes text,
  client_priority text,
  client_status text,
  last_contact_date date,
  last_contact_type text,
  last_contact_by integer,
  next_planned_contact_date date,
  next_planned_contact_type text,
  next_planned_contact_assigned_to integer,
  ${AUDIT}
);

CREATE TABLE IF NOT EXISTS person_company_affiliations (
  affiliation_id serial PRIMARY KEY,
  person_id integer NOT NULL REFERENCES personnel (personnel_id),
  company_id integer NOT NULL REFERENCES companies (company_id),
  title text,
  department text,
  is_primary boolean NOT NULL DEFAULT false,
  start_date date,
  end_date date,
  notes text,
  ${AUDIT},
  UNIQUE (person_id, company_id, title, start_date)
);

CREATE INDEX IF NOT EXISTS person_company_affiliations_company_idx
  ON person_company_affiliations (company_id);
`;
