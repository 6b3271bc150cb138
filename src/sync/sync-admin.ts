import { lstat, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConflictError, NotFoundError, UsageError } from '../core/errors.js';
import { asFolderPrefix, unsafeKeyReason } from '../core/keys.js';
import { formatLocation, parseLocation } from '../core/location.js';
import { openStorage, type OpenStorageOptions } from '../storage/registry.js';
import type { StorageDriver } from '../storage/types.js';
import { downloadFile } from '../transfer/download/download-file.js';
import { RequestLimiter } from '../transfer/download/request-limiter.js';
import {
  defaultMemberName,
  linkedAncestor,
  readConfig,
  syncPaths,
  writeConfig,
  type SyncConfig,
  type SyncPaths,
} from './local-state.js';
import { assertRemoteApart } from './remote-overlap.js';
import {
  readIndexDocument,
  readJournal,
  REMOTE_STATE_PREFIX,
  TRASH_PREFIX,
  versionKey,
  VERSIONS_PREFIX,
} from './remote-index.js';
import type { CommitRecord } from './types.js';
import { makeDir } from '../core/make-dir.js';

export interface InitOptions {
  dir: string;
  remote: string;
  member?: string | undefined;
  storage?: OpenStorageOptions | undefined;
  store?: StorageDriver | undefined;
}

/** Links a folder to a remote prefix (checking the remote is reachable). Re-linking to the same remote is a no-op. */
export async function initSync(options: InitOptions): Promise<SyncConfig> {
  const dir = resolve(options.dir);
  const location = parseLocation(options.remote);
  // Keep the prefix: `s3://bucket/team` is stored as `s3://bucket/team/` (formatLocation alone drops it).
  const remote = formatLocation(location, location.kind === 's3' ? asFolderPrefix(location.key) : '');
  const member = options.member ?? defaultMemberName();
  if (member.trim() === '' || /[\n\r]/.test(member))
    throw new UsageError('--member must be a non-empty single line');
  const paths = syncPaths(dir);
  // Inside another linked folder: that folder's syncs already carry this one, and two links would fight.
  const outer = await linkedAncestor(paths.dir);
  if (outer) {
    throw new ConflictError(`${paths.dir} is inside the linked folder ${outer}`, {
      hint: 'link a folder outside it, or sync that folder',
    });
  }
  await assertRemoteApart(dir, remote);
  const existing = await readConfig(paths).catch(() => undefined);
  if (existing && existing.remote !== remote) {
    throw new ConflictError(`${dir} is already linked to ${existing.remote}`, {
      hint: `use another folder, or remove ${paths.configFile} to relink it`,
    });
  }
  const store = options.store ?? (await openStorage(location, options.storage ?? {}));
  try {
    // Reachability and credentials: listing throws NOT_FOUND for a missing bucket, ACCESS_DENIED for bad keys.
    for await (const _ of store.list(REMOTE_STATE_PREFIX)) break;
  } finally {
    if (!options.store) await store.close?.();
  }
  await makeDir(paths.stateDir);
  const config: SyncConfig = existing ?? {
    format: 'wharf-sync-config',
    version: 1,
    remote,
    member,
    createdAt: new Date().toISOString(),
  };
  if (options.member !== undefined) config.member = options.member;
  await writeConfig(paths, config);
  return config;
}

export interface LinkedStore {
  paths: SyncPaths;
  config: SyncConfig;
  store: StorageDriver;
  close(): Promise<void>;
}

export async function openLinked(
  dir: string,
  storage?: OpenStorageOptions,
  store?: StorageDriver,
): Promise<LinkedStore> {
  const paths = syncPaths(resolve(dir));
  const config = await readConfig(paths);
  const opened = store ?? (await openStorage(config.remote, storage ?? {}));
  return { paths, config, store: opened, close: async () => (store ? undefined : opened.close?.()) };
}

/**
 * Forgets this member's sync state (base, stat cache, temp files); the next sync compares by content again, so
 * nothing is lost. With `remote`, also removes the shared index, journal and lease (the remote trash is kept).
 * Callers confirm first: this function does what it is told.
 */
export async function resetSync(
  linked: LinkedStore,
  options: { remote: boolean; signal?: AbortSignal },
): Promise<{ removedRemoteKeys: number }> {
  const { paths, store } = linked;
  for (const file of [paths.baseFile, paths.baseJournalFile, paths.statCacheFile])
    await rm(file, { force: true });
  for (const folder of [paths.tempDir, paths.partialDir]) await rm(folder, { recursive: true, force: true });
  let removedRemoteKeys = 0;
  if (options.remote) {
    const keys: string[] = [];
    for await (const o of store.list(REMOTE_STATE_PREFIX, options.signal ? { signal: options.signal } : {})) {
      if (!o.key.startsWith(TRASH_PREFIX)) keys.push(o.key);
    }
    if (keys.length > 0) await store.delete(keys, options.signal ? { signal: options.signal } : {});
    removedRemoteKeys = keys.length;
  }
  return { removedRemoteKeys };
}

export interface TrashItem {
  where: 'remote' | 'local';
  /** The sync's stamp, e.g. 20261123T165500.123Z. */
  stamp: string;
  path: string;
  size: number;
}

