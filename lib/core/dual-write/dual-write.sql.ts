import { recordSourcesSql } from '../mapping/record-sources.ts';
import { ROLE_MAPPINGS, type RoleMapping, trimmedNameSql } from '../mapping/roles.ts';
import type { PersonnelTitleColumn } from '../schema/legacy.sql.ts';
import { CLIENT_PROFILE_FIELDS } from '../schema/unified.sql.ts';

/**
 * Dual write: triggers on the legacy tables that keep the unified schema in step with application
 * writes after the backfill, by the same rules R1–R6. Each trigger's work runs in its own
 * sub-transaction; any failure is recorded in company_migration_sync_errors and the application's
 * write commits regardless. Triggers never write legacy tables.
 *
 * Functions carry `SET search_path FROM CURRENT`: they resolve table names in the schema they were
 * installed in, whatever the application session's search_path.
 */

export const SYNC_ERRORS_TABLE = 'company_migration_sync_errors';
export const TRIGGER_NAME = 'company_migration_sync';

/** The legacy tables that carry a trigger, in install order. */
export const DUAL_WRITE_TABLES: readonly string[] = [
  ...ROLE_MAPPINGS.map((r) => r.legacyTable),
  'personnel_entity_relationships',
  ...ROLE_MAPPINGS.map((r) => r.projectLinkTable),
];

export const triggerFunctionName = (table: string) => `company_migration_sync_${table}`;
const projectSyncFunctionName = (role: RoleMapping) => `company_migration_dw_project_${role.code}`;

/** Every function the install creates, with its signature (for DROP FUNCTION). */
export const DUAL_WRITE_FUNCTIONS: readonly { name: string; signature: string }[] = [
  { name: 'company_migration_dw_role_id', signature: '(text, text)' },
  { name: 'company_migration_dw_log', signature: '(text, integer, text, text)' },
  { name: 'company_migration_dw_recompute_company', signature: '(integer)' },
  { name: 'company_migration_dw_release_company', signature: '(integer)' },
  { name: 'company_migration_dw_entity_company', signature: '(text, integer)' },
  { name: 'company_migration_dw_sync_affiliation', signature: '(integer, integer, text)' },
  ...ROLE_MAPPINGS.map((r) => ({
    name: projectSyncFunctionName(r),
    signature: '(integer, integer, boolean)',
  })),
  ...DUAL_WRITE_TABLES.map((t) => ({ name: triggerFunctionName(t), signature: '()' })),
];

const FN = 'LANGUAGE plpgsql SET search_path FROM CURRENT';

const RECORD_CONTEXT_TYPES = ROLE_MAPPINGS.map((r) => `'${r.recordContextType}'`).join(', ');

/** The EXCEPTION wrapper every trigger body uses. `idExpr` is the legacy row's id variable. */
function guardedTrigger(table: string, declarations: string, idAssign: string, work: string): string {
  return `CREATE OR REPLACE FUNCTION ${triggerFunctionName(table)}() RETURNS trigger ${FN} AS $$
DECLARE
  v_id integer;
${declarations}
BEGIN
${idAssign}
  BEGIN
${work}
  EXCEPTION WHEN OTHERS THEN
    INSERT INTO ${SYNC_ERRORS_TABLE} (legacy_table, legacy_id, operation, sql_state, message)
    VALUES (TG_TABLE_NAME, v_id, TG_OP, SQLSTATE, SQLERRM);
  END;
  RETURN NULL;
END
$$`;
}

const SYNC_ERRORS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ${SYNC_ERRORS_TABLE} (
  error_id bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  legacy_table text NOT NULL,
  legacy_id integer,
  operation text NOT NULL,
  sql_state text,
  message text NOT NULL
)`;

const ROLE_ID_FUNCTION = `CREATE OR REPLACE FUNCTION company_migration_dw_role_id(p_code text, p_label text)
RETURNS integer ${FN} AS $$
DECLARE
  v_role_id integer;
BEGIN
  SELECT role_id INTO v_role_id FROM company_roles WHERE role_code = p_code;
  IF v_role_id IS NULL THEN
    INSERT INTO company_roles (role_code, role_label, is_active) VALUES (p_code, p_label, true)
    ON CONFLICT (role_code) DO NOTHING;
    SELECT role_id INTO v_role_id FROM company_roles WHERE role_code = p_code;
  END IF;
  RETURN v_role_id;
