import { setMaxListeners } from 'node:events';
import { constants } from 'node:fs';
import { access, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { emptySnapshot, type ProgressListener, type ProgressSnapshot } from '../core/events.js';
import {
  aboutSubject,
  InvalidKeyError,
  isWharfError,
  NotFoundError,
  toWharfError,
  UsageError,
  WharfError,
} from '../core/errors.js';
import { asFolderPrefix } from '../core/keys.js';
import { formatLocation, parseLocation, type Location } from '../core/location.js';
import { runPool } from '../core/pool.js';
import { formatBytes } from '../core/units.js';
import { openStorageRoot, s3EndpointFor, type OpenStorageOptions } from '../storage/registry.js';
import type { ObjectInfo, StorageDriver } from '../storage/types.js';
import { downloadListed, partialBaseName, rangeThresholdFor } from '../transfer/download/download-file.js';
import { assertFreeSpace, spaceNeededFor } from '../transfer/download/free-space.js';
import { RequestLimiter } from '../transfer/download/request-limiter.js';
import { CacheIndex, type IndexEntry } from './cache-index.js';
import { FETCH_DEFAULTS } from './fetch-defaults.js';
import { assertValidDatasetId, datasetFingerprint } from './dataset-id.js';
import { lockFolder } from '../core/folder-lock.js';
import { adoptLocalFile, decideFetch, type FetchReason } from './fetch-decision.js';
import type { FetchEvent } from './fetch-events.js';
import { instrumentStore, type RequestCounts } from './instrumented-store.js';
import { datasetPaths, localPathOf } from './local-paths.js';
import { deleteFromDatasetFolder, filesOutsideSelection } from './prune-dataset-folder.js';
import { createRoomMaker } from './make-room.js';
import { selectObjects, type SelectedObject } from './select-objects.js';
import { orphanMetaWarning } from './meta-files.js';
import { checkTimestampSpread } from './timestamp-spread.js';
import { makeDir, memoisedMakeDir } from '../core/make-dir.js';

/**
 * Requests at once whose body streams through write buffers (byte ranges, objects above 256 KiB): 64 x 8 MiB
 * ranges keep any link busy, and this bounds their memory (docs/fetch.md, Bounds) whatever --concurrency is.
 */
export const STREAMED_IN_FLIGHT = 64;

export { FETCH_DEFAULTS };

export interface FetchOptions {
  /** The dataset: `s3://bucket/prefix`, `file:///dir` or a local folder path. A prefix is a folder prefix. */
  source: string | Location;
  /** Cache root; the dataset lands in `<dest>/<datasetId>/`. Default `./data`. */
  dest?: string | undefined;
  /** Glob patterns relative to the prefix (`*` within a folder, `**` across); several are OR'ed. Default: all. */
  include?: string[] | undefined;
  /** Glob patterns that exclude keys even if included. */
  exclude?: string[] | undefined;
  /** Folder name under `dest`. Default: a fingerprint of endpoint, store, prefix, patterns, manifest, metaFiles. */
  datasetId?: string | undefined;
  /** Key (relative to the prefix) of a manifest object listing the dataset's files; used when it exists. */
  manifest?: string | undefined;
  /** Only files with a `.<name>.meta` companion are ready to fetch. */
  metaFiles?: boolean | undefined;
  /** Refuse to fetch when the selected objects' LastModified times span more than this many hours. */
  timestampToleranceHours?: number | undefined;
  /** Files downloaded at once; also the cap on requests in flight. Default 256 (FETCH_DEFAULTS). */
  concurrency?: number | undefined;
  /** Ranged GETs in flight per large object. Default 8. */
  partConcurrency?: number | undefined;
  /** Bytes per ranged GET; objects above twice this size are fetched in ranges. Default 8 MiB. */
  partSize?: number | undefined;
  /** Download everything again. */
  force?: boolean | undefined;
  /** Re-hash local files and repair any that do not match what was downloaded. */
  verify?: boolean | undefined;
  /** Delete local files in the dataset folder that are not (any more) in the selection. */
  delete?: boolean | undefined;
  /** Plan only: list, select and compare, but write nothing. */
  dryRun?: boolean | undefined;
  /** Attempts per file or byte range for transient failures. Default 5. */
  attempts?: number | undefined;
  /** How to open S3 locations (endpoint, credentials) and resolve relative paths. */
  storage?: OpenStorageOptions | undefined;
  /** An already open store for the source's root (bucket or folder); it is not closed afterwards. */
  store?: StorageDriver | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ProgressListener<FetchEvent> | undefined;
}

export type FetchStatus = 'downloaded' | 'skipped' | 'failed' | 'planned';

export interface FetchedFile {
  /** Object key in the source store. */
  key: string;
  /** Absolute local path. */
  path: string;
  size: number;
  status: FetchStatus;
  /** Why it was downloaded (or planned), or `up-to-date` when skipped. */
  reason?: FetchReason;
  /** Checks the download passed (`size`, `md5`, `etag-md5-parts`, `sha256`, `sha1`). */
  verified?: string[];
  error?: WharfError;
}

export interface FetchResult {
  datasetId: string;
  datasetDir: string;
  /** Every selected (or refused) object, in selection order. */
  files: FetchedFile[];
  /** Local paths deleted (or, in a dry run, that would be) by `delete`. */
  deleted: string[];
  stats: {
    listed: number;
    /** Objects the selection matched, those refused for their key included (they count as failed). */
    selected: number;
    downloaded: number;
    skipped: number;
    failed: number;
    bytes: number;
    resumedBytes: number;
    requests: RequestCounts;
    manifestUsed: boolean;
    seconds: number;
  };
}

/**
 * Pulls a dataset into a local cache folder: lists the prefix completely, selects by manifest, `.meta`
 * companions and globs, checks the timestamp spread, then downloads only new or changed objects (parallel
 * files, parallel byte ranges for large ones, each verified and renamed into place), records them in the
 * folder's index, and optionally deletes local files that left the selection.
 *
 * Per-file failures are returned in `files` (status `failed`), never thrown; setup failures throw:
 * UsageError (bad options), NotFoundError (bucket missing, or nothing matches), PreconditionFailedError
 * (timestamp spread), ConflictError (another fetch holds the folder), AbortedError.
 */
export async function fetchDataset(options: FetchOptions): Promise<FetchResult> {
  const started = Date.now();
  const settings = validate(options);
  const { signal, onEvent } = options;
  // Every request in flight listens for abort on this signal; dozens at once are expected, not a leak.
  if (signal) setMaxListeners(0, signal);
  const location =
    typeof options.source === 'string' ? parseLocation(options.source, options.storage?.cwd) : options.source;
  const prefix = location.kind === 's3' ? asFolderPrefix(location.key) : '';
  const root: Location =
    location.kind === 's3' ? { ...location, key: '' } : { ...location, trailingSlash: true };
  const display = (key: string): string => formatLocation(root, key);

  const destDir = resolve(options.storage?.cwd ?? process.cwd(), options.dest ?? FETCH_DEFAULTS.dest);
  // The endpoint as the driver resolves it (option, environment or the profile's endpoint_url): two stores
  // with the same bucket name must never share a cache folder.
  const endpoint =
    options.datasetId === undefined && location.kind === 's3'
      ? await s3EndpointFor(location.bucket, options.storage)
      : undefined;
  const datasetId =
    options.datasetId ??
    datasetFingerprint({
      ...(endpoint !== undefined ? { endpoint } : {}),
      store: location.kind === 's3' ? `s3://${location.bucket}` : location.path,
      prefix,
      include: options.include ?? [],
      exclude: options.exclude ?? [],
      ...(options.manifest !== undefined ? { manifest: options.manifest } : {}),
      metaFiles: options.metaFiles ?? false,
    });
  assertValidDatasetId(datasetId);
  const paths = datasetPaths(destDir, datasetId);
  assertDestOutsideSource(location, paths.datasetDir);
  const destStats = await stat(destDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOTDIR') return undefined;
    throw new UsageError(`the destination ${destDir} is below a file: a folder on its path is a file`, {
      hint: 'name a folder (it is created if missing) as DEST',
    });
  });
  if (destStats && !destStats.isDirectory()) {
    throw new UsageError(`the destination ${destDir} is a file; fetch puts the dataset in a folder there`, {
      hint: 'name a folder (it is created if missing) as DEST',
    });
  }

  const counts: RequestCounts = { listings: 0, reads: 0, stats: 0 };
  const opened = options.store ?? (await openStorageRoot(root, options.storage ?? {}));
  const store = instrumentStore(opened, counts, settings.attempts);
  try {
    const selection = await selectObjects(store, {
      prefix,
      ...(options.include ? { include: options.include } : {}),
      ...(options.exclude ? { exclude: options.exclude } : {}),
      ...(options.manifest !== undefined ? { manifest: options.manifest } : {}),
      metaFiles: options.metaFiles ?? false,
      ...(location.kind === 's3' ? { bucket: location.bucket } : {}),
      display,
      ...(signal ? { signal } : {}),
    });
    if (selection.objects.length === 0 && selection.refused.length === 0) {
      // `fetch s3://b/data/report.csv`: the prefix names one object, not a folder of them.
      const single =
        selection.listed === 0 && prefix.endsWith('/') ? await store.stat(prefix.slice(0, -1)) : undefined;
      throw new NotFoundError(
        single
          ? `${display(prefix.slice(0, -1))} is one object, not a folder of objects (a prefix)`
          : `no objects match under ${display(prefix)} (${selection.listed} listed${describeSelection(options)})`,
        {
          hint: single
            ? 'fetch takes the prefix that holds it (with --include to pick it); to copy one object, use wharf cp'
            : 'check the prefix and patterns with `wharf ls -r`; patterns are relative to the prefix, use ** to cross folders',
        },
      );
    }
    if (selection.skippedState > 0) {
      onEvent?.({
        type: 'warning',
        message: `${selection.skippedState} object(s) under ${display(`${prefix}.wharf/`)} skipped: that folder holds Wharf's own state (a sync remote's index, or a fetched dataset's cache copied back), not data`,
      });
    }
    if (selection.orphanMetaFiles.length > 0) {
      onEvent?.({ type: 'warning', message: orphanMetaWarning(selection.orphanMetaFiles, display) });
    }
    if (options.timestampToleranceHours !== undefined) {
      checkTimestampSpread(selection.objects, options.timestampToleranceHours, display);
    }

    const files: FetchedFile[] = [];
    for (const refused of selection.refused) {
      files.push({
        key: refused.key,
        path: '',
        size: 0,
        status: 'failed',
        error: new InvalidKeyError(refused.key, refused.reason, {
          hint: refused.hint ?? 'nothing was written for it; rename the object in the bucket to fetch it',
        }),
      });
    }

    const index = await CacheIndex.load(paths.stateDir, display(prefix));
    if (index.damaged) {
      onEvent?.({
        type: 'warning',
        message: `the cache index in ${paths.stateDir} was damaged and is rebuilt: files already in the folder are checked against their objects' ETags, not trusted`,
      });
    }
    const plan = await decideAll(selection.objects, index, paths.datasetDir, options, signal);
    const keep = new Set(selection.objects.map((o) => o.relativeKey));
    const toDelete = options.delete ? await filesOutsideSelection(paths.datasetDir, keep) : [];
    const toFetch = plan.filter((p) => p.reason !== 'up-to-date' && p.reason !== 'found-locally');
    const snapshot: ProgressSnapshot = {
      ...emptySnapshot(),
      totalBytes: toFetch.reduce((n, p) => n + p.object.size, 0),
      totalFiles: toFetch.length,
    };
    const snap = (): ProgressSnapshot => ({ ...snapshot });
    onEvent?.({
      type: 'planned',
      listed: selection.listed,
      selected: selection.objects.length + selection.refused.length,
      toFetch: toFetch.length,
      toDelete: toDelete.length,
      snapshot: snap(),
    });

    let resumedBytes = 0;
    const byKey = new Map<string, FetchedFile>();
    for (const p of plan) {
      const file: FetchedFile = {
        key: p.object.key,
        path: localPathOf(paths.datasetDir, p.object.relativeKey),
        size: p.object.size,
        status: p.reason === 'up-to-date' || p.reason === 'found-locally' ? 'skipped' : 'planned',
        reason: p.reason,
      };
      byKey.set(p.object.key, file);
    }
    const result = (): FetchResult => {
      const ordered = [...files, ...selection.objects.map((o) => byKey.get(o.key) as FetchedFile)];
      return {
        datasetId,
        datasetDir: paths.datasetDir,
        files: ordered,
        deleted: toDelete.map((r) => localPathOf(paths.datasetDir, r)),
        stats: {
          listed: selection.listed,
          selected: selection.objects.length + selection.refused.length,
          downloaded: ordered.filter((f) => f.status === 'downloaded').length,
          skipped: ordered.filter((f) => f.status === 'skipped').length,
          failed: ordered.filter((f) => f.status === 'failed').length,
          bytes: snapshot.bytes,
          resumedBytes,
          requests: { ...counts },
          manifestUsed: selection.manifestUsed,
          seconds: (Date.now() - started) / 1000,
        },
      };
    };
    if (options.dryRun) return result();
    // A cache on a read-only disk (a shared, mounted copy) that is up to date: nothing to write, no lock to take.
    const nothingToWrite = toFetch.length === 0 && toDelete.length === 0 && !plan.some((p) => p.adopted);
    if (nothingToWrite && !index.damaged && (await onReadOnlyDisk(paths.stateDir))) return result();

    await makeDir(paths.tempDir);
    await makeDir(paths.partialDir);
    const unlock = await lockFolder(paths.stateDir, paths.datasetDir, 'wharf fetch');
    try {
      await Promise.all(plan.flatMap((p) => (p.adopted ? [index.record(p.adopted)] : [])));
      await removeLeftovers(paths);
      // Files --delete removes are not counted as freed: they go only after every download.
      const needed = await spaceNeededFor(
        toFetch.map(({ object }) => ({
          key: object.key,
          size: object.size,
          path: localPathOf(paths.datasetDir, object.relativeKey),
        })),
        {
          partialDir: paths.partialDir,
          rangeThreshold: rangeThresholdFor(settings.partSize),
          concurrency: settings.concurrency,
          signal,
        },
      );
      await assertFreeSpace(paths.datasetDir, needed, {
        what: 'the download',
        hint: 'free some space, fetch to another DEST folder, or narrow the selection with --include',
      });
      // Never write through a symlinked folder to somewhere outside the dataset folder.
      const ensureDir = memoisedMakeDir({ inside: paths.datasetDir });
      const limiter = new RequestLimiter(Math.max(settings.concurrency, settings.partConcurrency));
      const streamLimiter = new RequestLimiter(Math.min(limiter.limit, STREAMED_IN_FLIGHT));
      const makeRoom = createRoomMaker({
        datasetDir: paths.datasetDir,
        keep,
        deleteOthers: options.delete ?? false,
      });
      await runPool(
        toFetch,
        settings.concurrency,
        async ({ object }) => {
          const file = byKey.get(object.key) as FetchedFile;
          try {
            await makeRoom(object.relativeKey);
            const downloaded = await downloadPinned(store, object, file.path, {
              paths,
              limiter,
              streamLimiter,
              ensureDir,
              settings,
              signal,
              onBytes: (delta) => {
                snapshot.bytes += delta;
                onEvent?.({ type: 'progress', snapshot: snap() });
              },
              onRetry: (error, attempt) => onEvent?.({ type: 'retry', key: object.key, attempt, error }),
            });
            resumedBytes += downloaded.resumedBytes;
            await index.record({
              path: object.relativeKey,
              key: object.key,
              size: downloaded.size,
              ...(downloaded.etag !== undefined ? { etag: downloaded.etag } : {}),
              ...(downloaded.lastModified ? { lastModified: downloaded.lastModified.toISOString() } : {}),
              localSize: downloaded.size,
              localMtimeMs: downloaded.localMtimeMs,
              digest: downloaded.digest,
            });
            file.status = 'downloaded';
            file.size = downloaded.size;
            file.verified = downloaded.verified;
            snapshot.files += 1;
            onEvent?.({ type: 'file-done', file: { ...file }, snapshot: snap() });
          } catch (error) {
            const wharfError = describeFailure(error, display(object.key), file.path);
            if (wharfError.code === 'ABORTED') throw wharfError;
            file.status = 'failed';
            file.error = wharfError;
            snapshot.failedFiles += 1;
            onEvent?.({ type: 'file-failed', file: { ...file }, error: wharfError, snapshot: snap() });
          }
        },
        signal,
      );
      // Partial downloads no run will resume (the object was since fetched whole, left the selection, or
      // changed): only those of this run's failures are kept. A run that was stopped never gets here.
      const failedKeys = [...byKey.values()].filter((f) => f.status === 'failed').map((f) => f.key);
      await removeAbandonedPartials(paths.partialDir, failedKeys);
      if (toDelete.length > 0) {
        await deleteFromDatasetFolder(paths.datasetDir, toDelete);
        for (const relative of toDelete) await index.remove(relative);
        onEvent?.({ type: 'deleted', count: toDelete.length });
      }
      await index.save();
      return result();
    } finally {
      await index.close();
      await unlock();
    }
  } finally {
    if (!options.store) await opened.close?.();
  }
}

