import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The Lambda functions of the stacks (functions/shared holds helpers, not a function). */
export const LAMBDA_FUNCTIONS = [
  'preflight',
  'validate',
  'backfill',
  'undo',
  'diff',
  'smoke',
  'evaluate',
  'report-failure',
  'monitor',
] as const;

export interface BundleFigure {
  function: string;
  minifiedBytes: number;
  importMs: number[];
  medianImportMs: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** The bundling options of lib/stacks/migration-function.ts, as esbuild command-line flags. */
const ESBUILD_FLAGS = [
  '--bundle',
  '--platform=node',
  '--format=esm',
  '--target=node22',
  '--minify',
  '--main-fields=module,main',
  "--banner:js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  '--external:@electric-sql/pglite',
  '--external:pg-native',
  '--external:aws-local-stepfunctions',
];

/**
 * Bundles each function as the stack does (esbuild, ESM, node22, minified; the source map, a separate
 * file, is left out), then imports each bundle in `runs` fresh Node processes and times the import()
 * inside the process (module load and top-level code; not Node's own start-up).
 */
export function measureBundles(projectRoot: string, runs = 5): BundleFigure[] {
  const out = mkdtempSync(join(tmpdir(), 'bench-bundles-'));
  const esbuild = resolve(projectRoot, 'node_modules/.bin/esbuild');
  try {
    return LAMBDA_FUNCTIONS.map((fn) => {
      const file = join(out, fn, 'index.mjs');
      execFileSync(
        esbuild,
        [
          resolve(projectRoot, 'functions', fn, 'handler.ts'),
          ...ESBUILD_FLAGS,
          `--outfile=${file}`,
          '--log-level=error',
        ],
        { stdio: 'pipe' },
      );
      const importMs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const output = execFileSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`,
          ],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
            env: {
              ...process.env,
              STAGE: 'dev',
              POWERTOOLS_SERVICE_NAME: 'company-migration',
              POWERTOOLS_METRICS_NAMESPACE: 'CompanyMigration',
              POWERTOOLS_LOG_LEVEL: 'SILENT',
              AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
            },
          },
        );
        importMs.push(Number(output.toString().trim().split('\n').at(-1)));
      }
      return { function: fn, minifiedBytes: statSync(file).size, importMs, medianImportMs: median(importMs) };
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