END
$$`;

/** A sync problem that is not an SQL error (blank name, rename collision): recorded, work goes on. */
const LOG_FUNCTION = `CREATE OR REPLACE FUNCTION company_migration_dw_log(p_table text, p_id integer, p_op text, p_message text)
RETURNS void ${FN} AS $$
BEGIN
  INSERT INTO ${SYNC_ERRORS_TABLE} (legacy_table, legacy_id, operation, sql_state, message)
  VALUES (p_table, p_id, p_op, NULL, p_message);
END
$$`;

const profileColumns = CLIENT_PROFILE_FIELDS.join(', ');

/** R3 and R4 for one company, from all its record assignments' legacy rows (role order, then id). */
function recomputeCompanyFunction(): string {
  const client = ROLE_MAPPINGS.find((r) => r.code === 'client');
  if (!client) throw new Error('no client role mapping');
  const profileDiffers = `(${CLIENT_PROFILE_FIELDS.map((f) => `client_profiles.${f}`).join(', ')}) IS DISTINCT FROM (${CLIENT_PROFILE_FIELDS.map((f) => `EXCLUDED.${f}`).join(', ')})`;
  return `CREATE OR REPLACE FUNCTION company_migration_dw_recompute_company(p_company_id integer)
RETURNS void ${FN} AS $$
DECLARE
  v_found boolean := false;
  v_type text;
  v_notes text;
  v_any_client boolean;
BEGIN
  SELECT true, s.company_type, s.notes INTO v_found, v_type, v_notes
    FROM (${recordSourcesSql('AND a.company_id = p_company_id')}) AS s
   ORDER BY s.role_order, s.legacy_id LIMIT 1;
  IF NOT coalesce(v_found, false) THEN
    RETURN;
  END IF;
  v_any_client := EXISTS (
    SELECT 1 FROM ${client.legacyTable} l
      JOIN company_role_assignments a ON a.context_id = l.${client.idColumn} AND a.context_type = '${client.recordContextType}'
      JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = '${client.code}'
     WHERE a.company_id = p_company_id);
  UPDATE companies c
     SET company_type = v_type, notes = v_notes, is_mpr_client = c.is_mpr_client OR v_any_client,
         modified_date = now()
   WHERE c.company_id = p_company_id
     AND (c.company_type IS DISTINCT FROM v_type OR c.notes IS DISTINCT FROM v_notes
          OR (v_any_client AND NOT c.is_mpr_client));
  IF v_any_client THEN
    INSERT INTO client_profiles (company_id, ${profileColumns})
    SELECT a.company_id, ${CLIENT_PROFILE_FIELDS.map((f) => `l.${f}`).join(', ')}
      FROM ${client.legacyTable} l
      JOIN company_role_assignments a ON a.context_id = l.${client.idColumn} AND a.context_type = '${client.recordContextType}'
      JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = '${client.code}'
     WHERE a.company_id = p_company_id
     ORDER BY l.${client.idColumn} LIMIT 1
    ON CONFLICT (company_id) DO UPDATE
       SET ${CLIENT_PROFILE_FIELDS.map((f) => `${f} = EXCLUDED.${f}`).join(', ')}, modified_date = now()
     WHERE ${profileDiffers};
  END IF;
END
$$`;
}

/** After a record assignment is removed: delete the company when nothing refers to it, else recompute. */
const RELEASE_COMPANY_FUNCTION = `CREATE OR REPLACE FUNCTION company_migration_dw_release_company(p_company_id integer)
RETURNS void ${FN} AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM company_role_assignments WHERE company_id = p_company_id)
     AND NOT EXISTS (SELECT 1 FROM person_company_affiliations WHERE company_id = p_company_id) THEN
    DELETE FROM client_profiles WHERE company_id = p_company_id;
    DELETE FROM companies WHERE company_id = p_company_id;
  ELSE
    PERFORM company_migration_dw_recompute_company(p_company_id);
  END IF;
