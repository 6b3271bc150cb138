import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { NotFoundError, UsageError, toWharfError } from '../core/errors.js';
import type { ProgressSnapshot } from '../core/events.js';
import { asFolderPrefix, assertSafeRelativeKey } from '../core/keys.js';
import type { LocalLocation } from '../core/location.js';
import { assertValidDatasetId } from '../fetch/dataset-id.js';
import { fetchDataset } from '../fetch/fetch-dataset.js';
import type { FetchEvent } from '../fetch/fetch-events.js';
import { STATE_FOLDER } from '../fetch/local-paths.js';
import { openLocalDriver } from '../storage/local/local-driver.js';
import { PrefixedDriver } from '../storage/prefixed-driver.js';
import type { ListOptions, ObjectInfo, StorageDriver, WriteOptions } from '../storage/types.js';
import { copyObjects, planTreeCopy, type CopyPlan } from '../transfer/copy-objects.js';
import { SHA256_METADATA_KEY } from '../transfer/download/expectations.js';
import { DatasetFilesDriver } from './dataset-files-driver.js';
import { TransferFailedError, type FailedTransfer } from './errors.js';
import { HttpClient } from './http.js';
import type { DatasetCredentials } from './types.js';

/** The service's copy of the record at the root of every dataset folder: never transferred. */
const METADATA_FILE = 'metadata.json';

/** Through the datastore's files routes, an upload reads a file up to this size once, into memory. */
const STREAMED_HASH_IN_MEMORY_MAX_BYTES = 1024 * 1024;

/** What a transfer reports while it runs (the CLI renders a progress bar from `progress`). */
export type TransferEvent =
  | { type: 'progress'; snapshot: ProgressSnapshot }
  | { type: 'file-done'; path: string; size: number; snapshot: ProgressSnapshot }
  | { type: 'file-failed'; path: string; error: Error; snapshot: ProgressSnapshot }
  | { type: 'retry'; path: string; attempt: number; error: Error };

export interface TransferOptions {
  /** Files transferred at once. Default 16. */
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: TransferEvent) => void) | undefined;
}

export interface DownloadedFile {
  /** Path inside the dataset. */
  path: string;
  /** Absolute local path. */
  localPath: string;
  size: number;
  /** `skipped`: the local file is already this version (an earlier download into the same folder). */
  status: 'downloaded' | 'skipped';
  /** Checks the download passed (`size`, `md5`, `sha256`, …). */
  verified?: string[];
}

export interface DownloadResult {
  /** The local folder the files went to. */
  dest: string;
  files: DownloadedFile[];
  failed: FailedTransfer[];
  bytes: number;
}

export interface UploadedFile {
  /** Path inside the dataset. */
  path: string;
  size: number;
  /** Hex SHA-256 of the content, sent along and verified by the store side (wharf) or kept as metadata (S3). */
  sha256: string;
}

export interface UploadResult {
  uploaded: UploadedFile[];
  /** Local files not uploaded, with why (Wharf's `.wharf/` state folder, a root `metadata.json`). */
  skipped: { path: string; reason: string }[];
  failed: FailedTransfer[];
  bytes: number;
}

/**
 * A StorageDriver rooted at the dataset's folder, from scoped credentials: the S3 driver with the temporary
 * keys (loaded on first use) under the credentials' prefix, or the datastore's `/files` routes with the dataset
 * token (on `http`'s endpoint: the credentials' `endpoint` is the origin the server saw, which behind a proxy
 * may not be reachable from here).
 */
export async function openDatasetDriver(
  credentials: DatasetCredentials,
  http: HttpClient,
): Promise<StorageDriver> {
  if (credentials.kind === 's3') {
    const { openS3Driver } = await import('../storage/s3/s3-driver.js');
    const s3 = await openS3Driver({
      bucket: credentials.bucket,
      region: credentials.region,
      ...(credentials.endpoint ? { endpoint: credentials.endpoint } : {}),
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
        expiration: new Date(credentials.expiration),
      },
    });
    return new PrefixedDriver(s3, asFolderPrefix(credentials.prefix));
  }
  if (credentials.kind === 'wharf') {
    const scoped = new HttpClient({ endpoint: http.endpoint, token: credentials.token, fetch: http.fetch });
    return new DatasetFilesDriver(scoped, credentials.datasetId);
  }
  throw new UsageError(
    `unknown credentials kind ${JSON.stringify((credentials as { kind: unknown }).kind)}`,
    {
      hint: 'this SDK is older than the server: update wharf',
    },
  );
}

