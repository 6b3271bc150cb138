import { createReadStream, statSync } from 'node:fs';
import { sameEtag } from '../storage/etag.js';
import type { ObjectInfo } from '../storage/types.js';
import { ContentHasher, sameDigest } from '../transfer/download/content-hasher.js';
import { localDigestMatchingEtag } from '../transfer/download/match-local-file.js';
import type { IndexEntry } from './cache-index.js';

/** Why a file is (re)downloaded, or that it is not. */
export type FetchReason =
  | 'new'
  | 'changed'
  | 'missing-locally'
  | 'modified-locally'
  | 'corrupt'
  | 'forced'
  | 'up-to-date'
  /** Not in the cache index, but the file at its path already holds the object's content (by its ETag). */
  | 'found-locally';

export interface DecideOptions {
  force: boolean;
  /** Re-hash the local file and compare with the digest recorded at download. */
  verify: boolean;
}

/**
 * Decides whether an object must be downloaded, without reading the object: the cache index must record the
 * same ETag and size, and the local file must still have the size and mtime it had after download. With
 * `verify`, the local file is also re-hashed.
 */
export async function decideFetch(
  object: ObjectInfo,
  entry: IndexEntry | undefined,
  localPath: string,
  options: DecideOptions,
): Promise<FetchReason> {
  if (options.force) return 'forced';
  if (!entry) return 'new';
  if (entry.size !== object.size || !sameEtag(entry.etag, object.etag)) return 'changed';
  // statSync: for files in the page cache it costs a few microseconds, a promise round trip through the thread
  // pool several times more; a rerun over 10,000 unchanged files is mostly these calls.
  const local = statOrUndefined(localPath);
  if (!local?.isFile()) return 'missing-locally';
  if (local.size !== entry.localSize || local.mtimeMs !== entry.localMtimeMs) return 'modified-locally';
  if (options.verify && !(await localFileMatches(localPath, entry))) return 'corrupt';
  return 'up-to-date';
}

/**
 * For an object the cache index does not know: the index entry to record if the file already at its path
 * holds its content (a lost index, or a folder another tool filled), proved by the ETag; else undefined.
 */
export async function adoptLocalFile(
  object: ObjectInfo,
  relativeKey: string,
  localPath: string,
): Promise<IndexEntry | undefined> {
  const local = statOrUndefined(localPath);
  if (!local?.isFile() || Number(local.size) !== object.size || object.etag === undefined) return undefined;
  const digest = await localDigestMatchingEtag(localPath, Number(local.size), object);
  if (!digest) return undefined;
  return {
    path: relativeKey,
    key: object.key,
    size: object.size,
    etag: object.etag,
    ...(object.lastModified ? { lastModified: object.lastModified.toISOString() } : {}),
    localSize: Number(local.size),
    localMtimeMs: Number(local.mtimeMs),
    digest,
  };
}

function statOrUndefined(path: string): ReturnType<typeof statSync> {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR and the like: not a file we wrote
  }
}

async function localFileMatches(path: string, entry: IndexEntry): Promise<boolean> {
  const hasher = new ContentHasher(
    entry.digest.partSize !== undefined ? { md5PartSizes: [entry.digest.partSize] } : {},
  );
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hasher.update(chunk);
    size += chunk.length;
  }
  return size === entry.size && hasher.digest().md5.some((d) => sameDigest(d, entry.digest));
}
