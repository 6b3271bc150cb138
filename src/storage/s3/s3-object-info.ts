import type { GetObjectCommandOutput, HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import type { ListPage } from './s3-list-xml.js';
import { compareKeys } from '../../core/keys.js';
import { quoteEtag } from '../etag.js';
import type { ObjectInfo, ReadInfo, WriteOptions } from '../types.js';
import type { ChecksumFields } from './s3-encoding.js';
import {
  checksumsOf,
  contentRangeTotal,
  decodeListValue,
  decodeMetadata,
  lowerCaseKeys,
  wholeSeconds,
} from './s3-encoding.js';

/** Turning S3 responses (HeadObject, GetObject, ListObjectsV2, a finished write) into ObjectInfo. */

/** ObjectInfo from a HeadObject response: size, ETag, lastModified, contentType, decoded metadata, checksums. */
export function headToInfo(key: string, head: HeadObjectCommandOutput): ObjectInfo {
  const info: ObjectInfo = { key, size: head.ContentLength ?? 0 };
  if (head.ETag) info.etag = head.ETag;
  if (head.LastModified) info.lastModified = head.LastModified;
  if (head.ContentType) info.contentType = head.ContentType;
  info.metadata = decodeMetadata(head.Metadata);
  const checksums = checksumsOf(head);
  if (checksums) info.checksums = checksums;
  return info;
}

/** The GetObject response fields `getToReadInfo` reads (from the SDK, or from the headers on the lean path). */
export type GetObjectHeaders = Pick<
  GetObjectCommandOutput,
  | 'ContentLength'
  | 'ContentRange'
  | 'ETag'
  | 'LastModified'
  | 'ContentType'
  | 'Metadata'
  | 'ServerSideEncryption'
  | 'SSECustomerAlgorithm'
> &
  ChecksumFields;

/**
 * ReadInfo for `read`'s `onInfo` from a GetObject response, decoded as `headToInfo` decodes a HeadObject: the whole
 * object's size (for a ranged read the total from Content-Range, not the length of the range), ETag (quoted),
 * lastModified, contentType, decoded metadata, `encryption` (`SSE-C` when the object has a customer key, else
 * ServerSideEncryption such as `AES256` or `aws:kms`) and, for whole-object reads only, the checksums (a ranged
 * response's checksum fields would not describe the object).
 */
export function getToReadInfo(key: string, out: GetObjectHeaders, wholeObject: boolean): ReadInfo {
  const size = contentRangeTotal(out.ContentRange) ?? out.ContentLength ?? 0;
  const info: ReadInfo = { key, size };
  if (out.ETag) info.etag = quoteEtag(out.ETag);
  if (out.LastModified) info.lastModified = out.LastModified;
  if (out.ContentType) info.contentType = out.ContentType;
  info.metadata = decodeMetadata(out.Metadata);
  const encryption = out.SSECustomerAlgorithm ? 'SSE-C' : out.ServerSideEncryption;
  if (encryption) info.encryption = encryption;
  const checksums = wholeObject ? checksumsOf(out) : undefined;
  if (checksums) info.checksums = checksums;
  return info;
}

/** headToInfo, or just key and size when the object could not be read back. */
export function headOr(key: string, head: HeadObjectCommandOutput | undefined, size: number): ObjectInfo {
  return head ? headToInfo(key, head) : { key, size };
}

/** ObjectInfo for what `write` just stored (the ETag is added by the caller). */
export function writtenInfo(key: string, size: number, options: WriteOptions): ObjectInfo {
  const info: ObjectInfo = { key, size };
  if (options.contentType !== undefined) info.contentType = options.contentType;
  const metadata = lowerCaseKeys(options.metadata);
  if (metadata !== undefined) info.metadata = metadata;
  return info;
}

/**
 * The entries of one ListObjectsV2 page: objects (key, size, etag, lastModified floored to whole seconds) and
 * common prefixes (`isPrefix`), decoded from `encoding-type=url` and merged in UTF-8 byte order of keys.
 */
export function listPageEntries(page: ListPage): ObjectInfo[] {
  const encoded = page.EncodingType === 'url';
  const objects: ObjectInfo[] = (page.Contents ?? []).map((o) => {
    const info: ObjectInfo = { key: decodeListValue(o.Key ?? '', encoded), size: o.Size ?? 0 };
    if (o.ETag) info.etag = o.ETag;
    const lastModified = wholeSeconds(o.LastModified);
    if (lastModified) info.lastModified = lastModified;
    return info;
  });
  const prefixes: ObjectInfo[] = (page.CommonPrefixes ?? []).map((p) => ({
    key: decodeListValue(p.Prefix ?? '', encoded),
    size: 0,
    isPrefix: true,
  }));
  return mergeByKey(objects, prefixes);
}

/** Merges two key-sorted lists into one, in UTF-8 byte order. */
export function mergeByKey(a: ObjectInfo[], b: ObjectInfo[]): ObjectInfo[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: ObjectInfo[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && compareKeys(x.key, y.key) <= 0)) {
      if (x !== undefined) out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}
