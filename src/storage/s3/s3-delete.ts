import { DeleteObjectCommand, DeleteObjectsCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { AbortedError } from '../../core/errors.js';
import type { WharfError } from '../../core/errors.js';
import { DeleteError } from '../delete-error.js';
import { assertS3Key } from './s3-encoding.js';
import type { S3ErrorTarget } from './s3-errors.js';
import { httpStatus, s3ErrorCode } from './s3-errors.js';

export interface DeleteKeysParams {
  client: S3Client;
  bucket: string;
  keys: readonly string[];
  /** Keys per DeleteObjects request (at most 1,000). */
  batchSize: number;
  /** Requests in flight. */
  concurrency: number;
  signal?: AbortSignal;
  /** Maps a failed request to a WharfError. */
  mapError: (error: unknown, target: S3ErrorTarget) => WharfError;
  /** Maps a per-key `<Error>` of a DeleteObjects answer to a WharfError. */
  mapKeyError: (
    failure: { code: string | undefined; status: undefined; message?: string },
    key: string,
  ) => WharfError;
}

type Failure = { key: string; error: WharfError };

/**
 * Deletes keys with DeleteObjects (quiet mode) in batches, a few batches at once; duplicates are sent once and
 * absent keys are fine. A batch the server cannot parse (400, e.g. a key with a control character, which XML 1.0
 * cannot carry) is retried key by key with DeleteObject. When a request fails as a whole, no new batches start:
 * its keys and the keys not yet tried are reported with that error.
 * Throws DeleteError listing every failed key; the NotFoundError of a missing bucket and AbortedError as they are.
 */
export async function deleteKeys(p: DeleteKeysParams): Promise<void> {
  const { client, bucket, signal } = p;
  const failed: Failure[] = [];
  const valid: string[] = [];
  for (const key of new Set(p.keys)) {
    try {
      assertS3Key(key);
      valid.push(key);
    } catch (error) {
      failed.push({ key, error: error as WharfError });
    }
  }
  const batchSize = Math.min(1000, Math.max(1, p.batchSize));
  const batches: string[][] = [];
  for (let i = 0; i < valid.length; i += batchSize) batches.push(valid.slice(i, i + batchSize));

  let next = 0;
  let fatal: WharfError | undefined;
  const worker = async () => {
    while (fatal === undefined && next < batches.length) {
      const batch = batches[next++] ?? [];
      try {
        const out = await client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
          { abortSignal: signal },
        );
        for (const e of out.Errors ?? []) {
          if (e.Code === 'NoSuchKey') continue;
          const key = e.Key ?? '';
          failed.push({
            key,
            error: p.mapKeyError({ code: e.Code, status: undefined, message: e.Message }, key),
          });
        }
      } catch (error) {
        if (httpStatus(error) === 400 && !signal?.aborted) {
          failed.push(...(await deleteOneByOne(p, batch)));
          continue;
        }
        const what = batch.length === 1 ? '1 key' : `${batch.length} keys`;
        const mapped = p.mapError(error, { action: `delete ${what} in`, prefix: '' });
        fatal ??= mapped;
        for (const key of batch) failed.push({ key, error: mapped });
      }
    }
  };
  const workers = Math.max(1, Math.min(p.concurrency, batches.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (signal?.aborted) throw new AbortedError();
  if (fatal !== undefined) {
    if (fatal.code === 'NOT_FOUND' || fatal.code === 'ABORTED') throw fatal;
    for (const batch of batches.slice(next)) for (const key of batch) failed.push({ key, error: fatal });
  }
  if (failed.length > 0) throw new DeleteError(failed);
}

/** DeleteObject per key, a few at once; the key goes in the URL, where any character is fine. */
async function deleteOneByOne(p: DeleteKeysParams, keys: string[]): Promise<Failure[]> {
  const failed: Failure[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length && !p.signal?.aborted) {
      const key = keys[next++] ?? '';
      try {
        await p.client.send(new DeleteObjectCommand({ Bucket: p.bucket, Key: key }), {
          abortSignal: p.signal,
        });
      } catch (error) {
        if (httpStatus(error) === 404 && s3ErrorCode(error) !== 'NoSuchBucket') continue;
        failed.push({ key, error: p.mapError(error, { action: 'delete', key }) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, keys.length) }, worker));
  return failed;
}
