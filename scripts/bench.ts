/**
 * `npm run bench [-- --scale X --json --keep]`: the migration benchmark (see BENCHMARKS.md).
 * Builds a legacy database on the PostgreSQL server (BENCH_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432) in its own database company_migration_bench, dropped and
 * recreated each run, and measures our backfill and validation against the lower bound and the
 * row-by-row approach, the Data API adapter and the Lambda bundles.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { formatResults } from '../lib/bench/format.ts';
import { runBenchmark } from '../lib/bench/run.ts';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const program = new Command('bench')
  .option('--scale <x>', 'benchmark scale (1 = 100,000 legacy company records)', '1')
  .option('--sample-scale <x>', 'scale of the row-by-row sample (default scale/100, at least 0.001)')
  .option('--json', 'print the raw results as JSON instead of the table')
  .option('--keep', 'keep the benchmark database afterwards')
  .option('--out <file>', 'also write the raw results to this JSON file')
  .option('--no-bundles', 'skip the Lambda bundle measurements')
  .option('--no-data-api', 'skip the Data API measurement')
  .option(
    '--data-api-scale <x>',
    'scale of the Data API measurement on PGlite (default: the scale, at most 0.2)',
  )
  .option(
    '--url <url>',
    'PostgreSQL server',
    process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432',
  );
program.parse();
const opts = program.opts<{
  scale: string;
  sampleScale?: string;
  dataApiScale?: string;
  json?: boolean;
  keep?: boolean;
  out?: string;
  bundles: boolean;
  dataApi: boolean;
  url: string;
}>();

const scale = Number(opts.scale);
if (!(scale > 0)) throw new Error(`--scale must be a positive number (got ${opts.scale})`);
const started = performance.now();
const results = await runBenchmark({
  scale,
  ...(opts.sampleScale ? { sampleScale: Number(opts.sampleScale) } : {}),
  ...(opts.dataApiScale ? { dataApiScale: Number(opts.dataApiScale) } : {}),
  url: opts.url,
  ownDatabase: true,
  schema: 'public',
  keep: Boolean(opts.keep),
  bundles: opts.bundles,
  dataApi: opts.dataApi,
  projectRoot,
  log: (line) => {
    if (!opts.json) console.error(line);
  },
});
if (opts.out) writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
if (opts.json) console.log(JSON.stringify(results, null, 2));
else {
  console.log(formatResults(results));
  console.log(`\n(benchmark run took ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
const mismatched = Object.entries(results.endStateChecks).filter(([, c]) => !c.matches);
if (mismatched.length > 0) {
  console.error(
    `end states differ: ${mismatched.map(([k, c]) => `${k} (${c.differingTables.join(', ')})`).join('; ')}`,
  );
  process.exitCode = 1;
}
