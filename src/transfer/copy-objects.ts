import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { uploadContentTypeFor } from '../core/content-type.js';
import { emptySnapshot, type ProgressListener, type ProgressSnapshot } from '../core/events.js';
import {
  InvalidKeyError,
  isWharfError,
  throwIfAborted,
  toWharfError,
  UsageError,
  WharfError,
} from '../core/errors.js';
import { asFolderPrefix, assertCreatableKey, assertSafeRelativeKey } from '../core/keys.js';
import { runPool } from '../core/pool.js';
import { memoisedMakeDir } from '../core/make-dir.js';
import { withRetry } from '../core/retry.js';
import type { CopyFunction, ObjectInfo, ReadInfo, StorageDriver } from '../storage/types.js';
import type { CopyEvent } from './copy-events.js';
import { openRunStaging, STAGING_FOLDER, type RunStaging } from './copy-staging.js';
import { downloadListed, RANGED_DOWNLOAD_DEFAULTS, rangeThresholdFor } from './download/download-file.js';
import { assertFreeSpace, spaceNeededFor } from './download/free-space.js';
import { RequestLimiter } from './download/request-limiter.js';
import { unstorableInFolder } from './folder-clashes.js';
import { uploadWithSha256 } from './upload-with-sha256.js';

export interface CopyItem {
  /** Key in the source store. */
  sourceKey: string;
  /** Key in the destination store. */
  destKey: string;
  size: number;
  /** ETag from the listing: a download into a local folder is pinned to it. */
  etag?: string;
  lastModified?: Date;
}

export interface CopyPlan {
  items: CopyItem[];
  totalBytes: number;
}

export interface CopyResult {
  done: { sourceKey: string; destKey: string; size: number }[];
  /** Left alone because the destination exists (`noClobber`). */
  skipped: { sourceKey: string; destKey: string; size: number }[];
  failed: { sourceKey: string; destKey: string; error: WharfError }[];
  bytes: number;
}

export interface CopyOptions {
  /** Objects copied at once (default 32). */
  concurrency?: number | undefined;
  /** Byte ranges fetched at once per big object, when copying into a local folder (default 8). */
  partConcurrency?: number | undefined;
  /** Size of those ranges (default 8 MiB). */
  partSize?: number | undefined;
  /** Attempts per object for retryable failures, above the driver's own request retries (default 3). */
  attempts?: number | undefined;
  /**
   * Files uploaded from a local folder to a store that keeps metadata get their SHA-256 as `wharf-sha256`, which
   * downloads verify against (see upload-with-sha256.ts). Default false.
   */
  sha256Metadata?: boolean | undefined;
  /**
   * With `sha256Metadata`: files up to this size are read once, hashed and uploaded from one buffer; bigger ones
   * are hashed in a read of their own first. Default 16 MiB, what the S3 driver buffers for a single PutObject
   * anyway; lower it for a store whose writes stream, where each buffer is memory the upload did not need.
   */
  sha256InMemoryMaxBytes?: number | undefined;
  /**
   * Never replace an object that exists at the destination: it is skipped (`skipped`, a `file-skipped` event).
   * Each destination is looked up before its copy starts; writes are then conditional where the store makes them
   * so (`ifNoneMatch: '*'`; a download's final rename re-checks), so one created meanwhile is kept too. Server-side
   * copies have no such condition: one created between the look-up and the copy is replaced. Default false.
   */
  noClobber?: boolean | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ProgressListener<CopyEvent> | undefined;
}

/**
 * Lists everything under `sourcePrefix` and maps each key to `destPrefix + relative key`, the relative key kept
 * as it is: `src/` holding `src//a` and `src/a` copies to `dst//a` and `dst/a` (as aws-cli does), never both to
 * `dst/a`. When the destination
 * maps keys to paths (a local folder), every destination key is checked before anything is written, so a
 * listing with a key like `a/../../x` refuses the whole copy instead of writing half of it; other stores refuse
 * '.' and '..' segments the same way.
 */
