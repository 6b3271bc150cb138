/**
 * Team members of `wharf sync` for integration tests: each one a temp folder linked to the same S3 prefix,
 * synced in-process with `syncFolder` (endpoint and credentials from the environment, as the CLI gets them).
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isWharfError } from '../../src/core/errors.js';
import { openStorage } from '../../src/storage/registry.js';
import type { ObjectInfo, StorageDriver, WriteOptions } from '../../src/storage/types.js';
import { initSync, openLinked, type LinkedStore } from '../../src/sync/sync-admin.js';
import { syncFolder, type SyncEvent, type SyncOptions, type SyncResult } from '../../src/sync/sync-folder.js';
import { readText } from '../../src/sync/remote-index.js';

/** A sync result plus what its events said. */
export interface SyncRun extends SyncResult {
  events: SyncEvent[];
  /** `hashed` of every `scanned` event (one per planning attempt). */
  hashed: number[];
  /** Sum of the `bytes` events (uploaded plus downloaded). */
  bytes: number;
}

export interface Member {
  name: string;
  dir: string;
  remote: string;
  write(path: string, content: string | Buffer): Promise<void>;
  read(path: string): Promise<string>;
  remove(path: string): Promise<void>;
  move(from: string, to: string): Promise<void>;
  /** Every file of the folder except Wharf's own `.wharf/`: path -> UTF-8 content. */
  files(): Promise<Map<string, string>>;
  /** The local trash: `<stamp>/<path>` -> content. */
  localTrash(): Promise<Map<string, string>>;
  sync(options?: Omit<SyncOptions, 'dir'>): Promise<SyncRun>;
  /** The folder's linked store (close it afterwards). */
  linked(): Promise<LinkedStore>;
}

export async function makeWorkDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `wharf-${label}-`));
}

/** Links `<work>/<name>` to `remote` as member `name`. */
export async function createMember(work: string, remote: string, name: string): Promise<Member> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await initSync({ dir, remote, member: name });
  const abs = (path: string) => join(dir, ...path.split('/'));
  return {
    name,
    dir,
    remote,
    write: async (path, content) => {
      await mkdir(dirname(abs(path)), { recursive: true });
      await writeFile(abs(path), content);
    },
    read: (path) => readFile(abs(path), 'utf8'),
    remove: (path) => rm(abs(path)),
    move: async (from, to) => {
      await mkdir(dirname(abs(to)), { recursive: true });
      await rename(abs(from), abs(to));
    },
    files: () => readTreeText(dir, (path) => path === '.wharf'),
    localTrash: () => readTreeText(join(dir, '.wharf', 'trash'), () => false),
    sync: async (options = {}) => {
      const events: SyncEvent[] = [];
      const onEvent = options.onEvent;
      const result = await syncFolder({
        ...options,
        dir,
        onEvent: (event) => {
          events.push(event);
          onEvent?.(event);
        },
      });
      return {
        ...result,
        events,
        hashed: events.flatMap((e) => (e.type === 'scanned' ? [e.hashed] : [])),
        bytes: events.reduce((sum, e) => sum + (e.type === 'bytes' ? e.delta : 0), 0),
      };
    },
    linked: () => openLinked(dir),
  };
}

export async function createMembers(work: string, remote: string, names: string[]): Promise<Member[]> {
  const members: Member[] = [];
  for (const name of names) members.push(await createMember(work, remote, name));
  return members;
}

/** Every file under `root` (relative '/'-paths) -> UTF-8 content; `skip` leaves out top-level entries. */
export async function readTreeText(
  root: string,
  skip: (topLevel: string) => boolean,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (folder: string, prefix: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of entries) {
      if (prefix === '' && skip(entry.name)) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path, `${prefix}${entry.name}/`);
      else out.set(`${prefix}${entry.name}`, await readFile(path, 'utf8'));
    }
  };
  await walk(root, '');
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The remote prefix as a store (keys relative to the prefix). */
export function openRemote(remote: string): Promise<StorageDriver> {
  return openStorage(remote);
}

/** Every object under the prefix: key -> info. */
export async function remoteObjects(store: StorageDriver, prefix = ''): Promise<Map<string, ObjectInfo>> {
  const out = new Map<string, ObjectInfo>();
  for await (const o of store.list(prefix)) out.set(o.key, o);
  return out;
}

/** The data objects (everything outside `.wharf/`) -> content. */
export async function remoteData(store: StorageDriver): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of [...(await remoteObjects(store)).keys()].sort()) {
    if (!key.startsWith('.wharf/')) out.set(key, await readObject(store, key));
  }
  return out;
}

export async function readObject(store: StorageDriver, key: string): Promise<string> {
  return readText(await store.read(key));
}

/** One `write` a store saw: its key, condition and whether the server took it. */
export interface ObservedWrite {
  key: string;
  condition: 'if-match' | 'if-none-match' | 'none';
  outcome: 'ok' | 'precondition-failed' | 'error';
}

/**
 * The real store with its writes recorded (every other call goes straight through): lets a test see that an
 * upload was refused with 412 and reused rather than sent again. `beforeWrite` may hold a write back (to let
 * another member act first); the write then goes to the server as it was. Nothing is faked.
 */
export function observeWrites(
  inner: StorageDriver,
  beforeWrite?: (key: string, options: WriteOptions | undefined) => Promise<void>,
): { store: StorageDriver; writes: ObservedWrite[] } {
  const writes: ObservedWrite[] = [];
  const write = async (key: string, body: Parameters<StorageDriver['write']>[1], options?: WriteOptions) => {
    await beforeWrite?.(key, options);
    const condition: ObservedWrite['condition'] =
      options?.ifMatch !== undefined
        ? 'if-match'
        : options?.ifNoneMatch !== undefined
          ? 'if-none-match'
          : 'none';
    try {
      const info = await inner.write(key, body, options);
      writes.push({ key, condition, outcome: 'ok' });
      return info;
    } catch (error) {
      const failed = isWharfError(error) && error.code === 'PRECONDITION_FAILED';
      writes.push({ key, condition, outcome: failed ? 'precondition-failed' : 'error' });
      throw error;
    }
  };
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'write') return write;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, writes };
}
