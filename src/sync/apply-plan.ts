import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, rename, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  ConflictError,
  isWharfError,
  toWharfError,
  WharfError,
  type WharfError as WharfErrorType,
} from '../core/errors.js';
import { assertSafeRelativeKey, joinKey } from '../core/keys.js';
import { runPool } from '../core/pool.js';
import { sameEtag } from '../storage/etag.js';
import type { ObjectInfo, StorageDriver } from '../storage/types.js';
import { downloadFile, rangeThresholdFor, type DownloadResult } from '../transfer/download/download-file.js';
import { uploadContentTypeFor } from '../core/content-type.js';
import { SHA256_METADATA_KEY } from '../transfer/download/expectations.js';
import { localFileMatchesObject } from '../transfer/download/match-local-file.js';
import { RequestLimiter } from '../transfer/download/request-limiter.js';
import type { SyncPaths } from './local-state.js';
import { TRASH_PREFIX, versionKey } from './remote-index.js';
import type { ChangeRecord, IndexEntry, LocalFile, LocalSnapshot, SyncAction } from './types.js';
import { makeDir } from '../core/make-dir.js';

/** Metadata key naming the member that uploaded an object (lets a member reclaim its own uncommitted upload). */
export const MEMBER_METADATA_KEY = 'wharf-member';

export interface ApplyOptions {
  store: StorageDriver;
  paths: SyncPaths;
  member: string;
  /** Stamp of this sync's trash folders (local and remote). */
  stamp: string;
  concurrency: number;
  partSize: number;
  partConcurrency: number;
  attempts: number;
  signal?: AbortSignal;
  onBytes?: (delta: number) => void;
  onFileDone?: (path: string, ok: boolean) => void;
  /**
   * Called once local work on a path is done and the folder matches `entry` of the remote index the plan was
   * made against (undefined: the path is gone on both sides). The caller records it in the base at once.
   */
  onLocalSettled?: (path: string, entry: IndexEntry | undefined) => Promise<void>;
  /** The paths of the remote index the plan was made against (for file/folder clashes). */
  remotePaths?: ReadonlySet<string>;
}

/** A remote-side change that the commit records; `entry` is the new index entry (absent for deletes). */
export interface RemoteChange {
  change: ChangeRecord;
  entry?: Omit<IndexEntry, 'version' | 'modifiedBy' | 'modifiedAt'>;
  /** Key to delete once the commit succeeded (deleted or moved-away paths). */
  deleteAfterCommit?: string;
}

export interface ApplyResult {
  remoteChanges: RemoteChange[];
  /** The local folder after the actions that succeeded: path -> sha256 (for the base update). */
  localAfter: Map<string, string>;
  /**
   * Files the sync put in place (downloads, local moves): the size and mtime they had then, with their
   * SHA-256. A file whose stat differs afterwards was edited since, and its hash is not known.
   */
  written: Map<string, { size: number; mtimeMs: number; sha256: string }>;
  failed: { path: string; error: WharfErrorType }[];
  /** keep-both conflicts: where the local version went. */
  conflicts: { path: string; conflictPath: string }[];
  /** Things done otherwise than usual, one line each (a deleted file kept under .wharf/versions/). */
  warnings: string[];
}

/**
 * Carries out the actions that change files: uploads (conditional on the remote index's ETag, with the content's
 * SHA-256 in the object metadata), copies to the remote trash and to moved-to keys, downloads through the fetch
 * engine (verified, atomic), local moves and local trash. Remote deletions only happen after the commit (see
 * `deleteAfterCommit`), so a sync that dies before committing never removes anything another member relies on.
 * Per-file failures are collected, not thrown.
 */
