import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { getRetryAfterHint, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { S3Agents } from './s3-client.js';
import { CONNECT_TIMEOUT_MS, SOCKET_IDLE_TIMEOUT_MS } from './s3-client.js';
import { headerValue, s3ResponseError } from './s3-error-response.js';
import type { S3ResponseError } from './s3-error-response.js';
import type { GetObjectHeaders } from './s3-object-info.js';
import { canonicalQuery, encodeKeyPath, S3RequestSigner } from './s3-sigv4-request.js';
import { parseListObjectsV2, type ListPage } from './s3-list-xml.js';
import { RawHttpGet, type BodySink } from './raw-http-get.js';
import type { SigV4Target } from './s3-sigv4-request.js';

/**
 * The lean GetObject path of `S3Driver.read()`: one signed `node:http(s)` GET on the client's own connection pool,
 * with the client's credentials, clock offset and retry strategy, but without the SDK's middleware stack and
 * schema-driven (de)serialisation, which cost about as much CPU as everything else in a small download.
 *
 * It answers like the SDK: success is the response's headers decoded as the SDK decodes GetObject's, plus the body
 * stream; failures are thrown as the SDK would throw them (service exceptions shaped by s3-error-response.ts, Node
 * socket errors as they are), after the same retries, so that `read()` maps both paths' errors with the same code.
 *
 * Where it would not send what the SDK sends, it steps aside (the caller then uses the SDK): the endpoint, the
 * addressing style, the key encoding and the signing scope are taken from a URL the SDK presigns once per driver,
 * and anything unexpected in that URL (another signing algorithm or scope, extra parameters) switches the lean path
 * off. On AWS, a region redirect switches it off too, so that the SDK follows it.
 */

/** Where lean GETs go: the SDK's endpoint for the bucket, and the region it signs for. */
export interface FastGetTarget extends SigV4Target {
  /** Path before the encoded key: `''` (virtual-hosted) or `/bucket`, `/base/bucket` (path-style). */
  basePath: string;
  /** Signing region from the SDK's credential scope. */
  region: string;
}

export interface FastGetRequest {
  key: string;
  /** Range header value (rangeHeader), if any. */
  range: string | undefined;
  /** If-Match header value (quoted), if any. */
  ifMatch: string | undefined;
  signal: AbortSignal | undefined;
}

/** One ListObjectsV2 page's parameters, as the SDK command's input names them. */
export interface FastListRequest {
  Prefix?: string | undefined;
  Delimiter?: string | undefined;
  StartAfter?: string | undefined;
  ContinuationToken?: string | undefined;
  EncodingType?: 'url' | undefined;
  signal: AbortSignal | undefined;
}

/** The start of every ListObjectsV2 answer (after an optional XML declaration and comments). */
const LIST_ROOT = /^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<ListBucketResult[\s>]/;

/** A listing page larger than this is left to the SDK (1,000 keys of S3's longest take about 1.2 MB). */
const MAX_LIST_BODY = 16 * 1024 * 1024;

/** A successful GetObject: the decoded headers and the body (the response stream itself). */
export type FastGetOutput = GetObjectHeaders & { Body: IncomingMessage };

/** A key whose encoding exercises every rule the path must follow (spaces, `+`, `%`, unicode, `!'()*`, `~`). */
export const PROBE_KEY = "wharf-probe/a b+c%d=e&f;g,h/\u00e9\u65e5\u{1f433}/!'()*~._-";

/** Query parameters the SDK puts on a presigned GetObject URL; any other one means the request is unusual. */
const PRESIGN_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Content-Sha256',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
  'X-Amz-Security-Token',
  'x-id',
]);

