import { joinKey } from '../../core/keys.js';
import { createHash, randomUUID } from 'node:crypto';
import { renameSync } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  isWharfError,
  NetworkError,
  NotFoundError,
  PreconditionFailedError,
  throwIfAborted,
  toWharfError,
  WharfError,
} from '../../core/errors.js';
import { runPool } from '../../core/pool.js';
import { formatBytes } from '../../core/units.js';
import { withRetry } from '../../core/retry.js';
import { sameEtag } from '../../storage/etag.js';
import type {
  MultipartLayout,
  ObjectInfo,
  ReadInfo,
  ReadOptions,
  StorageDriver,
} from '../../storage/types.js';
import { ContentHasher, type FileDigest } from './content-hasher.js';
import {
  checkDownload,
  expectationsFor,
  hashNeedsFor,
  multipartPartCount,
  type CheckResult,
  type Expectations,
} from './expectations.js';
import { planRanges, type PlannedRange } from './range-plan.js';
import type { RequestLimiter } from './request-limiter.js';
import { loadResumeState, removeResumeFiles, saveResumeState, type ResumeState } from './resume-state.js';
import { SequentialFileHasher } from './sequential-file-hasher.js';
import { BatchedFileWriter, BufferPool } from './batched-writer.js';
import { MemoryFirstWriter, writeNewFileDurably } from './small-body.js';
import { makeDir } from '../../core/make-dir.js';

/**
 * Bytes per positional write (two such buffers per range in flight). Measured on the 1 GiB benchmark: 1 MiB
 * buffers made the kernel's copy into the page cache several times slower (a fifth of all CPU samples, against
 * 2 % with 256 KiB), 64–128 KiB cost more in per-write overhead than they saved.
 */
const WRITE_BATCH = 256 * 1024;
/** Bodies up to this size are held in memory until verified and written in one go (small-body.ts). */
const SMALL_BODY = WRITE_BATCH;
/** How often finished ranges of a ranged download are synced and recorded for resuming. */
const CHECKPOINT_INTERVAL_MS = 1000;

// A module of its own so that the CLI's help can show it without loading the download engine.
export { RANGED_DOWNLOAD_DEFAULTS } from './ranged-download-defaults.js';

