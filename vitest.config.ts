import { defineConfig } from 'vitest/config';

// Suites named *.slow.test.ts (fault injection through whole runs, leak searches over real CLI
// processes) run in CI (.ci/run sets RUN_SLOW_TESTS=1) and when asked, not on every local `npm test`;
// naming a slow file on the command line runs it too.
const runSlow = process.env.RUN_SLOW_TESTS === '1' || process.argv.some((a) => a.includes('.slow.test'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: runSlow ? ['**/node_modules/**'] : ['**/node_modules/**', 'test/**/*.slow.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