/** Error documents are small; read at most this much of one. */
const MAX_ERROR_BODY = 64 * 1024;
/** The SDK corrects its clock offset when the server's Date differs by this much (and then retries). */
const CLOCK_SKEW_MS = 300_000;
/** Node error codes the SDK's HTTP handler renames to TimeoutError. */
const TIMEOUT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/**
 * The lean target from a URL the SDK presigned for `GetObject(bucket, probeKey)`, or undefined when that URL shows
 * something the lean path does not do: a signature other than SigV4 with a `REGION/s3/aws4_request` scope, headers
 * other than Host signed, query parameters beyond the presigning ones, or a path that is not `BASE/ENCODED-KEY`
 * (with the bucket in the host or in BASE).
 */
export function targetFromPresignedUrl(
  url: string,
  bucket: string,
  probeKey: string,
): FastGetTarget | undefined {
  const match = /^(https?:)\/\/([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(url);
  if (!match) return undefined;
  const [, protocol, authority, path = '/', queryText = ''] = match;
  if ((protocol !== 'http:' && protocol !== 'https:') || authority === undefined) return undefined;
  const query = new URLSearchParams(queryText);
  for (const name of query.keys()) if (!PRESIGN_PARAMS.has(name)) return undefined;
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return undefined;
  if (query.get('X-Amz-SignedHeaders') !== 'host') return undefined;
  const xId = query.get('x-id');
  if (xId !== null && xId !== 'GetObject') return undefined;
  const scope = (query.get('X-Amz-Credential') ?? '').split('/');
  const region = scope.at(-3);
  if (scope.length < 5 || scope.at(-2) !== 's3' || scope.at(-1) !== 'aws4_request' || !region)
    return undefined;
  const suffix = `/${encodeKeyPath(probeKey)}`;
  if (!path.endsWith(suffix)) return undefined;
  const basePath = path.slice(0, -suffix.length);
  let origin: URL;
  try {
    origin = new URL(`${protocol}//${authority}/`);
  } catch {
    return undefined;
  }
  if (origin.username || origin.password) return undefined;
  const inHost = origin.hostname.startsWith(`${bucket}.`) && basePath === '';
  const inPath = basePath.endsWith(`/${bucket}`);
  if (!inHost && !inPath) return undefined;
  const hostname = origin.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    protocol,
    hostname,
    host: origin.host,
    port: origin.port === '' ? undefined : Number(origin.port),
    basePath,
    region,
  };
}

/** GetObject response headers decoded as the SDK decodes them (x-amz-meta-* into Metadata, dates, numbers). */
export function getObjectHeaders(headers: IncomingHttpHeaders): GetObjectHeaders {
  const out: GetObjectHeaders = {};
  const metadata: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = headerValue(headers, name);
    if (value === undefined) continue;
    if (name.startsWith('x-amz-meta-')) {
      metadata[name.slice('x-amz-meta-'.length)] = value;
      continue;
    }
    switch (name) {
      case 'content-length': {
        const length = Number(value);
        if (value.trim() !== '' && Number.isFinite(length)) out.ContentLength = length;
        break;
      }
      case 'content-range':
        out.ContentRange = value;
        break;
      case 'etag':
        out.ETag = value;
        break;
      case 'last-modified': {
        const date = new Date(value);
        if (!Number.isNaN(date.getTime())) out.LastModified = date;
        break;
      }
      case 'content-type':
        out.ContentType = value;
        break;
      case 'x-amz-server-side-encryption':
        out.ServerSideEncryption = value as GetObjectHeaders['ServerSideEncryption'];
        break;
      case 'x-amz-server-side-encryption-customer-algorithm':
        out.SSECustomerAlgorithm = value;
        break;
      case 'x-amz-checksum-crc32':
        out.ChecksumCRC32 = value;
        break;
      case 'x-amz-checksum-crc32c':
        out.ChecksumCRC32C = value;
        break;
      case 'x-amz-checksum-crc64nvme':
        out.ChecksumCRC64NVME = value;
        break;
      case 'x-amz-checksum-sha1':
        out.ChecksumSHA1 = value;
        break;
      case 'x-amz-checksum-sha256':
        out.ChecksumSHA256 = value;
        break;
    }
  }
  out.Metadata = metadata;
  return out;
}

