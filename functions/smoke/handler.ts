import { runEventSchema } from '../../lib/core/pipeline/contracts.ts';
import { smokeStep } from '../../lib/core/pipeline/steps.ts';
import { createHandler, type DepsProvider } from '../shared/handler.ts';
import { lambdaDeps } from '../shared/lambda-deps.ts';

export const createSmokeHandler = (deps: DepsProvider) =>
  createHandler({ step: 'smoke', schema: runEventSchema, deps, run: (d, event) => smokeStep(d, event) });

export const handler = createSmokeHandler(lambdaDeps);
