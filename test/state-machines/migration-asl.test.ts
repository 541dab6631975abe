import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildMigrationDefinition,
  MIGRATION_ASL_PATH,
  RETRY_POLICY,
} from '../../scripts/build-migration-asl.ts';

interface StateDefinition {
  Type: string;
  Resource?: string;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number; IntervalSeconds?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
}

const definition = JSON.parse(readFileSync(MIGRATION_ASL_PATH, 'utf8')) as {
  StartAt: string;
  QueryLanguage?: string;
  TimeoutSeconds?: number;
  States: Record<string, StateDefinition>;
};
const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
const lambdaTasks = tasks.filter(([, s]) => s.Resource?.endsWith('FunctionArn}'));

describe('state-machines/migration.asl.json', () => {
  it('is exactly what scripts/build-migration-asl.ts generates', () => {
    // Act / Assess
    expect(definition).toEqual(JSON.parse(JSON.stringify(buildMigrationDefinition())));
  });

  it('is written in JSONPath (the local interpreter mishandles JSONata) with an overall timeout', () => {
    // Assess
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(definition.TimeoutSeconds).toBeGreaterThan(0);
  });

  it('catches every error in every Task and reports it before failing', () => {
    // Assess
    expect(tasks.length).toBeGreaterThanOrEqual(11);
    for (const [name, state] of tasks) {
      const catchAll = state.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect(catchAll, `${name} has a Catch on States.ALL`).toBeDefined();
      const target = name === 'ReportFailure' ? 'MigrationFailed' : `Record${name}Failure`;
      expect(catchAll?.Next).toBe(target);
      if (name !== 'ReportFailure') expect(definition.States[target]?.Next).toBe('ReportFailure');
    }
  });

  it('retries retryable database errors with exponential backoff, and Lambda service errors', () => {
    // Assess
    const [database, lambda] = RETRY_POLICY;
    for (const [name, state] of lambdaTasks) {
      // The failure report only writes to the store: no database retry, but Lambda hiccups are retried.
      expect(state.Retry, name).toEqual(name === 'ReportFailure' ? [lambda] : RETRY_POLICY);
    }
    expect(database?.ErrorEquals).toEqual([
      'StatementTimeoutError',
      'DatabaseResumingError',
      'ThrottlingError',
      'DatabaseConnectionError',
      'ConcurrencyConflictError',
      'TransactionExpiredError',
    ]);
    expect(database).toMatchObject({ IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 6 });
    expect(lambda?.ErrorEquals).toContain('Lambda.TooManyRequestsException');
    expect(lambda).toMatchObject({ IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3 });
  });

  it('never retries input, validation or query errors', () => {
    // Assess
    const retried = new Set(tasks.flatMap(([, s]) => (s.Retry ?? []).flatMap((r) => r.ErrorEquals)));
    for (const error of [
      'States.ALL',
      'States.TaskFailed',
      'InputValidationError',
      'ParseError',
      'QueryError',
      'MissingSchemaError',
    ]) {
      expect(retried.has(error), error).toBe(false);
    }
  });

  it('loops each backfill step until it reports done', () => {
    // Assess
    for (const step of ['BackfillCompanies', 'BackfillPersonnel', 'BackfillProjects']) {
      expect(definition.States[step]?.Next).toBe(`${step}Done`);
      expect(definition.States[`${step}Done`]?.Default).toBe(step);
    }
  });

  it('every transition leads to a state that exists', () => {
    // Assess
    const names = new Set(Object.keys(definition.States));
    expect(names.has(definition.StartAt)).toBe(true);
    for (const [name, state] of Object.entries(definition.States)) {
      const targets = [
        state.Next,
        state.Default,
        ...(state.Choices ?? []).map((c) => c.Next),
        ...(state.Catch ?? []).map((c) => c.Next),
      ];
      for (const target of targets.filter(Boolean))
        expect(names.has(target as string), `${name} → ${target}`).toBe(true);
    }
  });
});