export async function planTreeCopy(
  source: StorageDriver,
  sourcePrefix: string,
  dest: StorageDriver,
  destPrefix: string,
  signal?: AbortSignal,
): Promise<CopyPlan> {
  const items: CopyItem[] = [];
  let totalBytes = 0;
  const destFolder = asFolderPrefix(destPrefix);
  for await (const info of source.list(sourcePrefix, signal ? { signal } : {})) {
    if (info.isPrefix) continue;
    const relative = info.key.slice(sourcePrefix.length);
    if (relative === '') continue;
    const destKey = destFolder + relative;
    // A folder marker (`reports/`, what "Create folder" in the AWS console makes) is nothing a local folder
    // needs: skipped, as aws-cli and rclone skip it, instead of refusing the whole copy for its empty name. One
    // holding bytes fails on its own in copyObjects (unstorableInFolder), not unseen and not the whole copy.
    const marker = dest.capabilities.pathKeys && relative.endsWith('/');
    if (marker && info.size === 0) continue;
    const checked = marker ? destKey.slice(0, -1) : destKey;
    refuseWholeCopy(
      info.key,
      () => {
        assertDestinationKey(dest, checked);
        dest.localPath?.(checked); // and the names a local store keeps for itself (.NAME.wharf-lock)
      },
      dest,
    );
    items.push({
      sourceKey: info.key,
      destKey,
      size: info.size,
      ...(info.etag !== undefined ? { etag: info.etag } : {}),
      ...(info.lastModified ? { lastModified: info.lastModified } : {}),
    });
    totalBytes += info.size;
  }
  return { items, totalBytes };
}

/**
 * Runs a key check of the plan; its refusal names the source object and says that nothing was copied, and how to
 * get past it (the check is made for every key before the first byte moves).
 */
function refuseWholeCopy(sourceKey: string, check: () => void, dest: StorageDriver): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof InvalidKeyError)) throw error;
    const reason = error.reason.replace(/; choose a key without one$/, '');
    const elsewhere = dest.capabilities.pathKeys
      ? ', or fetch the prefix with wharf fetch, which refuses such keys one by one and takes the rest'
      : '';
    throw new InvalidKeyError(sourceKey, reason, {
      hint: `nothing was copied; rename or remove that object and copy again${elsewhere}`,
    });
  }
}

/** The destination keys of `plan` that exist already (what a `noClobber` copy would skip), looked up `concurrency` at a time. */
export async function existingDestinations(
  dest: StorageDriver,
  plan: CopyPlan,
  concurrency: number,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const existing = new Set<string>();
  await runPool(
    plan.items,
    concurrency,
    async (item) => {
      if ((await dest.stat(item.destKey, signal ? { signal } : {})) !== undefined) existing.add(item.destKey);
    },
    signal,
  );
  return existing;
}

/** Throws InvalidKeyError, before any byte moves, for a key the destination would refuse to create. */
export function assertDestinationKey(dest: StorageDriver, key: string): void {
  if (dest.capabilities.pathKeys) assertSafeRelativeKey(key);
  else assertCreatableKey(key);
}

/**
 * Copies every item of the plan on a bounded pool. Same-store copies use server-side copy where the driver
 * has it. Into a local folder from a remote store, each object goes through the download engine: big ones as
 * parallel byte ranges, every one verified against what the store says (size, MD5 or multipart ETag, SHA-256),
 * with its mtime set to LastModified, and an interrupted big one resumes on the next run. Otherwise bytes stream
 * from source to destination without touching local disk.
 * Per-object failures are collected, not thrown; setup failures and aborts throw.
 */