type RetryStrategy = Awaited<ReturnType<S3Client['config']['retryStrategy']>>;
type RetryStrategyV2 = Extract<RetryStrategy, { acquireInitialRetryToken: unknown }>;
type SdkError = Parameters<typeof isTransientError>[0];

function isRetryStrategyV2(strategy: RetryStrategy): strategy is RetryStrategyV2 {
  return 'acquireInitialRetryToken' in strategy && 'refreshRetryTokenForRetry' in strategy;
}

/** As the SDK's retry middleware classifies an error. */
function retryErrorType(error: SdkError): 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | 'CLIENT_ERROR' {
  if (isThrottlingError(error)) return 'THROTTLING';
  if (isTransientError(error)) return 'TRANSIENT';
  if (isServerError(error)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

/** Rejects with an AbortError when `signal` fires first (as the SDK's retry middleware races its waits). */
function race<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  let cleanup = () => undefined as void;
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(abortError());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    cleanup = () => signal.removeEventListener('abort', onAbort);
  });
  return Promise.race([promise, aborted]).finally(cleanup);
}

export interface FastGetOptions {
  client: S3Client;
  bucket: string;
  /** True on AWS S3, where a region redirect hands the request back to the SDK (which follows it). */
  isAws: boolean;
  /** The client's agents (shared, so the lean path and the SDK draw from one pool of `maxSockets`). */
  agents: S3Agents;
  /** Read bodies for `getInto` into reused memory (raw-http-get.ts); default true. */
  rawGet?: boolean;
  /** Idle keep-alive connections the raw path keeps (as the agents' `maxSockets`). */
  maxIdleSockets?: number;
}

export class S3FastGet {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #isAws: boolean;
  readonly #agents: S3Agents;
  #planning: Promise<{ target: FastGetTarget; signer: S3RequestSigner } | undefined> | undefined;
  #off = false;
  readonly #raw: RawHttpGet | undefined;
  /** Set when the server answered in a way the raw path does not read (then `getInto` always declines). */
  #rawOff = false;
  /** Set when a lean listing was answered with something other than a page or a passing failure (SDK from then). */
  #listOff = false;

  constructor(options: FastGetOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#isAws = options.isAws;
    this.#agents = options.agents;
    this.#raw =
      options.rawGet === false
        ? undefined
        : new RawHttpGet({
            connectTimeoutMs: CONNECT_TIMEOUT_MS,
            socketTimeoutMs: SOCKET_IDLE_TIMEOUT_MS,
            ...(options.maxIdleSockets !== undefined ? { maxIdlePerHost: options.maxIdleSockets } : {}),
          });
  }