interface Settings {
  concurrency: number;
  partConcurrency: number;
  partSize: number;
  attempts: number;
}

function validate(options: FetchOptions): Settings {
  const settings: Settings = {
    concurrency: options.concurrency ?? FETCH_DEFAULTS.concurrency,
    partConcurrency: options.partConcurrency ?? FETCH_DEFAULTS.partConcurrency,
    partSize: options.partSize ?? FETCH_DEFAULTS.partSize,
    attempts: options.attempts ?? FETCH_DEFAULTS.attempts,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new UsageError(`${flag} must be a positive integer, got ${String(value)}`);
    }
  }
  if (settings.partSize < 64 * 1024) {
    throw new UsageError(`part size must be at least 64 KiB, got ${formatBytes(settings.partSize)}`);
  }
  if (options.force && options.verify) {
    throw new UsageError('--force and --verify do not go together: --force downloads everything anyway');
  }
  return settings;
}

function describeSelection(options: FetchOptions): string {
  const parts: string[] = [];
  if (options.include?.length) parts.push(`include ${options.include.join(', ')}`);
  if (options.exclude?.length) parts.push(`exclude ${options.exclude.join(', ')}`);
  if (options.manifest !== undefined) parts.push(`manifest ${options.manifest}`);
  if (options.metaFiles) parts.push('only files with .meta companions');
  return parts.length ? `; ${parts.join('; ')}` : '';
}

