import { backfillEventSchema } from '../../lib/core/pipeline/contracts.ts';
import { backfillStep } from '../../lib/core/pipeline/steps.ts';
import { createHandler, type DepsProvider, timeBudgetMs } from '../shared/handler.ts';
import { lambdaDeps } from '../shared/lambda-deps.ts';

export const createBackfillHandler = (deps: DepsProvider) =>
  createHandler({
    step: 'backfill',
    schema: backfillEventSchema,
    deps,
    run: (d, event, context) => backfillStep(d, event, timeBudgetMs(context)),
  });

export const handler = createBackfillHandler(lambdaDeps);
