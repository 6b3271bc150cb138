import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { s3TestEnv } from './test-services.js';

/** Bucket administration for tests, straight through the SDK (the driver interface has no bucket calls). */
export function adminClient(): S3Client {
  const env = s3TestEnv();
  return new S3Client({
    endpoint: env.endpoint,
    region: env.region,
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function createTestBucket(label: string): Promise<string> {
  const bucket = `wharf-${label}-${randomBytes(4).toString('hex')}`;
  await adminClient().send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Writes an object with any key at all (including ones Wharf refuses to write locally). */
export async function putRaw(bucket: string, key: string, body: string): Promise<void> {
  await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** An object as another tool writes it: a plain PutObject (no Wharf metadata unless given). */
export async function putObject(
  bucket: string,
  key: string,
  body: string | Uint8Array,
  metadata?: Record<string, string>,
): Promise<void> {
  await adminClient().send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }),
  );
}

/** A multipart upload in `partSize` parts as aws-cli makes one (ETag `…-N`, no Wharf metadata). */
export async function putMultipart(
  bucket: string,
  key: string,
  body: Buffer,
  partSize: number,
): Promise<void> {
  const client = adminClient();
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts: { ETag: string; PartNumber: number }[] = [];
  for (let offset = 0, n = 1; offset < body.length; offset += partSize, n++) {
    const part = body.subarray(offset, offset + partSize);
    const { ETag } = await client.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: part }),
    );
    parts.push({ ETag: ETag ?? '', PartNumber: n });
  }
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

export async function deleteTestBucket(bucket: string): Promise<void> {
  const client = adminClient();
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key ?? '' }));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