export async function copyObjects(
  source: StorageDriver,
  dest: StorageDriver,
  plan: CopyPlan,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const { signal, onEvent } = options;
  const snapshot: ProgressSnapshot = {
    ...emptySnapshot(),
    totalBytes: plan.totalBytes,
    totalFiles: plan.items.length,
  };
  const snap = (): ProgressSnapshot => ({ ...snapshot });
  onEvent?.({ type: 'planned', snapshot: snap() });
  const result: CopyResult = { done: [], skipped: [], failed: [], bytes: 0 };
  const serverCopy = serverCopier(source, dest);
  const download = !serverCopy && source.localPath === undefined ? downloaderInto(dest, options) : undefined;
  const withSha256 =
    options.sha256Metadata === true &&
    source.localPath !== undefined &&
    dest.localPath === undefined &&
    dest.capabilities.metadata;
  // Into a local folder that is a file: one clear error, not one per object.
  const destRoot = plan.items.length > 0 ? dest.localPath?.('') : undefined;
  if (destRoot !== undefined && (await stat(destRoot).catch(() => undefined))?.isFile()) {
    throw new UsageError(`the destination ${destRoot} is a file, not a folder; nothing was copied`, {
      hint: 'name a folder (it is created if missing), or copy one object onto the file without --recursive',
    });
  }

  const unstorable = dest.capabilities.pathKeys
    ? unstorableInFolder(plan.items)
    : new Map<string, WharfError>();
  if (download && destRoot !== undefined) {
    const storable = plan.items.filter((item) => !unstorable.has(item.destKey));
    await assertRoomFor({ items: storable, totalBytes: plan.totalBytes }, dest, options);
  }

  const listDenied =
    plan.items.length > 1 && dest.localPath === undefined && (await probeDestination(dest, signal));

  await runPool(
    plan.items,
    options.concurrency ?? 32,
    async (item) => {
      let counted = 0;
      try {
        const refusal = unstorable.get(item.destKey);
        if (refusal) throw refusal;
        if (options.noClobber && (await dest.stat(item.destKey, signal ? { signal } : {})) !== undefined)
          throw new DestinationExists(dest, item.destKey);
        await withRetry(
          async () => {
            throwIfAborted(signal);
            snapshot.bytes -= counted;
            counted = 0;
            const onProgress = (sent: number): void => {
              snapshot.bytes += sent - counted;
              counted = sent;
              onEvent?.({ type: 'progress', snapshot: snap() });
            };
            if (download)
              await download(source, item, onProgress, (error, attempt) =>
                onEvent?.({ type: 'retry', key: item.sourceKey, attempt, error }),
              );
            else
              await copyOne(source, dest, item, {
                serverCopy,
                withSha256,
                sha256InMemoryMaxBytes: options.sha256InMemoryMaxBytes,
                noClobber: options.noClobber === true,
                signal,
                onProgress,
              });
            if (counted !== item.size) onProgress(item.size);
          },
          {
            // The download engine retries each range itself.
            attempts: download ? 1 : (options.attempts ?? 3),
            ...(signal ? { signal } : {}),
            onRetry: (error, attempt) =>
              onEvent?.({ type: 'retry', key: item.sourceKey, attempt, error: toWharfError(error) }),
          },
        );
        snapshot.files += 1;
        result.done.push({ ...item });
        result.bytes += item.size;
        onEvent?.({
          type: 'file-done',
          key: item.sourceKey,
          destKey: item.destKey,
          size: item.size,
          snapshot: snap(),
        });
      } catch (error) {
        if (isDestinationExists(error)) {
          snapshot.bytes -= counted;
          snapshot.totalBytes = (snapshot.totalBytes ?? 0) - item.size;
          snapshot.totalFiles = (snapshot.totalFiles ?? 0) - 1;
          result.skipped.push({ ...item });
          onEvent?.({
            type: 'file-skipped',
            key: item.sourceKey,
            destKey: item.destKey,
            size: item.size,
            snapshot: snap(),
          });
          return;
        }
        const wharfError = isWharfError(error) ? error : toWharfError(error);
        if (wharfError.code === 'ABORTED' || wharfError.affectsAll) throw wharfError;
        // Listing and writing both refused, and nothing written yet: these credentials will not do.
        if (listDenied && wharfError.code === 'ACCESS_DENIED' && result.done.length === 0) throw wharfError;
        snapshot.bytes -= counted;
        snapshot.failedFiles += 1;
        result.failed.push({ ...item, error: wharfError });
        onEvent?.({
          type: 'file-failed',
          key: item.sourceKey,
          destKey: item.destKey,
          error: wharfError,
          snapshot: snap(),
        });
      }
    },
    signal,
  ).finally(() => download?.finish());
  return result;
}

/**
 * One listing of the destination before many writes: rejected credentials, a missing bucket or an endpoint
 * that cannot be reached then fail the copy once, with one message, instead of once per object. A listing
 * refused with a plain AccessDenied may not stop writes (a put-only bucket policy), so the copy goes on;
 * returns true then, and the copy stops at its first refused write if nothing was written before it (Ceph RGW
 * answers a request signed with a wrong secret with exactly that AccessDenied).
 */
