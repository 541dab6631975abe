import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_STEPS, runBackfillToEnd } from '../../../lib/core/backfill/index.ts';
import { type DemoDataset, type DemoRow, generateDemoData } from '../../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../../lib/core/demo/load.ts';
import { NAME_TRIM_CHARACTERS, ROLE_MAPPINGS, type RoleMapping } from '../../../lib/core/mapping/roles.ts';
import { applySchemas } from '../../../lib/core/schema/apply.ts';
import { LEGACY_TABLES } from '../../../lib/core/schema/legacy.sql.ts';
import { UNIFIED_TABLES } from '../../../lib/core/schema/unified.sql.ts';
import type { SqlClient } from '../../../lib/core/sql/types.ts';
import { percentOf } from '../../../lib/core/validation/report-schema.ts';
import { validate } from '../../../lib/core/validation/validate.ts';
import { realDatabases, type TestDatabase } from '../../support/databases.ts';

/**
 * The demo database's validation before and after the backfill, against figures computed here in
 * plain TypeScript from the generated rows — a second, independent reading of the rules.
 */

const trimSet = new Set(NAME_TRIM_CHARACTERS);
function trimName(value: unknown): string {
  const text = String(value ?? '');
  let start = 0;
  let end = text.length;
  while (start < end && trimSet.has(text[start] as string)) start++;
  while (end > start && trimSet.has(text[end - 1] as string)) end--;
  return text.slice(start, end);
}

/** What the rules say about the demo data, computed from the dataset alone. */
function expectedFigures(dataset: DemoDataset) {
  const table = (name: string): DemoRow[] => dataset.tables[name] ?? [];
  const ids = (name: string, key: string) => new Set(table(name).map((r) => r[key]));
  const roleIdByCode = new Map(table('company_roles').map((r) => [r.role_code, r.role_id]));
  const recordAssigned = (role: RoleMapping, legacyId: unknown) =>
    table('company_role_assignments').find(
      (a) =>
        a.context_type === role.recordContextType &&
        a.context_id === legacyId &&
        a.role_id === roleIdByCode.get(role.code),
    );
  const blank = (role: RoleMapping, id: unknown) =>
    trimName(table(role.legacyTable).find((r) => r[role.idColumn] === id)?.[role.nameColumn]) === '';
  const projects = ids('projects', 'project_id');
  const people = ids('personnel', 'personnel_id');

  const perRole = ROLE_MAPPINGS.map((role) => {
    const records = table(role.legacyTable);
    const legacyIds = ids(role.legacyTable, role.idColumn);
    const links = table(role.projectLinkTable);
    const orphanLinks = links.filter(
      (l) => !projects.has(l.project_id) || !legacyIds.has(l[role.projectLinkEntityColumn]),
    );
    const coveredBefore = links.filter((l) => {
      if (orphanLinks.includes(l)) return false;
      const record = recordAssigned(role, l[role.projectLinkEntityColumn]);
      return table('company_role_assignments').some(
        (a) =>
          record &&
          a.company_id === record.company_id &&
          a.role_id === roleIdByCode.get(role.code) &&
          a.context_type === 'Project' &&
          a.context_id === l.project_id,
      );
    }).length;
    const coveredAfter = links.filter(
      (l) => !orphanLinks.includes(l) && !blank(role, l[role.projectLinkEntityColumn]),
    ).length;
    const assignments = table('company_role_assignments').filter(
      (a) => a.context_type === role.recordContextType,
    );
    return {
      role: role.code,
      total: records.length,
      mappedBefore: records.filter((r) => recordAssigned(role, r[role.idColumn])).length,
      blank: records.filter((r) => trimName(r[role.nameColumn]) === '').length,
      staleBefore: assignments.filter((a) => !legacyIds.has(a.context_id)).length,
      links: links.length,
      orphanLinks: orphanLinks.length,
      coveredBefore,
      coveredAfter,
    };
  });

  const roleOfEntityType = (type: unknown) =>
    ROLE_MAPPINGS.find((r) => r.personnelEntityTypes.includes(String(type)));
  const personnelLinks = table('personnel_entity_relationships');
  const inScope = personnelLinks.filter((l) => roleOfEntityType(l.entity_type));
  const personnelOrphans = inScope.filter((l) => {
    const role = roleOfEntityType(l.entity_type) as RoleMapping;
    return !people.has(l.personnel_id) || !ids(role.legacyTable, role.idColumn).has(l.entity_id);
  });
  const personnelCoveredAfter = inScope.filter((l) => {
    const role = roleOfEntityType(l.entity_type) as RoleMapping;
    return !personnelOrphans.includes(l) && !blank(role, l.entity_id);
  }).length;

  return {
    perRole,
    personnel: {
      total: inScope.length,
      outOfScope: personnelLinks.length - inScope.length,
      orphans: personnelOrphans.length,
      coveredAfter: personnelCoveredAfter,
    },
  };
}

