import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgSqlClient } from '../../lib/core/sql/pg-client.ts';
import { PgliteSqlClient } from '../../lib/core/sql/pglite-client.ts';
import type { SqlClient } from '../../lib/core/sql/types.ts';
import { type Checksums, legacyChecksums, unifiedChecksums } from '../support/checksums.ts';
import { type CliRun, runCliCaptured, runCliProcess } from '../support/cli.ts';
import { serverUrl, uniqueSchemaName } from '../support/databases.ts';

/**
 * The hostile-input corpus, part 1: the operator CLI given bad arguments, wrong or unreachable database
 * URLs and databases without the schema. Every case ends with its exit code and one clear line on stderr
 * (no stack trace, no password), and leaves every legacy and unified table exactly as it was.
 */

const scratch = mkdtempSync(join(tmpdir(), 'hostile-cli-'));
const demoDir = join(scratch, 'demo');
const brokenDir = join(scratch, 'broken');
const notADirectory = join(scratch, 'a-file');
const notJson = join(scratch, 'not-json.json');
const notAReport = join(scratch, 'not-a-report.json');
const truncatedJson = join(scratch, 'truncated.json');
const PASSWORD = 'Hunter2-CliCorpus-pw';

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A stack frame, in Node's or vitest's form: must never reach an operator without --verbose. */
const STACK_FRAME = /^\s+at\s|\(\S+\.[cm]?[jt]s:\d+:\d+\)|node:internal/m;

/** The CLI's contract for a failure: the exit code, one line naming the problem, no stack, no secret. */
function expectClearFailure(run: CliRun, code: number, message: RegExp, verdict = false): void {
  expect(run.code, `stderr: ${run.stderr}`).toBe(code);
  expect(`${run.stdout}\n${run.stderr}`).not.toMatch(STACK_FRAME);
  expect(`${run.stdout}\n${run.stderr}`).not.toContain(PASSWORD);
  if (verdict) {
    // `run` shows its progress on stderr; its verdict on stdout names the failure, on one line.
    expect(run.stdout).toMatch(new RegExp(`^FAILED: .*${message.source}`, 'm'));
    return;
  }
  // Commander adds its usage hint on a line of its own after usage errors; nothing else may follow.
  const lines = run.stderr
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && l !== '(add --help for usage)');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
}

interface CliCase {
  name: string;
  argv: string[];
  code: number;
  message: RegExp;
  /** Run as the installed entry point in a fresh process (slower), not in-process. */
  process?: boolean;
  /** A `run`: progress on stderr, the failure in its verdict on stdout. */
  verdict?: boolean;
}

const demo = ['--data-dir', demoDir];

