import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalReportStore } from '../../../lib/core/reports/local-store.ts';
import { InvalidReportKeyError, publishReport, readReport } from '../../../lib/core/reports/publish.ts';
import { parseS3Uri, ReportStoreConfigError, S3ReportStore } from '../../../lib/core/reports/s3-store.ts';
import {
  CONTENT_TYPES,
  type ReportKey,
  ReportNotFoundError,
  type ReportStore,
  reportKey,
} from '../../../lib/core/reports/store.ts';
import { exampleValidationReport } from '../../support/validation-report-fixture.ts';

const BUCKET = 'nukeworks-reports-123456789012';
const S3_PREFIX = 'reports/';
/** The fake answers ListObjectsV2 in pages this small, so that any listing of three keys pages. */
const PAGE_SIZE = 2;

interface StoredObject {
  body: string;
  contentType: string | undefined;
}

/**
 * An S3 bucket in a Map behind aws-sdk-client-mock: PutObject, GetObject (NoSuchKey when absent) and
 * ListObjectsV2 (sorted, by prefix, in pages of at most PAGE_SIZE keys with continuation tokens).
 */
function fakeS3Bucket(bucket = BUCKET) {
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const s3Mock = mockClient(client);
  const objects = new Map<string, StoredObject>();
  const checkBucket = (name: string | undefined) => {
    if (name !== bucket) {
      throw new S3ServiceException({
        name: 'NoSuchBucket',
        $fault: 'client',
        $metadata: { httpStatusCode: 404 },
        message: 'The specified bucket does not exist',
      });
    }
  };
  s3Mock.on(PutObjectCommand).callsFake((input) => {
    checkBucket(input.Bucket);
    objects.set(String(input.Key), { body: String(input.Body), contentType: input.ContentType });
    return { ETag: '"etag"', $metadata: { httpStatusCode: 200 } };
  });
  s3Mock.on(GetObjectCommand).callsFake((input) => {
    checkBucket(input.Bucket);
    const object = objects.get(String(input.Key));
    if (!object) {
      throw new NoSuchKey({
        message: 'The specified key does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    }
    const body = { transformToString: async () => object.body } as unknown as GetObjectCommandOutput['Body'];
    return { Body: body, ContentType: object.contentType, $metadata: { httpStatusCode: 200 } };
  });
  s3Mock.on(ListObjectsV2Command).callsFake((input) => {
    checkBucket(input.Bucket);
    const matching = [...objects.keys()].filter((key) => key.startsWith(input.Prefix ?? '')).sort();
    const start = input.ContinuationToken
      ? Number(Buffer.from(input.ContinuationToken, 'base64').toString())
      : 0;
    const size = Math.min(input.MaxKeys ?? 1000, PAGE_SIZE);
    const page = matching.slice(start, start + size);
    const truncated = start + size < matching.length;
    return {
      Contents: page.map((Key) => ({ Key, Size: objects.get(Key)?.body.length ?? 0 })),
      KeyCount: page.length,
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: Buffer.from(String(start + size)).toString('base64') } : {}),
      $metadata: { httpStatusCode: 200 },
    };
  });
  return { client, s3Mock, objects };
}

interface StoreFixture {
  store: ReportStore;
  /** The store kept exactly this body for the key, with the content type where the store keeps one. */
  assessStored(key: string, body: string, contentType: string): void;
  /** Nothing was written anywhere (after refused requests). */
  assessNothingWritten(): void;
  dispose(): void;
}

const stores: { name: string; open(): StoreFixture }[] = [
  {
    name: 'local',
    open() {
      const parent = mkdtempSync(join(tmpdir(), 'report-store-'));
      const root = join(parent, 'reports');
      return {
        store: new LocalReportStore(root),
        assessStored(key, body) {
          expect(readFileSync(join(root, ...key.split('/')), 'utf8')).toBe(body);
        },
        assessNothingWritten() {
          expect(readdirSync(parent)).toEqual([]);
        },
        dispose: () => rmSync(parent, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 's3',
    open() {
      const { client, s3Mock, objects } = fakeS3Bucket();
      return {
        store: new S3ReportStore({ client, bucket: BUCKET, prefix: S3_PREFIX }),
        assessStored(key, body, contentType) {
          expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
            Bucket: BUCKET,
            Key: S3_PREFIX + key,
            Body: body,
            ContentType: contentType,
          });
          expect(objects.get(S3_PREFIX + key)).toEqual({ body, contentType });
        },
        assessNothingWritten() {
          expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
          expect(objects.size).toBe(0);
        },
        dispose: () => s3Mock.restore(),
      };
    },
  },
];

const runKey: ReportKey = { stage: 'dev', runId: 'run-20261125-0001', name: 'validation' };

describe.each(stores)('ReportStore contract: $name', ({ open }) => {
  let fixture: StoreFixture;
  let store: ReportStore;

  beforeEach(() => {
    fixture = open();
    store = fixture.store;
  });

  afterEach(() => fixture.dispose());

  it('round-trips a report in all three formats under reportKey()', async () => {
    // Prepare
    const report = exampleValidationReport();
    const markdown = '# Validation run-20261125-0001\n\n**FAILED** — coverage 88.49 % (Électricité, 東芝)\n';
    const html = '<!doctype html><h1>Validation run-20261125-0001</h1>\n';

    // Act
    const written = await publishReport(store, runKey, { json: report, markdown, html });

    // Assess
    expect(written).toEqual([reportKey(runKey, 'json'), reportKey(runKey, 'md'), reportKey(runKey, 'html')]);
    expect(written[0]).toBe('dev/run-20261125-0001/validation.json');
    expect(await readReport(store, reportKey(runKey, 'json'))).toEqual(report);
    expect(await store.get(reportKey(runKey, 'json'))).toBe(`${JSON.stringify(report, null, 2)}\n`);
    expect(await store.get(reportKey(runKey, 'md'))).toBe(markdown);
    expect(await store.get(reportKey(runKey, 'html'))).toBe(html);
  });

  it('writes only the JSON when no renderings are given, and overwrites an earlier version', async () => {
    // Prepare
    await publishReport(store, runKey, { json: { kind: 'summary', version: 1 } });

    // Act
    const written = await publishReport(store, runKey, { json: { kind: 'summary', version: 2 } });

    // Assess
    expect(written).toEqual([reportKey(runKey, 'json')]);
    expect(await store.list('dev/')).toEqual([reportKey(runKey, 'json')]);
    expect(await readReport(store, reportKey(runKey, 'json'))).toEqual({ kind: 'summary', version: 2 });
  });

  it('stores each format exactly, with its content type', async () => {
    // Act
    await publishReport(store, runKey, {
      json: { kind: 'validation' },
      markdown: '# md\n',
      html: '<p>html</p>',
    });

    // Assess
    fixture.assessStored(reportKey(runKey, 'json'), '{\n  "kind": "validation"\n}\n', CONTENT_TYPES.json);
    fixture.assessStored(reportKey(runKey, 'md'), '# md\n', CONTENT_TYPES.md);
    fixture.assessStored(reportKey(runKey, 'html'), '<p>html</p>', CONTENT_TYPES.html);
  });

  it.each([
    ['a missing key in an existing run', 'dev/run-20261125-0001/backfill.json'],
    ['a key under a missing run', 'dev/run-missing/validation.json'],
  ])('throws ReportNotFoundError for %s', async (_, key) => {
    // Prepare
    await publishReport(store, runKey, { json: { kind: 'validation' } });

    // Act
    const reading = store.get(key);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(ReportNotFoundError);
    await expect(reading).rejects.toThrow(`no report ${key} in ${store.location}`);
  });

  it('lists the keys under a prefix, sorted, relative to the store', async () => {
    // Prepare
    const keys = [
      'dev/run-2/validation.json',
      'dev/run-1/validation.md',
      'prod/run-1/validation.json',
      'dev/run-10/validation.json',
      'dev/run-1/validation.json',
      'dev/run-1/backfill.json',
    ];
    for (const key of keys) await store.put(key, `{"key":"${key}"}`, CONTENT_TYPES.json);

    // Act
    const run1 = await store.list('dev/run-1/');
    const dev = await store.list('dev/');
    const everything = await store.list('');
    const byNamePrefix = await store.list('dev/run-1/validation.');
    const none = await store.list('test/');

    // Assess
    expect(run1).toEqual(['dev/run-1/backfill.json', 'dev/run-1/validation.json', 'dev/run-1/validation.md']);
    expect(dev).toEqual([
      'dev/run-1/backfill.json',
      'dev/run-1/validation.json',
      'dev/run-1/validation.md',
      'dev/run-10/validation.json',
      'dev/run-2/validation.json',
    ]);
    expect(everything).toEqual([...keys].sort());
    expect(byNamePrefix).toEqual(['dev/run-1/validation.json', 'dev/run-1/validation.md']);
    expect(none).toEqual([]);
  });

  it.each([
    ['a parent segment', '../escape.json'],
    ['a parent segment inside', 'dev/../../escape.json'],
    ['an absolute path', '/etc/escape.json'],
    ['a drive letter', 'C:/escape.json'],
    ['backslashes', 'dev\\..\\..\\escape.json'],
    ['a current-folder segment', './escape.json'],
    ['an empty segment', 'dev//escape.json'],
    ['an empty key', ''],
    ['a control character', 'dev/esc\u0000ape.json'],
  ])('rejects a key with %s on put and get', async (_, key) => {
    // Act
    const writing = store.put(key, '{}', CONTENT_TYPES.json);
    const reading = store.get(key);

    // Assess
    await expect(writing).rejects.toBeInstanceOf(InvalidReportKeyError);
    await expect(writing).rejects.toThrow(/invalid report key/);
    await expect(reading).rejects.toBeInstanceOf(InvalidReportKeyError);
    fixture.assessNothingWritten();
  });

  it.each(['../', '/dev/', 'dev\\'])('rejects the list prefix %j', async (prefix) => {
    // Act
    const listing = store.list(prefix);

    // Assess
    await expect(listing).rejects.toBeInstanceOf(InvalidReportKeyError);
  });

  it('refuses to publish under an invalid report key', async () => {
    // Act
    const publishing = publishReport(
      store,
      { stage: 'dev', runId: '../prod', name: 'validation' },
      { json: {} },
    );

    // Assess
    await expect(publishing).rejects.toThrow(/runId/);
    fixture.assessNothingWritten();
  });

  it('readReport names the key of a document that is not JSON', async () => {
    // Prepare
    await store.put('dev/run-1/broken.json', '{"kind": "validation",', CONTENT_TYPES.json);

    // Act
    const reading = readReport(store, 'dev/run-1/broken.json');

    // Assess
    await expect(reading).rejects.toThrow(
      `report dev/run-1/broken.json in ${store.location} is not valid JSON`,
    );
  });
});

describe('LocalReportStore', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'local-report-store-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  let root: string;
  let store: LocalReportStore;
  let n = 0;

  beforeEach(() => {
    root = join(scratch, `root-${++n}`);
    store = new LocalReportStore(root);
  });

  it('is located at its folder, made absolute', () => {
    // Assess
    expect(store.location).toBe(root);
    expect(new LocalReportStore('relative/reports').location).toBe(join(process.cwd(), 'relative/reports'));
  });

  it('leaves no temporary file behind', async () => {
    // Act
    await publishReport(store, runKey, { json: { kind: 'validation' }, markdown: '# md\n', html: '<p/>' });
    await publishReport(store, runKey, { json: { kind: 'validation', again: true } });

    // Assess
    expect(readdirSync(root, { recursive: true }).sort()).toEqual([
      'dev',
      join('dev', 'run-20261125-0001'),
      join('dev', 'run-20261125-0001', 'validation.html'),
      join('dev', 'run-20261125-0001', 'validation.json'),
      join('dev', 'run-20261125-0001', 'validation.md'),
    ]);
  });

  it('leaves neither a partial file nor a temporary file when a write fails', async () => {
    // Prepare: the target is a folder, so the final rename fails after the content was written
    const target = join(root, 'dev', 'run-1', 'validation.json');
    mkdirSync(target, { recursive: true });

    // Act
    const writing = store.put('dev/run-1/validation.json', '{"kind":"validation"}', CONTENT_TYPES.json);

    // Assess
    await expect(writing).rejects.toThrow();
    expect(readdirSync(join(root, 'dev', 'run-1'))).toEqual(['validation.json']);
    expect(statSync(target).isDirectory()).toBe(true);
    expect(readdirSync(target)).toEqual([]);
  });

  it('keeps the previous version of a report when a write fails', async () => {
    // Prepare: a file where the write wants a folder
    await store.put('dev/run-1/validation.json', 'previous', CONTENT_TYPES.json);
    writeFileSync(join(root, 'dev', 'run-2'), 'not a folder');

    // Act
    const writing = store.put('dev/run-2/validation.json', 'next', CONTENT_TYPES.json);

    // Assess
    await expect(writing).rejects.toThrow();
    expect(await store.get('dev/run-1/validation.json')).toBe('previous');
    expect(readFileSync(join(root, 'dev', 'run-2'), 'utf8')).toBe('not a folder');
    expect(await store.list('')).toEqual(['dev/run-1/validation.json', 'dev/run-2']);
  });

  it('does not list the temporary file of an interrupted write', async () => {
    // Prepare
    await store.put('dev/run-1/validation.json', '{}', CONTENT_TYPES.json);
    writeFileSync(
      join(root, 'dev', 'run-1', '.validation.md.0f8fad5b-d9cb-469f-a165-70867728950e.tmp'),
      '# par',
    );

    // Act
    const keys = await store.list('dev/run-1/');

    // Assess
    expect(keys).toEqual(['dev/run-1/validation.json']);
  });

  it('lists nothing, and finds nothing, before the folder exists', async () => {
    // Act
    const keys = await store.list('dev/');
    const reading = store.get('dev/run-1/validation.json');

    // Assess
    expect(keys).toEqual([]);
    await expect(reading).rejects.toBeInstanceOf(ReportNotFoundError);
  });
});

describe('S3ReportStore', () => {
  let bucket: ReturnType<typeof fakeS3Bucket>;
  let s3Mock: AwsClientStub<S3Client>;

  beforeEach(() => {
    bucket = fakeS3Bucket();
    s3Mock = bucket.s3Mock;
  });

  afterEach(() => s3Mock.restore());

  it('follows continuation tokens through every page of a listing', async () => {
    // Prepare
    const store = new S3ReportStore({ client: bucket.client, bucket: BUCKET, prefix: 'reports' });
    const keys = [
      'dev/run-1/e.json',
      'dev/run-1/a.json',
      'dev/run-1/d.json',
      'dev/run-1/c.json',
      'dev/run-1/b.json',
    ];
    for (const key of keys) await store.put(key, '{}', CONTENT_TYPES.json);

    // Act
    const listed = await store.list('dev/run-1/');

    // Assess
    expect(listed).toEqual([...keys].sort());
    expect(s3Mock).toHaveReceivedCommandTimes(ListObjectsV2Command, 3);
    expect(s3Mock).toHaveReceivedNthCommandWith(ListObjectsV2Command, 1, {
      Bucket: BUCKET,
      Prefix: 'reports/dev/run-1/',
    });
    expect(s3Mock.commandCalls(ListObjectsV2Command)[0]?.args[0].input).not.toHaveProperty(
      'ContinuationToken',
    );
    expect(s3Mock.commandCalls(ListObjectsV2Command)[2]?.args[0].input.ContinuationToken).toEqual(
      expect.any(String),
    );
  });

  it('lists only its own prefix and strips it', async () => {
    // Prepare
    bucket.objects.set('other/dev/run-1/validation.json', { body: '{}', contentType: CONTENT_TYPES.json });
    bucket.objects.set('reports-old/dev/run-1/validation.json', {
      body: '{}',
      contentType: CONTENT_TYPES.json,
    });
    bucket.objects.set('reports/dev/run-1/validation.json', { body: '{}', contentType: CONTENT_TYPES.json });
    const store = new S3ReportStore({ client: bucket.client, bucket: BUCKET, prefix: 'reports/' });
    const unprefixed = new S3ReportStore({ client: bucket.client, bucket: BUCKET });

    // Act
    const mine = await store.list('');
    const all = await unprefixed.list('');

    // Assess
    expect(store.location).toBe(`s3://${BUCKET}/reports/`);
    expect(unprefixed.location).toBe(`s3://${BUCKET}/`);
    expect(mine).toEqual(['dev/run-1/validation.json']);
    expect(all).toEqual([
      'other/dev/run-1/validation.json',
      'reports-old/dev/run-1/validation.json',
      'reports/dev/run-1/validation.json',
    ]);
  });

  it('leaves encryption to the bucket unless configured', async () => {
    // Prepare
    const plain = new S3ReportStore({ client: bucket.client, bucket: BUCKET });
    const kms = new S3ReportStore({
      client: bucket.client,
      bucket: BUCKET,
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    const sseS3 = new S3ReportStore({
      client: bucket.client,
      bucket: BUCKET,
      serverSideEncryption: 'AES256',
    });

    // Act
    await plain.put('dev/run-1/plain.json', '{}', CONTENT_TYPES.json);
    await kms.put('dev/run-1/kms.json', '{}', CONTENT_TYPES.json);
    await sseS3.put('dev/run-1/aes.json', '{}', CONTENT_TYPES.json);

    // Assess
    const inputs = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(inputs[0]).not.toHaveProperty('ServerSideEncryption');
    expect(inputs[0]).not.toHaveProperty('SSEKMSKeyId');
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: 'dev/run-1/kms.json',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: 'dev/run-1/aes.json',
      ServerSideEncryption: 'AES256',
    });
  });

  it.each([
    ['AccessDenied', 403],
    ['NoSuchBucket', 404],
  ])('does not mistake %s for a missing report', async (name, httpStatusCode) => {
    // Prepare
    s3Mock.on(GetObjectCommand).rejects(
      new S3ServiceException({
        name,
        $fault: 'client',
        $metadata: { httpStatusCode },
        message: `${name} here`,
      }),
    );
    const store = new S3ReportStore({ client: bucket.client, bucket: BUCKET, prefix: 'reports' });

    // Act
    const reading = store.get('dev/run-1/validation.json');

    // Assess
    await expect(reading).rejects.not.toBeInstanceOf(ReportNotFoundError);
    await expect(reading).rejects.toThrow(
      `could not read s3://${BUCKET}/reports/dev/run-1/validation.json: ${name}: ${name} here`,
    );
  });

  it('treats a bare 404 as a missing report', async () => {
    // Prepare
    s3Mock
      .on(GetObjectCommand)
      .rejects(
        new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 } }),
      );
    const store = new S3ReportStore({ client: bucket.client, bucket: BUCKET });

    // Act
    const reading = store.get('dev/run-1/validation.json');

    // Assess
    await expect(reading).rejects.toBeInstanceOf(ReportNotFoundError);
  });

  it.each([
    ['upper case', 'NukeWorks-Reports', /lowercase/],
    ['underscores', 'nukeworks_reports', /lowercase/],
    ['too short', 'ab', /3–63/],
    ['too long', 'a'.repeat(64), /3–63/],
    ['a leading hyphen', '-reports', /begin and end/],
    ['adjacent dots', 'nukeworks..reports', /adjacent dots/],
    ['a hyphen next to a dot', 'nukeworks-.reports', /hyphen next to a dot/],
    ['an IP address', '192.168.5.4', /IP address/],
    ['a reserved prefix', 'xn--reports', /xn--/],
    ['a reserved suffix', 'reports-s3alias', /-s3alias/],
    ['an empty name', '', /3–63/],
  ])('rejects a bucket name with %s, naming the option', (_, name, message) => {
    // Act
    const creating = () => new S3ReportStore({ client: bucket.client, bucket: name });

    // Assess
    expect(creating).toThrow(ReportStoreConfigError);
    expect(creating).toThrow(/S3 report store option "bucket"/);
    expect(creating).toThrow(message);
  });

  it.each(['my.reports.bucket', 'nukeworks-reports-123456789012', 'abc'])(
    'accepts the bucket name %s',
    (name) => {
      // Act
      const store = new S3ReportStore({ client: bucket.client, bucket: name });

      // Assess
      expect(store.location).toBe(`s3://${name}/`);
    },
  );

  it.each([
    [{ prefix: '../reports' }, /option "prefix"/],
    [{ prefix: '/reports' }, /option "prefix"/],
    [{ kmsKeyId: 'alias/reports', serverSideEncryption: 'AES256' as const }, /option "kmsKeyId"/],
    [{ client: {} as S3Client }, /option "client" must be an S3Client/],
  ])('rejects the options %j', (options, message) => {
    // Act
    const creating = () => new S3ReportStore({ client: bucket.client, bucket: BUCKET, ...options });

    // Assess
    expect(creating).toThrow(ReportStoreConfigError);
    expect(creating).toThrow(message);
  });
});

describe('parseS3Uri', () => {
  it.each([
    ['s3://nukeworks-reports/dev/run-1/validation.json', 'nukeworks-reports', 'dev/run-1/validation.json'],
    ['s3://nukeworks-reports/reports/', 'nukeworks-reports', 'reports/'],
    ['s3://nukeworks-reports', 'nukeworks-reports', ''],
  ])('parses %s', (uri, bucketName, key) => {
    // Act
    const parsed = parseS3Uri(uri);

    // Assess
    expect(parsed).toEqual({ bucket: bucketName, key });
  });

  it.each([
    ['https://nukeworks-reports.s3.amazonaws.com/x.json', /not an S3 URI/],
    ['/tmp/report.json', /not an S3 URI/],
    ['s3://Bad_Bucket/x.json', /bucket "Bad_Bucket" of s3:\/\/Bad_Bucket\/x.json may only hold lowercase/],
    ['s3:///x.json', /bucket "" of/],
  ])('rejects %s', (uri, message) => {
    // Act
    const parsing = () => parseS3Uri(uri);

    // Assess
    expect(parsing).toThrow(ReportStoreConfigError);
    expect(parsing).toThrow(message);
  });
});
