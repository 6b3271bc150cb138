import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
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

/** Characters XML 1.0 cannot carry (a DeleteObjects body); such keys are deleted one by one. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

export async function deleteTestBucket(bucket: string): Promise<void> {
  const client = adminClient();
  for (;;) {
    // URL-encoded listing: a key with a control character cannot travel in the XML of a plain listing.
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, EncodingType: 'url' }));
    const keys = (page.Contents ?? []).map((o) => decodeURIComponent((o.Key ?? '').replaceAll('+', ' ')));
    if (keys.length === 0) break;
    const plain = keys.filter((key) => !CONTROL.test(key));
    if (plain.length > 0) {
      await client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: plain.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
    for (const Key of keys.filter((key) => CONTROL.test(key))) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
    }
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
