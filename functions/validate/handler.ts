import { validateEventSchema } from '../../lib/core/pipeline/contracts.ts';
import { validationStep } from '../../lib/core/pipeline/steps.ts';
import { createHandler, type DepsProvider } from '../shared/handler.ts';
import { lambdaDeps } from '../shared/lambda-deps.ts';

export const createValidateHandler = (deps: DepsProvider) =>
  createHandler({
    step: 'validate',
    schema: validateEventSchema,
    deps,
    run: (d, event) => validationStep(d, event),
  });

export const handler = createValidateHandler(lambdaDeps);
