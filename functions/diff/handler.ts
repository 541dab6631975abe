import { runEventSchema } from '../../lib/core/pipeline/contracts.ts';
import { diffStep } from '../../lib/core/pipeline/steps.ts';
import { createHandler, type DepsProvider } from '../shared/handler.ts';
import { lambdaDeps } from '../shared/lambda-deps.ts';

export const createDiffHandler = (deps: DepsProvider) =>
  createHandler({ step: 'diff', schema: runEventSchema, deps, run: (d, event) => diffStep(d, event) });

export const handler = createDiffHandler(lambdaDeps);
