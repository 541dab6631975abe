import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  MONITORING_METRIC_UNITS,
  MONITORING_METRICS,
  monitorCheck,
  monitorEventSchema,
} from '../../lib/core/pipeline/monitor.ts';
import { createHandler, type DepsProvider } from '../shared/handler.ts';
import { lambdaDeps } from '../shared/lambda-deps.ts';
import { logger, metrics } from '../shared/powertools.ts';

const UNITS = {
  Count: MetricUnit.Count,
  Percent: MetricUnit.Percent,
  Milliseconds: MetricUnit.Milliseconds,
} as const;

export const createMonitorHandler = (deps: DepsProvider) =>
  createHandler({
    step: 'monitor',
    schema: monitorEventSchema,
    deps,
    run: async (d, event) => {
      const result = await monitorCheck(d, event);
      // One EMF metric per figure, dimensioned by stage (set by the shared handler): the alarms watch these.
      for (const name of MONITORING_METRICS) {
        metrics.addMetric(name, UNITS[MONITORING_METRIC_UNITS[name]], result.metrics[name]);
      }
      logger.info('monitoring check finished', {
        healthy: result.healthy,
        since: result.since,
        dualWriteInstalled: result.dualWriteInstalled,
        cutoverReady: result.cutoverReady,
        reportKey: result.reportKey,
      });
      return result;
    },
  });

export const handler = createMonitorHandler(lambdaDeps);
