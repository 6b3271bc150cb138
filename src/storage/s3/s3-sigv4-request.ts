import { createHash, createHmac } from 'node:crypto';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { encodeRfc3986 } from './s3-encoding.js';

/**
 * SigV4 for the lean S3 requests (GetObject, ListObjectsV2; see s3-fast-get.ts): bodiless requests whose headers
 * Wharf chooses, signed as the S3 client signs them: service `s3`, the path signed as sent (S3 does not
 * double-encode it), an unsigned payload. The SDK's general signer (`@smithy/signature-v4`) clones the request,
 * filters and sorts headers and hashes through promise-returning wrappers; for 2,000 small GETs that was about 0.2 s
 * of client CPU, a tenth of the whole fetch on the benchmark machine. This one does the same arithmetic with
 * `node:crypto` directly, and s3-sigv4-request.test.ts checks that it produces the SDK's signature, byte for byte.
 */

/** The credentials the S3 client resolved: its caching provider, or fixed credentials. */
export type SigV4Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

/** Where a request goes: what `node:http` needs plus the Host header that is signed. */
export interface SigV4Target {
  protocol: 'http:' | 'https:';
  /** Host name or IP for the connection (IPv6 without brackets). */
  hostname: string;
  /** The Host header: host name (IPv6 in brackets) and the port unless it is the scheme's default. */
  host: string;
  port: number | undefined;
}

/** The payload hash header S3 accepts for requests whose body is not signed (and GETs have none). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * `/`-separated key with each segment percent-encoded as RFC 3986 `encodeURIComponent` plus `!'()*`, as the SDK
 * encodes S3 keys in paths. Empty, `.` and `..` segments are kept (S3 keys are not paths). Throws URIError for a
 * key with a lone UTF-16 surrogate, as the SDK does.
 */
export function encodeKeyPath(key: string): string {
  if (/^[\w.~/-]*$/.test(key)) return key; // nothing to encode (the common case)
  return key.split('/').map(encodeRfc3986).join('/');
}

/** A query string in SigV4's canonical form (also what is sent): names sorted, names and values RFC 3986-encoded. */
export function canonicalQuery(query: Record<string, string>): string {
  return Object.keys(query)
    .sort()
    .map((name) => `${encodeRfc3986(name)}=${encodeRfc3986(query[name] as string)}`)
    .join('&');
}

/** `20261124T144300Z`, the x-amz-date form of a time. */
export function amzDate(time: Date): string {
  return time.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

export class S3RequestSigner {
  readonly #region: string;
  readonly #credentials: AwsCredentialIdentityProvider;
  readonly #clockOffset: () => number;
  /** The derived signing key of the last (secret, day): it changes once a day. */
  #key: { secret: string; day: string; key: Buffer } | undefined;

  /**
   * `clockOffset` returns milliseconds to add to this machine's clock (the S3 client's `systemClockOffset`, which
   * it corrects when the server says the clock is skewed).
   */
  constructor(region: string, credentials: SigV4Credentials, clockOffset: () => number) {
    this.#region = region;
    this.#credentials = typeof credentials === 'function' ? credentials : () => Promise.resolve(credentials);
    this.#clockOffset = clockOffset;
  }

  /**
   * Signs a request without a body. `path` is already encoded (see encodeKeyPath) and is signed verbatim; `query`
   * goes in canonical form (canonicalQuery, which is also how it must be sent). Returns all headers to send:
   * `headers` (names lower-cased), Host, x-amz-content-sha256, x-amz-date, x-amz-security-token (with temporary
   * credentials) and Authorization. Rejects when the credential provider does.
   */
  async sign(
    method: string,
    target: SigV4Target,
    path: string,
    headers: Record<string, string>,
    query: Record<string, string> = {},
    now: Date = new Date(Date.now() + this.#clockOffset()),
  ): Promise<Record<string, string>> {
    const credentials = await this.#credentials();
    const date = amzDate(now);
    const day = date.slice(0, 8);
    const signed: Record<string, string> = {};
    for (const name of Object.keys(headers)) signed[name.toLowerCase()] = headers[name] as string;
    signed['host'] = target.host;
    signed['x-amz-content-sha256'] = UNSIGNED_PAYLOAD;
    signed['x-amz-date'] = date;
    if (credentials.sessionToken) signed['x-amz-security-token'] = credentials.sessionToken;
    const names = Object.keys(signed).sort();
    let canonicalHeaders = '';
    for (const name of names)
      canonicalHeaders += `${name}:${(signed[name] as string).trim().replace(/\s+/g, ' ')}\n`;
    const signedHeaders = names.join(';');
    const canonicalRequest = `${method}\n${path}\n${canonicalQuery(query)}\n${canonicalHeaders}\n${signedHeaders}\n${UNSIGNED_PAYLOAD}`;
    const scope = `${day}/${this.#region}/s3/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${date}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
    const signature = createHmac('sha256', this.#signingKey(credentials.secretAccessKey, day))
      .update(stringToSign)
      .digest('hex');
    signed['authorization'] =
      `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return signed;
  }

  #signingKey(secret: string, day: string): Buffer {
    if (this.#key?.secret === secret && this.#key.day === day) return this.#key.key;
    let key = createHmac('sha256', `AWS4${secret}`).update(day).digest();
    for (const part of [this.#region, 's3', 'aws4_request'])
      key = createHmac('sha256', key).update(part).digest();
    this.#key = { secret, day, key };
    return key;
  }
}
