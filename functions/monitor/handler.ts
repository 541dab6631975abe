import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { monitorCheck, monitorEventSchema } from '../../lib/core/pipeline/monitor.ts';
import { createHandler, type DepsProvider } from '../shared/handler.ts';
import { lambdaDeps } from '../shared/lambda-deps.ts';
import { metrics } from '../shared/powertools.ts';

export const createMonitorHandler = (deps: DepsProvider) =>
  createHandler({
    step: 'monitor',
    schema: monitorEventSchema,
    deps,
    run: async (d, event) => {
      const result = await monitorCheck(d, event);
      // One EMF metric per figure, dimensioned by stage (set by the shared handler): the alarms watch these.
      for (const [name, value] of Object.entries(result.metrics)) {
        metrics.addMetric(name, name.endsWith('Percent') ? MetricUnit.Percent : MetricUnit.Count, value);
      }
      return result;
    },
  });

export const handler = createMonitorHandler(lambdaDeps);
