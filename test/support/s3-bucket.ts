import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3ClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import type { AwsStub } from 'aws-sdk-client-mock';

/**
 * Makes a mocked S3 client behave as one in-memory bucket (put, get, list by prefix): for code that
 * reads back what it wrote, such as a backfill combining its parts or the monitor finding its last check.
 */
export function inMemoryBucket(
  s3Mock: AwsStub<ServiceInputTypes, ServiceOutputTypes, S3ClientResolvedConfig>,
  bucket = new Map<string, string>(),
): Map<string, string> {
  s3Mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    bucket.set(input.Key, String(input.Body));
    return {};
  });
  s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
    Contents: [...bucket.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).map((Key) => ({ Key })),
  }));
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
    Body: { transformToString: async () => bucket.get(input.Key) ?? '' },
  }));
  return bucket;
}