/** What `downloadSpecificFile` takes for a path: everything, one file, a folder with or without itself. */
export type Selection =
  | { kind: 'all' }
  | { kind: 'file'; path: string }
  | { kind: 'folder'; path: string }
  | { kind: 'contents'; path: string };

/**
 * Parses a dataset path: '' '/' or '.' → everything; `a/b/` → the contents of folder a/b; `a/b` → the file a/b if
 * there is one, else the folder a/b itself. A leading '/' is ignored; '..', '.' and empty segments are refused.
 */
export async function resolveSelection(driver: StorageDriver, input: string, signal?: AbortSignal) {
  const trimmed = input.replace(/^\/+/, '');
  if (trimmed === '' || trimmed === '.' || trimmed === './') return { kind: 'all' } as Selection;
  const contents = trimmed.endsWith('/');
  const path = contents ? trimmed.slice(0, -1) : trimmed;
  assertSafeRelativeKey(path);
  if (path === METADATA_FILE) {
    throw new UsageError(`${METADATA_FILE} is the service's copy of the dataset record, not a data file`, {
      hint: 'read the record with fetchDataset (wharf dataset show ID --json)',
    });
  }
  if (contents) return { kind: 'contents', path } as Selection;
  const file = await driver.stat(path, signal ? { signal } : {});
  return (file ? { kind: 'file', path } : { kind: 'folder', path }) as Selection;
}

/**
 * Downloads the selected files of a dataset into `dest` with Wharf's fetch engine (complete listing, parallel
 * files, parallel byte ranges for large ones, each verified and renamed into place, resumable; files already
 * downloaded and unchanged are skipped). The files of `all` and `contents` land directly in `dest`, a `folder`
 * lands as `dest/<its name>/…`, a `file` as `dest/<its name>`. The engine's state (index, partial downloads)
 * is kept in `dest/.wharf/`. Per-file failures are collected and thrown at the end as TransferFailedError.
 */
export async function downloadSelection(
  driver: StorageDriver,
  datasetId: string,
  selection: Selection,
  dest: string,
  options: TransferOptions = {},
): Promise<DownloadResult> {
  const destDir = resolve(dest);
  const folderName = basename(destDir);
  try {
    assertValidDatasetId(folderName);
  } catch {
    throw new UsageError(
      `cannot download into ${destDir}: the folder name ${JSON.stringify(folderName)} is not usable`,
      {
        hint: "name the destination folder with letters, digits, '.', '_' or '-' (not starting with '.')",
      },
    );
  }
  const { view, base, what } = viewFor(driver, datasetId, selection);
  const empty = await isEmpty(view, options.signal);
  if (empty) {
    if (selection.kind === 'all') return { dest: destDir, files: [], failed: [], bytes: 0 };
    throw new NotFoundError(`${what} does not exist`, {
      hint: 'paths are relative to the dataset folder, e.g. raw/obs.csv or raw/ (list them with listDatasetFiles)',
    });
  }
  // Messages name files as wharf:<dataset id>/<path>.
  const shown = `wharf:${datasetId}${base === '' ? '' : `/${base.slice(0, -1)}`}`;
  const source: LocalLocation = { kind: 'local', path: shown, trailingSlash: true, raw: shown };
  const result = await fetchDataset({
    source,
    store: view,
    dest: dirname(destDir),
    datasetId: folderName,
    concurrency: options.concurrency ?? 16,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEvent ? { onEvent: fetchListener(options.onEvent, base) } : {}),
  });
  const files: DownloadedFile[] = [];
  const failed: FailedTransfer[] = [];
  for (const file of result.files) {
    const path = base + file.key;
    if (file.status === 'failed') {
      failed.push({ path, error: file.error ?? toWharfError(new Error('download failed')) });
    } else {
      files.push({
        path,
        localPath: file.path,
        size: file.size,
        status: file.status === 'skipped' ? 'skipped' : 'downloaded',
        ...(file.verified ? { verified: file.verified } : {}),
      });
    }
  }
  const download: DownloadResult = { dest: destDir, files, failed, bytes: result.stats.bytes };
  if (failed.length > 0) throw new TransferFailedError(`download of ${what}`, download);
  return download;
}