/** Cases that need no server: argument validation, files, the embedded database, unreachable URLs. */
const LOCAL_CASES: CliCase[] = [
  { name: 'an unknown command', argv: ['frobnicate'], code: 2, message: /unknown command 'frobnicate'/ },
  { name: 'an unknown option', argv: ['backfill', '--bogus', ...demo], code: 2, message: /unknown option/ },
  {
    name: 'a chunk size that is not a number',
    argv: ['backfill', '--chunk-size', 'abc', ...demo],
    code: 2,
    message: /--chunk-size: .*expected number/,
  },
  {
    name: 'a chunk size of 0',
    argv: ['backfill', '--chunk-size', '0', ...demo],
    code: 2,
    message: /--chunk-size: Too small/,
  },
  {
    name: 'a chunk size of 1e9',
    argv: ['backfill', '--chunk-size', '1e9', ...demo],
    code: 2,
    message: /--chunk-size: Too big/,
  },
  {
    name: 'an unknown backfill step',
    argv: ['backfill', '--step', 'everything', ...demo],
    code: 2,
    message: /argument 'everything' is invalid/,
  },
  {
    name: 'a sample size beyond 2^53',
    argv: ['validate', '--sample-size', '99999999999999999999', ...demo],
    code: 2,
    message: /--sample-size: Too big/,
  },
  {
    name: 'a coverage threshold of 150 %',
    argv: ['validate', '--project-threshold', '150', ...demo],
    code: 2,
    message: /--project-threshold: Too big/,
  },
  {
    name: 'a stage that climbs out of the report folder',
    argv: ['validate', '--stage', '../../etc', '--out', join(scratch, 'out'), ...demo],
    code: 2,
    message: /--stage: must be letters, digits/,
  },
  {
    name: 'a run id with a slash',
    argv: ['validate', '--run-id', 'a/b', ...demo],
    code: 2,
    message: /--run-id: must be letters, digits/,
  },
  {
    name: 'a run with an unknown step',
    argv: ['run', '--steps', 'companies,everything', ...demo],
    code: 2,
    message: /--steps: Invalid option/,
  },
  {
    name: 'a run with a negative chunk size',
    argv: ['run', '--chunk-size', '-1', ...demo],
    code: 2,
    message: /--chunk-size: Too small/,
  },
  {
    name: 'a demo scale of 0',
    argv: ['db', 'init', '--scale', '0', '--data-dir', join(scratch, 'never')],
    code: 2,
    message: /--scale: Too small/,
  },
  {
    name: 'a monitoring window that is not a date',
    argv: ['monitor', '--since', 'yesterday-ish', ...demo],
    code: 2,
    message: /--since: must be an ISO 8601 date/,
  },
  {
    name: 'demo data into tables that already hold rows',
    argv: ['db', 'init', '--demo', ...demo],
    code: 2,
    message: /refusing to load demo data: .*add --if-absent/,
  },
  {
    name: 'a report file that does not exist',
    argv: ['report', 'diff', join(scratch, 'none-a.json'), join(scratch, 'none-b.json')],
    code: 2,
    message: /no report file at .*none-[ab]\.json/, // both are read at once: either is named first
  },
  {
    name: 'a report file that is not JSON (its content is not quoted back)',
    argv: ['report', 'show', notJson],
    code: 2,
    message: /not-json\.json is not valid JSON$/,
  },
  {
    name: 'a report file cut short',
    argv: ['report', 'show', truncatedJson],
    code: 2,
    message: /truncated\.json is not valid JSON \(it ends too early\)/,
  },
  {
    name: 'a JSON file that is not a report',
    argv: ['report', 'show', notAReport],
    code: 2,
    message: /is not a valid validation report: field "schemaVersion"/,
  },
  {
    name: 'a folder given as a report',
    argv: ['report', 'show', scratch],
    code: 2,
    message: /is a folder, not a report file/,
  },
  {
    name: 'a restore of a run id that climbs out of the report folder',
    argv: ['restore', '../../etc', '--reports', join(scratch, 'reports'), ...demo],
    code: 2,
    message: /invalid run id "\.\.\/\.\.\/etc"/,
  },
  {
    name: 'a restore of a run that never happened',
    argv: ['restore', 'run-20000101-000000', '--reports', join(scratch, 'reports'), ...demo],
    code: 2,
    message: /no run run-20000101-000000 in /,
  },
  {
    name: 'an embedded database that was never created',
    argv: ['backfill', '--data-dir', join(scratch, 'no-such-dir')],
    code: 2,
    message: /no embedded database at .*: run `company-migration db init` first/,
  },
  {
    name: 'a file given as the embedded database directory',
    argv: ['validate', '--data-dir', notADirectory],
    code: 2,
    message: /a-file is a file, not an embedded database directory/,
    process: true,
  },
  {
    name: 'an embedded database without a legacy table',
    argv: ['backfill', '--data-dir', brokenDir],
    code: 2,
    message: /lacks 1 table\(s\): personnel_entity_relationships/,
  },
  {
    name: 'a MySQL URL',
    argv: ['validate', '--database-url', `mysql://app:${PASSWORD}@127.0.0.1/nukeworks`],
    code: 2,
    message: /must start with postgres:\/\/ or postgresql:\/\//,
  },
  {
    name: 'a URL that does not parse',
    argv: ['validate', '--database-url', `postgres://app:${PASSWORD}@[::1/nukeworks`],
    code: 2,
    message: /not a valid database URL: \(unparsable URL\)/,
  },
  {
    name: 'a URL with port 99999',
    argv: ['backfill', '--database-url', `postgres://app:${PASSWORD}@127.0.0.1:99999/nukeworks`],
    code: 2,
    message: /not a valid database URL/,
  },
  {
    name: 'a server that refuses connections (password masked)',
    argv: ['backfill', '--database-url', `postgres://app:${PASSWORD}@127.0.0.1:1/nukeworks`],
    code: 2,
    message: /cannot reach postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/nukeworks: .*ECONNREFUSED/,
    process: true,
  },
  {
    name: 'a host name that does not resolve',
    argv: ['validate', '--database-url', `postgresql://app:${PASSWORD}@no-such-host.invalid:5432/nukeworks`],
    code: 2,
    message: /database connection: cannot reach postgresql:\/\/app:\*\*\*@no-such-host\.invalid/,
  },
  {
    name: 'the URL from DATABASE_URL when it is unreachable',
    argv: ['validate'],
    code: 2,
    message: /cannot reach postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\//,
  },
];

/** Environment per case: DATABASE_URL only where the case is about it. */
const ENV: Record<string, NodeJS.ProcessEnv> = {
  'the URL from DATABASE_URL when it is unreachable': {
    DATABASE_URL: `postgres://app:${PASSWORD}@127.0.0.1:1/nukeworks`,
  },
};

async function embeddedChecksums(): Promise<{ legacy: Checksums; unified: Checksums }> {
  const client = await PgliteSqlClient.open({ dataDir: demoDir });
  try {
    return { legacy: await legacyChecksums(client), unified: await unifiedChecksums(client) };
  } finally {
    await client.close();
  }
}

