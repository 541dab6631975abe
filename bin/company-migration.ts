import { processIo } from '../lib/cli/output.ts';
import { runCli } from '../lib/cli/program.ts';

process.exitCode = await runCli(process.argv.slice(2), processIo());