/**
 * Uploads every file under `src` to the same relative paths in the dataset with Wharf's copy engine (parallel,
 * retried, atomic per file on every store; large files as multipart uploads on S3). Each file's SHA-256, taken
 * from the bytes sent as its turn comes, goes along: the datastore verifies it (a damaged upload is refused and
 * nothing is written), S3 keeps it as `wharf-sha256` metadata, which later downloads verify against. Existing files with the same
 * paths are replaced; nothing is deleted. Skips `.wharf/` folders (Wharf's local state) and a root `metadata.json`.
 */
export async function uploadFolder(
  driver: StorageDriver,
  src: string,
  options: TransferOptions = {},
): Promise<UploadResult> {
  const srcDir = resolve(src);
  const info = await stat(srcDir).catch(() => undefined);
  if (!info) throw new NotFoundError(`${srcDir} does not exist`);
  if (!info.isDirectory()) {
    throw new UsageError(`${srcDir} is not a folder`, {
      hint: 'uploadAllFiles uploads a folder; put the file in one, or use a presigned PUT URL',
    });
  }
  const local = await openLocalDriver({ root: srcDir });
  try {
    const listed = await planTreeCopy(local, '', driver, '', options.signal);
    const skipped: UploadResult['skipped'] = [];
    const plan: CopyPlan = { items: [], totalBytes: 0 };
    for (const item of listed.items) {
      if (item.sourceKey === METADATA_FILE) {
        skipped.push({ path: item.sourceKey, reason: "the service's copy of the record (not uploaded)" });
      } else if (item.sourceKey.split('/').includes(STATE_FOLDER)) {
        // The server refuses a .wharf folder at any depth (downloads of the folder above would refuse it).
        skipped.push({ path: item.sourceKey, reason: "Wharf's local state folder" });
      } else {
        plan.items.push(item);
        plan.totalBytes += item.size;
      }
    }
    // Each file's SHA-256, as the copy engine computed it for the upload (see withSha256Recorded).
    const sums = new Map<string, string>();
    const onEvent = options.onEvent;
    const copied = await copyObjects(local, withSha256Recorded(driver, sums), plan, {
      concurrency: options.concurrency ?? 16,
      sha256Metadata: true,
      // The S3 driver buffers a body up to 16 MiB for its PutObject anyway; the datastore's routes stream it, so
      // there only small files are buffered (to be read once), not 16 uploads x 16 MiB.
      ...(driver instanceof DatasetFilesDriver
        ? { sha256InMemoryMaxBytes: STREAMED_HASH_IN_MEMORY_MAX_BYTES }
        : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onEvent
        ? {
            onEvent: (event) => {
              if (event.type === 'planned' || event.type === 'progress')
                onEvent({ type: 'progress', snapshot: event.snapshot });
              else if (event.type === 'file-done')
                onEvent({ type: 'file-done', path: event.key, size: event.size, snapshot: event.snapshot });
              else if (event.type === 'file-failed')
                onEvent({
                  type: 'file-failed',
                  path: event.key,
                  error: event.error,
                  snapshot: event.snapshot,
                });
              else if (event.type === 'retry')
                onEvent({ type: 'retry', path: event.key, attempt: event.attempt, error: event.error });
            },
          }
        : {}),
    });
    const result: UploadResult = {
      uploaded: copied.done.map((d) => ({ path: d.destKey, size: d.size, sha256: sums.get(d.destKey)! })),
      skipped,
      failed: copied.failed.map((f) => ({ path: f.destKey, error: f.error })),
      bytes: copied.bytes,
    };
    if (result.failed.length > 0) throw new TransferFailedError(`upload of ${srcDir}`, result);
    return result;
  } finally {
    await local.close?.();
  }
}

/**
 * The driver, as copyObjects' `sha256Metadata` uploads see it: each write's `wharf-sha256` (the SHA-256 the copy
 * engine computed from the bytes it sends: a small file is read once, hashed and sent from one buffer; a bigger
 * one is hashed first, then sent pinned to the version hashed) is recorded in `sums` by key. The
 * datastore's files routes take that one metadata key (as `x-wharf-sha256`, which the server verifies) though
 * they keep no other, so this view says it takes metadata.
 */