async function probeDestination(dest: StorageDriver, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    for await (const _ of dest.list('', signal ? { signal } : {})) break;
    return false;
  } catch (error) {
    const wharfError = toWharfError(error);
    if (wharfError.code === 'ABORTED' || wharfError.affectsAll) throw wharfError;
    return wharfError.code === 'ACCESS_DENIED';
  }
}

/**
 * Before a download into a local folder writes anything: refuses, in one line, a plan that cannot fit on the
 * folder's disk (the check fetch makes), counting what the copy adds (see spaceNeededFor). With `noClobber`, an
 * existing file needs nothing.
 */
async function assertRoomFor(plan: CopyPlan, dest: StorageDriver, options: CopyOptions): Promise<void> {
  const localPath = dest.localPath?.bind(dest);
  if (!localPath) return;
  const root = localPath('');
  const needed = await spaceNeededFor(
    plan.items.map((item) => ({ key: item.sourceKey, size: item.size, path: localPath(item.destKey) })),
    {
      partialDir: join(root, STAGING_FOLDER),
      rangeThreshold: rangeThresholdFor(options.partSize ?? RANGED_DOWNLOAD_DEFAULTS.partSize),
      concurrency: options.concurrency ?? 32,
      keepExisting: options.noClobber,
      signal: options.signal,
    },
  );
  await assertFreeSpace(root, needed, {
    what: 'the copy',
    outcome: 'nothing was copied',
    hint: `free some space or copy to a folder on another disk${plan.items.length > 1 ? ', or copy a narrower prefix' : ''}`,
  });
}

type Downloader = ((
  source: StorageDriver,
  item: CopyItem,
  onProgress: (received: number) => void,
  onRetry: (error: WharfError, attempt: number) => void,
) => Promise<void>) & { finish(): Promise<void> };

/**
 * Downloads into the files of a local-folder store, or undefined when `dest` is not one. Temporary and partial
 * files live in the hidden staging folder at the store's root (same file system, so renames are atomic; the
 * local driver never lists it), in a folder of this run's own (copy-staging.ts); `finish` removes what is left
 * of it once nothing is left to resume.
 */
function downloaderInto(dest: StorageDriver, options: CopyOptions): Downloader | undefined {
  const localPath = dest.localPath?.bind(dest);
  if (!localPath) return undefined;
  const staging = join(localPath(''), STAGING_FOLDER);
  const partSize = options.partSize ?? RANGED_DOWNLOAD_DEFAULTS.partSize;
  const partConcurrency = options.partConcurrency ?? RANGED_DOWNLOAD_DEFAULTS.partConcurrency;
  const limiter = new RequestLimiter(Math.max(options.concurrency ?? 32, partConcurrency));
  // Never write through a symlinked folder to somewhere outside the destination folder.
  const ensureDir = memoisedMakeDir({ inside: localPath('') });
  let opened: Promise<RunStaging> | undefined;
  const run = async (
    source: StorageDriver,
    item: CopyItem,
    onProgress: (received: number) => void,
    onRetry: (error: WharfError, attempt: number) => void,
  ): Promise<void> => {
    // A staging folder that cannot be made fails every object the same way: said once.
    opened ??= openRunStaging(staging, ensureDir).catch((error: unknown) => {
      throw affectingAll(toWharfError(error));
    });
    const { tempDir, partialDir } = await opened;
    let received = 0;
    try {
      await downloadListed(
        {
          key: item.sourceKey,
          size: item.size,
          ...(item.etag !== undefined ? { etag: item.etag } : {}),
          ...(item.lastModified ? { lastModified: item.lastModified } : {}),
        },
        {
          store: source,
          finalPath: localPath(item.destKey),
          tempDir,
          partialDir,
          limiter,
          partSize,
          partConcurrency,
          rangeThreshold: rangeThresholdFor(partSize),
          attempts: options.attempts ?? 3,
          ...(options.signal ? { signal: options.signal } : {}),
          onBytes: (delta) => {
            received += delta;
            onProgress(received);
          },
          onRetry,
          ensureDir,
          ...(options.noClobber ? { beforeRename: () => refuseExisting(dest, item.destKey) } : {}),
        },
      );
    } catch (error) {
      const wharfError = toWharfError(error);
      throw WHOLE_DISK_ERRORS.has(nodeCodeOf(wharfError.cause) ?? '') ? affectingAll(wharfError) : wharfError;
    }
  };
  return Object.assign(run, {
    finish: async () => (await opened?.catch(() => undefined))?.finish(),
  });
}

