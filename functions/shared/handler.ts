import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { InputValidationError, type PipelineDeps } from '../../lib/core/pipeline/steps.ts';
import { logger, metrics } from './powertools.ts';

export type DepsProvider = () => Promise<PipelineDeps>;

/**
 * The parser's error says only "Failed to parse schema"; the state machine's failure report should say
 * which field was wrong. Rethrown as InputValidationError, which no Retry matches.
 */
const nameTheInvalidField: middy.MiddlewareObj = {
  onError: async (request) => {
    const error = request.error;
    if (!(error instanceof Error) || error.name !== 'ParseError') return;
    // Standard Schema issues: a message and a path of keys (or { key } segments).
    type Issue = { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] };
    const cause = error.cause as Issue[] | { issues?: Issue[] } | undefined;
    const issues = Array.isArray(cause) ? cause : cause?.issues;
    const where = (issue: Issue) =>
      (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).join('.') ||
      '(root)';
    const detail = issues?.map((i) => `${where(i)}: ${i.message}`).join('; ');
    throw new InputValidationError(`invalid event: ${detail ?? error.message}`);
  },
};

/** Time left for work in this invocation: the Lambda's remaining time less a margin to finish cleanly. */
export function timeBudgetMs(context: Context, marginMs = 60_000): number {
  return Math.max(0, context.getRemainingTimeInMillis() - marginMs);
}

interface HandlerSpec<Schema extends z.ZodType, Result> {
  /** The state machine step, for logs and metrics. */
  step: string;
  schema: Schema;
  deps: DepsProvider;
  run: (deps: PipelineDeps, event: z.infer<Schema>, context: Context) => Promise<Result>;
}

function runKeys(event: unknown): { runId?: string; stage?: string } {
  const value = (event ?? {}) as { run?: { runId?: string; stage?: string }; runId?: string; stage?: string };
  const runId = value.run?.runId ?? value.runId;
  const stage = value.run?.stage ?? value.stage;
  return { ...(runId ? { runId } : {}), ...(stage ? { stage } : {}) };
}

/**
 * The one shape of every migration function: structured logs carrying run id, stage and step; metrics;
 * the event parsed by its zod schema (a malformed event fails with ParseError, which is not retried);
 * then one core function, whose small JSON result goes back to the state machine.
 */
export function createHandler<Schema extends z.ZodType, Result>(spec: HandlerSpec<Schema, Result>) {
  return middy<z.infer<Schema>, Result, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(nameTheInvalidField)
    .use(parser({ schema: spec.schema }))
    .handler(async (event, context) => {
      const keys = runKeys(event);
      logger.appendKeys({ ...keys, step: spec.step });
      if (keys.stage) metrics.addDimension('stage', keys.stage);
      const started = Date.now();
      try {
        const result = await spec.run(await spec.deps(), event, context);
        logger.info('step finished', { durationMs: Date.now() - started });
        return result;
      } catch (error) {
        logger.error('step failed', error as Error);
        metrics.addMetric('StepFailures', MetricUnit.Count, 1);
        throw error;
      } finally {
        metrics.addMetric('StepDuration', MetricUnit.Milliseconds, Date.now() - started);
      }
    });
}