export async function applyPlan(
  actions: SyncAction[],
  snapshot: LocalSnapshot,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const result: ApplyResult = {
    remoteChanges: [],
    localAfter: new Map([...snapshot].map(([path, file]) => [path, file.sha256])),
    written: new Map(),
    failed: [],
    conflicts: [],
    warnings: [],
  };
  const limiter = new RequestLimiter(Math.max(options.concurrency, options.partConcurrency));
  const io = new ActionRunner(options, limiter, snapshot, remoteAfter(actions, options.remotePaths));

  // Local renames first (conflict copies, moves, deletions to the trash): they must not race with downloads onto
  // the same paths, nor with a download into a folder that replaces a deleted file of the same name.
  const local = actions.filter(
    (a) =>
      a.kind === 'move-local' ||
      a.kind === 'delete-local' ||
      (a.kind === 'conflict' && a.resolution === 'keep-both'),
  );
  const rest = actions.filter((a) => !local.includes(a));
  const run = async (action: SyncAction): Promise<void> => {
    const path = action.kind === 'move-local' || action.kind === 'move-remote' ? action.to : action.path;
    try {
      await io.apply(action, result);
      options.onFileDone?.(path, true);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      result.failed.push({ path, error: toWharfError(error) });
      options.onFileDone?.(path, false);
    }
  };
  for (const action of local) await run(action);
  await runPool(rest, options.concurrency, run, options.signal);
  return result;
}

/** The remote paths once the plan is committed: the index's, minus what it deletes or moves away, plus what it adds. */
function remoteAfter(actions: SyncAction[], remotePaths: ReadonlySet<string> | undefined): Set<string> {
  const after = new Set(remotePaths ?? []);
  for (const a of actions) {
    if (a.kind === 'delete-remote') after.delete(a.path);
    else if (a.kind === 'move-remote') {
      after.delete(a.from);
      after.add(a.to);
    } else if (a.kind === 'upload') after.add(a.path);
    else if (a.kind === 'conflict' && a.resolution === 'keep-both' && a.conflictPath)
      after.add(a.conflictPath);
  }
  return after;
}

