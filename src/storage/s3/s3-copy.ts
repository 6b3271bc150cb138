import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import { throwIfAborted } from '../../core/errors.js';
import { encodeCopySource } from './s3-encoding.js';
import { MAX_PARTS } from './s3-multipart.js';

export interface MultipartCopyParams {
  client: S3Client;
  /** The destination's bucket. */
  bucket: string;
  /** The source's bucket (the same endpoint). */
  sourceBucket: string;
  src: string;
  dst: string;
  /** Size of the source in bytes. */
  size: number;
  /** The source's ETag: every part copy is pinned to it (a changed source fails with 412). */
  etag?: string;
  contentType?: string;
  /** Already encoded for the request; multipart copies never inherit metadata, so pass the source's to keep it. */
  metadata: Record<string, string>;
  /** Bytes per part (raised so the copy fits in 10,000 parts). */
  partSize: number;
  /** Parts copied at once. */
  concurrency: number;
  signal?: AbortSignal;
}

/**
 * Server-side copy of objects over CopyObject's 5 GiB limit: CreateMultipartUpload, UploadPartCopy for each byte
 * range (a few at once), CompleteMultipartUpload. On failure the upload is aborted on the server. SDK errors are
 * thrown as they are (the caller maps them). Returns the ETag from CompleteMultipartUpload (empty on Ceph RGW).
 */
export async function multipartCopy(p: MultipartCopyParams): Promise<string | undefined> {
  const { client, bucket, dst, signal } = p;
  const partSize = Math.max(p.partSize, Math.ceil(p.size / MAX_PARTS));
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: dst,
      ContentType: p.contentType,
      Metadata: p.metadata,
    }),
    { abortSignal: signal },
  );
  const uploadId = created.UploadId;
  let completed = false;
  try {
    const ranges: { partNumber: number; start: number; end: number }[] = [];
    for (let start = 0, n = 1; start < p.size; start += partSize, n++) {
      ranges.push({ partNumber: n, start, end: Math.min(p.size, start + partSize) - 1 });
    }
    const parts: CompletedPart[] = [];
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < ranges.length && !failed) {
        const range = ranges[next++];
        if (range === undefined) return;
        throwIfAborted(signal);
        const out = await client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: dst,
            UploadId: uploadId,
            PartNumber: range.partNumber,
            CopySource: encodeCopySource(p.sourceBucket, p.src),
            CopySourceIfMatch: p.etag,
            CopySourceRange: `bytes=${range.start}-${range.end}`,
          }),
          { abortSignal: signal },
        );
        parts.push({ PartNumber: range.partNumber, ETag: out.CopyPartResult?.ETag });
      }
    };
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(p.concurrency, ranges.length)) }, () =>
        worker().catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: dst,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal: signal },
    );
    completed = true;
    return done.ETag || undefined;
  } finally {
    if (!completed) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: dst, UploadId: uploadId }))
        .catch(() => undefined);
    }
  }
}