END
$$`;

/** The trigger of one legacy company table (R1–R4). */
function companyTriggerFunction(role: RoleMapping, title: PersonnelTitleColumn): string {
  const match = `role_id = v_role_id AND context_type = '${role.recordContextType}'`;
  const work = `    v_role_id := company_migration_dw_role_id('${role.code}', '${role.label.replace(/'/g, "''")}');
    IF TG_OP = 'DELETE' THEN
      v_release := true;
    ELSIF TG_OP = 'UPDATE' THEN
      v_release := OLD.${role.idColumn} <> NEW.${role.idColumn};
    END IF;
    IF v_release THEN
      -- The record is gone (or its key changed): drop its record assignment and release its company.
      FOR v_company_id IN
        DELETE FROM company_role_assignments WHERE ${match} AND context_id = OLD.${role.idColumn}
        RETURNING company_id
      LOOP
        PERFORM company_migration_dw_release_company(v_company_id);
      END LOOP;
      IF TG_OP = 'DELETE' THEN
        RETURN NULL;
      END IF;
    END IF;
    v_name := ${trimmedNameSql(`NEW.${role.nameColumn}`)};
    IF v_name = '' THEN
      PERFORM company_migration_dw_log(TG_TABLE_NAME, v_id, TG_OP, 'blank name (or over-long): record not synced');
      RETURN NULL;
    END IF;
    -- R2: an existing record assignment is sticky; else the company of that exact name; else a new one.
    SELECT company_id INTO v_company_id FROM company_role_assignments
     WHERE ${match} AND context_id = NEW.${role.idColumn} ORDER BY assignment_id LIMIT 1;
    IF v_company_id IS NULL THEN
      SELECT company_id INTO v_company_id FROM companies WHERE company_name = v_name;
      IF v_company_id IS NULL THEN
        INSERT INTO companies (company_name, is_mpr_client, is_internal) VALUES (v_name, false, false)
        ON CONFLICT (company_name) DO NOTHING
        RETURNING company_id INTO v_company_id;
        IF v_company_id IS NULL THEN
          SELECT company_id INTO v_company_id FROM companies WHERE company_name = v_name;
        END IF;
      END IF;
      INSERT INTO company_role_assignments (company_id, role_id, context_type, context_id, is_primary, is_confidential)
      VALUES (v_company_id, v_role_id, '${role.recordContextType}', NEW.${role.idColumn}, true, false)
      ON CONFLICT (company_id, role_id, context_type, context_id) DO NOTHING;
      -- Links written before this record existed (or while its name was blank) map to it now.
      FOR v_link IN
        SELECT personnel_id, "${title}" AS title FROM personnel_entity_relationships
         WHERE entity_type IN (${role.personnelEntityTypes.map((t) => `'${t}'`).join(', ')})
           AND entity_id = NEW.${role.idColumn}
      LOOP
        PERFORM company_migration_dw_sync_affiliation(v_link.personnel_id, v_company_id, v_link.title);
      END LOOP;
      FOR v_link IN
        SELECT DISTINCT project_id FROM ${role.projectLinkTable} WHERE ${role.projectLinkEntityColumn} = NEW.${role.idColumn}
      LOOP
        PERFORM ${projectSyncFunctionName(role)}(v_company_id, v_link.project_id, true);
      END LOOP;
    ELSE
      UPDATE company_role_assignments SET is_primary = true, modified_date = now()
       WHERE ${match} AND context_id = NEW.${role.idColumn} AND company_id = v_company_id AND NOT is_primary;
      SELECT company_name INTO v_current_name FROM companies WHERE company_id = v_company_id;
      IF v_current_name IS DISTINCT FROM v_name THEN
        IF EXISTS (SELECT 1 FROM company_role_assignments a
                    WHERE a.company_id = v_company_id AND a.context_type IN (${RECORD_CONTEXT_TYPES})
                      AND NOT (a.role_id = v_role_id AND a.context_type = '${role.recordContextType}'
                               AND a.context_id = NEW.${role.idColumn})) THEN
          PERFORM company_migration_dw_log(TG_TABLE_NAME, v_id, TG_OP,
            format('rename not propagated: company %s (%s) has other legacy records', v_company_id, v_current_name));
        ELSIF EXISTS (SELECT 1 FROM companies WHERE company_name = v_name AND company_id <> v_company_id) THEN
          PERFORM company_migration_dw_log(TG_TABLE_NAME, v_id, TG_OP,
            format('rename not propagated: another company is already named %s', v_name));
        ELSE
          UPDATE companies SET company_name = v_name, modified_date = now() WHERE company_id = v_company_id;
        END IF;
      END IF;
    END IF;
    PERFORM company_migration_dw_recompute_company(v_company_id);`;
  return guardedTrigger(
    role.legacyTable,
    `  v_role_id integer;
  v_company_id integer;
  v_name text;
  v_current_name text;
  v_release boolean := false;
  v_link record;`,
    `  IF TG_OP = 'DELETE' THEN
    v_id := OLD.${role.idColumn};
  ELSE
    v_id := NEW.${role.idColumn};
  END IF;`,
    work,
  );
}

/** The company an existing legacy entity maps to through its record assignment; NULL otherwise. */
function entityCompanyFunction(): string {
  const branches = ROLE_MAPPINGS.map(
    (role) => `  IF p_entity_type IN (${role.personnelEntityTypes.map((t) => `'${t}'`).join(', ')}) THEN
    RETURN (SELECT a.company_id FROM ${role.legacyTable} e
              JOIN company_role_assignments a ON a.context_id = e.${role.idColumn}
                   AND a.context_type = '${role.recordContextType}'
              JOIN company_roles r ON r.role_id = a.role_id AND r.role_code = '${role.code}'
             WHERE e.${role.idColumn} = p_entity_id ORDER BY a.assignment_id LIMIT 1);
  END IF;`,
  ).join('\n');
  return `CREATE OR REPLACE FUNCTION company_migration_dw_entity_company(p_entity_type text, p_entity_id integer)
