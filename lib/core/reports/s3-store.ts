import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import * as z from 'zod';
import { assertValidReportKey, assertValidReportPrefix } from './publish.ts';
import { ReportNotFoundError, type ReportStore } from './store.ts';

export interface S3ReportStoreOptions {
  /** Created once by the caller (one per Lambda container or CLI run) and shared. */
  client: S3Client;
  bucket: string;
  /** Folder inside the bucket (`reports` or `reports/`); keys and listings are relative to it. */
  prefix?: string;
  /**
   * Sent with every PutObject only when set: by default the bucket's own default encryption applies
   * (every S3 bucket encrypts new objects, with SSE-S3 unless configured otherwise).
   */
  serverSideEncryption?: 'AES256' | 'aws:kms';
  /** The KMS key for 'aws:kms' (default: the bucket's key, or the AWS managed key aws/s3). */
  kmsKeyId?: string;
}

/** Options an S3 report store cannot work with. */
export class ReportStoreConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportStoreConfigError';
  }
}

/** General purpose bucket naming rules (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules). */
export const bucketNameSchema = z
  .string()
  .min(3, 'must be 3–63 characters')
  .max(63, 'must be 3–63 characters')
  .regex(/^[a-z0-9.-]+$/, 'may only hold lowercase letters, digits, dots and hyphens')
  .regex(/^[a-z0-9](.*[a-z0-9])?$/, 'must begin and end with a letter or digit')
  .refine((name) => !name.includes('..'), 'must not hold two adjacent dots')
  .refine((name) => !/(^|\.)-|-(\.|$)/.test(name), 'must not have a hyphen next to a dot')
  .refine((name) => !/^\d{1,3}(\.\d{1,3}){3}$/.test(name), 'must not look like an IP address')
  .refine(
    (name) => !/^(xn--|sthree-|amzn-s3-demo-)/.test(name),
    'must not start with xn--, sthree- or amzn-s3-demo-',
  )
  .refine(
    (name) => !/(-s3alias|--ol-s3|\.mrap|--table-s3)$/.test(name),
    'must not end with -s3alias, --ol-s3, .mrap or --table-s3',
  );

const optionsSchema = z
  .object({
    client: z.custom<S3Client>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as { send?: unknown }).send === 'function',
      'must be an S3Client',
    ),
    bucket: bucketNameSchema,
    prefix: z.string().optional(),
    serverSideEncryption: z.enum(['AES256', 'aws:kms']).optional(),
    kmsKeyId: z.string().min(1, 'must not be empty').optional(),
  })
  .refine((o) => o.kmsKeyId === undefined || o.serverSideEncryption !== 'AES256', {
    path: ['kmsKeyId'],
    message: "needs serverSideEncryption 'aws:kms' (or none)",
  });

function configError(error: z.ZodError): ReportStoreConfigError {
  const issue = error.issues[0];
  const field = issue?.path.join('.') || 'options';
  return new ReportStoreConfigError(`S3 report store option "${field}" ${issue?.message ?? 'is invalid'}`);
}

/** `s3://bucket/key` → its bucket (checked) and key (possibly empty). */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/s.exec(uri);
  if (!match) throw new ReportStoreConfigError(`not an S3 URI (s3://bucket/key): ${uri}`);
  const bucket = bucketNameSchema.safeParse(match[1] ?? '');
  if (!bucket.success) {
    throw new ReportStoreConfigError(
      `bucket "${match[1]}" of ${uri} ${bucket.error.issues[0]?.message ?? 'is invalid'}`,
    );
  }
  return { bucket: bucket.data, key: match[2] ?? '' };
}

/** Reports in an S3 bucket, under an optional prefix: `s3://<bucket>/<prefix>/<stage>/<run-id>/<name>.<format>`. */
export class S3ReportStore implements ReportStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly encryption: Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'>;

  constructor(options: S3ReportStoreOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) throw configError(parsed.error);
    const { client, bucket, prefix, serverSideEncryption, kmsKeyId } = parsed.data;
    const folder = (prefix ?? '').replace(/\/+$/, '');
    if (folder) {
      try {
        assertValidReportPrefix(folder);
      } catch (error) {
        throw new ReportStoreConfigError(`S3 report store option "prefix" ${(error as Error).message}`);
      }
    }
    this.client = client;
    this.bucket = bucket;
    this.prefix = folder ? `${folder}/` : '';
    this.location = `s3://${bucket}/${this.prefix}`;
    this.encryption = {
      ...(serverSideEncryption || kmsKeyId
        ? { ServerSideEncryption: serverSideEncryption ?? 'aws:kms' }
        : {}),
      ...(kmsKeyId ? { SSEKMSKeyId: kmsKeyId } : {}),
    };
  }

  async put(key: string, body: string, contentType: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: body,
          ContentType: contentType,
          ...this.encryption,
        }),
      );
    } catch (error) {
      throw this.failure('write', Key, error);
    }
  }

  async get(key: string): Promise<string> {
    const Key = this.objectKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      if (!response.Body) throw new Error('the response has no body');
      return await response.Body.transformToString('utf-8');
    } catch (error) {
      if (isNoSuchKey(error)) throw new ReportNotFoundError(key, this.location);
      throw this.failure('read', Key, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertValidReportPrefix(prefix);
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.listPage(this.prefix + prefix, ContinuationToken);
      } catch (error) {
        throw this.failure('list', this.prefix + prefix, error);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key?.startsWith(this.prefix)) keys.push(object.Key.slice(this.prefix.length));
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return keys.sort();
  }

  private listPage(
    Prefix: string,
    ContinuationToken: string | undefined,
  ): Promise<ListObjectsV2CommandOutput> {
    return this.client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix,
        ...(ContinuationToken ? { ContinuationToken } : {}),
      }),
    );
  }

  private objectKey(key: string): string {
    assertValidReportKey(key);
    return this.prefix + key;
  }

  private failure(action: string, key: string, error: unknown): Error {
    const name = (error as { name?: unknown })?.name;
    const message = error instanceof Error ? error.message : String(error);
    const prefix = typeof name === 'string' && name !== 'Error' ? `${name}: ` : '';
    return new Error(`could not ${action} s3://${this.bucket}/${key}: ${prefix}${message}`, { cause: error });
  }
}

/** NoSuchKey, or a bare 404 (HEAD-style answers) that is not a missing bucket. */
function isNoSuchKey(error: unknown): boolean {
  const { name, $metadata } = (error ?? {}) as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  if (name === 'NoSuchKey') return true;
  return $metadata?.httpStatusCode === 404 && name !== 'NoSuchBucket';
}
