import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { GetObjectCommandOutput, HeadObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  AbortedError,
  ConflictError,
  InvalidKeyError,
  PreconditionFailedError,
  throwIfAborted,
  ValidationError,
  WharfError,
} from '../../core/errors.js';
import { assertCreatableKey, compareKeys, uncreatableKeyReason } from '../../core/keys.js';
import { normaliseEtag, quoteEtag, sameEtag } from '../etag.js';
import { formatRange } from '../range.js';
import type {
  CopyFunction,
  CopyOptions,
  DriverCapabilities,
  LayoutOptions,
  ListOptions,
  MultipartLayout,
  ObjectInfo,
  DetectOptions,
  OpOptions,
  PresignOptions,
  ReadOptions,
  StorageDriver,
  WriteOptions,
} from '../types.js';
import { baseS3Capabilities, PROBE_PREFIX, probeConditionalWrites } from './s3-capabilities.js';
import { createAgents, createCredentials, createS3Client } from './s3-client.js';
import { multipartCopy } from './s3-copy.js';
import { deleteKeys } from './s3-delete.js';
import {
  assertS3Key,
  encodeCopySource,
  encodeMetadata,
  lowerCaseKeys,
  rangeHeader,
  s3KeyRefusal,
  wholeSeconds,
} from './s3-encoding.js';
import type { S3ErrorContext, S3ErrorTarget } from './s3-errors.js';
import {
  bucketNotFound,
  httpStatus,
  isForeignAnswer,
  mapS3Error,
  mapServerError,
  objectNotFound,
  s3ErrorCode,
  s3Url,
} from './s3-errors.js';
import { S3FastGet } from './s3-fast-get.js';
import type { FastGetRequest } from './s3-fast-get.js';
import {
  bodyError,
  choosePartSize,
  prepend,
  readExactly,
  readParts,
  untilAborted,
  uploadMultipart,
} from './s3-multipart.js';
import { layoutFromPartOneHead, partSizeUnknown } from './s3-multipart-layout.js';
import { getToReadInfo, headOr, headToInfo, listPageEntries, writtenInfo } from './s3-object-info.js';
import type { GetObjectHeaders } from './s3-object-info.js';
import { resolveS3Options } from './s3-options.js';
import type { ResolvedS3Options, S3Credentials, S3DriverOptions } from './s3-options.js';
import { guardBody } from './s3-read-stream.js';
import {
  conditionHeaders,
  isAsyncIterable,
  positiveInt,
  preconditionText,
  toBuffer,
  validateWriteOptions,
} from './s3-write-options.js';

export type { S3DriverOptions } from './s3-options.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/** Longest presigned URL lifetime SigV4 allows (7 days). */
export const MAX_PRESIGN_SECONDS = 604_800;

/** Sizes and fan-outs of the S3 driver; defaults suit AWS and Ceph RGW. Tests shrink them. */
export interface S3Tuning {
  /** A body of known size up to this many bytes is buffered and sent as one PutObject. Default 16 MiB. */
  singlePutMaxBytes: number;
  /** Multipart part size when the caller gives none. Default 8 MiB. */
  partSize: number;
  /** Parts in flight per upload when the caller gives none. Default 4. */
  partConcurrency: number;
  /** Objects larger than this are copied with UploadPartCopy instead of CopyObject. Default 5 GiB (S3's limit). */
  copyMultipartThreshold: number;
  /** Part size of multipart copies. Default 512 MiB. */
  copyPartSize: number;
  /** Keys per DeleteObjects request (S3 allows 1,000). */
  deleteBatchSize: number;
  /** DeleteObjects requests in flight. Default 4. */
  deleteConcurrency: number;
}

export const DEFAULT_S3_TUNING: S3Tuning = {
  singlePutMaxBytes: 16 * MIB,
  partSize: 8 * MIB,
  partConcurrency: 4,
  copyMultipartThreshold: 5 * GIB,
  copyPartSize: 512 * MIB,
  deleteBatchSize: 1000,
  deleteConcurrency: 4,
};

/**
 * The SDK reads any 200 answer to ListObjectsV2 it can parse, a web page included, as an empty listing. Every
 * ListBucketResult has IsTruncated and Name; an answer with neither is refused as the lean path refuses it (an
 * error mapS3Error words as "did not answer like an S3 server").
 */
function notAWebPage<
  T extends { IsTruncated?: boolean; Name?: string; $metadata?: { httpStatusCode?: number } },
>(page: T): T {
  if (page.IsTruncated !== undefined || page.Name !== undefined) return page;
  throw Object.assign(
    new Error('Deserialization error: the answer to ListObjectsV2 is not a ListBucketResult'),
    {
      name: 'Unknown',
      $metadata: { httpStatusCode: page.$metadata?.httpStatusCode ?? 200 },
    },
  );
}

/** A 200 answer to HeadObject/GetObject that S3 would not give: no ETag, or an HTML page (a web server's). */
function mayBeForeign(headers: { ETag?: string; ContentType?: string }): boolean {
  return !headers.ETag || /^text\/html/i.test(headers.ContentType ?? '');
}

