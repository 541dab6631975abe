import { preflightEventSchema } from '../../lib/core/pipeline/contracts.ts';
import { preflight } from '../../lib/core/pipeline/steps.ts';
import { createHandler, type DepsProvider } from '../shared/handler.ts';
import { lambdaDeps } from '../shared/lambda-deps.ts';

export const createPreflightHandler = (deps: DepsProvider) =>
  createHandler({
    step: 'preflight',
    schema: preflightEventSchema,
    deps,
    run: (d, event) => preflight(d, event),
  });

export const handler = createPreflightHandler(lambdaDeps);
