import { WharfError } from '../../core/errors.js';
import { normaliseEtag } from '../../storage/etag.js';
import type { MultipartLayout, ObjectInfo, ReadInfo } from '../../storage/types.js';
import type { FileDigest, HashNeeds, HashResult } from './content-hasher.js';

/** User-metadata key under which Wharf's uploaders store the hex SHA-256 of an object's content. */
export const SHA256_METADATA_KEY = 'wharf-sha256';
/** rclone stores the base64 MD5 of the whole file here for multipart uploads. */
const RCLONE_MD5_METADATA_KEY = 'md5chksum';

const MD5_ETAG = /^[0-9a-f]{32}$/;
const MULTIPART_ETAG = /^[0-9a-f]{32}-(\d+)$/;
/** Encryption modes whose ETag is not the MD5 of the content. */
const OPAQUE_ETAG_ENCRYPTION = new Set(['aws:kms', 'aws:kms:dsse', 'SSE-C']);

/** What the downloaded bytes must match, gathered from the listing, the GET/HEAD response and the upload layout. */
export interface Expectations {
  size: number;
  /** Expected MD5-family digest (from the ETag or rclone's md5chksum), if the store gives one. */
  md5?: ExpectedMd5;
  /** Hex. From Wharf's upload metadata or a full-object SHA256 checksum. */
  sha256?: string;
  /** Hex. From a full-object SHA1 checksum. */
  sha1?: string;
}

export interface ExpectedMd5 {
  /** Hex, with `-N` for the multipart form. */
  value: string;
  /**
   * Multipart form: the part sizes to try. Known exactly when the store reports the layout; otherwise the
   * plausible uploader part sizes (whole MiB giving N parts), and a digest matching none of them leaves the ETag
   * unverified rather than failing the download.
   */
  partSizes?: number[];
  /** A mismatch is a verification failure (plain MD5, or a multipart ETag with a known layout). */
  strict: boolean;
}

/** Number of parts in a multipart ETag (`…-N`), or undefined for any other ETag. */
export function multipartPartCount(etag: string | undefined): number | undefined {
  if (etag === undefined) return undefined;
  const m = MULTIPART_ETAG.exec(normaliseEtag(etag));
  return m ? Number(m[1]) : undefined;
}

/**
 * Everything the store told us that the content must match. `layout` is the multipart layout of objects with a
 * `-N` ETag (without it the multipart ETag cannot be recomputed and is not checked).
 */
export function expectationsFor(
  info: ObjectInfo & Partial<Pick<ReadInfo, 'encryption'>>,
  layout?: MultipartLayout,
): Expectations {
  const expect: Expectations = { size: info.size };
  const etag = info.etag === undefined ? undefined : normaliseEtag(info.etag);
  const opaque = info.encryption !== undefined && OPAQUE_ETAG_ENCRYPTION.has(info.encryption);
  const rcloneMd5 = info.metadata?.[RCLONE_MD5_METADATA_KEY];
  const parts = etag === undefined ? undefined : multipartPartCount(etag);
  if (rcloneMd5 !== undefined && /^[A-Za-z0-9+/]{22}==$/.test(rcloneMd5)) {
    expect.md5 = { value: Buffer.from(rcloneMd5, 'base64').toString('hex'), strict: true };
  } else if (etag !== undefined && !opaque) {
    if (MD5_ETAG.test(etag)) expect.md5 = { value: etag, strict: true };
    else if (parts !== undefined && layout && layout.partsCount === parts) {
      expect.md5 = { value: etag, partSizes: [layout.partSize], strict: true };
    } else if (parts !== undefined) {
      const candidates = candidatePartSizes(info.size, parts);
      if (candidates.length > 0) expect.md5 = { value: etag, partSizes: candidates, strict: false };
    }
  }
  const sha256 = info.metadata?.[SHA256_METADATA_KEY];
  if (sha256 !== undefined && /^[0-9a-f]{64}$/i.test(sha256)) expect.sha256 = sha256.toLowerCase();
  else {
    const checksum = fullObjectChecksumHex(info.checksums?.SHA256);
    if (checksum) expect.sha256 = checksum;
  }
  const sha1 = fullObjectChecksumHex(info.checksums?.SHA1);
  if (sha1) expect.sha1 = sha1;
  return expect;
}

