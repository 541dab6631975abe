import {
  ROLE_KEYS,
  type ValidationReport,
  validationReportSchema,
} from '../../lib/core/validation/report-schema.ts';

/**
 * A realistic validation report (a post-backfill run on the demo data with defects) for tests of the
 * renderers, the stores and the CLI. Independent of the database: built by hand, checked by the schema.
 */
export function exampleValidationReport(overrides: Partial<ValidationReport> = {}): ValidationReport {
  const roles = Object.fromEntries(
    ROLE_KEYS.map((role, i) => [role, { total: 20 + i, mapped: 20 + i - (role === 'operator' ? 1 : 0) }]),
  ) as Record<(typeof ROLE_KEYS)[number], { total: number; mapped: number }>;
  const report: ValidationReport = {
    kind: 'validation',
    schemaVersion: 1,
    runId: 'run-20261125-0001',
    stage: 'dev',
    generatedAt: '2026-11-25T07:00:00.000Z',
    passed: false,
    criteria: [
      { id: 'no-critical-issues', passed: false, actual: 1, threshold: 0, message: '1 critical issue' },
      {
        id: 'entity-counts-match',
        passed: false,
        actual: 'operator: 25 legacy, 24 assigned',
        threshold: 'equal',
        message: 'operator counts differ',
      },
      {
        id: 'project-coverage',
        passed: false,
        actual: 89.6,
        threshold: 95,
        message: 'project-relationship coverage 89.6 % < 95 %',
      },
      {
        id: 'personnel-coverage',
        passed: true,
        actual: 99.13,
        threshold: 95,
        message: 'personnel-affiliation coverage 99.13 % ≥ 95 %',
      },
    ],
    companyCoverage: Object.fromEntries(
      ROLE_KEYS.map((role) => {
        const { total, mapped } = roles[role];
        return [
          role,
          {
            total,
            mapped,
            missing: total - mapped,
            missingSample: role === 'operator' ? [{ id: 30, name: '   ' }] : [],
          },
        ];
      }),
    ) as ValidationReport['companyCoverage'],
    entityCounts: Object.fromEntries(
      ROLE_KEYS.map((role) => [
        role,
        { legacy: roles[role].total, assignments: roles[role].mapped, stale: role === 'vendor' ? 1 : 0 },
      ]),
    ) as ValidationReport['entityCounts'],
    projectRelationshipCoverage: {
      vendor: { total: 269, covered: 185, percent: 68.77 },
      developer: { total: 138, covered: 136, percent: 98.55 },
      client: { total: 119, covered: 117, percent: 98.32 },
      operator: { total: 105, covered: 103, percent: 98.1 },
      constructor: { total: 95, covered: 93, percent: 97.89 },
      offtaker: { total: 91, covered: 89, percent: 97.8 },
      overall: { total: 817, covered: 723, percent: 88.49 },
    },
    personnelAffiliationCoverage: { total: 461, covered: 457, percent: 99.13, outOfScope: 3 },
    duplicateNameGroups: [
      {
        normalizedName: 'x-energy',
        acknowledged: false,
        companies: [
          { companyId: 12, name: 'X-energy', roles: ['vendor'], contextTypes: ['VendorRecord', 'Project'] },
          { companyId: 57, name: 'X-Energy', roles: ['client'], contextTypes: ['ClientRecord'] },
        ],
      },
    ],
    orphans: {
      personnelLinks: 4,
      projectLinks: 85,
      unifiedRows: 0,
      sample: [
        { table: 'project_vendor_relationships', id: 8, reason: 'missing vendor' },
        { table: 'personnel_entity_relationships', id: 16, reason: 'missing person' },
      ],
    },
    drift: {
      count: 1,
      sample: [
        {
          companyId: 4,
          field: 'company_name',
          company: 'GE Hitachi Nuclear Energy',
          legacy: 'technology_vendors#9',
        },
      ],
    },
    unmigratable: { count: 1, sample: [{ table: 'operators', id: 30 }] },
    issues: [
      {
        severity: 'critical',
        code: 'unmigratable-records',
        message: '1 legacy record has a blank name',
        count: 1,
      },
      {
        severity: 'warning',
        code: 'duplicate-names',
        message: '1 group of companies with near-identical names',
        count: 1,
      },
      {
        severity: 'warning',
        code: 'legacy-orphans',
        message: '89 legacy links point at missing rows',
        count: 89,
      },
      { severity: 'warning', code: 'drift', message: '1 company differs from its legacy records', count: 1 },
      {
        severity: 'warning',
        code: 'stale-assignments',
        message: '1 record assignment points at a deleted legacy row',
        count: 1,
      },
    ],
    indexes: [{ name: 'company_role_assignments_context_idx', created: false }],
    statements: 9,
  };
  return validationReportSchema.parse({ ...report, ...overrides });
}