describe.each(realDatabases)('validation of the demo database: $name', (backend) => {
  let database: TestDatabase;
  let sql: SqlClient;

  beforeAll(async () => {
    database = await backend.open();
    sql = database.client;
    await applySchemas(sql);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  async function loadFresh(dataset: DemoDataset) {
    await sql.query(`TRUNCATE ${[...LEGACY_TABLES, ...UNIFIED_TABLES].join(', ')} RESTART IDENTITY CASCADE`);
    await loadDemoData(sql, dataset);
  }

  it('before the backfill: counts what the dual-write left, and fails', async () => {
    // Prepare
    const dataset = generateDemoData();
    const expected = expectedFigures(dataset);
    await loadFresh(dataset);

    // Act
    const report = await validate(sql, { runId: 'pre', stage: 'test', createIndexes: false });

    // Assess
    for (const role of expected.perRole) {
      expect(report.companyCoverage[role.role]).toMatchObject({
        total: role.total,
        mapped: role.mappedBefore,
        missing: role.total - role.mappedBefore,
      });
      expect(report.entityCounts[role.role]).toEqual({
        legacy: role.total,
        assignments: role.mappedBefore,
        stale: role.staleBefore,
      });
      expect(report.projectRelationshipCoverage[role.role]).toEqual({
        total: role.links,
        covered: role.coveredBefore,
        percent: percentOf(role.coveredBefore, role.links),
      });
    }
    expect(report.issues.map((i) => i.code)).toContain('missing-roles');
    expect(report.passed).toBe(false);
  });

  it.each([
    ['the default demo', false],
    ['the demo with defects', true],
  ])('after the backfill of %s: matches the figures computed from the data', async (_label, defects) => {
    // Prepare
    const dataset = generateDemoData({ defects });
    const expected = expectedFigures(dataset);
    await loadFresh(dataset);
    for (const step of BACKFILL_STEPS) await runBackfillToEnd(sql, step);

    // Act
    const report = await validate(sql, { runId: 'post', stage: 'test' });

    // Assess
    let projectTotal = 0;
    let projectCovered = 0;
    for (const role of expected.perRole) {
      expect(report.companyCoverage[role.role]).toMatchObject({
        total: role.total,
        mapped: role.total - role.blank,
        missing: role.blank,
      });
      expect(report.projectRelationshipCoverage[role.role]).toEqual({
        total: role.links,
        covered: role.coveredAfter,
        percent: percentOf(role.coveredAfter, role.links),
      });
      projectTotal += role.links;
      projectCovered += role.coveredAfter;
    }
    expect(report.projectRelationshipCoverage.overall).toEqual({
      total: projectTotal,
      covered: projectCovered,
      percent: percentOf(projectCovered, projectTotal),
    });
    expect(report.personnelAffiliationCoverage).toEqual({
      total: expected.personnel.total,
      covered: expected.personnel.coveredAfter,
      percent: percentOf(expected.personnel.coveredAfter, expected.personnel.total),
      outOfScope: expected.personnel.outOfScope,
    });
    expect(report.orphans).toMatchObject({
      personnelLinks: expected.personnel.orphans,
      projectLinks: expected.perRole.reduce((sum, r) => sum + r.orphanLinks, 0),
      unifiedRows: 0,
    });
    const blanks = expected.perRole.reduce((sum, r) => sum + r.blank, 0);
    expect(report.unmigratable.count).toBe(blanks);
    expect(report.drift.count).toBe(1);
    expect(report.duplicateNameGroups.map((g) => g.normalizedName).sort()).toEqual([
      'holtec international',
      'x-energy',
    ]);
    const failed = report.criteria.filter((c) => !c.passed).map((c) => c.id);
    expect(failed).toEqual(defects ? ['no-critical-issues', 'entity-counts-match', 'project-coverage'] : []);
    expect(report.passed).toBe(!defects);
  });
});
