import { DatabaseConfigurationError } from './errors.ts';
import { isTypedSqlParam, type SqlAdapterKind, type SqlParam, type SqlParams } from './types.ts';

/** PostgreSQL type OIDs whose text form we read ourselves, so every adapter returns the same values. */
export const PG_TYPE = {
  INT8: 20,
  NUMERIC: 1700,
  DATE: 1082,
  TIME: 1083,
  TIMESTAMP: 1114,
  TIMESTAMPTZ: 1184,
  JSON: 114,
  JSONB: 3802,
} as const;

/** int8 as a number while exact, as a bigint beyond ±2^53 − 1. */
export function readInt8(text: string): number | bigint {
  const asNumber = Number(text);
  return Number.isSafeInteger(asNumber) ? asNumber : BigInt(text);
}

/**
 * Canonical timestamp text: 'YYYY-MM-DD HH:MM:SS' plus the fraction PostgreSQL printed, without
 * trailing zeros. A timestamptz printed with an offset is converted to UTC.
 */
export function readTimestamp(text: string): string {
  const match = /^(\d{4,}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d(?::?\d\d)?(?::?\d\d)?|Z)?$/.exec(
    text.trim(),
  );
  if (!match) return text; // infinity, BC dates: left as PostgreSQL printed them
  const [, date, time, fraction = '', offset] = match;
  const trimmedFraction = fraction.replace(/0+$/, '').replace(/^\.$/, '');
  if (!offset || /^(Z|[+-]00(:?00)?(:?00)?)$/.test(offset)) return `${date} ${time}${trimmedFraction}`;
  const sign = offset.startsWith('-') ? -1 : 1;
  const [hours = '0', minutes = '0', seconds = '0'] = offset
    .slice(1)
    .split(':')
    .flatMap((p) => p.match(/\d\d/g) ?? []);
  const offsetMs = sign * ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
  const utc = new Date(Date.parse(`${date}T${time}Z`) - offsetMs);
  return `${formatUtc(utc).slice(0, 19)}${trimmedFraction}`;
}

/** 'YYYY-MM-DD HH:MM:SS.mmm' in UTC: how a JS Date is sent. */
export function formatUtc(date: Date): string {
  if (Number.isNaN(date.getTime())) {
    throw new DatabaseConfigurationError('an invalid Date cannot be sent as a parameter', { adapter: 'pg' });
  }
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** Text parsers for `pg` and PGlite, keyed by type OID. */
export const textParsers: Record<number, (text: string) => unknown> = {
  [PG_TYPE.INT8]: readInt8,
  [PG_TYPE.NUMERIC]: (text) => text,
  [PG_TYPE.DATE]: (text) => text,
  [PG_TYPE.TIME]: (text) => text,
  [PG_TYPE.TIMESTAMP]: readTimestamp,
  [PG_TYPE.TIMESTAMPTZ]: readTimestamp,
  [PG_TYPE.JSON]: (text) => JSON.parse(text),
  [PG_TYPE.JSONB]: (text) => JSON.parse(text),
};

/** A parameter as text (or a JS primitive the driver sends as is) for the positional drivers. */
export function toDriverValue(name: string, value: SqlParam | undefined, adapter: SqlAdapterKind): unknown {
  if (value === undefined) {
    throw new DatabaseConfigurationError(`the statement uses :${name} but no value was given for it`, {
      adapter,
    });
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new DatabaseConfigurationError(`parameter :${name} is not a finite number (${value})`, {
        adapter,
      });
    }
    return value;
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return formatUtc(value);
  if (isTypedSqlParam(value)) return value.value;
  throw new DatabaseConfigurationError(`parameter :${name} has an unsupported type (${typeof value})`, {
    adapter,
  });
}

/** Orders the values of `params` by the names found in the statement. */
export function positionalValues(
  names: readonly string[],
  params: SqlParams,
  adapter: SqlAdapterKind,
): unknown[] {
  return names.map((name) => toDriverValue(name, params[name], adapter));
}
