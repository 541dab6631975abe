import { failureEventSchema } from '../../lib/core/pipeline/contracts.ts';
import { failureStep } from '../../lib/core/pipeline/steps.ts';
import { createHandler, type DepsProvider } from '../shared/handler.ts';
import { lambdaDeps } from '../shared/lambda-deps.ts';

export const createReportFailureHandler = (deps: DepsProvider) =>
  createHandler({
    step: 'report-failure',
    schema: failureEventSchema,
    deps,
    run: (d, event) => failureStep(d, event),
  });

export const handler = createReportFailureHandler(lambdaDeps);
