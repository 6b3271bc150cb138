import type { Readable } from 'node:stream';
import type { InvalidKeyError } from '../core/errors.js';

/**
 * The one interface every store implements (local folder, S3, memory). Features never see a concrete driver.
 *
 * Keys are '/'-separated strings relative to the store's root (a bucket, a folder). Every method takes an
 * options bag with an optional AbortSignal; an aborted call rejects with AbortedError. Errors are WharfErrors
 * (see core/errors.ts): NotFoundError, AccessDeniedError, PreconditionFailedError, InvalidKeyError,
 * NetworkError (retryable), AbortedError.
 */
export interface StorageDriver {
  /** Human-readable name of the store, e.g. `s3://bucket` or `/home/me/data`. Used in messages. */
  readonly name: string;
  /** What this store can do. May be refined by `detectCapabilities()`. */
  readonly capabilities: DriverCapabilities;

  /** Metadata of one object, or `undefined` if it does not exist. Never throws NotFoundError for the key. */
  stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined>;

  /**
   * Every object whose key starts with `prefix`, in UTF-8 byte order of keys, streamed page by page
   * (never capped at 1,000). With `delimiter: '/'`, keys below the next '/' are rolled up into one
   * entry with `isPrefix: true` (a "folder"), as S3's ListObjectsV2 does.
   * Throws NotFoundError if the store itself (bucket, root folder) does not exist.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;

  /** Object body as a stream, whole or a byte range. Throws NotFoundError if absent, PreconditionFailedError if `ifMatch` fails. */
  read(key: string, options?: ReadOptions): Promise<Readable>;

  /**
   * As `read`, but the body is handed to `sink` in borrowed buffers (valid only until the sink returns; a returned
   * promise pauses the transfer until it settles), so a store can read into reused memory instead of allocating a
   * buffer per chunk. Resolves once every byte went to the sink. `onInfo` runs before the first byte. Errors as
   * `read`; what the sink throws is rethrown as it is. Optional: callers fall back to `read`.
   *
   * The optional operations are `| undefined` properties, not optional methods: a view (PrefixedDriver) exposes
   * them as getters that may return undefined, which users' `exactOptionalPropertyTypes` would otherwise reject.
   */
  readInto?:
    | ((key: string, options: ReadOptions, sink: (bytes: Buffer) => void | Promise<void>) => Promise<void>)
    | undefined;

  /**
   * Stores `body` at `key`. Visibility is atomic: readers see the old object or the complete new one, never a part.
   * `ifNoneMatch: '*'` creates only if absent; `ifMatch` replaces only the version with that ETag; either failing
   * throws PreconditionFailedError. Large streamed bodies go up as multipart uploads where the store has them.
   */
  write(key: string, body: Readable | Uint8Array, options?: WriteOptions): Promise<ObjectInfo>;

  /** Deletes the keys; absent keys are not an error. Batched internally. Throws DeleteError listing the keys that failed. */
  delete(keys: readonly string[], options?: OpOptions): Promise<void>;

  /**
   * How a multipart object was uploaded: its part size (the size of part 1) and part count, so a client can
   * recompute the `"<md5 of part md5s>-N"` ETag. `undefined` for an object uploaded in one piece.
   * Optional: stores without multipart uploads do not have it. Throws NotFoundError if the key is absent,
   * PreconditionFailedError if `ifMatch` is given and the object's ETag differs.
   */
  multipartLayout?:
    ((key: string, options?: LayoutOptions) => Promise<MultipartLayout | undefined>) | undefined;

  /** Server-side copy within this store (present iff `capabilities.serverSideCopy`). Throws NotFoundError if `src` is absent. */
  copy?: ((src: string, dst: string, options?: CopyOptions) => Promise<ObjectInfo>) | undefined;

  /**
   * A server-side copy from `source`, another store on the same server that this store's credentials reach (S3:
   * another bucket on the same endpoint, opened with the same credentials), into this store; `undefined` when the
   * bytes have to move through us. The copy behaves as `copy` does, `src` being a key of `source`. Optional.
   */
  copierFrom?: ((source: StorageDriver) => CopyFunction | undefined) | undefined;

  /** A URL that grants GET (or PUT) on one key without credentials, until it expires (present iff `capabilities.presign`). */
  presign?: ((key: string, options: PresignOptions) => Promise<string>) | undefined;

  /**
   * The file a key is stored in, for stores whose objects are files in a local folder (`''`: the folder itself),
   * so a copy into the store can download straight into it with the ranged, verified, resumable engine. Optional.
   * Throws InvalidKeyError as `write` would.
   */
  localPath?: ((key: string) => string) | undefined;

  /**
   * The InvalidKeyError `write` would throw for `key` before sending anything (S3: longer than 1,024 bytes with
   * the bucket-side prefix, a '.' segment), or undefined when it would try. Lets a caller leave out, and report,
   * what the store cannot hold instead of failing on it. Optional; no I/O.
   */
  keyRefusal?: ((key: string) => InvalidKeyError | undefined) | undefined;

  /** Probes the store for optional features (conditional writes, checksums) and returns refined capabilities. */
  detectCapabilities?(options?: DetectOptions): Promise<DriverCapabilities>;

  /** Releases sockets and handles. The driver must not be used afterwards. */
  close?(): Promise<void>;
}