interface Decision {
  object: SelectedObject;
  reason: FetchReason;
  /** For 'found-locally': the cache-index entry to record. */
  adopted?: IndexEntry;
}

async function decideAll(
  objects: SelectedObject[],
  index: CacheIndex,
  datasetDir: string,
  options: FetchOptions,
  signal: AbortSignal | undefined,
): Promise<Decision[]> {
  const decisions = new Array<Decision>(objects.length);
  await runPool(
    objects,
    64,
    async (object, i) => {
      const localPath = localPathOf(datasetDir, object.relativeKey);
      const reason = await decideFetch(object, index.get(object.relativeKey), localPath, {
        force: options.force ?? false,
        verify: options.verify ?? false,
      });
      // A file the index does not know may already be the object (a lost index, a folder aws-cli filled):
      // reading it is cheaper than downloading it again.
      const found =
        reason === 'new' ? await adoptLocalFile(object, object.relativeKey, localPath) : undefined;
      decisions[i] = found ? { object, reason: 'found-locally', adopted: found } : { object, reason };
    },
    signal,
  );
  return decisions;
}

interface PinnedOptions {
  paths: ReturnType<typeof datasetPaths>;
  limiter: RequestLimiter;
  streamLimiter: RequestLimiter;
  settings: Settings;
  signal: AbortSignal | undefined;
  onBytes: (delta: number) => void;
  onRetry: (error: WharfError, attempt: number) => void;
  ensureDir: (dir: string) => Promise<void>;
}

