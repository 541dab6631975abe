import { evaluateEventSchema } from '../../lib/core/pipeline/contracts.ts';
import { evaluateStep } from '../../lib/core/pipeline/steps.ts';
import { createHandler, type DepsProvider } from '../shared/handler.ts';
import { lambdaDeps } from '../shared/lambda-deps.ts';

export const createEvaluateHandler = (deps: DepsProvider) =>
  createHandler({
    step: 'evaluate',
    schema: evaluateEventSchema,
    deps,
    run: (d, event) => evaluateStep(d, event),
  });

export const handler = createEvaluateHandler(lambdaDeps);