export interface DriverCapabilities {
  /** `copy()` runs on the server without moving bytes through us. */
  serverSideCopy: boolean;
  /** `presign()` is available. */
  presign: boolean;
  /** `write()` honours `ifMatch` / `ifNoneMatch` atomically. `'unknown'` until detected. */
  conditionalWrite: boolean | 'unknown';
  /** User metadata (`metadata`, `contentType`) round-trips through write/stat. */
  metadata: boolean;
  /** Keys become file-system paths: they must pass `assertSafeRelativeKey` (no '..', no empty segments). */
  pathKeys: boolean;
  /** Checksum algorithms the store computes and reports per object (e.g. 'CRC32', 'SHA256'). */
  checksumAlgorithms: readonly string[];
  /** Granularity of `lastModified` in milliseconds (1000 for S3, 1 for most file systems). */
  mtimePrecisionMs: number;
}

export interface ObjectInfo {
  key: string;
  /** Bytes; 0 for prefix entries. */
  size: number;
  /** Opaque version tag, quoted as S3 returns it (e.g. `"d41d8cd9..."`). Compare with `sameEtag`. */
  etag?: string;
  lastModified?: Date;
  contentType?: string;
  /** User metadata, lower-case keys without the `x-amz-meta-` prefix. Only from `stat`, not `list`. */
  metadata?: Record<string, string>;
  /** Checksums the store reported, by algorithm (base64 as S3 returns them). */
  checksums?: Record<string, string>;
  /** A rolled-up "folder" entry from a delimited listing. Its key ends with '/'. */
  isPrefix?: boolean;
}

export interface OpOptions {
  signal?: AbortSignal | undefined;
}

export interface DetectOptions extends OpOptions {
  /**
   * Folder (ending in '/', or '') under which a probe may write its throw-away object, for callers whose
   * permissions cover only a prefix. Default: the store's root.
   */
  probePrefix?: string | undefined;
}

export interface ListOptions extends OpOptions {
  /** Roll up keys below the next '/' into prefix entries (non-recursive listing). Default: none (recursive). */
  delimiter?: '/' | undefined;
  /** Only keys strictly after this one (for resuming a listing). */
  startAfter?: string | undefined;
}

export type ByteRange =
  /** Bytes `start`..`end` inclusive; `end` omitted means to the end of the object. */
  | { start: number; end?: number }
  /** The last `suffix` bytes. */
  | { suffix: number };

export interface ReadOptions extends OpOptions {
  range?: ByteRange | undefined;
  /** Fail with PreconditionFailedError unless the object's ETag is this one (protects ranged reads from a concurrent overwrite). */
  ifMatch?: string | undefined;
  /**
   * Called once, before the body streams, with what the store said about the object in the same response:
   * whole-object `size` (also for a range), ETag, lastModified, contentType, user metadata, `encryption`, and
   * `checksums` (whole-object reads only). Saves a separate `stat` when a reader needs the metadata.
   */
  onInfo?: ((info: ReadInfo) => void) | undefined;
}

export interface ReadInfo extends ObjectInfo {
  /**
   * Server-side encryption of the object as the store reported it: `AES256`, `aws:kms`, `aws:kms:dsse`, or
   * `SSE-C` for customer-provided keys. Objects encrypted with KMS or SSE-C have ETags that are not MD5s.
   */
  encryption?: string;
}

export interface LayoutOptions extends OpOptions {
  /** Fail with PreconditionFailedError unless the object's ETag is this one. */
  ifMatch?: string | undefined;
}

export interface MultipartLayout {
  /** Size in bytes of every part but the last (the size of part 1). */
  partSize: number;
  partsCount: number;
}

export interface WriteOptions extends OpOptions {
  contentType?: string | undefined;
  /** User metadata; keys are lower-cased. Stores without `capabilities.metadata` ignore it. */
  metadata?: Record<string, string> | undefined;
  /** Replace only the object with this ETag. */
  ifMatch?: string | undefined;
  /** `'*'`: create only if no object exists at the key. */
  ifNoneMatch?: '*' | undefined;
  /** Body length if known; lets the driver choose single PUT vs multipart without buffering. */
  size?: number | undefined;
  /** Multipart part size in bytes (S3 default 8 MiB, raised as needed to stay under 10,000 parts). */
  partSize?: number | undefined;
  /** Parts uploaded in parallel for one object (default 4). */
  partConcurrency?: number | undefined;
  /** Called with the cumulative number of body bytes sent. */
  onProgress?: ((bytesSent: number) => void) | undefined;
}

/** A server-side copy of `src` to `dst` (see `StorageDriver.copy` and `copierFrom`). */
export type CopyFunction = (src: string, dst: string, options?: CopyOptions) => Promise<ObjectInfo>;

export interface CopyOptions extends OpOptions {
  metadata?: Record<string, string> | undefined;
  contentType?: string | undefined;
}

export interface PresignOptions extends OpOptions {
  method: 'GET' | 'PUT';
  /** Seconds until the URL stops working (1 .. 604800). */
  expiresIn: number;
  /** For PUT: the Content-Type the uploader must send. */
  contentType?: string | undefined;
}

/** A factory that opens a driver for a parsed location's root (bucket or folder). */
export type DriverFactory<L, O> = (location: L, options: O) => Promise<StorageDriver>;