/**
 * Opens the S3 driver for one bucket. Resolves options from the arguments, the environment and the shared AWS
 * config (see S3DriverOptions); makes no request, so a missing bucket or bad credentials surface on first use.
 * Throws UsageError for invalid options (bucket name, endpoint URL, numbers, checksum mode).
 */
export async function openS3Driver(options: S3DriverOptions): Promise<StorageDriver> {
  return new S3Driver(await resolveS3Options(options));
}

/**
 * A bucket on AWS S3 or an S3-compatible server (Ceph RGW, MinIO, ...) through the AWS SDK v3.
 * Keys are used verbatim as S3 object keys. Every method maps SDK failures to WharfErrors (see s3-errors.ts):
 * NotFoundError (missing key or bucket), AccessDeniedError (saying which credentials were used),
 * PreconditionFailedError, NetworkError (retryable), AbortedError when `signal` fires.
 */
export class S3Driver implements StorageDriver {
  readonly name: string;
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #credentials: S3Credentials;
  readonly #resolved: ResolvedS3Options;
  readonly #tuning: S3Tuning;
  readonly #ctx: S3ErrorContext;
  /** The lean GetObject path for `read`, unless switched off or the SDK would validate response checksums. */
  readonly #fastGet: S3FastGet | undefined;
  #presignClient: S3Client | undefined;
  #capabilities: DriverCapabilities;
  #capabilitiesDetected = false;
  #detecting: Promise<DriverCapabilities> | undefined;
  /** Whether CompleteMultipartUpload honours If-Match/If-None-Match: AWS does; others are probed. */
  #multipartConditional: boolean | 'unknown';
  /** Set once any request proved the bucket exists, so a 404 from HeadObject means "no such key". */
  #bucketExists = false;
  #closed = false;