RETURNS integer ${FN} STABLE AS $$
BEGIN
${branches}
  RETURN NULL;
END
$$`;
}

/**
 * R5 for one identity (person, company, title — NULL titles equal): the affiliation exists exactly when
 * some legacy link maps to it, with the notes of the lowest such link. Orphans (no person) are skipped.
 */
function syncAffiliationFunction(title: PersonnelTitleColumn): string {
  return `CREATE OR REPLACE FUNCTION company_migration_dw_sync_affiliation(p_person integer, p_company integer, p_title text)
RETURNS void ${FN} AS $$
DECLARE
  v_first integer;
  v_notes text;
BEGIN
  -- No unique constraint guards NULL titles: serialize syncs of one person's affiliations.
  PERFORM pg_advisory_xact_lock(727001, p_person);
  IF NOT EXISTS (SELECT 1 FROM personnel WHERE personnel_id = p_person) THEN
    RETURN;
  END IF;
  SELECT l.relationship_id, l.notes INTO v_first, v_notes
    FROM personnel_entity_relationships l
   WHERE l.personnel_id = p_person AND l."${title}" IS NOT DISTINCT FROM p_title
     AND company_migration_dw_entity_company(l.entity_type, l.entity_id) = p_company
   ORDER BY l.relationship_id LIMIT 1;
  IF v_first IS NULL THEN
    DELETE FROM person_company_affiliations
     WHERE person_id = p_person AND company_id = p_company AND title IS NOT DISTINCT FROM p_title;
  ELSIF EXISTS (SELECT 1 FROM person_company_affiliations
                 WHERE person_id = p_person AND company_id = p_company AND title IS NOT DISTINCT FROM p_title) THEN
    UPDATE person_company_affiliations SET notes = v_notes, modified_date = now()
     WHERE person_id = p_person AND company_id = p_company AND title IS NOT DISTINCT FROM p_title
       AND notes IS DISTINCT FROM v_notes;
  ELSE
    INSERT INTO person_company_affiliations (person_id, company_id, title, notes, is_primary)
    VALUES (p_person, p_company, p_title, v_notes, false);
  END IF;
END
$$`;
}

function personnelTriggerFunction(title: PersonnelTitleColumn): string {
  const work = `    IF TG_OP IN ('UPDATE', 'DELETE') THEN
      v_company := company_migration_dw_entity_company(OLD.entity_type, OLD.entity_id);
      IF v_company IS NOT NULL THEN
        PERFORM company_migration_dw_sync_affiliation(OLD.personnel_id, v_company, OLD."${title}");
      END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      v_company := company_migration_dw_entity_company(NEW.entity_type, NEW.entity_id);
      IF v_company IS NOT NULL THEN
        PERFORM company_migration_dw_sync_affiliation(NEW.personnel_id, v_company, NEW."${title}");
      END IF;
    END IF;`;
  return guardedTrigger(
    'personnel_entity_relationships',
    '  v_company integer;',
    `  IF TG_OP = 'DELETE' THEN
    v_id := OLD.relationship_id;
  ELSE
    v_id := NEW.relationship_id;
  END IF;`,
    work,
  );
}

/**
 * R6 for one identity (company, role, 'Project', project) of one role: the assignment exists exactly
 * when some legacy row of the role's link table maps to it; notes of the lowest relationship_id;
 * confidential when any row is — only ever gained when `p_monotone` (inserts and updates).
 */
function projectSyncFunction(role: RoleMapping): string {
  const table = role.projectLinkTable;
  const entity = role.projectLinkEntityColumn;
  return `CREATE OR REPLACE FUNCTION ${projectSyncFunctionName(role)}(p_company integer, p_project integer, p_monotone boolean)
RETURNS void ${FN} AS $$
DECLARE
  v_role_id integer;
  v_first integer;
  v_notes text;
  v_confidential boolean;