/** Composite checksums of multipart uploads end in `-N` and are not a hash of the content: skip them. */
function fullObjectChecksumHex(base64: string | undefined): string | undefined {
  if (base64 === undefined || base64.includes('-')) return undefined;
  return Buffer.from(base64, 'base64').toString('hex');
}

const MiB = 1024 * 1024;
const MAX_CANDIDATES = 3;

/**
 * Part sizes an uploader may have used for an object of `size` bytes in `parts` parts: whole MiB values P with
 * ceil(size / P) = parts, the usual ones (8 MiB: aws-cli, boto3, Wharf; 5 MiB; 16 MiB; …) first. Uploaders pick
 * whole MiB in practice; for one part every P ≥ size gives the same ETag.
 */
export function candidatePartSizes(size: number, parts: number): number[] {
  if (parts < 1 || size < 1) return [];
  if (parts === 1) return [Math.max(size, 1)];
  const low = Math.ceil(size / parts / MiB); // smallest P (MiB) with P * parts >= size
  const high = Math.ceil(size / (parts - 1) / MiB) - 1; // largest P (MiB) with P * (parts - 1) < size
  const found: number[] = [];
  for (let p = Math.max(low, 1); p <= high && found.length < 64; p++) {
    if (Math.ceil(size / (p * MiB)) === parts) found.push(p);
  }
  const common = [8, 5, 16, 15, 64, 10, 32, 100, 128];
  found.sort((a, b) => rank(a) - rank(b) || a - b);
  return found.slice(0, MAX_CANDIDATES).map((p) => p * MiB);

  function rank(p: number): number {
    const i = common.indexOf(p);
    if (i >= 0) return i;
    return (p & (p - 1)) === 0 ? common.length : common.length + 1;
  }
}

/** What to hash: the expected MD5 form (whole MD5 when the store gives none, so the cache index gets a digest). */
export function hashNeedsFor(expect: Expectations): HashNeeds {
  const needs: HashNeeds = {};
  if (expect.md5?.partSizes !== undefined) needs.md5PartSizes = expect.md5.partSizes;
  if (expect.sha256 !== undefined) needs.sha256 = true;
  if (expect.sha1 !== undefined) needs.sha1 = true;
  return needs;
}

export interface CheckResult {
  /** Checks that passed: `size`, `md5`, `etag-md5-parts`, `sha256`, `sha1`. */
  passed: string[];
  /** The digest the cache index records: the one that matched the ETag, else the first computed. */
  digest: FileDigest;
}

/** Throws a retryable IO error naming the first check that failed (damaged bytes are an I/O failure, not bad input). */
export function checkDownload(
  what: string,
  expect: Expectations,
  size: number,
  hashes: HashResult,
): CheckResult {
  const passed: string[] = [];
  const fail = (check: string, expected: string, actual: string): never => {
    throw new WharfError(
      'IO',
      `${what}: downloaded content does not match the object's ${check} (expected ${expected}, got ${actual})`,
      {
        retryable: true,
        hint: 'the bytes were damaged in transit or the object changed while downloading; run the command again',
      },
    );
  };
  const first = hashes.md5[0];
  if (first === undefined) throw new Error('no MD5 digest was computed');
  let digest: FileDigest = first;
  if (size !== expect.size) fail('size', `${expect.size} bytes`, `${size} bytes`);
  passed.push('size');
  if (expect.md5) {
    const match = hashes.md5.find((d) => d.value === expect.md5?.value);
    if (match) {
      digest = match;
      passed.push(match.partSize === undefined ? 'md5' : 'etag-md5-parts');
    } else if (expect.md5.strict) {
      fail('ETag', expect.md5.value, first.value);
    }
  }
  if (expect.sha256) {
    if (hashes.sha256 !== expect.sha256) fail('SHA-256', expect.sha256, hashes.sha256 ?? 'none');
    passed.push('sha256');
  }
  if (expect.sha1) {
    if (hashes.sha1 !== expect.sha1) fail('SHA-1', expect.sha1, hashes.sha1 ?? 'none');
    passed.push('sha1');
  }
  return { passed, digest };
}