/** The name (without `.part`/`.json`) of a key's resumable partial download under `partialDir`. */
export function partialBaseName(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

/** Objects above two ranges are fetched as ranges; smaller ones in one GET. */
export function rangeThresholdFor(partSize: number): number {
  return 2 * partSize;
}

export interface DownloadSource {
  key: string;
  size: number;
  /** ETag from the listing; the download is pinned to it (If-Match). */
  etag?: string;
  lastModified?: Date;
  /** SHA-256 the content must have, when the caller knows it (a sync index does): verified like the others. */
  sha256?: string;
}

/** The store's expectations of an object, plus the SHA-256 its caller knows. */
function withKnownSha256(expect: Expectations, source: DownloadSource): Expectations {
  return source.sha256 ? { ...expect, sha256: source.sha256 } : expect;
}

export interface DownloadOptions {
  store: StorageDriver;
  /** Final path of the file; written only once complete and verified. */
  finalPath: string;
  /** Folder for temporary files; must be on the same file system as `finalPath`. */
  tempDir: string;
  /** Folder for resumable partial downloads of ranged objects (same file system). */
  partialDir: string;
  /** Shared cap on requests in flight. */
  limiter: RequestLimiter;
  /**
   * A lower cap, within `limiter`, on requests whose body is written through buffers (byte ranges, objects above
   * 256 KiB): bounds memory when `limiter` lets many small GETs run at once. Default: `limiter` alone.
   */
  streamLimiter?: RequestLimiter;
  /** Bytes per ranged GET. */
  partSize: number;
  /** Ranged GETs in flight for this object. */
  partConcurrency: number;
  /** Objects larger than this are fetched as parallel byte ranges (and are resumable). */
  rangeThreshold: number;
  /** Attempts per object (whole GET) or per range, for retryable failures. */
  attempts: number;
  signal?: AbortSignal;
  /** Called with bytes received (negative when a failed attempt's bytes are discounted). */
  onBytes?: (delta: number) => void;
  onRetry?: (error: WharfError, attempt: number) => void;
  /** Creates the final path's folder; a caller fetching many files passes a memoised one. Default: mkdir -p. */
  ensureDir?: (dir: string) => Promise<void>;
  /**
   * Runs once the file is complete and verified, just before it is renamed over `finalPath`; throwing stops the
   * rename (never retried), and the temporary file is removed. Sync checks here that the user did not edit or
   * create the file while it downloaded.
   */
  beforeRename?: () => Promise<void>;
}

export interface DownloadResult {
  size: number;
  etag: string | undefined;
  lastModified: Date | undefined;
  /** Digest of the local file as the cache index stores it (recomputed by `--verify`). */
  digest: FileDigest;
  /** Checks that passed: `size`, `md5`, `etag-md5-parts`, `sha256`, `sha1`. */
  verified: string[];
  /** Bytes taken from an earlier interrupted run instead of being downloaded again. */
  resumedBytes: number;
  /** The local file's mtime after download (set to the object's LastModified). */
  localMtimeMs: number;
  ranged: boolean;
}

/**
 * Downloads one object to `finalPath`: into a temporary file, verified (size always; the MD5 or multipart
 * ETag when the store's ETag is one; SHA-256 from Wharf's upload metadata or a full-object checksum), mtime set
 * to LastModified, fsynced, then renamed. Objects above `rangeThreshold` come as parallel byte ranges written into
 * a preallocated file under `partialDir`, with a state file recording finished ranges so a later call resumes
 * (as long as the object's ETag is unchanged). Nothing ever appears at `finalPath` unverified.
 * Throws the last error after `attempts`; AbortedError on abort (a ranged partial is kept for resuming).
 */
export async function downloadFile(
  source: DownloadSource,
  options: DownloadOptions,
): Promise<DownloadResult> {
  if (source.size > options.rangeThreshold && source.size > options.partSize) {
    return downloadRanged(source, options);
  }
  return downloadWhole(source, options);
}

/**
 * `downloadFile` of the version a listing saw, as copy tools behave: if the object changed since (its ETag no
 * longer matches), the version there now, once, instead of failing; and one fresh attempt after a ranged
 * download failed verification (its partial is discarded, so the retry starts clean).
 */
export async function downloadListed(object: ObjectInfo, options: DownloadOptions): Promise<DownloadResult> {
  const run = (source: ObjectInfo): Promise<DownloadResult> =>
    downloadFile(
      {
        key: source.key,
        size: source.size,
        ...(source.etag !== undefined ? { etag: source.etag } : {}),
        ...(source.lastModified ? { lastModified: source.lastModified } : {}),
      },
      options,
    );
  try {
    return await run(object);
  } catch (error) {
    if (isWharfError(error) && error.code === 'IO' && error.retryable) return run(object);
    if (!isWharfError(error) || error.code !== 'PRECONDITION_FAILED') throw error;
    const current = await options.store.stat(object.key, opt(options.signal));
    if (!current) throw new NotFoundError('it was deleted after it was listed');
    return run(current);
  }
}

/** Runs one request within the shared cap on requests in flight. */
function inFlight<T>(o: DownloadOptions, request: () => Promise<T>): Promise<T> {
  return o.limiter.run(request, o.signal);
}

/** Runs one request whose body streams through write buffers: within the stream cap, then the shared one. */
function streamedInFlight<T>(o: DownloadOptions, request: () => Promise<T>): Promise<T> {
  return o.streamLimiter ? o.streamLimiter.run(() => inFlight(o, request), o.signal) : inFlight(o, request);
}

async function downloadWhole(source: DownloadSource, o: DownloadOptions): Promise<DownloadResult> {
  const { store, signal } = o;
  const layout = await layoutFor(store, source, signal);
  return withRetry(async () => {
    const tmp = join(o.tempDir, `${randomUUID()}.tmp`);
    let counted = 0;
    let handle: FileHandle | undefined;
    let body: MemoryFirstWriter | undefined;
    try {
      const limited = source.size <= SMALL_BODY ? inFlight : streamedInFlight;
      const result = await limited(o, async () => {
        let info: ReadInfo | undefined;
        let expect: Expectations | undefined;
        let hasher: ContentHasher | undefined;
        const begin = (): ContentHasher => {
          expect = withKnownSha256(expectationsFor({ ...source, ...info, key: source.key }, layout), source);
          hasher = new ContentHasher(hashNeedsFor(expect));
          return hasher;
        };
        const readOptions = {
          ...(signal ? { signal } : {}),
          ...(source.etag !== undefined ? { ifMatch: source.etag } : {}),
          onInfo: (i: ReadInfo) => {
            info = i;
          },
        };
        // A small body stays in memory until verified (small-body.ts); a larger one streams into the temp file.
        const limit = source.size <= SMALL_BODY ? SMALL_BODY : 0;
        const writer = new MemoryFirstWriter(
          source.size,
          limit,
          Math.min(WRITE_BATCH, Math.max(source.size, 1)),
          async () => {
            handle = await open(tmp, 'wx');
            return handle;
          },
        );
        body = writer;
        let size = 0;
        const take = (bytes: Buffer): void | Promise<void> => {
          (hasher ?? begin()).update(bytes);
          size += bytes.length;
          counted += bytes.length;
          o.onBytes?.(bytes.length);
          return writer.write(bytes);
        };
        await readThrough(store, source.key, readOptions, writer, take);
        hasher ??= begin();
        if (expect === undefined) throw new Error('download expectations were not set');
        const hashes = hasher.digest();
        const check = checkDownload(joinKey(store.name, source.key), expect, size, hashes);
        return { size, check, info };
      });
      const lastModified = result.info?.lastModified ?? source.lastModified;
      const data = body?.inMemory;
      let localMtimeMs: number;
      if (data !== undefined) {
        localMtimeMs = await writeNewFileDurably(tmp, data, lastModified);
        await place(tmp, o.finalPath, o, renameSync); // a small, local metadata change: no thread-pool trip
      } else {
        const fh = handle as FileHandle | undefined;
        if (fh === undefined) throw new Error('download produced no file handle');
        localMtimeMs = await finalize(fh, tmp, o.finalPath, lastModified, o);
        handle = undefined;
      }
      return {
        size: result.size,
        etag: result.info?.etag ?? source.etag,
        lastModified,
        digest: result.check.digest,
        verified: result.check.passed,
        resumedBytes: 0,
        localMtimeMs,
        ranged: false,
      };
    } catch (error) {
      o.onBytes?.(-counted);
      await (handle as FileHandle | undefined)?.close().catch(() => undefined);
      const tempGone = await temporaryFileWentAway(error, tmp);
      await rm(tmp, { force: true });
      throw tempGone ? temporaryFileGone(o.finalPath, tmp, error) : localError(error, o.finalPath);
    }
  }, retryOptions(o));
}

/**
 * The store's errors as they are; anything else (a full disk, a folder that went away) names the file. A local
 * write error can reach here already wrapped by the store's read (it wrote into our file while it read), so a
 * WharfError caused by a file-system errno is named too.
 */
function localError(error: unknown, finalPath: string): WharfError {
  if (!isWharfError(error)) return toWharfError(error, `writing ${finalPath}`);
  const cause = error.cause as { code?: unknown; syscall?: unknown } | undefined;
  const local = typeof cause?.code === 'string' && LOCAL_WRITE_ERRORS.has(cause.code);
  return local && !error.message.includes(finalPath) ? toWharfError(cause, `writing ${finalPath}`) : error;
}

/** Errno codes only a write can meet: never a store's read (a local store's EACCES or EIO is its own file's). */
const LOCAL_WRITE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EFBIG']);

function diskFull(error: WharfError): boolean {
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** A full disk during a ranged download: the finished ranges stay for the next run, which the hint says. */
function withPartialKept(error: WharfError, partialDir: string, keptBytes: number): WharfError {
  if (!diskFull(error) || keptBytes === 0) return error;
  return new WharfError(error.code, error.message, {
    cause: error.cause,
    ...(error.affectsAll ? { affectsAll: true } : {}),
    hint: `free some disk space and run the command again: the ${formatBytes(keptBytes)} already downloaded are kept in ${partialDir} and the next run resumes from them (delete that folder to get their space back)`,
  });
}

/** True when `error` is an ENOENT on the temporary file and the file is not there (its folder was removed). */
async function temporaryFileWentAway(error: unknown, tmp: string): Promise<boolean> {
  const e = error as { code?: unknown; path?: unknown } | null;
  if (e?.code !== 'ENOENT' || e.path !== tmp) return false;
  return (await stat(tmp).catch(() => undefined)) === undefined;
}

/** Says the temporary file vanished, not that the final path has a missing folder. */
function temporaryFileGone(finalPath: string, tmp: string, cause: unknown): WharfError {
  return new WharfError(
    'IO',
    `writing ${finalPath}: its temporary file ${tmp} was removed while it downloaded`,
    {
      cause,
      hint: `something removed ${dirname(tmp)} while the download ran; run the command again`,
    },
  );
}

async function downloadRanged(source: DownloadSource, o: DownloadOptions): Promise<DownloadResult> {
  const { store, signal } = o;
  const head = await withRetry(
    () => o.limiter.run(() => store.stat(source.key, opt(signal)), signal),
    retryOptions(o),
  );
  if (head === undefined)
    throw new NotFoundError(`${joinKey(store.name, source.key)} was deleted after it was listed`);
  // Pinned like a whole-object GET with If-Match: another version than the caller asked for is a 412 (the
  // caller decides whether to take the newer one), never a silent switch.
  if (source.etag !== undefined && head.etag !== undefined && !sameEtag(head.etag, source.etag)) {
    throw new PreconditionFailedError(
      `${joinKey(store.name, source.key)} changed: its ETag is ${head.etag}, not ${source.etag}`,
    );
  }
  const etag = head.etag ?? source.etag ?? '';
  const layout = await layoutFor(store, { ...source, etag }, signal);
  const base = join(o.partialDir, partialBaseName(source.key));
  const dataPath = `${base}.part`;
  const statePath = `${base}.json`;

  let state = await loadResumeState(statePath, { key: source.key, etag, size: head.size });
  let file = state ? await open(dataPath, 'r+').catch(() => undefined) : undefined;
  if (!state || !file) {
    await removeResumeFiles(dataPath, statePath);
    state = { version: 1, key: source.key, etag, size: head.size, rangeSize: o.partSize, done: [] };
    file = await open(dataPath, 'w+');
    await file.truncate(head.size);
    await saveResumeState(statePath, state);
  }
  const current: ResumeState = state;
  const handle: FileHandle = file;
  const ranges = planRanges(current.size, current.rangeSize);
  const done = new Set(current.done.filter((i) => i >= 0 && i < ranges.length));
  const resumedBytes = ranges.filter((r) => done.has(r.index)).reduce((n, r) => n + r.end - r.start + 1, 0);
  if (resumedBytes > 0) o.onBytes?.(resumedBytes);

  let encryption = current.encryption;
  let lastModified = head.lastModified ?? source.lastModified;
  const expectFor = (): Expectations =>
    withKnownSha256(
      expectationsFor({ ...head, key: source.key, ...(encryption ? { encryption } : {}) }, layout),
      source,
    );
  const hasher = new SequentialFileHasher(handle, dataPath, ranges, hashNeedsFor(expectFor()));
  hasher.markDone(done);

  // Finished ranges become durable and recorded in batches: one datasync + state write per checkpoint, at most
  // every CHECKPOINT_INTERVAL_MS, never on a range's path (a datasync per range held every range worker behind the
  // disk). A stop (Ctrl-C, error) checkpoints what was written; SIGKILL loses at most one interval of progress.
  const written: number[] = [];
  let saving: Promise<void> = Promise.resolve();
  let checkpointError: unknown;
  let lastCheckpoint = Date.now();
  let discarded = false;
  const checkpoint = (): Promise<void> => {
    lastCheckpoint = Date.now();
    saving = saving.then(async () => {
      if (written.length === 0 || discarded) return;
      const batch = written.splice(0);
      try {
        await handle.datasync();
        for (const i of batch) done.add(i);
        const snapshot: ResumeState = { ...current, done: [...done].sort((a, b) => a - b) };
        if (encryption !== undefined) snapshot.encryption = encryption;
        await saveResumeState(statePath, snapshot);
      } catch (error) {
        checkpointError ??= error;
      }
    });
    return saving;
  };
  const recordWritten = (index: number): void => {
    written.push(index);
    if (Date.now() - lastCheckpoint >= CHECKPOINT_INTERVAL_MS) void checkpoint();
  };

  // Two write buffers per range in flight: one being written while the other fills.
  const batches = new BufferPool(WRITE_BATCH, 2 * o.partConcurrency);
  const fetchRange = async (range: PlannedRange): Promise<void> => {
    let counted = 0;
    await withRetry(async () => {
      o.onBytes?.(-counted);
      counted = 0;
      await streamedInFlight(o, async () => {
        const readOptions = {
          ...opt(signal),
          range: { start: range.start, end: range.end },
          ifMatch: etag,
          onInfo: (info: ReadInfo) => {
            if (info.encryption !== undefined) encryption = info.encryption;
            if (info.lastModified) lastModified = info.lastModified;
          },
        };
        let position = range.start;
        const tooMany = (length: number): void => {
          if (position + length > range.end + 1) {
            throw new Error(`the store sent more bytes than the range ${range.start}-${range.end} asked for`);
          }
        };
        // Chunks are copied into pooled 256 KiB buffers that are written positionally while the next one fills: the
        // store may read into reused memory (StorageDriver.readInto), and the thread pool sees one write per batch.
        const writer = new BatchedFileWriter(handle, range.start, batches);
        const take = (bytes: Buffer): void | Promise<void> => {
          tooMany(bytes.length);
          position += bytes.length;
          counted += bytes.length;
          o.onBytes?.(bytes.length);
          return writer.write(bytes);
        };
        await readThrough(store, source.key, readOptions, writer, take);
        if (position !== range.end + 1) {
          throw new NetworkError(
            `range ${range.start}-${range.end} of ${source.key} ended early at byte ${position}`,
          );
        }
      });
    }, retryOptions(o)).catch((error: unknown) => {
      o.onBytes?.(-counted);
      throw error;
    });
    recordWritten(range.index);
    hasher.markDone([range.index]);
  };

  try {
    await runPool(
      ranges.filter((r) => !done.has(r.index)),
      o.partConcurrency,
      fetchRange,
      signal,
    );
    await saving;
    if (checkpointError !== undefined) throw checkpointError;
    throwIfAborted(signal);
    const hashes = await hasher.finish();
    let check: CheckResult;
    try {
      check = checkDownload(joinKey(store.name, source.key), expectFor(), current.size, hashes);
    } catch (error) {
      // Recorded ranges are wrong (the object changed under a server without If-Match, or the disk lied):
      // start over next time instead of resuming from bad bytes.
      discarded = true;
      await handle.close().catch(() => undefined);
      await removeResumeFiles(dataPath, statePath);
      o.onBytes?.(-current.size);
      throw error;
    }
    const localMtimeMs = await finalize(handle, dataPath, o.finalPath, lastModified, o);
    await removeResumeFiles(statePath);
    return {
      size: current.size,
      etag,
      lastModified,
      digest: check.digest,
      verified: check.passed,
      resumedBytes,
      localMtimeMs,
      ranged: true,
    };
  } catch (error) {
    hasher.cancel();
    await checkpoint();
    await handle.close().catch(() => undefined);
    const wharfError = localError(error, o.finalPath);
    // A different object version can never be resumed: drop the partial.
    if (wharfError.code === 'PRECONDITION_FAILED') await removeResumeFiles(dataPath, statePath);
    const kept = ranges.filter((r) => done.has(r.index)).reduce((n, r) => n + r.end - r.start + 1, 0);
    // A full disk with no range finished: the partial file holds nothing to resume from, only the space.
    if (kept === 0 && diskFull(wharfError)) await removeResumeFiles(dataPath, statePath);
    throw withPartialKept(wharfError, o.partialDir, kept);
  }
}

/** Stores that said they cannot report multipart layouts (Ceph RGW 16 ignores partNumber); not asked again. */
const noLayout = new WeakSet<StorageDriver>();

/**
 * The multipart layout when the ETag says the object was uploaded in parts and the store can tell the layout;
 * undefined otherwise (the ETag is then checked against the likely part sizes, see expectationsFor).
 */
async function layoutFor(
  store: StorageDriver,
  source: DownloadSource,
  signal: AbortSignal | undefined,
): Promise<MultipartLayout | undefined> {
  if (multipartPartCount(source.etag) === undefined || !store.multipartLayout || noLayout.has(store)) {
    return undefined;
  }
  try {
    return await store.multipartLayout(source.key, {
      ...opt(signal),
      ...(source.etag !== undefined ? { ifMatch: source.etag } : {}),
    });
  } catch (error) {
    if (isWharfError(error) && error.code === 'UNSUPPORTED') {
      noLayout.add(store);
      return undefined;
    }
    throw error;
  }
}

/** mtime := LastModified, fsync, close, then rename into place (creating parent folders). */
async function finalize(
  fh: FileHandle,
  tmpPath: string,
  finalPath: string,
  lastModified: Date | undefined,
  o: Pick<DownloadOptions, 'ensureDir' | 'beforeRename'>,
): Promise<number> {
  try {
    if (lastModified) await fh.utimes(lastModified, lastModified);
    await fh.sync();
    const mtimeMs = (await fh.stat()).mtimeMs;
    await fh.close();
    await place(tmpPath, finalPath, o, rename);
    return mtimeMs;
  } catch (error) {
    await fh.close().catch(() => undefined);
    throw error;
  }
}

/** Moves a complete, durable temporary file to its final path, once `beforeRename` (if any) allows it. */
async function place(
  tmpPath: string,
  finalPath: string,
  o: Pick<DownloadOptions, 'ensureDir' | 'beforeRename'>,
  move: (from: string, to: string) => void | Promise<void>,
): Promise<void> {
  await (o.ensureDir ?? makeDir)(dirname(finalPath));
  if (o.beforeRename) {
    try {
      await o.beforeRename();
    } catch (error) {
      await rm(tmpPath, { force: true });
      const refused = toWharfError(error);
      throw new WharfError(refused.code, refused.message, {
        cause: error,
        retryable: false,
        ...(refused.hint ? { hint: refused.hint } : {}),
      });
    }
  }
  await move(tmpPath, finalPath);
}

/**
 * Reads an object (or a range of it) through `take` into `writer`, by `readInto` when the store has it, else
 * through `read`'s stream; then waits for the writes. After a failure the writer's buffers go back to the pool.
 */
async function readThrough(
  store: StorageDriver,
  key: string,
  options: ReadOptions,
  writer: { end(): Promise<unknown>; abandon(): Promise<void> },
  take: (bytes: Buffer) => void | Promise<void>,
): Promise<void> {
  try {
    if (store.readInto) await store.readInto(key, options, take);
    else await consume(await store.read(key, options), async (chunk) => take(chunk));
    await writer.end();
  } catch (error) {
    await writer.abandon();
    throw error;
  }
}

async function consume(body: Readable, onChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      await onChunk(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    }
  } finally {
    body.destroy();
  }
}

function opt(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

function retryOptions(o: DownloadOptions): Parameters<typeof withRetry>[1] {
  return {
    attempts: o.attempts,
    ...opt(o.signal),
    onRetry: (error, attempt) => o.onRetry?.(toWharfError(error), attempt),
  };
}
