import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import { AbortedError, toWharfError, ValidationError, WharfError } from '../../core/errors.js';

/** S3 allows at most this many parts per multipart upload. */
export const MAX_PARTS = 10_000;
/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest part. */
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
const MIB = 1024 * 1024;

/**
 * Part size to use: the requested one (at least 5 MiB), raised to whole MiB so a body of `size` bytes fits in
 * 10,000 parts. Throws ValidationError when no part size can (bodies over 5 GiB x 10,000).
 */
export function choosePartSize(requested: number, size: number | undefined): number {
  if (!Number.isSafeInteger(requested) || requested < MIN_PART_SIZE || requested > MAX_PART_SIZE) {
    throw new ValidationError(`invalid partSize ${requested}: S3 parts are 5 MiB to 5 GiB`);
  }
  if (size === undefined || size <= requested * MAX_PARTS) return requested;
  const needed = Math.ceil(size / MAX_PARTS / MIB) * MIB;
  if (needed > MAX_PART_SIZE) {
    throw new ValidationError(`cannot upload ${size} bytes: S3 objects are at most 10,000 parts of 5 GiB`);
  }
  return needed;
}

/**
 * Cuts a byte stream into Buffers of exactly `partSize` bytes (the last one shorter, never empty).
 * Memory: one part buffer at a time beyond what the consumer holds.
 */
