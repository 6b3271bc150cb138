import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { normaliseEtag } from '../etag.js';
import type { DriverCapabilities } from '../types.js';
import { httpStatus } from './s3-errors.js';

/** Checksum algorithms AWS S3 computes and reports (with `x-amz-checksum-mode: ENABLED`). */
export const AWS_CHECKSUM_ALGORITHMS: readonly string[] = ['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'];

/** Where probe objects go; `detectCapabilities` deletes them again. */
export const PROBE_PREFIX = '.wharf/probe/';

/** What an S3 endpoint can do before probing. `reportsChecksums` follows the checksum mode. */
export function baseS3Capabilities(reportsChecksums: boolean): DriverCapabilities {
  return {
    serverSideCopy: true,
    presign: true,
    conditionalWrite: 'unknown',
    metadata: true,
    pathKeys: false,
    checksumAlgorithms: reportsChecksums ? AWS_CHECKSUM_ALGORITHMS : [],
    mtimePrecisionMs: 1000,
  };
}

export interface ConditionalWriteProbe {
  /** PutObject honours `If-None-Match: *` and `If-Match`. */
  conditionalWrite: boolean;
  /** CompleteMultipartUpload honours them too (AWS does; Ceph RGW 16 ignores them). */
  multipartConditionalWrite: boolean;
}

/**
 * Probes conditional writes with a throw-away object under `.wharf/probe/`:
 * 1. PUT with `If-None-Match: *` (creates it), 2. again (must fail with 412),
 * 3. PUT with `If-Match` of a wrong ETag (must fail with 412), 4. with the right, unquoted ETag (must succeed),
 * 5. unless `probeMultipart` is false (AWS, known to honour them), a one-part multipart upload completed with
 *    `If-None-Match: *` (412 means Complete honours conditions).
 * Any other answer than the expected one means "not supported". The probe object is deleted afterwards.
 * SDK errors other than the expected 412s are rethrown as they are (the caller maps them).
 */
export async function probeConditionalWrites(
  client: S3Client,
  bucket: string,
  signal: AbortSignal | undefined,
  options: { probeMultipart: boolean; keyPrefix?: string } = { probeMultipart: true },
): Promise<ConditionalWriteProbe> {
  const key = `${options.keyPrefix ?? ''}${PROBE_PREFIX}${randomUUID()}`;
  const opts = { abortSignal: signal };
  const put = (conditions: { IfNoneMatch?: string; IfMatch?: string }) =>
    client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from('wharf probe'), ...conditions }),
      opts,
    );
  const refused = async (attempt: Promise<unknown>): Promise<boolean> => {
    try {
      await attempt;
      return false;
    } catch (error) {
      const status = httpStatus(error);
      if (status === 412) return true;
      // 501 NotImplemented or 400 for an unknown header: the server does not do conditional writes.
      if (status === 501 || status === 400) return false;
      throw error;
    }
  };
  try {
    const created = await put({ IfNoneMatch: '*' });
    const result: ConditionalWriteProbe = { conditionalWrite: false, multipartConditionalWrite: false };
    if (!(await refused(put({ IfNoneMatch: '*' })))) return result;
    if (!(await refused(put({ IfMatch: '00000000000000000000000000000000' })))) return result;
    if (!created.ETag || (await refused(put({ IfMatch: normaliseEtag(created.ETag) })))) return result;
    result.conditionalWrite = true;
    result.multipartConditionalWrite = options.probeMultipart
      ? await refused(completeOnePart(client, bucket, key, signal))
      : true;
    return result;
  } finally {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
}

/** A tiny one-part multipart upload onto `key`, completed with `If-None-Match: *`; aborted if Complete refuses. */
async function completeOnePart(
  client: S3Client,
  bucket: string,
  key: string,
  signal: AbortSignal | undefined,
) {
  const opts = { abortSignal: signal };
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
    opts,
  );
  try {
    const part = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: Buffer.from('wharf probe'),
      }),
      opts,
    );
    return await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        IfNoneMatch: '*',
      }),
      opts,
    );
  } catch (error) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
      .catch(() => undefined);
    throw error;
  }
}
