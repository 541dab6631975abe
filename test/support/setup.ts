import 'aws-sdk-client-mock-vitest/extend';

// The handlers' structured logs and EMF metrics are for CloudWatch; tests check results, not stdout.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'CompanyMigrationTest';
