import { undoEventSchema } from '../../lib/core/pipeline/contracts.ts';
import { undoStep } from '../../lib/core/pipeline/steps.ts';
import { createHandler, type DepsProvider, timeBudgetMs } from '../shared/handler.ts';
import { lambdaDeps } from '../shared/lambda-deps.ts';

export const createUndoHandler = (deps: DepsProvider) =>
  createHandler({
    step: 'undo',
    schema: undoEventSchema,
    deps,
    run: (d, event, context) => undoStep(d, event, timeBudgetMs(context)),
  });

export const handler = createUndoHandler(lambdaDeps);