/** Everything in the remote trash and this member's local trash, newest first. */
export async function listTrash(linked: LinkedStore, signal?: AbortSignal): Promise<TrashItem[]> {
  const items: TrashItem[] = [];
  for await (const o of linked.store.list(TRASH_PREFIX, signal ? { signal } : {})) {
    const rest = o.key.slice(TRASH_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash > 0)
      items.push({ where: 'remote', stamp: rest.slice(0, slash), path: rest.slice(slash + 1), size: o.size });
  }
  for (const file of await walk(linked.paths.trashDir)) {
    const [stamp, ...parts] = file.path.split('/');
    if (stamp && parts.length > 0)
      items.push({ where: 'local', stamp, path: parts.join('/'), size: file.size });
  }
  return items.sort((a, b) => (a.stamp < b.stamp ? 1 : a.stamp > b.stamp ? -1 : a.path < b.path ? -1 : 1));
}

/**
 * Brings a trashed file back into the folder at its path (the newest copy, or the one from `stamp`); the next
 * sync uploads it. Refuses to overwrite an existing local file.
 */
export async function restoreFromTrash(
  linked: LinkedStore,
  path: string,
  options: { stamp?: string; signal?: AbortSignal } = {},
): Promise<TrashItem> {
  // A trash key with such a name (put there by another tool) would be restored outside the folder.
  const unsafe = unsafeKeyReason(path);
  if (unsafe) {
    throw new UsageError(`cannot restore ${path} into the folder: ${unsafe}`, {
      hint: 'give the path as `wharf sync trash list` shows a file inside the folder',
    });
  }
  const candidates = (await listTrash(linked, options.signal)).filter(
    (i) => i.path === path && (options.stamp === undefined || i.stamp.startsWith(options.stamp)),
  );
  const item = candidates[0];
  if (!item) {
    throw new NotFoundError(`no trashed copy of ${path}${options.stamp ? ` from ${options.stamp}` : ''}`, {
      hint: 'see what is there with `wharf sync trash list`',
    });
  }
  const target = join(linked.paths.dir, ...path.split('/'));
  if (await lstat(target).catch(() => undefined)) {
    throw new ConflictError(`${target} exists; restoring would overwrite it`, {
      hint: 'move or rename the current file first',
    });
  }
  if (item.where === 'local') {
    const { rename } = await import('node:fs/promises');
    await makeDir(join(target, '..'));
    await rename(join(linked.paths.trashDir, item.stamp, ...path.split('/')), target);
    return item;
  }
  await makeDir(linked.paths.tempDir);
  await makeDir(linked.paths.partialDir);
  await downloadFile(
    { key: `${TRASH_PREFIX}${item.stamp}/${path}`, size: item.size },
    {
      store: linked.store,
      finalPath: target,
      tempDir: linked.paths.tempDir,
      partialDir: linked.paths.partialDir,
      limiter: new RequestLimiter(4),
      partSize: 8 * 1024 * 1024,
      partConcurrency: 4,
      rangeThreshold: 16 * 1024 * 1024,
      attempts: 5,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  return item;
}

/** What a purge removes (or, with `dryRun`, would remove). */
export interface PurgeResult {
  /** Trashed files, both sides. */
  trashed: number;
  /** Replaced versions under `.wharf/versions/`. */
  versions: number;
}

/**
 * Removes trash (remote and local) older than `olderThanMs`, and replaced versions kept under
 * `.wharf/versions/` that are as old, except a version the index still commits to: when a member died between
 * its upload and its commit, that copy is the only one of the committed content left.
 */
export async function purgeTrash(
  linked: LinkedStore,
  olderThanMs: number,
  options: { signal?: AbortSignal; dryRun?: boolean } = {},
): Promise<PurgeResult> {
  const { signal } = options;
  const cutoff = Date.now() - olderThanMs;
  const old = (await listTrash(linked, signal)).filter((i) => stampTime(i.stamp) < cutoff);
  const remote = old.filter((i) => i.where === 'remote').map((i) => `${TRASH_PREFIX}${i.stamp}/${i.path}`);
  const { index } = await readIndexDocument(linked.store, signal);
  const committed = new Set(Object.values(index.entries).map((e) => versionKey(e.sha256)));
  let versions = 0;
  for await (const o of linked.store.list(VERSIONS_PREFIX, signal ? { signal } : {})) {
    if ((o.lastModified?.getTime() ?? 0) >= cutoff || committed.has(o.key)) continue;
    remote.push(o.key);
    versions++;
  }
  if (options.dryRun) return { trashed: old.length, versions };
  if (remote.length > 0) await linked.store.delete(remote, signal ? { signal } : {});
  for (const i of old.filter((x) => x.where === 'local')) {
    await rm(join(linked.paths.trashDir, i.stamp, ...i.path.split('/')), { force: true });
  }
  return { trashed: old.length, versions };
}

/** Journal records, oldest first; with `path`, only commits that touched it (as path or move source). */
export async function syncLog(
  linked: LinkedStore,
  path?: string,
  signal?: AbortSignal,
): Promise<CommitRecord[]> {
  const records = await readJournal(linked.store, signal);
  if (path === undefined) return records;
  return records
    .map((r) => ({ ...r, changes: r.changes.filter((c) => c.path === path || c.from === path) }))
    .filter((r) => r.changes.length > 0);
}

/** 20261123T165500.123Z -> epoch ms (NaN-safe: unparseable stamps count as very old). */
function stampTime(stamp: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{3}))?Z$/.exec(stamp);
  if (!m) return 0;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +(m[7] ?? 0));
}

async function walk(root: string, prefix = ''): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  const entries = await readdir(join(root, prefix), { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await walk(root, rel)));
    else if (e.isFile()) out.push({ path: rel, size: (await lstat(join(root, rel))).size });
  }
  return out;
}