describe('hostile CLI input (embedded database and unreachable servers)', () => {
  let before: { legacy: Checksums; unified: Checksums };

  beforeAll(async () => {
    writeFileSync(notADirectory, 'not a database\n');
    writeFileSync(notJson, 'root:$y$j9T$not-json-at-all\n');
    writeFileSync(truncatedJson, '{"kind": "validation", "schemaVersion": ');
    writeFileSync(notAReport, '{"kind":"validation"}');
    mkdirSync(join(scratch, 'reports'));
    expect((await runCliCaptured(['db', 'init', '--demo', '--data-dir', demoDir])).code).toBe(0);
    expect((await runCliCaptured(['db', 'init', '--schema-only', '--data-dir', brokenDir])).code).toBe(0);
    const broken = await PgliteSqlClient.open({ dataDir: brokenDir });
    await broken.query('DROP TABLE personnel_entity_relationships');
    await broken.close();
    before = await embeddedChecksums();
  });

  it.each(LOCAL_CASES)('$name: exit $code, one clear line, nothing written', async (testCase) => {
    // Act
    const env = ENV[testCase.name] ?? {};
    const run = testCase.process
      ? runCliProcess(testCase.argv, env)
      : await runCliCaptured(testCase.argv, env);

    // Assess
    expectClearFailure(run, testCase.code, testCase.message);
    expect(await embeddedChecksums()).toEqual(before);
  });

  it('prints the stack only when asked with --verbose', async () => {
    // Act
    const run = await runCliCaptured(['backfill', '--verbose', '--data-dir', brokenDir]);

    // Assess: the same first line, then the stack the operator asked for.
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(/^error: schema "public" lacks 1 table/);
    expect(run.stderr).toMatch(STACK_FRAME);
  });
});

/** Cases that need the PostgreSQL server: roles and databases that do not exist, a database without tables. */
describe.runIf(serverUrl)('hostile CLI input (PostgreSQL server)', () => {
  const names = { demo: uniqueSchemaName('hostile_cli'), empty: uniqueSchemaName('hostile_empty') };
  const urlOf = (database: string, user = 'postgres') => {
    const url = new URL(serverUrl ?? '');
    url.username = user;
    url.password = PASSWORD;
    url.pathname = `/${database}`;
    return url.toString();
  };
  let admin: SqlClient;
  let demoDb: SqlClient;
  let before: { legacy: Checksums; unified: Checksums };

  const serverChecksums = async () => ({
    legacy: await legacyChecksums(demoDb),
    unified: await unifiedChecksums(demoDb),
  });

  beforeAll(async () => {
    admin = new PgSqlClient({ url: serverUrl ?? '', maxConnections: 1 });
    for (const name of Object.values(names)) await admin.query(`CREATE DATABASE "${name}"`);
    expect((await runCliCaptured(['db', 'init', '--demo', '--database-url', urlOf(names.demo)])).code).toBe(
      0,
    );
    demoDb = new PgSqlClient({ url: urlOf(names.demo), maxConnections: 1 });
    before = await serverChecksums();
  });

  afterAll(async () => {
    await demoDb?.close();
    for (const name of Object.values(names))
      await admin?.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin?.close();
  });

  const SERVER_CASES: (Omit<CliCase, 'argv'> & { argv: () => string[] })[] = [
    {
      name: 'a role that does not exist',
      argv: () => ['backfill', '--database-url', urlOf(names.demo, 'no_such_role_hostile')],
      code: 2,
      message: /database access-denied: role "no_such_role_hostile" does not exist/,
    },
    {
      name: 'a database that does not exist',
      argv: () => ['validate', '--database-url', urlOf('no_such_database_hostile')],
      code: 2,
      message: /database configuration: database "no_such_database_hostile" does not exist/,
    },
    {
      name: 'a database without the schema (backfill)',
      argv: () => ['backfill', '--database-url', urlOf(names.empty)],
      code: 2,
      message:
        /schema "public" lacks 20 table\(s\): technology_vendors, .* \(run `company-migration db init`/,
    },
    {
      name: 'a database without the schema (dual-write install)',
      argv: () => ['dual-write', 'install', '--database-url', urlOf(names.empty)],
      code: 2,
      message: /schema "public" lacks 20 table\(s\)/,
    },
    {
      name: 'a database without the schema (run, from a fresh process)',
      argv: () => [
        'run',
        '--skip-snapshot',
        '--reports',
        join(scratch, 'reports'),
        '--database-url',
        urlOf(names.empty),
      ],
      code: 2,
      message: /MissingSchemaError: schema "public" lacks 20 table\(s\)/,
      process: true,
      verdict: true,
    },
  ];

  it.each(SERVER_CASES)('$name: exit $code, one clear line, nothing written', async (testCase) => {
    // Act
    const run = testCase.process ? runCliProcess(testCase.argv()) : await runCliCaptured(testCase.argv());

    // Assess
    expectClearFailure(run, testCase.code, testCase.message, testCase.verdict);
    expect(await serverChecksums()).toEqual(before);
  });
});