/** Local errors that no other object of the copy would escape: a full or read-only disk. */
const WHOLE_DISK_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

function nodeCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function affectingAll(error: WharfError): WharfError {
  if (error.affectsAll) return error;
  return new WharfError(error.code, error.message, {
    cause: error.cause ?? error,
    affectsAll: true,
    ...(error.hint ? { hint: error.hint } : {}),
  });
}

/**
 * The server-side copy from `source` into `dest`, if there is one: within one store, or between two stores of one
 * server (S3 buckets on one endpoint with the same credentials).
 */
function serverCopier(source: StorageDriver, dest: StorageDriver): CopyFunction | undefined {
  if (!dest.capabilities.serverSideCopy) return undefined;
  if (source === dest) return dest.copy?.bind(dest);
  return dest.copierFrom?.(source);
}

/** Thrown where `noClobber` finds the destination taken; the object is then reported as skipped. */
class DestinationExists extends WharfError {
  constructor(dest: StorageDriver, key: string) {
    super('PRECONDITION_FAILED', `${dest.localPath?.(key) ?? `${dest.name}/${key}`} exists; kept`);
  }
}

/** The download engine passes what `beforeRename` throws on as the cause of its own error. */
function isDestinationExists(error: unknown): boolean {
  return (
    error instanceof DestinationExists ||
    (error instanceof WharfError && error.cause instanceof DestinationExists)
  );
}

async function refuseExisting(dest: StorageDriver, key: string): Promise<void> {
  if ((await dest.stat(key)) !== undefined) throw new DestinationExists(dest, key);
}

interface CopyOneOptions {
  serverCopy: CopyFunction | undefined;
  /** Store the SHA-256 of the (local) source as `wharf-sha256`. */
  withSha256: boolean;
  sha256InMemoryMaxBytes: number | undefined;
  /** Write only if nothing is at the destination (DestinationExists otherwise). */
  noClobber: boolean;
  signal: AbortSignal | undefined;
  onProgress: (sent: number) => void;
}

async function copyOne(
  source: StorageDriver,
  dest: StorageDriver,
  item: CopyItem,
  c: CopyOneOptions,
): Promise<ObjectInfo> {
  const o = c.signal ? { signal: c.signal } : {};
  if (c.serverCopy) return c.serverCopy(item.sourceKey, item.destKey, o);
  const condition = c.noClobber ? { ifNoneMatch: '*' as const } : {};
  const kept = (error: unknown): never => {
    if (c.noClobber && isWharfError(error) && error.code === 'PRECONDITION_FAILED')
      throw new DestinationExists(dest, item.destKey);
    throw error;
  };
  if (c.withSha256) {
    return uploadWithSha256(
      source,
      item.sourceKey,
      item.size,
      dest,
      item.destKey,
      { ...o, ...condition, onProgress: c.onProgress, contentType: uploadContentTypeFor(item.sourceKey) },
      c.sha256InMemoryMaxBytes,
    ).catch(kept);
  }
  let info: ReadInfo | undefined;
  const body = await source.read(item.sourceKey, { ...o, onInfo: (i) => (info = i) });
  // What a server-side copy keeps, kept here too: the source's Content-Type and user metadata (a local file has
  // neither: its type comes from its name, as aws-cli and rclone give one).
  const contentType = info?.contentType ?? uploadContentTypeFor(item.sourceKey);
  const metadata =
    info?.metadata !== undefined && Object.keys(info.metadata).length > 0 ? info.metadata : undefined;
  try {
    return await dest
      .write(item.destKey, body, {
        ...o,
        ...condition,
        size: item.size,
        onProgress: c.onProgress,
        contentType,
        ...(metadata !== undefined ? { metadata } : {}),
      })
      .catch(kept);
  } finally {
    body.destroy();
  }
}
