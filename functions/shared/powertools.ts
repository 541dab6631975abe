import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** One logger and one metrics emitter for every function, created once per container. */
export const SERVICE_NAME = 'company-migration';

export const logger = new Logger({ serviceName: SERVICE_NAME });

export const metrics = new Metrics({ namespace: 'CompanyMigration', serviceName: SERVICE_NAME });
