/** A run id people can sort and read, in UTC to the second: run-20261125-071502, monitor-20261125-060000. */
export function timestampedRunId(prefix: string, now = new Date()): string {
  return `${prefix}-${now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}
