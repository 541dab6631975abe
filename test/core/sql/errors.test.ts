import { describe, expect, it } from 'vitest';
import {
  ConcurrencyConflictError,
  DatabaseAccessDeniedError,
  DatabaseConfigurationError,
  DatabaseConnectionError,
  fromPostgresError,
  isRetryableSqlError,
  QueryError,
  StatementTimeoutError,
  ThrottlingError,
} from '../../../lib/core/sql/errors.ts';

describe('fromPostgresError', () => {
  it.each([
    ['57014', StatementTimeoutError, true],
    ['40001', ConcurrencyConflictError, true],
    ['40P01', ConcurrencyConflictError, true],
    ['55P03', ConcurrencyConflictError, true],
    ['08006', DatabaseConnectionError, true],
    ['57P01', DatabaseConnectionError, true],
    ['53300', ThrottlingError, true],
    ['28P01', DatabaseAccessDeniedError, false],
    ['3D000', DatabaseConfigurationError, false],
    ['23505', QueryError, false],
    ['42P01', QueryError, false],
  ] as const)('maps SQLSTATE %s to %o (retryable: %s)', (code, ErrorClass, retryable) => {
    // Act
    const error = fromPostgresError({ code, severity: 'ERROR', message: `failure ${code}` }, 'pg');

    // Assess
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error.name).toBe(ErrorClass.name);
    expect(error.retryable).toBe(retryable);
    expect(isRetryableSqlError(error)).toBe(retryable);
    expect(error.sqlState).toBe(code);
  });

  it('treats refused and reset connections as retryable connection errors', () => {
    // Act
    const refused = fromPostgresError(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'pg',
    );
    const terminated = fromPostgresError(new Error('Connection terminated unexpectedly'), 'pg');

    // Assess
    expect(refused).toBeInstanceOf(DatabaseConnectionError);
    expect(terminated).toBeInstanceOf(DatabaseConnectionError);
    expect(refused.retryable && terminated.retryable).toBe(true);
  });

  it('keeps the original error as the cause', () => {
    // Prepare
    const original = { code: '23505', severity: 'ERROR', message: 'duplicate key' };

    // Act
    const error = fromPostgresError(original, 'pglite');

    // Assess
    expect(error.cause).toBe(original);
    expect(error.adapter).toBe('pglite');
  });
});