function withSha256Recorded(driver: StorageDriver, sums: Map<string, string>): StorageDriver {
  return {
    name: driver.name,
    capabilities: { ...driver.capabilities, metadata: true },
    stat: (key, o) => driver.stat(key, o),
    list: (prefix, o) => driver.list(prefix, o),
    read: (key, o) => driver.read(key, o),
    delete: (keys, o) => driver.delete(keys, o),
    write: async (key, body, o: WriteOptions = {}) => {
      const sha256 = o.metadata?.[SHA256_METADATA_KEY];
      const written = await driver.write(key, body, o);
      if (sha256 !== undefined) sums.set(key, sha256);
      return written;
    },
  };
}

/**
 * The store view fetchDataset works on for a selection: keys relative to `base` (the dataset path of the
 * view's root), listing only what the selection takes; the dataset root's `metadata.json` is never listed.
 */
function viewFor(
  driver: StorageDriver,
  datasetId: string,
  selection: Selection,
): { view: StorageDriver; base: string; what: string } {
  const parentOf = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '');
  switch (selection.kind) {
    case 'all':
      return {
        view: narrowListing(driver, '', (key) => key !== METADATA_FILE),
        base: '',
        what: `dataset ${datasetId}`,
      };
    case 'contents': {
      const base = `${selection.path}/`;
      return {
        view: new PrefixedDriver(driver, base),
        base,
        what: `folder ${selection.path}/ of dataset ${datasetId}`,
      };
    }
    case 'folder': {
      const base = parentOf(selection.path);
      const name = selection.path.slice(base.length);
      return {
        view: narrowListing(base === '' ? driver : new PrefixedDriver(driver, base), `${name}/`, () => true),
        base,
        what: `${selection.path} in dataset ${datasetId}`,
      };
    }
    case 'file': {
      const base = parentOf(selection.path);
      const name = selection.path.slice(base.length);
      return {
        view: narrowListing(
          base === '' ? driver : new PrefixedDriver(driver, base),
          name,
          (key) => key === name,
        ),
        base,
        what: `file ${selection.path} of dataset ${datasetId}`,
      };
    }
  }
}

/** A view whose `list` covers only keys under `listPrefix` that `keep` accepts; everything else passes through. */
function narrowListing(
  driver: StorageDriver,
  listPrefix: string,
  keep: (key: string) => boolean,
): StorageDriver {
  return {
    name: driver.name,
    capabilities: driver.capabilities,
    stat: (key, o) => driver.stat(key, o),
    read: (key, o) => driver.read(key, o),
    write: (key, body, o) => driver.write(key, body, o),
    delete: (keys, o) => driver.delete(keys, o),
    ...(driver.multipartLayout ? { multipartLayout: driver.multipartLayout.bind(driver) } : {}),
    list: async function* (prefix: string, o?: ListOptions): AsyncIterable<ObjectInfo> {
      const from = prefix.length > listPrefix.length ? prefix : listPrefix;
      for await (const info of driver.list(from, o)) {
        if (info.key.startsWith(prefix) && (info.isPrefix || keep(info.key))) yield info;
      }
    },
  };
}

async function isEmpty(view: StorageDriver, signal: AbortSignal | undefined): Promise<boolean> {
  for await (const info of view.list('', signal ? { signal } : {})) {
    if (!info.isPrefix) return false;
  }
  return true;
}

function fetchListener(onEvent: (event: TransferEvent) => void, base: string): (event: FetchEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'planned':
      case 'progress':
        onEvent({ type: 'progress', snapshot: event.snapshot });
        break;
      case 'file-done':
        onEvent({
          type: 'file-done',
          path: base + event.file.key,
          size: event.file.size,
          snapshot: event.snapshot,
        });
        break;
      case 'file-failed':
        onEvent({
          type: 'file-failed',
          path: base + event.file.key,
          error: event.error,
          snapshot: event.snapshot,
        });
        break;
      case 'retry':
        onEvent({ type: 'retry', path: base + event.key, attempt: event.attempt, error: event.error });
        break;
      default:
        break;
    }
  };
}