export async function* readParts(body: AsyncIterable<unknown>, partSize: number): AsyncGenerator<Buffer> {
  let buffer = Buffer.allocUnsafe(partSize);
  let filled = 0;
  for await (const chunk of body) {
    const data = toBytes(chunk);
    let offset = 0;
    while (offset < data.length) {
      const n = Math.min(partSize - filled, data.length - offset);
      buffer.set(data.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === partSize) {
        yield buffer;
        buffer = Buffer.allocUnsafe(partSize);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** Reads a whole stream into one Buffer, failing with ValidationError unless it has exactly `size` bytes. */
export async function readExactly(
  body: AsyncIterable<unknown>,
  size: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const out = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of body) {
    if (signal?.aborted) throw new AbortedError();
    const data = toBytes(chunk);
    if (filled + data.length > size) throw sizeMismatch(size, `more than ${size}`);
    out.set(data, filled);
    filled += data.length;
  }
  if (filled !== size) throw sizeMismatch(size, String(filled));
  return out;
}

export function sizeMismatch(expected: number, actual: string): ValidationError {
  return new ValidationError(
    `the upload body had ${actual} bytes but its declared size is ${expected} bytes`,
  );
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new ValidationError(`the upload body must yield bytes, got ${typeof chunk}`);
}

export interface MultipartUploadParams {
  client: S3Client;
  bucket: string;
  key: string;
  /** The body, already cut into parts (see `readParts`). */
  parts: AsyncIterator<Buffer>;
  /** Parts in flight at once. */
  concurrency: number;
  /** Fail unless the body has exactly this many bytes (checked before completing). */
  expectedSize?: number;
  contentType?: string;
  /** Already encoded for the request. */
  metadata?: Record<string, string>;
  /** Sent on CompleteMultipartUpload (AWS evaluates them there atomically; some servers ignore them). */
  conditions: { IfMatch?: string; IfNoneMatch?: string };
  /** Runs after the last part and before completing (used to re-check conditions on servers that ignore them). */
  beforeComplete?: () => Promise<void>;
  /** Send CRC32 part checksums (for the when_supported checksum mode, as AWS's own uploader does). */
  partChecksums: boolean;
  signal?: AbortSignal;
  onProgress?: (bytesSent: number) => void;
  /** Maps SDK errors to WharfErrors for this key. */
  mapError: (error: unknown, action: string) => WharfError;
}

/**
 * Uploads parts with `concurrency` workers pulling from one part iterator, then completes the upload.
 * On any failure or abort the in-flight parts are cancelled and the upload is aborted on the server (no orphan
 * parts), and the first error is thrown (AbortedError when `signal` fired). Returns the ETag from
 * CompleteMultipartUpload, which Ceph RGW leaves empty, and the byte count.
 */
export async function uploadMultipart(
  p: MultipartUploadParams,
): Promise<{ etag: string | undefined; size: number }> {
  const { client, bucket, key, signal } = p;
  let uploadId: string | undefined;
  try {
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ContentType: p.contentType,
        Metadata: p.metadata,
        ...(p.partChecksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
      }),
      { abortSignal: signal },
    );
    uploadId = created.UploadId;
  } catch (error) {
    throw p.mapError(error, 'start the multipart upload of');
  }
  if (!uploadId)
    throw new WharfError('INTERNAL', `the server started no multipart upload for ${key} (no UploadId)`);

  const inner = new AbortController();
  const onAbort = () => inner.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const completed: CompletedPart[] = [];
  let nextPartNumber = 1;
  let bytes = 0;
  let enqueuedBytes = 0;
  let failure: unknown;

  const fail = (error: unknown) => {
    if (failure === undefined) failure = error;
    inner.abort();
  };
  const worker = async () => {
    while (failure === undefined && !inner.signal.aborted) {
      const next = await untilAborted(p.parts.next(), inner.signal).catch((error: unknown) => {
        throw inner.signal.aborted ? error : bodyError(error, key);
      });
      if (next.done) return;
      const partNumber = nextPartNumber++;
      if (partNumber > MAX_PARTS) {
        throw new ValidationError(
          `the upload body of ${key} needs more than ${MAX_PARTS} parts of ${next.value.length} bytes: pass its size or a larger partSize`,
        );
      }
      enqueuedBytes += next.value.length;
      if (p.expectedSize !== undefined && enqueuedBytes > p.expectedSize) {
        throw sizeMismatch(p.expectedSize, `more than ${p.expectedSize}`);
      }
      const result = await client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: next.value,
          ContentLength: next.value.length,
          ...(p.partChecksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
        }),
        { abortSignal: inner.signal },
      );
      if (!result.ETag)
        throw new WharfError('INTERNAL', `the server returned no ETag for part ${partNumber} of ${key}`);
      completed.push({
        PartNumber: partNumber,
        ETag: result.ETag,
        ...(result.ChecksumCRC32 ? { ChecksumCRC32: result.ChecksumCRC32 } : {}),
      });
      bytes += next.value.length;
      p.onProgress?.(bytes);
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, p.concurrency) }, () => worker().catch(fail)));
    if (signal?.aborted) throw new AbortedError();
    if (failure !== undefined) throw failure;
    if (p.expectedSize !== undefined && bytes !== p.expectedSize)
      throw sizeMismatch(p.expectedSize, String(bytes));
    completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await p.beforeComplete?.();
    const done = await client
      .send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: completed },
          ...p.conditions,
        }),
        { abortSignal: signal },
      )
      .catch((error: unknown) => {
        throw p.mapError(error, 'complete the multipart upload of');
      });
    uploadId = undefined;
    return { etag: done.ETag, size: bytes };
  } catch (error) {
    if (signal?.aborted) throw new AbortedError(undefined, { cause: error });
    throw p.mapError(error, 'upload a part of');
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (uploadId !== undefined) {
      // Best effort: without it the parts linger (and are billed) until a lifecycle rule removes them.
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => undefined);
    }
  }
}

/** Errors from the caller's body stream (a file that vanished, a failed pipe) say so. */
export function bodyError(error: unknown, key: string): WharfError {
  return toWharfError(error, `reading the upload body for ${key}`);
}

/** Resolves like `promise`, or rejects with AbortedError as soon as `signal` fires (a stalled body cannot block an abort). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Yields `first`, then whatever `rest` yields (puts look-ahead parts back in front). */
export async function* prepend(first: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}