  constructor(resolved: ResolvedS3Options, tuning: Partial<S3Tuning> = {}) {
    this.#resolved = resolved;
    this.#tuning = { ...DEFAULT_S3_TUNING, ...tuning };
    this.bucket = resolved.bucket;
    this.name = `s3://${resolved.bucket}`;
    this.#credentials = createCredentials(resolved);
    const agents = createAgents(resolved.maxSockets);
    this.#client = createS3Client(resolved, this.#credentials, {}, agents);
    this.#fastGet =
      resolved.fastGet && resolved.responseChecksumValidation === 'WHEN_REQUIRED'
        ? new S3FastGet({
            client: this.#client,
            bucket: resolved.bucket,
            isAws: resolved.isAws,
            agents,
            maxIdleSockets: resolved.maxSockets,
          })
        : undefined;
    this.#ctx = {
      bucket: resolved.bucket,
      endpointLabel: resolved.endpointLabel,
      endpoint: resolved.endpoint,
      credentialSource: resolved.credentialSource,
    };
    this.#capabilities = baseS3Capabilities(resolved.requestChecksumCalculation === 'WHEN_SUPPORTED');
    this.#multipartConditional = resolved.isAws ? true : 'unknown';
  }

  /** Current capabilities; `conditionalWrite` is `'unknown'` until `detectCapabilities()` has run. */
  get capabilities(): DriverCapabilities {
    return this.#capabilities;
  }

  /**
   * HeadObject. Returns size, ETag (quoted), lastModified, contentType, user metadata (lower-case keys) and, when
   * the store reports checksums, the checksums. Returns undefined when the key is absent.
   * Throws NotFoundError if the bucket does not exist, AccessDeniedError, NetworkError, AbortedError;
   * InvalidKeyError for an empty or over-long key.
   */
  async stat(key: string, options: OpOptions = {}): Promise<ObjectInfo | undefined> {
    assertS3Key(key);
    const head = await this.#head(key, options.signal, 'stat');
    return head === undefined ? undefined : headToInfo(key, head);
  }

  /**
   * ListObjectsV2, page by page (every page, following continuation tokens), in UTF-8 byte order of keys.
   * With `delimiter: '/'`, common prefixes come as `{ key, size: 0, isPrefix: true }` merged in key order.
   * Entries at or before `startAfter` are never yielded. Items carry key, size, etag and lastModified
   * (floored to whole seconds so they agree with `stat`), not metadata.
   * Throws NotFoundError if the bucket does not exist, AccessDeniedError, NetworkError, AbortedError.
   */
  async *list(prefix: string, options: ListOptions = {}): AsyncGenerator<ObjectInfo> {
    const { signal, delimiter, startAfter } = options;
    if (typeof prefix !== 'string')
      throw new ValidationError(`list prefix must be a string, got ${typeof prefix}`);
    if (delimiter !== undefined && delimiter !== '/') {
      throw new ValidationError(
        `unsupported list delimiter ${JSON.stringify(delimiter)}: only '/' is supported`,
      );
    }
    const target: S3ErrorTarget = { action: 'list', prefix };
    let token: string | undefined;
    let lastPrefix: string | undefined;
    do {
      throwIfAborted(signal);
      const input = {
        Bucket: this.bucket,
        Prefix: prefix === '' ? undefined : prefix,
        Delimiter: delimiter,
        StartAfter: token === undefined ? startAfter : undefined,
        ContinuationToken: token,
        EncodingType: 'url' as const,
      };
      const page = await this.#call(
        async () =>
          (await this.#fastGet?.listPage({ ...input, signal })) ??
          notAWebPage(await this.#client.send(new ListObjectsV2Command(input), { abortSignal: signal })),
        signal,
        target,
      );
      this.#bucketExists = true;
      for (const entry of listPageEntries(page)) {
        throwIfAborted(signal);
        if (startAfter !== undefined && compareKeys(entry.key, startAfter) <= 0) continue;
        if (entry.isPrefix) {
          if (entry.key === lastPrefix) continue;
          lastPrefix = entry.key;
        }
        yield entry;
      }
      const next = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && (!next || next === token)) {
        throw new WharfError(
          'INTERNAL',
          `endpoint ${this.#ctx.endpointLabel} returned a truncated listing of ${s3Url(this.bucket, prefix)} without a new continuation token`,
        );
      }
      token = next;
    } while (token !== undefined);
  }

  /**
   * GetObject, whole or a byte range (`{start,end}` inclusive, `{start}` to the end, `{suffix}` last bytes).
   * Ranges behave as in `resolveRange` (storage/range.ts): `end` past the object is clamped, a suffix longer than
   * the object is the whole object, a start at or past the end is a ValidationError. `ifMatch` makes the server
   * refuse a different version. The stream errors with NetworkError if the connection breaks, AbortedError
   * if `signal` fires mid-body.
   * `onInfo` is called once, before this resolves, with the GetObject response's headers decoded as `stat` decodes
   * a HeadObject (see `getToReadInfo`): the whole object's size (from Content-Range for a range), ETag, metadata,
   * `encryption`, and for whole reads the checksums (requested with ChecksumMode where the store reports them).
   * If `onInfo` throws, the response is discarded and `read` rejects with that error.
   * Throws NotFoundError if the key (or bucket) is absent, PreconditionFailedError if `ifMatch` fails,
   * ValidationError for a malformed or unsatisfiable range, AccessDeniedError, NetworkError, AbortedError.
   * Requests without ChecksumMode go on the lean path (s3-fast-get.ts) where it applies; it answers as the SDK does.
   */
  async read(key: string, options: ReadOptions = {}): Promise<Readable> {
    const { signal, onInfo } = options;
    const { request, wholeObject, wantChecksums } = this.#getRequest(key, options);
    let out: GetObjectHeaders & { Body?: unknown };
    try {
      out =
        (wantChecksums ? undefined : await this.#fastGet?.get(request)) ??
        (await this.#sdkGet(request, wantChecksums));
    } catch (error) {
      throw this.#readFailure(error, key, options);
    }
    if (!this.#bucketExists && mayBeForeign(out)) {
      try {
        await this.#assertS3Answers(key, signal);
      } catch (error) {
        if (out.Body instanceof Readable) out.Body.destroy();
        throw error;
      }
    }
    this.#bucketExists = true;
    const body = out.Body;
    if (!(body instanceof Readable)) {
      throw new WharfError('INTERNAL', `the AWS SDK returned no Node stream for ${s3Url(this.bucket, key)}`);
    }
    if (onInfo) {
      try {
        onInfo(getToReadInfo(key, out, wholeObject));
      } catch (error) {
        body.destroy();
        throw error;
      }
    }
    return guardBody(body, { what: s3Url(this.bucket, key), endpointLabel: this.#ctx.endpointLabel, signal });
  }

  /**
   * `read` into a sink (see StorageDriver.readInto): on the lean path each connection reads into one reused buffer
   * (raw-http-get.ts), which for large transfers costs a fraction of the CPU of a stream; otherwise `read`'s stream
   * is handed to the sink chunk by chunk. A connection lost mid-body is a NetworkError (retryable by the caller).
   */
  async readInto(
    key: string,
    options: ReadOptions,
    sink: (bytes: Buffer) => void | Promise<void>,
  ): Promise<void> {
    const { signal, onInfo } = options;
    const { request, wholeObject, wantChecksums } = this.#getRequest(key, options);
    // What the sink throws (a full disk, say) is passed on as it is, never mapped as an S3 error. A sink that
    // finished synchronously keeps the connection reading without a promise turn per read.
    let sinkError: { error: unknown } | undefined;
    const recordingSink = (bytes: Buffer): void | Promise<void> => {
      try {
        const result = sink(bytes);
        if (!(result instanceof Promise)) return undefined;
        return result.catch((error: unknown) => {
          sinkError = { error };
          throw error;
        });
      } catch (error) {
        sinkError = { error };
        throw error;
      }
    };
    let done: GetObjectHeaders | undefined;
    try {
      done = await (wantChecksums ? undefined : this.#fastGet)?.getInto(request, recordingSink, (headers) =>
        onInfo?.(getToReadInfo(key, headers, wholeObject)),
      );
    } catch (error) {
      if (sinkError) throw sinkError.error;
      if ((error as { bodyStarted?: boolean } | null)?.bodyStarted === true && !signal?.aborted) {
        throw new WharfError(
          'NETWORK',
          `lost the connection to ${this.#ctx.endpointLabel} while reading ${s3Url(this.bucket, key)}: ${(error as Error).message}`,
          { cause: error, retryable: true },
        );
      }
      throw this.#readFailure(error, key, options);
    }
    if (done !== undefined) {
      this.#bucketExists = true;
      return;
    }
    const body = await this.read(key, options);
    for await (const chunk of body as AsyncIterable<Buffer>) await recordingSink(chunk);
  }

  /** The GetObject request of a read, and whether the SDK must validate checksums (whole object, onInfo). */
  #getRequest(
    key: string,
    options: ReadOptions,
  ): { request: FastGetRequest; wholeObject: boolean; wantChecksums: boolean } {
    assertS3Key(key);
    const { signal, ifMatch, onInfo } = options;
    throwIfAborted(signal);
    const range = rangeHeader(options.range);
    const wholeObject = range === undefined;
    const wantChecksums =
      onInfo !== undefined && wholeObject && this.#capabilities.checksumAlgorithms.length > 0;
    const request: FastGetRequest = {
      key,
      range,
      ifMatch: ifMatch === undefined ? undefined : quoteEtag(ifMatch),
      signal,
    };
    return { request, wholeObject, wantChecksums };
  }

  /** The WharfError for a failed GetObject. */
  #readFailure(error: unknown, key: string, options: ReadOptions): WharfError {
    // 416: the object exists but the range starts at or past its end (every range of an empty object does).
    if ((httpStatus(error) === 416 || s3ErrorCode(error) === 'InvalidRange') && options.range) {
      return new ValidationError(
        `byte range ${formatRange(options.range)} is outside the object ${s3Url(this.bucket, key)}`,
        { cause: error },
      );
    }
    const target: S3ErrorTarget = { action: 'read', key, precondition: `its ETag is not ${options.ifMatch}` };
    return this.#map(error, target, options.signal);
  }

  /**
   * Stores `body` at `key`; readers see the old or the complete new object. Uint8Array bodies, and streams whose
   * `size` is known and at most 16 MiB, go up in one PutObject (streams are buffered first so retries can resend
   * them). Larger or unknown-size streams go up as a multipart upload (`partSize` default 8 MiB, raised so the
   * body fits in 10,000 parts; `partConcurrency` default 4); a failed or aborted upload is aborted on the server.
   * A stream that ends within the first part is sent with one PutObject.
   *
   * Conditions: `ifNoneMatch: '*'` creates only if absent; `ifMatch` replaces only that ETag (sent unquoted,
   * which AWS accepts and Ceph RGW requires). They are atomic for single PUTs. For multipart uploads they are
   * checked before uploading and sent with CompleteMultipartUpload, which AWS evaluates atomically; on servers
   * that ignore them there (Ceph RGW 16; probed by detectCapabilities) they are re-checked just before
   * completing, which leaves a race window of one round trip.
   *
   * Returns key, size, ETag (after a multipart upload on servers that return an empty ETag, from a HeadObject),
   * contentType and metadata as stored. Metadata keys are lower-cased; values that are not plain ASCII are
   * stored RFC 2047-encoded and decoded again by `stat`.
   * Throws PreconditionFailedError, ValidationError (bad options, body length differs from `size`),
   * NotFoundError (bucket), AccessDeniedError, NetworkError, AbortedError.
   */
  async write(key: string, body: Readable | Uint8Array, options: WriteOptions = {}): Promise<ObjectInfo> {
    const refusal = this.keyRefusal(key);
    if (refusal) throw refusal;
    const { signal } = options;
    throwIfAborted(signal);
    validateWriteOptions(options);
    const metadata = encodeMetadata(options.metadata);
    if (body instanceof Uint8Array) {
      if (options.size !== undefined && options.size !== body.byteLength) {
        throw new ValidationError(
          `the upload body has ${body.byteLength} bytes but its declared size is ${options.size} bytes`,
        );
      }
      return this.#putBuffer(key, toBuffer(body), options, metadata);
    }
    if (!isAsyncIterable(body)) {
      throw new ValidationError('the upload body must be a Uint8Array or a Readable stream');
    }
    const partSize = choosePartSize(options.partSize ?? this.#tuning.partSize, options.size);
    if (options.size !== undefined && options.size <= Math.max(this.#tuning.singlePutMaxBytes, partSize)) {
      const reading = readExactly(body, options.size, signal);
      const buffer = await (signal ? untilAborted(reading, signal) : reading).catch((error: unknown) => {
        throw bodyError(error, key);
      });
      return this.#putBuffer(key, buffer, options, metadata);
    }
    const parts = readParts(body, partSize);
    if (options.size !== undefined) return this.#writeMultipart(key, parts, options, metadata);
    // Unknown size: look ahead one part to send small streams with a single PutObject.
    const nextPart = async () => {
      const pending = parts.next();
      const next = await (signal ? untilAborted(pending, signal) : pending).catch((error: unknown) => {
        throw bodyError(error, key);
      });
      throwIfAborted(signal);
      return next;
    };
    const first = await nextPart();
    if (first.done || first.value.length < partSize) {
      return this.#putBuffer(key, first.done ? Buffer.alloc(0) : first.value, options, metadata);
    }
    const second = await nextPart();
    if (second.done) return this.#putBuffer(key, first.value, options, metadata);
    return this.#writeMultipart(key, prepend([first.value, second.value], parts), options, metadata);
  }

  /**
   * DeleteObjects in batches of up to 1,000 keys (quiet mode, a few batches in flight). Absent keys are fine.
   * Keys that failed are collected and thrown together as DeleteError (each with its WharfError); a batch
   * the server refused as a whole marks its keys, and the keys not yet tried, as failed with that error.
   * Throws NotFoundError if the bucket does not exist, AbortedError if `signal` fires.
   */
  async delete(keys: readonly string[], options: OpOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    await deleteKeys({
      client: this.#client,
      bucket: this.bucket,
      keys,
      batchSize: this.#tuning.deleteBatchSize,
      concurrency: this.#tuning.deleteConcurrency,
      ...(options.signal ? { signal: options.signal } : {}),
      mapError: (error, target) => this.#map(error, target, options.signal),
      mapKeyError: (failure, key) => mapServerError(failure, this.#ctx, { action: 'delete', key }),
    });
  }

  /**
   * HeadObject with `PartNumber: 1` (and `If-Match`, quoted, when `ifMatch` is given): for a multipart object,
   * part 1's size (ContentLength) and the part count (PartsCount); `undefined` for an object uploaded in one
   * piece. Where the server leaves out PartsCount but did answer with part 1 only (Content-Range shorter than
   * the object), or the ETag says one part, the count comes from the ETag's `-N` (see s3-multipart-layout.ts).
   * Ceph RGW 16 ignores `partNumber` and returns the whole object, so for its multipart objects of two or more
   * parts the part size is unknowable: that is an UnsupportedError, never a guessed size.
   * Throws NotFoundError if the key (or bucket) is absent, PreconditionFailedError if `ifMatch` fails,
   * UnsupportedError as above, InvalidKeyError for an empty or over-long key, AccessDeniedError, NetworkError,
   * AbortedError.
   */
  async multipartLayout(key: string, options: LayoutOptions = {}): Promise<MultipartLayout | undefined> {
    assertS3Key(key);
    const { signal, ifMatch } = options;
    const head = await this.#head(key, signal, 'read the part layout of', {
      PartNumber: 1,
      ...(ifMatch !== undefined
        ? { IfMatch: quoteEtag(ifMatch), precondition: `its ETag is not ${ifMatch}` }
        : {}),
    });
    if (head === undefined) throw objectNotFound(this.#ctx, key);
    const layout = layoutFromPartOneHead(head);
    if (layout === 'unknown')
      throw partSizeUnknown(this.#ctx.endpointLabel, s3Url(this.bucket, key), head.ETag);
    return layout;
  }

  /** What `write` refuses before any request: an empty or over-long key, a '.' or '..' segment. */
  keyRefusal(key: string): InvalidKeyError | undefined {
    const creatable = typeof key === 'string' ? uncreatableKeyReason(key) : undefined;
    return s3KeyRefusal(key) ?? (creatable ? new InvalidKeyError(key, creatable) : undefined);
  }

  /**
   * Server-side copy (CopyObject; UploadPartCopy multipart above 5 GiB). Without `metadata`/`contentType` the
   * source's are kept (MetadataDirective COPY); with either, both are replaced by the given values (REPLACE; the
   * one not given is dropped, and S3 then applies its default content type). Copying a key onto itself without
   * changes is a no-op. The copy is pinned to the source's ETag
   * seen at the start. Returns the new object's info.
   * Throws NotFoundError if `src` (or the bucket) is absent, ConflictError (retryable) if the source changed
   * during the copy, AccessDeniedError, NetworkError, AbortedError.
   */
  async copy(src: string, dst: string, options: CopyOptions = {}): Promise<ObjectInfo> {
    return this.#copy(this, src, dst, options);
  }

  /**
   * `copy` from another bucket: present when `source` is an S3 bucket opened with this one's endpoint, region,
   * addressing style and credentials (so these credentials may read it as the source's driver does). Both buckets
   * are then one server's, and CopyObject moves no byte through us. Otherwise undefined.
   */
  copierFrom(source: StorageDriver): CopyFunction | undefined {
    if (source === this) return (src, dst, options) => this.#copy(this, src, dst, options ?? {});
    if (!(source instanceof S3Driver) || !this.#sameServerAs(source)) return undefined;
    return (src, dst, options) => this.#copy(source, src, dst, options ?? {});
  }

  #sameServerAs(other: S3Driver): boolean {
    const a = this.#resolved;
    const b = other.#resolved;
    return (
      a.endpoint === b.endpoint &&
      a.isAws === b.isAws &&
      a.region === b.region &&
      a.forcePathStyle === b.forcePathStyle &&
      a.profile === b.profile &&
      a.credentials === b.credentials &&
      a.credentialSource === b.credentialSource
    );
  }

  async #copy(from: S3Driver, src: string, dst: string, options: CopyOptions): Promise<ObjectInfo> {
    assertS3Key(src);
    assertS3Key(dst);
    assertCreatableKey(dst);
    const { signal } = options;
    throwIfAborted(signal);
    const head = await from.#head(src, signal, 'copy');
    if (head === undefined) throw objectNotFound(from.#ctx, src);
    const source = headToInfo(src, head);
    // As S3's MetadataDirective: COPY keeps both; REPLACE sets both (what is not given is dropped).
    const replace = options.metadata !== undefined || options.contentType !== undefined;
    const contentType = replace ? options.contentType : source.contentType;
    const metadata = replace ? (lowerCaseKeys(options.metadata) ?? {}) : (source.metadata ?? {});
    if (from === this && src === dst && !replace) return source;
    const sourceUrl = s3Url(from.bucket, src);
    const target: S3ErrorTarget = { action: `copy ${sourceUrl} to`, key: dst };
    try {
      if (source.size > this.#tuning.copyMultipartThreshold) {
        const etag = await multipartCopy({
          client: this.#client,
          bucket: this.bucket,
          sourceBucket: from.bucket,
          src,
          dst,
          size: source.size,
          ...(source.etag ? { etag: source.etag } : {}),
          ...(contentType !== undefined ? { contentType } : {}),
          metadata: encodeMetadata(metadata) ?? {},
          partSize: this.#tuning.copyPartSize,
          concurrency: this.#tuning.partConcurrency,
          ...(signal ? { signal } : {}),
        });
        const after = await this.#head(dst, signal, 'copy');
        const copied = headOr(dst, after, source.size);
        const copiedEtag = after?.ETag ?? etag;
        if (copiedEtag) copied.etag = quoteEtag(copiedEtag);
        return copied;
      }
      const out = await this.#client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: dst,
          CopySource: encodeCopySource(from.bucket, src),
          CopySourceIfMatch: source.etag,
          ...(replace
            ? {
                MetadataDirective: 'REPLACE' as const,
                ContentType: contentType,
                Metadata: encodeMetadata(metadata),
              }
            : {}),
        }),
        { abortSignal: signal },
      );
      const info: ObjectInfo = { key: dst, size: source.size };
      // Ceph RGW returns the copy's ETag unquoted (and LastModified with milliseconds); answer as S3 does.
      if (out.CopyObjectResult?.ETag) info.etag = quoteEtag(out.CopyObjectResult.ETag);
      const lastModified = wholeSeconds(out.CopyObjectResult?.LastModified);
      if (lastModified) info.lastModified = lastModified;
      if (contentType !== undefined) info.contentType = contentType;
      if (metadata !== undefined) info.metadata = metadata;
      return info;
    } catch (error) {
      if (httpStatus(error) === 412) {
        throw new ConflictError(`${sourceUrl} changed while it was being copied to ${dst}; copy it again`, {
          cause: error,
          retryable: true,
        });
      }
      throw this.#map(error, target, signal);
    }
  }

  /**
   * A presigned GET or PUT URL for `key`, valid for `expiresIn` seconds (1..604800). For PUT with
   * `contentType`, the uploader must send that Content-Type. Signing is local (no request); URLs never carry
   * SDK checksum parameters, so any body can be uploaded.
   * Throws ValidationError for a bad method or lifetime, AccessDeniedError when no credentials are found.
   */
  async presign(key: string, options: PresignOptions): Promise<string> {
    assertS3Key(key);
    if (options.method === 'PUT') assertCreatableKey(key);
    throwIfAborted(options.signal);
    const { method, expiresIn } = options;
    if (method !== 'GET' && method !== 'PUT') {
      throw new ValidationError(`cannot presign method ${JSON.stringify(method)}: use GET or PUT`);
    }
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
      throw new ValidationError(
        `invalid presign expiry ${String(expiresIn)}: expected whole seconds from 1 to ${MAX_PRESIGN_SECONDS} (7 days)`,
      );
    }
    const command =
      method === 'GET'
        ? new GetObjectCommand({ Bucket: this.bucket, Key: key })
        : new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: options.contentType });
    try {
      // Sign Content-Type so that the uploader has to send exactly that type (the presigner leaves it out otherwise).
      const signableHeaders =
        method === 'PUT' && options.contentType !== undefined ? new Set(['content-type']) : undefined;
      return await getSignedUrl(this.#signingClient(), command, {
        expiresIn,
        ...(signableHeaders ? { signableHeaders } : {}),
      });
    } catch (error) {
      throw this.#map(error, { action: `presign ${method}`, key }, options.signal);
    }
  }

  /**
   * Probes conditional writes once (a throw-away object under `.wharf/probe/`, deleted afterwards) and
   * returns the refined capabilities; later calls return the cached result. Without write permission the
   * probe cannot run: `conditionalWrite` stays `'unknown'` and the next call tries again.
   * Throws NotFoundError (bucket), NetworkError, AbortedError.
   */
  async detectCapabilities(options: DetectOptions = {}): Promise<DriverCapabilities> {
    if (this.#capabilitiesDetected) return this.#capabilities;
    throwIfAborted(options.signal);
    // Concurrent callers share one probe.
    this.#detecting ??= this.#probe(options.signal, options.probePrefix ?? '').finally(() => {
      this.#detecting = undefined;
    });
    return this.#detecting;
  }

  async #probe(signal: AbortSignal | undefined, probePrefix: string): Promise<DriverCapabilities> {
    try {
      const probe = await probeConditionalWrites(this.#client, this.bucket, signal, {
        probeMultipart: !this.#resolved.isAws,
        keyPrefix: probePrefix,
      });
      this.#capabilities = { ...this.#capabilities, conditionalWrite: probe.conditionalWrite };
      this.#multipartConditional = probe.multipartConditionalWrite;
      this.#capabilitiesDetected = true;
      this.#bucketExists = true;
      return this.#capabilities;
    } catch (error) {
      const mapped = this.#map(error, { action: 'probe conditional writes in', key: PROBE_PREFIX }, signal);
      if (mapped.code === 'ACCESS_DENIED') return this.#capabilities;
      throw mapped;
    }
  }

  /** Destroys the HTTP agents (open sockets). The driver must not be used afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
    this.#presignClient?.destroy();
    this.#fastGet?.close();
  }

  // ---- internals ----

  /**
   * HeadObject; undefined on 404 once the bucket is known to exist (a HEAD 404 carries no error code).
   * `extra` adds PartNumber / IfMatch to the request; `precondition` describes IfMatch for a 412's message.
   */
  async #head(
    key: string,
    signal: AbortSignal | undefined,
    action: string,
    extra: { PartNumber?: number; IfMatch?: string; precondition?: string } = {},
  ): Promise<HeadObjectCommandOutput | undefined> {
    throwIfAborted(signal);
    const { precondition, ...params } = extra;
    try {
      const out = await this.#client.send(
        new HeadObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...params,
          ...(this.#capabilities.checksumAlgorithms.length > 0 ? { ChecksumMode: 'ENABLED' as const } : {}),
        }),
        { abortSignal: signal },
      );
      if (!this.#bucketExists && mayBeForeign(out)) await this.#assertS3Answers(key, signal);
      this.#bucketExists = true;
      return out;
    } catch (error) {
      if (error instanceof WharfError) throw error;
      if (httpStatus(error) === 404 && s3ErrorCode(error) !== 'NoSuchBucket') {
        await this.#assertBucketExists(signal);
        return undefined;
      }
      throw this.#map(error, { action, key, ...(precondition ? { precondition } : {}) }, signal);
    }
  }

  /** GetObject through the SDK (with ChecksumMode when `checksums`). */
  #sdkGet(request: FastGetRequest, checksums: boolean): Promise<GetObjectCommandOutput> {
    return this.#client.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: request.key,
        Range: request.range,
        IfMatch: request.ifMatch,
        ...(checksums ? { ChecksumMode: 'ENABLED' as const } : {}),
      }),
      { abortSignal: request.signal },
    );
  }

  /**
   * A first 200 answer without an ETag, or an HTML page, may come from a web server at a wrong --endpoint-url that
   * answers every path: a listing tells, as a web page is never a ListBucketResult. Throws the "did not answer like
   * an S3 server" NetworkError then; any S3 answer (a page, AccessDenied for read-only credentials) passes.
   */
  async #assertS3Answers(prefix: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      for await (const _ of this.list(prefix, signal ? { signal } : {})) break;
    } catch (error) {
      if (error instanceof WharfError && (error.code === 'ABORTED' || isForeignAnswer(error.cause)))
        throw error;
    }
  }

  /** HeadBucket (once; a success is cached). Throws NotFoundError naming the bucket when it is missing. */
  async #assertBucketExists(signal: AbortSignal | undefined): Promise<void> {
    if (this.#bucketExists) return;
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: signal });
      this.#bucketExists = true;
    } catch (error) {
      const status = httpStatus(error);
      if (status === 404) throw bucketNotFound(this.#ctx, error);
      // HeadBucket needs s3:ListBucket; credentials that may read objects without it get 403: assume the bucket exists.
      if (status === 403) return;
      throw this.#map(error, { action: 'check bucket' }, signal);
    }
  }

  async #putBuffer(
    key: string,
    body: Buffer,
    options: WriteOptions,
    metadata: Record<string, string> | undefined,
  ): Promise<ObjectInfo> {
    const out = await this.#call(
      () =>
        this.#client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentLength: body.length,
            ContentType: options.contentType,
            Metadata: metadata,
            ...conditionHeaders(options),
          }),
          { abortSignal: options.signal },
        ),
      options.signal,
      { action: 'write', key, precondition: preconditionText(options) },
    );
    // S3 answers every PUT with an ETag; a web server at a wrong endpoint answers 200 and stores nothing.
    if (!out.ETag && !this.#bucketExists) await this.#assertS3Answers(key, options.signal);
    this.#bucketExists = true;
    options.onProgress?.(body.length);
    const info = writtenInfo(key, body.length, options);
    if (out.ETag) info.etag = out.ETag;
    else info.etag = (await this.#head(key, options.signal, 'write'))?.ETag;
    return info;
  }

  async #writeMultipart(
    key: string,
    parts: AsyncIterator<Buffer>,
    options: WriteOptions,
    metadata: Record<string, string> | undefined,
  ): Promise<ObjectInfo> {
    const { signal } = options;
    const conditions = conditionHeaders(options);
    const conditional = options.ifMatch !== undefined || options.ifNoneMatch !== undefined;
    // Fail before uploading gigabytes that the server would refuse at the end.
    if (conditional) await this.#checkWriteCondition(key, options);
    const target: S3ErrorTarget = { action: 'write', key, precondition: preconditionText(options) };
    const uploading = uploadMultipart({
      client: this.#client,
      bucket: this.bucket,
      key,
      parts,
      concurrency: positiveInt(options.partConcurrency, this.#tuning.partConcurrency, 'partConcurrency'),
      ...(options.size !== undefined ? { expectedSize: options.size } : {}),
      ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
      conditions,
      ...(conditional && this.#multipartConditional !== true
        ? { beforeComplete: () => this.#checkWriteCondition(key, options) }
        : {}),
      partChecksums: this.#resolved.requestChecksumCalculation === 'WHEN_SUPPORTED',
      ...(signal ? { signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      mapError: (error, action) => this.#map(error, { ...target, action }, signal),
    });
    const result = await uploading.catch(async (error: unknown) => {
      // A web server at a wrong endpoint answers CreateMultipartUpload with a page and no UploadId: say that.
      if (!this.#bucketExists && error instanceof WharfError && error.code === 'INTERNAL')
        await this.#assertS3Answers(key, signal);
      throw error;
    });
    this.#bucketExists = true;
    const info = writtenInfo(key, result.size, options);
    const etag = result.etag ? normaliseEtag(result.etag) : '';
    if (etag !== '') {
      info.etag = result.etag;
    } else {
      // Ceph RGW answers CompleteMultipartUpload with an empty ETag; the object itself has the right one.
      const head = await this.#head(key, signal, 'write');
      if (head?.ETag) info.etag = head.ETag;
      if (head?.LastModified) info.lastModified = head.LastModified;
    }
    return info;
  }

  /** Throws PreconditionFailedError unless the object's current state satisfies the write's condition. */
  async #checkWriteCondition(key: string, options: WriteOptions): Promise<void> {
    const head = await this.#head(key, options.signal, 'write');
    const where = s3Url(this.bucket, key);
    if (options.ifNoneMatch === '*' && head !== undefined) {
      throw new PreconditionFailedError(
        `precondition failed for write ${where}: an object already exists there`,
      );
    }
    if (options.ifMatch !== undefined && !sameEtag(head?.ETag, options.ifMatch)) {
      const now = head === undefined ? 'it does not exist' : `its ETag is ${head.ETag}`;
      throw new PreconditionFailedError(
        `precondition failed for write ${where}: ${now}, not ${options.ifMatch}`,
      );
    }
  }

  /**
   * A client for presigning whose URLs carry no SDK checksum parameters: with `when_supported`, the SDK would
   * sign a CRC32 of the empty body into PUT URLs, and every real upload would then fail its checksum.
   */
  #signingClient(): S3Client {
    if (this.#resolved.requestChecksumCalculation === 'WHEN_REQUIRED') return this.#client;
    this.#presignClient ??= createS3Client(this.#resolved, this.#credentials, {
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    return this.#presignClient;
  }

  /** Runs one SDK call, mapping its failure to a WharfError. */
  async #call<T>(run: () => Promise<T>, signal: AbortSignal | undefined, target: S3ErrorTarget): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.#map(error, target, signal);
    }
  }

  #map(error: unknown, target: S3ErrorTarget, signal: AbortSignal | undefined): WharfError {
    if (signal?.aborted && !(error instanceof WharfError))
      return new AbortedError(undefined, { cause: error });
    return mapS3Error(error, this.#ctx, target);
  }
}
