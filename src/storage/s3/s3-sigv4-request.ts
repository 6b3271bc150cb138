import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { encodeRfc3986 } from './s3-encoding.js';

/**
 * SigV4 for the lean GetObject path: the SDK's own signer (`@smithy/signature-v4`, SHA-256 from where the S3 client
 * takes it), configured as the S3 client configures it: service `s3`, the path signed as sent (S3 does not
 * double-encode it), and an unsigned payload.
 */

/** The credential provider the signer accepts (the S3 client's resolved, caching provider fits). */
export type SigV4Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

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

/**
 * `/`-separated key with each segment percent-encoded as RFC 3986 `encodeURIComponent` plus `!'()*`, as the SDK
 * encodes S3 keys in paths. Empty, `.` and `..` segments are kept (S3 keys are not paths). Throws URIError for a
 * key with a lone UTF-16 surrogate, as the SDK does.
 */
export function encodeKeyPath(key: string): string {
  if (/^[\w.~/-]*$/.test(key)) return key; // nothing to encode (the common case)
  return key.split('/').map(encodeRfc3986).join('/');
}

export class S3RequestSigner {
  readonly #signer: SignatureV4;
  readonly #clockOffset: () => number;

  /**
   * `clockOffset` returns milliseconds to add to this machine's clock (the S3 client's `systemClockOffset`, which
   * it corrects when the server says the clock is skewed).
   */
  constructor(region: string, credentials: SigV4Credentials, clockOffset: () => number) {
    this.#signer = new SignatureV4({
      service: 's3',
      region,
      credentials,
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    this.#clockOffset = clockOffset;
  }

  /**
   * Signs a request without a body. `path` is already encoded (see encodeKeyPath) and is signed verbatim.
   * Returns all headers to send: `headers`, Host, x-amz-content-sha256, x-amz-date, x-amz-security-token (with
   * temporary credentials) and Authorization. Rejects when the credential provider does.
   */
  async sign(
    method: string,
    target: SigV4Target,
    path: string,
    headers: Record<string, string>,
  ): Promise<Record<string, string>> {
    const signed = await this.#signer.sign(
      {
        method,
        protocol: target.protocol,
        hostname: target.hostname,
        ...(target.port !== undefined ? { port: target.port } : {}),
        path,
        query: {},
        headers: { ...headers, host: target.host, 'x-amz-content-sha256': UNSIGNED_PAYLOAD },
      },
      { signingDate: new Date(Date.now() + this.#clockOffset()) },
    );
    return signed.headers;
  }
}