/** Downloads one object as listed (or its newer version, once: see downloadListed) into the dataset folder. */
function downloadPinned(
  store: StorageDriver,
  object: ObjectInfo,
  finalPath: string,
  o: PinnedOptions,
): ReturnType<typeof downloadListed> {
  return downloadListed(object, {
    store,
    finalPath,
    tempDir: o.paths.tempDir,
    partialDir: o.paths.partialDir,
    limiter: o.limiter,
    streamLimiter: o.streamLimiter,
    partSize: o.settings.partSize,
    partConcurrency: o.settings.partConcurrency,
    rangeThreshold: rangeThresholdFor(o.settings.partSize),
    attempts: o.settings.attempts,
    ...(o.signal ? { signal: o.signal } : {}),
    onBytes: o.onBytes,
    onRetry: o.onRetry,
    ensureDir: o.ensureDir,
  });
}

/** Names the object in the message and turns local file-system errors into something a user can act on. */
function describeFailure(error: unknown, what: string, path: string): WharfError {
  const e = isWharfError(error) ? error : toWharfError(error);
  if (e.code === 'ABORTED') return e;
  const nodeCode = (e.cause as NodeJS.ErrnoException | undefined)?.code;
  const localProblem: Record<string, string> = {
    ENAMETOOLONG: `its local name ${path} is too long for this file system`,
    EISDIR: `${path} is a folder locally (another key uses it as a folder)`,
    ENOTDIR: `a parent of ${path} is a file locally (another key uses that name as a file)`,
    EILSEQ: `its name is not valid on this file system`,
    EINVAL: `its name is not valid on this file system`,
  };
  const problem = nodeCode ? localProblem[nodeCode] : undefined;
  if (problem) return new WharfError('INVALID_KEY', `${what}: ${problem}`, { cause: e });
  // The object was listed, so a NOT_FOUND for it (not for the bucket) means it went away since.
  if (e.code === 'NOT_FOUND' && !e.affectsAll) {
    return new NotFoundError(`${what} was deleted after it was listed`, {
      cause: e,
      hint: 'run the fetch again: the next listing will not have it',
    });
  }
  return new WharfError(e.code, aboutSubject(what, e.message), {
    cause: e,
    ...(e.hint ? { hint: e.hint } : {}),
  });
}

