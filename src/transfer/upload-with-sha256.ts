import { createHash } from 'node:crypto';
import { ConflictError, isWharfError } from '../core/errors.js';
import type { ObjectInfo, ReadInfo, StorageDriver, WriteOptions } from '../storage/types.js';
import { SHA256_METADATA_KEY } from './download/expectations.js';

/**
 * Files up to this size are read once into memory, hashed there and uploaded from that buffer (the S3 driver buffers
 * a body this small for its single PutObject anyway, so memory stays what it was).
 */
export const HASH_IN_MEMORY_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Uploads the file at `key` of a local-folder store to `destKey` of `dest` with its SHA-256 (hex) as `wharf-sha256`
 * metadata, which Wharf's downloads (fetch, cp) verify against. `options` go to `dest.write`, metadata merged.
 *
 * A file up to `inMemoryMaxBytes` (default HASH_IN_MEMORY_MAX_BYTES) is read once: hashed and uploaded from the
 * same buffer. S3 takes metadata
 * only where an upload starts (PutObject, CreateMultipartUpload), before the first part is sent, so a bigger file
 * is hashed in a read of its own first, and the upload then reads the file pinned to the version hashed: a file
 * changed in between, or while either read runs, fails with CONFLICT instead of storing a hash of other bytes.
 */
export async function uploadWithSha256(
  source: StorageDriver,
  key: string,
  size: number,
  dest: StorageDriver,
  destKey: string,
  options: WriteOptions,
  inMemoryMaxBytes = HASH_IN_MEMORY_MAX_BYTES,
): Promise<ObjectInfo> {
  const signal = options.signal;
  const o = signal ? { signal } : {};
  const metadataWith = (sha256: string) => ({ ...options.metadata, [SHA256_METADATA_KEY]: sha256 });

  if (size <= inMemoryMaxBytes) {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let read = 0;
    const stream = await source.read(key, o);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      read += chunk.length;
      // Grown since it was listed: never buffer more than the listed size.
      if (read > size) {
        stream.destroy();
        break;
      }
      hash.update(chunk);
      chunks.push(chunk);
    }
    if (read !== size) throw changedSinceListed(source, key);
    const body = Buffer.concat(chunks, size);
    return dest.write(destKey, body, { ...options, size, metadata: metadataWith(hash.digest('hex')) });
  }

  let hashed: ReadInfo | undefined;
  const hash = createHash('sha256');
  for await (const chunk of await source.read(key, { ...o, onInfo: (info) => (hashed = info) })) {
    hash.update(chunk as Buffer);
  }
  if (hashed?.size !== undefined && hashed.size !== size) throw changedSinceListed(source, key);
  const sha256 = hash.digest('hex');
  let body;
  try {
    body = await source.read(key, { ...o, ...(hashed?.etag !== undefined ? { ifMatch: hashed.etag } : {}) });
  } catch (error) {
    if (isWharfError(error) && error.code === 'PRECONDITION_FAILED') {
      throw new ConflictError(`${source.localPath?.(key) ?? key} changed while it was being read`, {
        cause: error,
        hint: 'try again once whatever writes to it has finished',
      });
    }
    throw error;
  }
  try {
    return await dest.write(destKey, body, { ...options, size, metadata: metadataWith(sha256) });
  } finally {
    body.destroy();
  }
}

function changedSinceListed(source: StorageDriver, key: string): ConflictError {
  return new ConflictError(`${source.localPath?.(key) ?? key} changed since it was listed`, {
    hint: 'try again once whatever writes to it has finished',
  });
}