BEGIN
  v_role_id := company_migration_dw_role_id('${role.code}', '${role.label.replace(/'/g, "''")}');
  IF NOT EXISTS (SELECT 1 FROM projects WHERE project_id = p_project) THEN
    RETURN;
  END IF;
  SELECT min(l.relationship_id), bool_or(l.is_confidential) INTO v_first, v_confidential
    FROM ${table} l
   WHERE l.project_id = p_project
     AND company_migration_dw_entity_company('${role.personnelEntityTypes[0] ?? ''}', l.${entity}) = p_company;
  IF v_first IS NULL THEN
    DELETE FROM company_role_assignments
     WHERE company_id = p_company AND role_id = v_role_id AND context_type = 'Project' AND context_id = p_project;
    RETURN;
  END IF;
  SELECT notes INTO v_notes FROM ${table} WHERE relationship_id = v_first;
  INSERT INTO company_role_assignments AS a
         (company_id, role_id, context_type, context_id, is_primary, is_confidential, notes)
  VALUES (p_company, v_role_id, 'Project', p_project, false, v_confidential, v_notes)
  ON CONFLICT (company_id, role_id, context_type, context_id) DO UPDATE
     SET is_confidential = CASE WHEN p_monotone THEN a.is_confidential OR EXCLUDED.is_confidential
                                ELSE EXCLUDED.is_confidential END,
         notes = EXCLUDED.notes, modified_date = now()
   WHERE a.notes IS DISTINCT FROM EXCLUDED.notes
      OR a.is_confidential IS DISTINCT FROM (CASE WHEN p_monotone THEN a.is_confidential OR EXCLUDED.is_confidential
                                                  ELSE EXCLUDED.is_confidential END);
END
$$`;
}

function projectTriggerFunction(role: RoleMapping): string {
  const entity = role.projectLinkEntityColumn;
  const entityType = role.personnelEntityTypes[0] ?? '';
  const work = `    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      v_new_company := company_migration_dw_entity_company('${entityType}', NEW.${entity});
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
      v_old_company := company_migration_dw_entity_company('${entityType}', OLD.${entity});
      IF TG_OP = 'DELETE' THEN
        v_changed := true;
      ELSE
        v_changed := v_old_company IS DISTINCT FROM v_new_company OR OLD.project_id <> NEW.project_id;
      END IF;
      IF v_old_company IS NOT NULL AND v_changed THEN
        PERFORM ${projectSyncFunctionName(role)}(v_old_company, OLD.project_id, false);
      END IF;
    END IF;
    IF v_new_company IS NOT NULL THEN
      PERFORM ${projectSyncFunctionName(role)}(v_new_company, NEW.project_id, true);
    END IF;`;
  return guardedTrigger(
    role.projectLinkTable,
    `  v_old_company integer;
  v_new_company integer;
  v_changed boolean;`,
    `  IF TG_OP = 'DELETE' THEN
    v_id := OLD.relationship_id;
  ELSE
    v_id := NEW.relationship_id;
  END IF;`,
    work,
  );
}

function createTrigger(table: string): string {
  return `DROP TRIGGER IF EXISTS ${TRIGGER_NAME} ON ${table};
CREATE TRIGGER ${TRIGGER_NAME} AFTER INSERT OR UPDATE OR DELETE ON ${table}
  FOR EACH ROW EXECUTE FUNCTION ${triggerFunctionName(table)}()`;
}

/** The whole install script, for the detected personnel title column. Idempotent. */
export function installDualWriteSql(title: PersonnelTitleColumn): string {
  return [
    SYNC_ERRORS_TABLE_SQL,
    ROLE_ID_FUNCTION,
    LOG_FUNCTION,
    recomputeCompanyFunction(),
    RELEASE_COMPANY_FUNCTION,
    entityCompanyFunction(),
    syncAffiliationFunction(title),
    ...ROLE_MAPPINGS.map(projectSyncFunction),
    ...ROLE_MAPPINGS.map((role) => companyTriggerFunction(role, title)),
    personnelTriggerFunction(title),
    ...ROLE_MAPPINGS.map(projectTriggerFunction),
    ...DUAL_WRITE_TABLES.map(createTrigger),
  ].join(';\n\n');
}

/** Drops exactly what the install created (the sync-errors table unless kept). Idempotent. */
export function uninstallDualWriteSql(options: { keepErrors?: boolean } = {}): string {
  return [
    ...DUAL_WRITE_TABLES.map((t) => `DROP TRIGGER IF EXISTS ${TRIGGER_NAME} ON ${t}`),
    ...[...DUAL_WRITE_FUNCTIONS].reverse().map((f) => `DROP FUNCTION IF EXISTS ${f.name}${f.signature}`),
    ...(options.keepErrors ? [] : [`DROP TABLE IF EXISTS ${SYNC_ERRORS_TABLE}`]),
  ].join(';\n');
}
