import { createReadStream } from 'node:fs';
import type { ObjectInfo } from '../../storage/types.js';
import { ContentHasher, type FileDigest } from './content-hasher.js';
import { expectationsFor, hashNeedsFor } from './expectations.js';

/**
 * Whether the local file at `path` (of `local.size` bytes, SHA-256 `local.sha256`) holds the content of the
 * object `info` describes (from a `stat`: size, ETag, checksums, Wharf's SHA-256 metadata). True or false when
 * the store gives a digest to compare with; undefined when it gives none (an opaque ETag, a multipart ETag whose
 * part size cannot be guessed). The file is read only when an MD5 or SHA-1 has to be computed.
 */
export async function localFileMatchesObject(
  path: string,
  local: { size: number; sha256: string },
  info: ObjectInfo,
): Promise<boolean | undefined> {
  if (local.size !== info.size) return false;
  const expect = expectationsFor(info);
  if (expect.sha256 !== undefined) return expect.sha256 === local.sha256;
  if (expect.md5 === undefined && expect.sha1 === undefined) return undefined;
  const hasher = new ContentHasher(hashNeedsFor(expect));
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hasher.update(chunk);
    size += chunk.length;
  }
  if (size !== info.size) return false;
  const digest = hasher.digest();
  if (expect.sha1 !== undefined) return digest.sha1 === expect.sha1;
  const md5 = expect.md5;
  if (md5 === undefined) return undefined;
  // A multipart ETag checked against guessed part sizes proves a match, but not a difference.
  if (digest.md5.some((d) => d.value === md5.value)) return true;
  return md5.strict ? false : undefined;
}

/**
 * The MD5-family digest of the local file at `path` that equals the object's ETag (a plain MD5, or a multipart
 * ETag recomputed with the object's likely part sizes), or undefined when none does or the ETag is no digest.
 * The file is read once; a size that differs from the object's is an answer without reading.
 */
export async function localDigestMatchingEtag(
  path: string,
  localSize: number,
  info: ObjectInfo,
): Promise<FileDigest | undefined> {
  if (localSize !== info.size) return undefined;
  const md5 = expectationsFor(info).md5;
  if (md5 === undefined) return undefined;
  const hasher = new ContentHasher(md5.partSizes ? { md5PartSizes: md5.partSizes } : {});
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hasher.update(chunk);
    size += chunk.length;
  }
  if (size !== info.size) return undefined;
  return hasher.digest().md5.find((d) => d.value === md5.value);
}
