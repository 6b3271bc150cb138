import { InvalidKeyError, ValidationError } from '../../core/errors.js';
import { formatRange } from '../range.js';
import type { ByteRange } from '../types.js';

/**
 * Turning driver arguments into S3 request values and S3 responses back into driver values:
 * keys, ranges, copy sources, metadata, checksums. Pure functions, no SDK import.
 */

/** S3 refuses keys longer than this many UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** What to do about a key over MAX_KEY_BYTES. */
export const KEY_TOO_LONG_HINT =
  'shorten the file or folder names: the key is the destination prefix followed by the path';

/** Throws InvalidKeyError for keys S3 cannot store: empty, or longer than 1024 UTF-8 bytes. */
export function assertS3Key(key: string): void {
  const refusal = s3KeyRefusal(key);
  if (refusal) throw refusal;
}

/** The InvalidKeyError `assertS3Key` throws for `key`, or undefined. */
export function s3KeyRefusal(key: string): InvalidKeyError | undefined {
  if (typeof key !== 'string' || key.length === 0)
    return new InvalidKeyError(String(key), 'the key is empty');
  const bytes = Buffer.byteLength(key, 'utf8');
  return bytes > MAX_KEY_BYTES ? keyTooLong(key, bytes) : undefined;
}

/** The refusal of a key S3 finds too long (also when the server says so: KeyTooLongError). */
export function keyTooLong(
  key: string,
  bytes = Buffer.byteLength(key, 'utf8'),
  cause?: unknown,
): InvalidKeyError {
  const reason = `the key is ${bytes.toLocaleString('en')} bytes; S3 allows ${MAX_KEY_BYTES.toLocaleString('en')}`;
  return new InvalidKeyError(key, reason, {
    hint: KEY_TOO_LONG_HINT,
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** Percent-encodes like RFC 3986 `encodeURIComponent`, also escaping `!'()*`. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `x-amz-copy-source` value: `bucket/key` with each key segment URL-encoded (spaces, unicode, '+', '%', '='). */
export function encodeCopySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeRfc3986).join('/')}`;
}

/**
 * HTTP Range header for a ByteRange, validated as `resolveRange` (storage/range.ts) does for the other drivers:
 * whole numbers, `end >= start`, a suffix of at least one byte. Throws ValidationError otherwise.
 */
export function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (range === undefined) return undefined;
  if ('suffix' in range) {
    if (!isWholeNumber(range.suffix) || range.suffix === 0) {
      throw new ValidationError(`invalid suffix range: ${range.suffix} (must be a positive integer)`);
    }
    return formatRange(range);
  }
  const { start, end } = range;
  if (!isWholeNumber(start) || (end !== undefined && (!isWholeNumber(end) || end < start))) {
    throw new ValidationError(`invalid byte range ${formatRange(range)}`);
  }
  return formatRange(range);
}

function isWholeNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const ENCODED_WORD = /^=\?utf-8\?b\?([A-Za-z0-9+/=]*)\?=$/i;

/**
 * User metadata for a request: keys lower-cased (and checked to be valid header names), values that HTTP headers
 * cannot carry verbatim (non-ASCII, control characters, edge spaces) sent as RFC 2047 `=?UTF-8?B?...?=`, which is
 * also how AWS returns such values. `decodeMetadata` reverses it.
 */
export function encodeMetadata(
  metadata: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [rawKey, rawValue] of Object.entries(metadata)) {
    const key = rawKey.toLowerCase();
    if (!HEADER_TOKEN.test(key)) {
      throw new ValidationError(
        `invalid metadata name ${JSON.stringify(rawKey)}: use ASCII letters, digits and - _ . only`,
      );
    }
    const value = String(rawValue);
    const plain = /^[\x20-\x7e]*$/.test(value) && value.trim() === value && !value.startsWith('=?');
    out[key] = plain ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
  }
  return out;
}

/** User metadata from a response: lower-case keys, RFC 2047 base64 values decoded. */
export function decodeMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) {
    const encoded = ENCODED_WORD.exec(value);
    out[key.toLowerCase()] =
      encoded?.[1] !== undefined ? Buffer.from(encoded[1], 'base64').toString('utf8') : value;
  }
  return out;
}

/** Lower-cases metadata keys without encoding values (for the ObjectInfo returned from write/copy). */
export function lowerCaseKeys(
  metadata: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

/**
 * Decodes a key or prefix from a ListObjectsV2 response made with `encoding-type=url`. AWS encodes a space as
 * '+', Ceph RGW as '%20'; a literal '+' is '%2B' in both, so form-style decoding fits both.
 */
export function decodeListValue(value: string, urlEncoded: boolean): string {
  return urlEncoded ? decodeURIComponent(value.replace(/\+/g, ' ')) : value;
}

/** The checksum headers S3 reports, keyed by algorithm name. */
export interface ChecksumFields {
  ChecksumCRC32?: string | undefined;
  ChecksumCRC32C?: string | undefined;
  ChecksumCRC64NVME?: string | undefined;
  ChecksumSHA1?: string | undefined;
  ChecksumSHA256?: string | undefined;
}

/** `{ CRC32: '...', SHA256: '...' }` from a response's checksum fields, or undefined when there are none. */
export function checksumsOf(fields: ChecksumFields): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (fields.ChecksumCRC32) out['CRC32'] = fields.ChecksumCRC32;
  if (fields.ChecksumCRC32C) out['CRC32C'] = fields.ChecksumCRC32C;
  if (fields.ChecksumCRC64NVME) out['CRC64NVME'] = fields.ChecksumCRC64NVME;
  if (fields.ChecksumSHA1) out['SHA1'] = fields.ChecksumSHA1;
  if (fields.ChecksumSHA256) out['SHA256'] = fields.ChecksumSHA256;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The whole object's size from a `Content-Range: bytes START-END/TOTAL` response header, or undefined when the
 * header is absent, malformed or has an unknown total (`*`).
 */
export function contentRangeTotal(contentRange: string | undefined): number | undefined {
  if (contentRange === undefined) return undefined;
  const match = /^bytes\s+(?:\d+-\d+|\*)\/(\d+)$/i.exec(contentRange.trim());
  const total = match?.[1] === undefined ? NaN : Number(match[1]);
  return Number.isSafeInteger(total) ? total : undefined;
}

/** S3 lists and heads report whole seconds on AWS; Ceph RGW lists with milliseconds. Floor so list and stat agree. */
export function wholeSeconds(date: Date | undefined): Date | undefined {
  if (date === undefined) return undefined;
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
