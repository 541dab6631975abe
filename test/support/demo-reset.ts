import { type DemoOptions, generateDemoData } from '../../lib/core/demo/generate.ts';
import { loadDemoData } from '../../lib/core/demo/load.ts';
import { LEGACY_TABLES } from '../../lib/core/schema/legacy.sql.ts';
import { UNIFIED_TABLES } from '../../lib/core/schema/unified.sql.ts';
import type { SqlClient } from '../../lib/core/sql/types.ts';

/**
 * Empties every legacy and unified table (and `alsoTruncate`), ids restarting at 1, and loads the demo
 * data: each test starts from the same state.
 */
export async function resetToDemo(
  sql: SqlClient,
  options: DemoOptions = {},
  alsoTruncate: readonly string[] = [],
): Promise<void> {
  await sql.query(
    `TRUNCATE ${[...LEGACY_TABLES, ...UNIFIED_TABLES, ...alsoTruncate].join(', ')} RESTART IDENTITY CASCADE`,
  );
  await loadDemoData(sql, generateDemoData(options));
}