  /**
   * GetObject on the lean path. Resolves with the headers and body of a 200/206 response; undefined when the
   * request should go through the SDK instead (the lean path is off for this driver, could not be set up yet,
   * or AWS answered with a region redirect). Rejects as the SDK would (see the module comment), after retrying
   * as the client's retry strategy does; with an AbortError when `signal` fires before the response.
   */
  async get(request: FastGetRequest): Promise<FastGetOutput | undefined> {
    const plan = await this.#plan();
    if (!plan) return undefined;
    return this.#retrying(
      request.signal,
      async () => {
        const response = await this.#attempt(plan.target, plan.signer, request);
        return response === undefined ? undefined : { ...getObjectHeaders(response.headers), Body: response };
      },
      () => true,
    );
  }

  /**
   * GetObject with the body read into reused memory and handed to `sink` (see raw-http-get.ts): `onHeaders` sees
   * the decoded headers of the 200/206 answer before the first byte goes to the sink. Resolves with those headers
   * once the whole body went to the sink; undefined when the request should go through `get` or the SDK instead
   * (then nothing reached the sink). Errors and retries as `get`, except that a failure after bytes reached the
   * sink is thrown at once (with `bodyStarted: true`): the caller starts over.
   */
  async getInto(
    request: FastGetRequest,
    sink: BodySink,
    onHeaders?: (headers: GetObjectHeaders) => void,
  ): Promise<GetObjectHeaders | undefined> {
    const raw = this.#raw;
    if (!raw || this.#rawOff) return undefined;
    const plan = await this.#plan();
    if (!plan) return undefined;
    return this.#retrying(
      request.signal,
      async () => {
        const { target, signer } = plan;
        const path = `${target.basePath}/${encodeKeyPath(request.key)}`;
        let decoded: GetObjectHeaders | undefined;
        const outcome = await raw.get({
          target,
          path,
          headers: await signer.sign('GET', target, path, requestHeaders(request)),
          signal: request.signal,
          sinkFor: (head) => {
            if (head.status !== 200 && head.status !== 206) return undefined;
            decoded = getObjectHeaders(head.headers);
            onHeaders?.(decoded);
            return sink;
          },
        });
        if (outcome.kind === 'unsupported') {
          this.#rawOff = true;
          return undefined;
        }
        const clockCorrected = this.#noteServerDate(outcome.head.headers);
        if (outcome.kind === 'body') return decoded;
        return this.#errorAnswer(
          outcome.head.status,
          outcome.head.headers,
          outcome.body,
          target,
          clockCorrected,
        );
      },
      (error) => (error as { bodyStarted?: boolean }).bodyStarted !== true,
    );
  }

  /**
   * One ListObjectsV2 page on the lean path: signed by S3RequestSigner, sent with `node:http` on the client's pool,
   * its XML read by parseListObjectsV2. Undefined whenever the SDK should send it instead: the lean path is off, the
   * answer is not a 200 with a page this parser reads, or the request failed (the SDK then retries, and reports the
   * failure in its words). An answer other than a page, a 5xx or a 429 turns lean listings off for this driver (the
   * SDK lists from then on); a failed connection does not. Rejects with an AbortError when `signal` fires, and with
   * an SDK-shaped error (which the driver maps to 'did not answer like an S3 server') when a 200 answer is not a
   * ListBucketResult at all: the SDK would read a web page as an empty listing.
   */
  async listPage(request: FastListRequest): Promise<ListPage | undefined> {
    if (this.#listOff) return undefined;
    const plan = await this.#plan();
    if (!plan) return undefined;
    const { target, signer } = plan;
    const query: Record<string, string> = { 'list-type': '2' };
    if (request.Prefix !== undefined) query['prefix'] = request.Prefix;
    if (request.Delimiter !== undefined) query['delimiter'] = request.Delimiter;
    if (request.StartAfter !== undefined) query['start-after'] = request.StartAfter;
    if (request.ContinuationToken !== undefined) query['continuation-token'] = request.ContinuationToken;
    if (request.EncodingType !== undefined) query['encoding-type'] = request.EncodingType;
    const path = `${target.basePath}/`;
    let response: IncomingMessage | undefined;
    let answer: { status: number; body: string | undefined; headers: IncomingHttpHeaders };
    try {
      const headers = await signer.sign('GET', target, path, {}, query);
      response = await this.#send(target, `${path}?${canonicalQuery(query)}`, headers, request.signal);
      this.#noteServerDate(response.headers);
      const status = response.statusCode ?? 0;
      const body = await race(
        readBody(response, status === 200 ? MAX_LIST_BODY : MAX_ERROR_BODY),
        request.signal,
      );
      answer = { status, body, headers: response.headers };
    } catch {
      response?.destroy();
      if (request.signal?.aborted) throw abortError();
      return undefined;
    }
    const page =
      answer.status === 200 && answer.body !== undefined ? parseListObjectsV2(answer.body) : undefined;
    if (page === undefined && answer.status < 500 && answer.status !== 429) this.#listOff = true;
    if (
      page === undefined &&
      answer.status === 200 &&
      answer.body !== undefined &&
      !LIST_ROOT.test(answer.body)
    ) {
      // A web page or anything else without S3's root element: the SDK would read it as an empty listing.
      throw Object.assign(
        new Error('Deserialization error: the answer to ListObjectsV2 is not a ListBucketResult'),
        {
          name: 'Unknown',
          $metadata: { httpStatusCode: 200 },
          $response: { headers: answer.headers },
        },
      );
    }
    return page;
  }

  /** Closes the idle connections of the raw path. */
  close(): void {
    this.#raw?.close();
  }

  /**
   * Runs `attempt` under the client's retry strategy, as the SDK's retry middleware would: an error is retried
   * while the strategy grants a retry token and `retryable(error)` agrees. Undefined from an attempt is passed on.
   */
  async #retrying<T>(
    signal: AbortSignal | undefined,
    attempt: () => Promise<T | undefined>,
    retryable: (error: object) => boolean,
  ): Promise<T | undefined> {
    const strategy = await this.#client.config.retryStrategy();
    if (!isRetryStrategyV2(strategy)) {
      this.#off = true;
      return undefined;
    }
    let token = await race(strategy.acquireInitialRetryToken(''), signal);
    let attempts = 0;
    for (;;) {
      attempts += 1;
      try {
        const result = await attempt();
        if (result === undefined) return undefined;
        strategy.recordSuccess(token);
        return result;
      } catch (error) {
        if (signal?.aborted || error === null || typeof error !== 'object' || !retryable(error)) throw error;
        const info = {
          error: error as SdkError,
          errorType: retryErrorType(error as SdkError),
          ...retryAfter(error),
        };
        try {
          token = await race(strategy.refreshRetryTokenForRetry(token, info), signal);
        } catch (refused) {
          if (signal?.aborted) throw refused;
          const e = error as { $metadata?: Record<string, unknown> };
          e.$metadata = { ...e.$metadata, attempts };
          throw error;
        }
      }
    }
  }

  /** Sets up the lean path once (concurrent callers share it); undefined while (or once) it cannot be used. */
  async #plan(): Promise<{ target: FastGetTarget; signer: S3RequestSigner } | undefined> {
    if (this.#off) return undefined;
    this.#planning ??= this.#makePlan().then(
      (plan) => {
        if (!plan) this.#off = true;
        return plan;
      },
      () => {
        // No credentials yet, say: let the SDK report it, and try again next time.
        this.#planning = undefined;
        return undefined;
      },
    );
    const plan = await this.#planning;
    return this.#off ? undefined : plan;
  }

  async #makePlan(): Promise<{ target: FastGetTarget; signer: S3RequestSigner } | undefined> {
    const url = await getSignedUrl(
      this.#client,
      new GetObjectCommand({ Bucket: this.#bucket, Key: PROBE_KEY }),
      { expiresIn: 60 },
    );
    const target = targetFromPresignedUrl(url, this.#bucket, PROBE_KEY);
    if (!target) return undefined;
    const config = this.#client.config;
    const signer = new S3RequestSigner(
      target.region,
      config.credentials,
      () => config.systemClockOffset ?? 0,
    );
    return { target, signer };
  }

  /** One GET: the response of a 200/206, undefined to hand over to the SDK, or a thrown error. */
  async #attempt(
    target: FastGetTarget,
    signer: S3RequestSigner,
    request: FastGetRequest,
  ): Promise<IncomingMessage | undefined> {
    const path = `${target.basePath}/${encodeKeyPath(request.key)}`;
    const signed = await signer.sign('GET', target, path, requestHeaders(request));
    const response = await this.#send(target, path, signed, request.signal);
    const clockCorrected = this.#noteServerDate(response.headers);
    const status = response.statusCode ?? 0;
    if (status === 200 || status === 206) return response;
    const body = await race(readErrorBody(response), request.signal).catch((error: unknown) => {
      response.destroy();
      throw error;
    });
    return this.#errorAnswer(status, response.headers, body, target, clockCorrected);
  }

  /** An error answer: undefined to hand the request to the SDK (AWS region redirect), else the error to throw. */
  #errorAnswer(
    status: number,
    headers: IncomingHttpHeaders,
    body: string,
    target: FastGetTarget,
    clockCorrected: boolean,
  ): undefined {
    const error = s3ResponseError(status, headers, body);
    const bucketRegion = headers['x-amz-bucket-region'];
    if (this.#isAws && bucketRegion !== undefined && [301, 307, 400].includes(status)) {
      // The bucket is in another region (or moving): the SDK follows that, and takes every later read if it moved.
      if (bucketRegion !== target.region) this.#off = true;
      return undefined;
    }
    // The SDK retries an error answer that corrected its clock (signed with the corrected clock).
    if (clockCorrected) error.$metadata.clockSkewCorrected = true;
    throw error;
  }

  /**
   * As the SDK's signer does with every response's Date header: when it is 5 minutes or more from this machine's
   * clock (plus the current offset), set the client's clock offset to the difference. Returns whether it changed.
   */
  #noteServerDate(headers: IncomingHttpHeaders): boolean {
    const date = headers.date;
    if (date === undefined) return false;
    const serverTime = Date.parse(date);
    if (Number.isNaN(serverTime)) return false;
    const config = this.#client.config;
    const offset = config.systemClockOffset ?? 0;
    if (Math.abs(Date.now() + offset - serverTime) < CLOCK_SKEW_MS) return false;
    config.systemClockOffset = serverTime - Date.now();
    return true;
  }

  /** Sends the GET; resolves with the response head (any status). Socket errors reject as the SDK's handler does. */
  #send(
    target: FastGetTarget,
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<IncomingMessage> {
    return new Promise<IncomingMessage>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError());
        return;
      }
      const https = target.protocol === 'https:';
      const options: RequestOptions = {
        method: 'GET',
        host: target.hostname,
        path,
        headers,
        agent: https ? this.#agents.https : this.#agents.http,
      };
      if (target.port !== undefined) options.port = target.port;
      let response: IncomingMessage | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        const error = abortError();
        response?.destroy(error);
        req.destroy();
        reject(error);
      };
      const done = () => {
        if (connectTimer !== undefined) clearTimeout(connectTimer);
        signal?.removeEventListener('abort', onAbort);
      };
      const req: ClientRequest = (https ? httpsRequest : httpRequest)(options, (res) => {
        response = res;
        done();
        resolve(res);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        done();
        if (error.code !== undefined && TIMEOUT_CODES.has(error.code)) error.name = 'TimeoutError';
        reject(error);
      });
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => {
          const error = Object.assign(
            new Error(
              `the request socket did not establish a connection with the server within ${CONNECT_TIMEOUT_MS} ms`,
            ),
            { name: 'TimeoutError' },
          );
          req.destroy();
          reject(error);
        }, CONNECT_TIMEOUT_MS);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.setTimeout(SOCKET_IDLE_TIMEOUT_MS, () => {
        const error = Object.assign(
          new Error(`the request socket timed out after ${SOCKET_IDLE_TIMEOUT_MS} ms of inactivity`),
          { name: 'TimeoutError' },
        );
        response?.destroy(error);
        req.destroy();
        reject(error);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end();
    });
  }
}

/** The Retry-After hint of an error response, as the SDK's retry middleware reads it. */
function requestHeaders(request: FastGetRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  if (request.range !== undefined) headers['range'] = request.range;
  if (request.ifMatch !== undefined) headers['if-match'] = request.ifMatch;
  return headers;
}

function retryAfter(error: unknown): { retryAfterHint?: Date } {
  const hint = getRetryAfterHint((error as Partial<S3ResponseError> | null)?.$response);
  return hint ? { retryAfterHint: hint } : {};
}

/** The (small) body of an error response as text; the rest of an oversized one is drained, not kept. */
async function readErrorBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size < MAX_ERROR_BODY) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A response body as text, or undefined (and the connection closed) when it is longer than `limit`. */
async function readBody(response: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
