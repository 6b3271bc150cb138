import { createReadStream } from 'node:fs';
import { lstat, mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isWharfError, toWharfError, WharfError, type WharfError as WharfErrorType } from '../core/errors.js';
import { runPool } from '../core/pool.js';
import type { StorageDriver } from '../storage/types.js';
import { downloadFile } from '../transfer/download/download-file.js';
import { SHA256_METADATA_KEY } from '../transfer/download/expectations.js';
import { RequestLimiter } from '../transfer/download/request-limiter.js';
import type { SyncPaths } from './local-state.js';
import { TRASH_PREFIX } from './remote-index.js';
import type { ChangeRecord, IndexEntry, LocalFile, LocalSnapshot, SyncAction } from './types.js';

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
  failed: { path: string; error: WharfErrorType }[];
  /** keep-both conflicts: where the local version went. */
  conflicts: { path: string; conflictPath: string }[];
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
    failed: [],
    conflicts: [],
  };
  const limiter = new RequestLimiter(Math.max(options.concurrency, options.partConcurrency));
  const io = new ActionRunner(options, limiter, snapshot);

  // Local renames first (conflict copies, moves): they must not race with downloads onto the same paths.
  const local = actions.filter(
    (a) => a.kind === 'move-local' || (a.kind === 'conflict' && a.resolution === 'keep-both'),
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

class ActionRunner {
  constructor(
    private readonly o: ApplyOptions,
    private readonly limiter: RequestLimiter,
    private readonly snapshot: LocalSnapshot,
  ) {}

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
        await this.download(action.path, action.remote, action.local);
        result.localAfter.set(action.path, action.remote.sha256);
        return;
      case 'delete-remote': {
        const trashKey = await this.copyToTrash(action.path, action.remote);
        result.remoteChanges.push({
          change: { path: action.path, action: 'delete', trashKey },
          deleteAfterCommit: action.path,
        });
        return;
      }
      case 'delete-local':
        await this.moveToLocalTrash(action.path, action.local);
        result.localAfter.delete(action.path);
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
        await this.renameLocal(action.from, action.to, action.local);
        result.localAfter.delete(action.from);
        result.localAfter.set(action.to, action.remote.sha256);
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
      await this.renameLocal(path, conflictPath, local);
      result.localAfter.delete(path);
      result.localAfter.set(conflictPath, local.sha256);
      result.conflicts.push({ path, conflictPath });
      const entry = await this.upload(conflictPath, local, undefined);
      result.remoteChanges.push({
        change: { path: conflictPath, action: 'add', sha256: local.sha256 },
        entry,
      });
      await this.download(path, remote, undefined);
      result.localAfter.set(path, remote.sha256);
    } else if (action.resolution === 'local') {
      const trashKey = await this.copyToTrash(path, remote);
      const entry = await this.upload(path, local, remote);
      result.remoteChanges.push({
        change: { path, action: 'modify', sha256: local.sha256, trashKey },
        entry,
      });
    } else {
      await this.moveToLocalTrash(path, local);
      result.localAfter.delete(path);
      await this.download(path, remote, undefined);
      result.localAfter.set(path, remote.sha256);
    }
  }

  /**
   * Uploads a local file: `If-Match` the ETag the index records (or `If-None-Match: *` for a new path). A 412
   * is fine when the object already holds this content (our own earlier, uncommitted upload) and is retried once
   * over an object this member uploaded but never committed; anything else is another member's change.
   */
  async upload(
    path: string,
    local: LocalFile,
    remote: IndexEntry | undefined,
  ): Promise<RemoteChange['entry'] & object> {
    const file = this.localPath(path);
    const condition = remote ? { ifMatch: remote.etag } : { ifNoneMatch: '*' as const };
    const put = (cond: { ifMatch: string } | { ifNoneMatch: '*' }): Promise<string> =>
      this.limiter.run(async () => {
        await this.assertUnchanged(path, local);
        let sent = 0;
        const info = await this.o.store.write(path, createReadStream(file), {
          ...cond,
          size: local.size,
          partSize: this.o.partSize,
          partConcurrency: this.o.partConcurrency,
          metadata: { [SHA256_METADATA_KEY]: local.sha256, [MEMBER_METADATA_KEY]: this.o.member },
          ...(this.o.signal ? { signal: this.o.signal } : {}),
          onProgress: (bytes) => {
            this.o.onBytes?.(bytes - sent);
            sent = bytes;
          },
        });
        // A file edited while it was read may have gone up torn: never commit that.
        await this.assertUnchanged(path, local);
        return info.etag ?? '';
      }, this.o.signal);
    let etag: string;
    try {
      etag = await put(condition);
    } catch (error) {
      if (!(isWharfError(error) && error.code === 'PRECONDITION_FAILED')) throw error;
      const current = await this.o.store.stat(path, this.signalOpt());
      if (current?.metadata?.[SHA256_METADATA_KEY] === local.sha256 && current.etag) etag = current.etag;
      else if (current?.etag && current.metadata?.[MEMBER_METADATA_KEY] === this.o.member)
        etag = await put({ ifMatch: current.etag });
      else
        throw new WharfError(
          'CONFLICT',
          `${this.o.store.name}/${path} changed on the remote outside a committed sync (another member is syncing it now)`,
          { hint: 'sync again in a moment; your local file is untouched', retryable: true },
        );
    }
    return { size: local.size, sha256: local.sha256, etag };
  }

  async download(path: string, remote: IndexEntry, local: LocalFile | undefined): Promise<void> {
    if (local) await this.assertUnchanged(path, local);
    else await this.assertAbsent(path);
    await downloadFile(
      { key: path, size: remote.size, etag: remote.etag },
      {
        store: this.o.store,
        finalPath: this.localPath(path),
        tempDir: this.o.paths.tempDir,
        partialDir: this.o.paths.partialDir,
        limiter: this.limiter,
        partSize: this.o.partSize,
        partConcurrency: this.o.partConcurrency,
        rangeThreshold: 2 * this.o.partSize,
        attempts: this.o.attempts,
        ...this.signalOpt(),
        ...(this.o.onBytes ? { onBytes: this.o.onBytes } : {}),
      },
    );
  }

  async copyToTrash(path: string, remote: IndexEntry): Promise<string> {
    const trashKey = `${TRASH_PREFIX}${this.o.stamp}/${path}`;
    await this.copyTo(path, trashKey, remote);
    return trashKey;
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
    await mkdir(dirname(target), { recursive: true });
    await rename(this.localPath(path), target);
  }

  async renameLocal(from: string, to: string, local: LocalFile): Promise<void> {
    await this.assertUnchanged(from, local);
    await this.assertAbsent(to);
    const target = this.localPath(to);
    await mkdir(dirname(target), { recursive: true });
    await rename(this.localPath(from), target);
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
    const now = await lstat(this.localPath(path)).catch(() => undefined);
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
    return join(this.o.paths.dir, ...path.split('/'));
  }

  signalOpt(): { signal?: AbortSignal } {
    return this.o.signal ? { signal: this.o.signal } : {};
  }
}