/**
 * Temporary files of an earlier run that was killed (we hold the lock, so no live run owns them): whole-file
 * temps, and state files caught between write and rename. Resumable partials stay.
 */
async function removeLeftovers(paths: ReturnType<typeof datasetPaths>): Promise<void> {
  for (const dir of [paths.tempDir, paths.partialDir]) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
    }
  }
}

async function removeAbandonedPartials(partialDir: string, keep: readonly string[]): Promise<void> {
  const kept = new Set(keep.map(partialBaseName));
  for (const name of await readdir(partialDir).catch(() => [] as string[])) {
    const base = name.replace(/\.(part|json)$/, '');
    if (base !== name && !kept.has(base)) await rm(join(partialDir, name), { force: true });
  }
}

/** True when `dir` exists on a file system mounted read-only. */
async function onReadOnlyDisk(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK).then(
    () => false,
    (error: NodeJS.ErrnoException) => error.code === 'EROFS',
  );
}

/**
 * A local source folder must not hold the dataset folder: each run would list the last run's copy and copy
 * it again, one level deeper (rclone refuses overlapping remotes for the same reason).
 */
function assertDestOutsideSource(location: Location, datasetDir: string): void {
  if (location.kind === 's3') return;
  const source = resolve(location.path);
  if (datasetDir === source || datasetDir.startsWith(source.endsWith(sep) ? source : source + sep)) {
    throw new UsageError(
      `the dataset folder ${datasetDir} is inside the source folder ${source}: each fetch would copy the last one's copy again`,
      { hint: 'choose a DEST outside the source folder' },
    );
  }
}
