import { UnsupportedError } from '../../core/errors.js';
import { normaliseEtag } from '../etag.js';
import type { MultipartLayout } from '../types.js';
import { contentRangeTotal } from './s3-encoding.js';

/**
 * Answering `multipartLayout` from a HeadObject made with `PartNumber: 1`. Pure functions, no SDK import.
 *
 * AWS (and servers that implement `partNumber`) answer such a HEAD with the size of part 1 as ContentLength,
 * `Content-Range: bytes 0-(p-1)/TOTAL` and `x-amz-mp-parts-count` (PartsCount) for a multipart object; for an
 * object uploaded in one piece they return the whole object without PartsCount.
 *
 * Ceph RGW 16 (observed on 16.2.15) ignores `partNumber` on HEAD and GET altogether: it answers 200 with the
 * whole object's ContentLength, no Content-Range and no PartsCount, for multipart and single-part objects alike
 * (support came with ceph/ceph#50148 in a later release). The part count is still in the ETag (`"<hex>-N"`),
 * but the part size is nowhere in the response; so on such a server only one-part multipart objects (`-1`,
 * whose part 1 is the whole object) and single-part objects can be answered.
 */

/** What a HeadObject with `PartNumber: 1` said (the fields of HeadObjectCommandOutput that matter here). */
export interface PartOneHead {
  ContentLength?: number | undefined;
  ContentRange?: string | undefined;
  PartsCount?: number | undefined;
  ETag?: string | undefined;
}

/** The part count of a multipart ETag (`"<hex>-N"`, quoted or not), or undefined for an ETag without `-N`. */
export function etagPartsCount(etag: string | undefined): number | undefined {
  if (etag === undefined) return undefined;
  const match = /-(\d{1,5})$/.exec(normaliseEtag(etag));
  const count = match?.[1] === undefined ? NaN : Number(match[1]);
  return Number.isSafeInteger(count) && count >= 1 ? count : undefined;
}

/**
 * The layout from a `PartNumber: 1` HEAD: `{ partSize, partsCount }` for a multipart object, `undefined` for an
 * object uploaded in one piece (no PartsCount and no `-N` ETag), or `'unknown'` when the object is multipart
 * (ETag `-N`, N >= 2) but the server evidently ignored `partNumber` (no PartsCount, and ContentLength is the
 * whole object), so the part size cannot be known from this response.
 */
export function layoutFromPartOneHead(head: PartOneHead): MultipartLayout | undefined | 'unknown' {
  const length = head.ContentLength;
  const validLength = length !== undefined && Number.isSafeInteger(length) && length >= 0;
  const total = contentRangeTotal(head.ContentRange);
  const reported = head.PartsCount;
  if (reported !== undefined && Number.isSafeInteger(reported) && reported >= 1) {
    if (!validLength) return 'unknown';
    // A server that reports PartsCount but still sent the whole object: part 1 cannot be all of N >= 2 parts.
    if (reported >= 2 && total !== undefined && length >= total) return 'unknown';
    return { partSize: length, partsCount: reported };
  }
  const fromEtag = etagPartsCount(head.ETag);
  if (fromEtag === undefined) return undefined;
  if (!validLength) return 'unknown';
  // Part 1 of a one-part upload is the whole object, whether or not the server honoured partNumber.
  if (fromEtag === 1) return { partSize: length, partsCount: 1 };
  // No PartsCount, but Content-Range shows that only part 1 came back: the server honoured partNumber.
  if (total !== undefined && length < total) return { partSize: length, partsCount: fromEtag };
  return 'unknown';
}

/** UnsupportedError for a multipart object whose part size the endpoint did not report (see above). */
export function partSizeUnknown(
  endpointLabel: string,
  url: string,
  etag: string | undefined,
): UnsupportedError {
  const parts = etagPartsCount(etag);
  return new UnsupportedError(
    `endpoint ${endpointLabel} does not report the part size of multipart objects: ${url} has ${parts ?? 'several'} parts (ETag ${etag ?? 'unknown'}), but HeadObject with partNumber=1 returned the whole object`,
    { hint: 'this server ignores partNumber (Ceph RGW 16 does); verify the object by its content instead' },
  );
}