/** `a/b/c` -> `a`, `a/b`. */
function ancestors(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

class ActionRunner {
  /** Every folder implied by a remote path after the commit (`a`, `a/b` for `a/b/c`). */
  private readonly remoteFolders: Set<string>;

  constructor(
    private readonly o: ApplyOptions,
    private readonly limiter: RequestLimiter,
    private readonly snapshot: LocalSnapshot,
    private readonly remotePathsAfter: Set<string>,
  ) {
    this.remoteFolders = new Set([...remotePathsAfter].flatMap(ancestors));
  }

  /**
   * A path no folder can hold together with the rest of the remote: a file where the remote keeps a folder,
   * or below a remote file. Refused before anything goes up, so the index never holds both.
   */
  assertNoRemoteClash(path: string): void {
    const fileAbove = ancestors(path).find((a) => this.remotePathsAfter.has(a));
    if (fileAbove !== undefined || this.remoteFolders.has(path)) {
      throw new ConflictError(
        fileAbove !== undefined
          ? `${path} was not uploaded: the remote has a file ${fileAbove}, so there can be no folder ${fileAbove}/`
          : `${path} was not uploaded: the remote has a folder ${path}/, so there can be no file ${path}`,
        { hint: 'rename your file or folder (or the remote one, from its member) and sync again' },
      );
    }
  }

  async apply(action: SyncAction, result: ApplyResult): Promise<void> {
    switch (action.kind) {
      case 'upload': {
        const entry = await this.upload(action.path, action.local, action.remote);
        result.remoteChanges.push({
          change: { path: action.path, action: action.remote ? 'modify' : 'add', sha256: entry.sha256 },
          entry,
        });
        return;
      }
      case 'download':
        await this.download(action.path, action.remote, action.local, result);
        result.localAfter.set(action.path, action.remote.sha256);
        await this.o.onLocalSettled?.(action.path, action.remote);
        return;
      case 'delete-remote': {
        const trashKey = await this.copyToTrash(action.path, action.remote, result, 'deleted');
        result.remoteChanges.push({
          change: { path: action.path, action: 'delete', trashKey },
          deleteAfterCommit: action.path,
        });
        return;
      }
      case 'delete-local':
        await this.moveToLocalTrash(action.path, action.local);
        result.localAfter.delete(action.path);
        await this.o.onLocalSettled?.(action.path, undefined);
        return;
      case 'move-remote': {
        const info = await this.copyTo(action.from, action.to, action.remote);
        result.remoteChanges.push({
          change: { path: action.to, action: 'move', from: action.from, sha256: action.remote.sha256 },
          entry: { size: action.remote.size, sha256: action.remote.sha256, etag: info },
          deleteAfterCommit: action.from,
        });
        return;
      }
      case 'move-local':
        await this.renameLocal(action.from, action.to, action.local, result);
        result.localAfter.delete(action.from);
        result.localAfter.set(action.to, action.remote.sha256);
        await this.o.onLocalSettled?.(action.from, undefined);
        await this.o.onLocalSettled?.(action.to, action.remote);
        return;
      case 'conflict':
        return this.resolveConflict(action, result);
      case 'adopt':
      case 'forget':
        return;
    }
  }

  async resolveConflict(
    action: Extract<SyncAction, { kind: 'conflict' }>,
    result: ApplyResult,
  ): Promise<void> {
    const { path, local, remote } = action;
    if (action.resolution === 'keep-both') {
      const conflictPath = action.conflictPath;
      if (conflictPath === undefined) throw new Error(`conflict on ${path} has no conflict path`);
      await this.renameLocal(path, conflictPath, local, result);
      result.localAfter.delete(path);
      result.localAfter.set(conflictPath, local.sha256);
      result.conflicts.push({ path, conflictPath });
      const entry = await this.upload(conflictPath, local, undefined);
      result.remoteChanges.push({
        change: { path: conflictPath, action: 'add', sha256: local.sha256 },
        entry,
      });
      await this.download(path, remote, undefined, result);
      result.localAfter.set(path, remote.sha256);
      await this.o.onLocalSettled?.(path, remote);
    } else if (action.resolution === 'local') {
      const trashKey = await this.copyToTrash(path, remote, result, 'replaced');
      const entry = await this.upload(path, local, remote);
      result.remoteChanges.push({
        change: { path, action: 'modify', sha256: local.sha256, trashKey },
        entry,
      });
    } else {
      await this.moveToLocalTrash(path, local);
      result.localAfter.delete(path);
      await this.download(path, remote, undefined, result);
      result.localAfter.set(path, remote.sha256);
      await this.o.onLocalSettled?.(path, remote);
    }
  }

  /**
   * Uploads a local file to its path. Whatever object is there first (the committed version, or another run's
   * upload that was never committed) is copied to `.wharf/versions/<its sha256>` before it is replaced, so no
   * content anyone may still need disappears before the index says so; the write is conditional on that
   * object's ETag (`If-None-Match: *` when there is none) so a concurrent writer is never overwritten unseen.
   * An object that already holds this content (an earlier, uncommitted upload of ours) is adopted as it is.
   */
  async upload(
    path: string,
    local: LocalFile,
    remote: IndexEntry | undefined,
  ): Promise<RemoteChange['entry'] & object> {
    this.assertNoRemoteClash(path);
    for (let attempt = 1; ; attempt++) {
      // A path the index does not have is normally free: try to create it without looking first.
      const look = remote !== undefined || attempt > 1;
      const current = look
        ? await this.limiter.run(() => this.o.store.stat(path, this.signalOpt()), this.o.signal)
        : undefined;
      const currentSha = current?.metadata?.[SHA256_METADATA_KEY];
      if (current?.etag && currentSha === local.sha256 && current.size === local.size) {
        return { size: local.size, sha256: local.sha256, etag: current.etag };
      }
      if (current?.etag && this.untracked(current, remote)) {
        // Another tool put it there (no member wrote it): take it as ours only if it is this very content.
        const same = await localFileMatchesObject(this.localPath(path), local, current);
        if (same === true) return { size: local.size, sha256: local.sha256, etag: current.etag };
        const written = remote
          ? 'was overwritten by another tool after wharf sync committed it'
          : 'is on the remote but not tracked by wharf sync (another tool wrote it)';
        throw new ConflictError(
          `${joinKey(this.o.store.name, path)} ${written} and ` +
            `${same === false ? 'holds other content than' : 'may differ from'} your ${path}; your file was not uploaded over it`,
          {
            hint:
              'to keep both, rename your file and sync again; to replace the remote object, remove it first ' +
              `(wharf rm ${joinKey(this.o.store.name, path)}) and sync again`,
          },
        );
      }
      if (current?.etag) {
        const sha = currentSha ?? (remote && sameEtag(remote.etag, current.etag) ? remote.sha256 : undefined);
        await this.preserve(path, current.etag, sha);
      }
      try {
        const etag = await this.put(
          path,
          local,
          current?.etag ? { ifMatch: current.etag } : { ifNoneMatch: '*' },
        );
        return { size: local.size, sha256: local.sha256, etag };
      } catch (error) {
        // Someone wrote the path between our look and our write: look again (and keep what they wrote).
        if (!(isWharfError(error) && error.code === 'PRECONDITION_FAILED') || attempt >= 3) throw error;
      }
    }
  }

  /**
   * An object at a path that no member wrote: not the committed version, and without the SHA-256 and member
   * metadata every sync upload carries (stores that keep no metadata cannot tell, and are not asked).
   */
  untracked(current: ObjectInfo, remote: IndexEntry | undefined): boolean {
    if (!this.o.store.capabilities.metadata) return false;
    if (remote && current.etag && sameEtag(remote.etag, current.etag)) return false;
    const metadata = current.metadata ?? {};
    return metadata[SHA256_METADATA_KEY] === undefined && metadata[MEMBER_METADATA_KEY] === undefined;
  }

  async put(
    path: string,
    local: LocalFile,
    condition: { ifMatch: string } | { ifNoneMatch: '*' },
  ): Promise<string> {
    return this.limiter.run(async () => {
      await this.assertUnchanged(path, local);
      let sent = 0;
      const info = await this.o.store.write(path, createReadStream(this.localPath(path)), {
        ...condition,
        size: local.size,
        partSize: this.o.partSize,
        partConcurrency: this.o.partConcurrency,
        contentType: uploadContentTypeFor(path),
        metadata: { [SHA256_METADATA_KEY]: local.sha256, [MEMBER_METADATA_KEY]: this.o.member },
        ...this.signalOpt(),
        onProgress: (bytes) => {
          this.o.onBytes?.(bytes - sent);
          sent = bytes;
        },
      });
      // A file edited while it was read may have gone up torn: never commit that.
      await this.assertUnchanged(path, local);
      return info.etag ?? '';
    }, this.o.signal);
  }

  /** Server-side copy of the object at `path` (pinned to `etag`) to `.wharf/versions/<sha256>` (or `<etag>`). */
  async preserve(path: string, etag: string, sha256: string | undefined): Promise<void> {
    // Kept under its SHA-256, where a download looks for a committed version; a store that keeps no metadata
    // (a local folder) cannot say it, so the object is read once to hash it.
    const key = versionKey(sha256 ?? (await this.hashObject(path, etag)));
    const store = this.o.store;
    await this.limiter.run(async () => {
      if (await store.stat(key, this.signalOpt())) return; // content-addressed: already kept
      if (store.copy) await store.copy(path, key, this.signalOpt());
      else {
        const info = await store.stat(path, this.signalOpt());
        const body = await store.read(path, { ifMatch: etag, ...this.signalOpt() });
        await store.write(key, body, {
          ...(info?.size !== undefined ? { size: info.size } : {}),
          ...(info?.metadata ? { metadata: info.metadata } : {}),
          ...this.signalOpt(),
        });
      }
    }, this.o.signal);
  }

  /** SHA-256 of the object at `path`, pinned to `etag`. */
  async hashObject(path: string, etag: string): Promise<string> {
    return this.limiter.run(async () => {
      const hash = createHash('sha256');
      const body = await this.o.store.read(path, { ifMatch: etag, ...this.signalOpt() });
      for await (const chunk of body) hash.update(chunk as Uint8Array);
      return hash.digest('hex');
    }, this.o.signal);
  }

  /**
   * Downloads the committed version: the object at the path, pinned to the index's ETag; if the path holds
   * something else by now (an upload another member has not committed yet), the copy kept under
   * `.wharf/versions/<sha256>`.
   */
  async download(
    path: string,
    remote: IndexEntry,
    local: LocalFile | undefined,
    result: ApplyResult,
  ): Promise<void> {
    // Checked before the download, and again just before its rename: an edit saved (or a file created) while
    // it downloaded must not be replaced; it waits for the next sync, which sees a conflict.
    const stillAsPlanned = (): Promise<void> =>
      local ? this.assertUnchanged(path, local) : this.assertAbsent(path);
    await stillAsPlanned();
    const landed = (file: { size: number; localMtimeMs: number }): void => {
      result.written.set(path, { size: file.size, mtimeMs: file.localMtimeMs, sha256: remote.sha256 });
    };
    try {
      landed(
        await this.fetchObject(
          { key: path, size: remote.size, etag: remote.etag, sha256: remote.sha256 },
          path,
          stillAsPlanned,
        ),
      );
    } catch (error) {
      if (!(isWharfError(error) && error.code === 'PRECONDITION_FAILED')) throw error;
      const kept = await this.o.store.stat(versionKey(remote.sha256), this.signalOpt());
      // A store without object metadata (a local folder) cannot say what the copy holds: the download below
      // checks its SHA-256 instead.
      const keptSha256 = kept?.metadata?.[SHA256_METADATA_KEY];
      if (!kept || (keptSha256 !== undefined && keptSha256 !== remote.sha256)) {
        // The path may still hold the committed content under another ETag (a local-folder store copied to
        // another disk: its ETags include the inode). The download checks the SHA-256, which decides.
        const now = await this.o.store.stat(path, this.signalOpt());
        if (now?.size === remote.size) {
          const unpinned = { key: path, size: now.size, sha256: remote.sha256 };
          const got = await this.fetchObject(unpinned, path, stillAsPlanned).catch((e: unknown) => {
            if (isWharfError(e) && (e.code === 'IO' || e.code === 'PRECONDITION_FAILED')) return undefined;
            throw e;
          });
          if (got) return landed(got);
        }
        throw new WharfError(
          'CONFLICT',
          `${joinKey(this.o.store.name, path)} no longer holds the committed version (sha256 ${remote.sha256.slice(0, 12)}…) and no copy of it was kept`,
          { hint: 'another member may be syncing it right now; sync again in a moment', retryable: true },
        );
      }
      const key = versionKey(remote.sha256);
      landed(
        await this.fetchObject(
          { key, size: kept.size, sha256: remote.sha256, ...(kept.etag ? { etag: kept.etag } : {}) },
          path,
          stillAsPlanned,
        ),
      );
    }
  }

  async fetchObject(
    source: { key: string; size: number; etag?: string; sha256?: string },
    path: string,
    beforeRename?: () => Promise<void>,
  ): Promise<DownloadResult> {
    return downloadFile(source, {
      ...(beforeRename ? { beforeRename } : {}),
      store: this.o.store,
      finalPath: this.localPath(path),
      tempDir: this.o.paths.tempDir,
      partialDir: this.o.paths.partialDir,
      limiter: this.limiter,
      partSize: this.o.partSize,
      partConcurrency: this.o.partConcurrency,
      rangeThreshold: rangeThresholdFor(this.o.partSize),
      attempts: this.o.attempts,
      ...this.signalOpt(),
      ...(this.o.onBytes ? { onBytes: this.o.onBytes } : {}),
    });
  }

  /**
   * Copies the committed version at `path` into the remote trash; returns the key it is kept under. A path that
   * only just fits the store's key limit does not fit it behind `.wharf/trash/<stamp>/`: that version is kept by
   * its content instead, as a replaced version is (`.wharf/versions/<sha256>`), so the deletion still goes ahead.
   */
  async copyToTrash(
    path: string,
    remote: IndexEntry,
    result: ApplyResult,
    why: 'deleted' | 'replaced',
  ): Promise<string> {
    const trashKey = `${TRASH_PREFIX}${this.o.stamp}/${path}`;
    if (this.o.store.keyRefusal?.(trashKey) === undefined) {
      await this.copyTo(path, trashKey, remote);
      return trashKey;
    }
    const kept = versionKey(remote.sha256);
    await this.copyTo(path, kept, remote);
    result.warnings.push(
      `${path}: its name is too long for the remote trash, so the ${why} version is kept as ${kept} ` +
        '(`wharf sync trash list` does not show it; `trash purge` removes it with the trash)',
    );
    return kept;
  }

  /** Copies the object at `from` (pinned to the index's ETag where the store checks it) to `to`. */
  async copyTo(from: string, to: string, remote: IndexEntry): Promise<string> {
    const store = this.o.store;
    return this.limiter.run(async () => {
      if (store.copy) {
        const info = await store.copy(from, to, this.signalOpt());
        return info.etag ?? '';
      }
      const body = await store.read(from, { ifMatch: remote.etag, ...this.signalOpt() });
      const info = await store.write(to, body, {
        size: remote.size,
        metadata: { [SHA256_METADATA_KEY]: remote.sha256 },
        ...this.signalOpt(),
      });
      return info.etag ?? '';
    }, this.o.signal);
  }

  async moveToLocalTrash(path: string, local: LocalFile): Promise<void> {
    await this.assertUnchanged(path, local);
    const target = join(this.o.paths.trashDir, this.o.stamp, ...path.split('/'));
    await makeDir(dirname(target));
    await rename(this.localPath(path), target);
  }

  async renameLocal(from: string, to: string, local: LocalFile, result: ApplyResult): Promise<void> {
    await this.assertUnchanged(from, local);
    await this.assertAbsent(to);
    const target = this.localPath(to);
    await makeDir(dirname(target));
    await rename(this.localPath(from), target);
    // A rename keeps size and mtime: the file is what the scan hashed.
    const scanned = this.snapshot.get(from);
    result.written.set(to, {
      size: local.size,
      mtimeMs: scanned?.mtimeMs ?? local.mtimeMs,
      sha256: local.sha256,
    });
  }

  /** The local file is still what the scan saw; otherwise the user is editing it and it waits for the next sync. */
  async assertUnchanged(path: string, local: LocalFile): Promise<void> {
    const now = await lstat(this.localPath(path)).catch(() => undefined);
    const scanned = this.snapshot.get(path);
    const mtimeMs = scanned?.mtimeMs ?? local.mtimeMs;
    if (!now?.isFile() || now.size !== local.size || now.mtimeMs !== mtimeMs) {
      throw new WharfError(
        'CONFLICT',
        `${path} changed while syncing; it is left as it is until the next sync`,
        {
          retryable: true,
        },
      );
    }
  }

  async assertAbsent(path: string): Promise<void> {
    let now = await lstat(this.localPath(path)).catch(() => undefined);
    // A folder the remote replaced with a file, emptied by this sync's local deletions: make way.
    if (
      now?.isDirectory() &&
      (await rmdir(this.localPath(path)).then(
        () => true,
        () => false,
      ))
    ) {
      now = undefined;
    }
    if (now?.isDirectory()) {
      throw new ConflictError(
        `${path} was not downloaded: the remote has a file ${path}, and your folder ${path}/ is in its place`,
        { hint: 'rename your folder (or the remote file, from its member) and sync again' },
      );
    }
    let fileAbove: string | undefined;
    for (const a of ancestors(path)) {
      if ((await lstat(this.localPath(a)).catch(() => undefined))?.isFile()) fileAbove = a;
    }
    if (fileAbove !== undefined) {
      throw new ConflictError(
        `${path} was not downloaded: the remote has a folder ${fileAbove}/, and your file ${fileAbove} is in its place`,
        { hint: 'rename your file (or the remote folder, from its member) and sync again' },
      );
    }
    if (now) {
      throw new WharfError(
        'CONFLICT',
        `${path} appeared locally while syncing; it is left as it is until the next sync`,
        {
          retryable: true,
        },
      );
    }
  }

  localPath(path: string): string {
    // The planner leaves such paths alone; this keeps any other caller from writing outside the folder.
    assertSafeRelativeKey(path);
    return join(this.o.paths.dir, ...path.split('/'));
  }

  signalOpt(): { signal?: AbortSignal } {
    return this.o.signal ? { signal: this.o.signal } : {};
  }
}
