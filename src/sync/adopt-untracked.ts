import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { isWharfError, PreconditionFailedError, toWharfError, type WharfError } from '../core/errors.js';
import { lockFolder } from '../core/folder-lock.js';
import { joinKey, keysShadowedByFolders, unsafeKeyReason } from '../core/keys.js';
import { runPool } from '../core/pool.js';
import { openStorage, type OpenStorageOptions } from '../storage/registry.js';
import type { ReadInfo, StorageDriver } from '../storage/types.js';
import { ContentHasher } from '../transfer/download/content-hasher.js';
import {
  checkDownload,
  expectationsFor,
  hashNeedsFor,
  SHA256_METADATA_KEY,
} from '../transfer/download/expectations.js';
import { MEMBER_METADATA_KEY } from './apply-plan.js';
import { IgnoreRules } from './ignore-rules.js';
import { readConfig, syncPaths } from './local-state.js';
import { assertRemoteApart } from './remote-overlap.js';
import { commitRemoteIndex, readRemoteIndex, REMOTE_STATE_PREFIX, writeJournal } from './remote-index.js';
import { acquireLease, type Lease } from './sync-lease.js';
import { guaranteeOf, nextIndex, withShortLastCommit } from './sync-folder.js';

export interface AdoptOptions {
  /** The linked folder (its link names the remote; its `.wharfignore` says what to leave alone). */
  dir: string;
  /** Use this driver for the remote instead of opening the linked location. */
  store?: StorageDriver | undefined;
  storage?: OpenStorageOptions | undefined;
  /** Only find the untracked objects; read and change nothing else. */
  dryRun?: boolean | undefined;
  /** Objects read (hashed) at once (default 16). */
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Asked once with what was found, before anything is read; false changes nothing. */
  confirm?: ((found: UntrackedObject[]) => Promise<boolean>) | undefined;
  /** Called as each object is hashed (or fails). */
  onObject?: ((path: string, ok: boolean) => void) | undefined;
}

export interface UntrackedObject {
  path: string;
  size: number;
  etag: string;
}

export interface AdoptResult {
  dir: string;
  remote: string;
  member: string;
  /** Objects under the prefix that the index does not list and that would be adopted. */
  found: UntrackedObject[];
  /** Objects left alone, with why: names no folder can hold, ignored paths, uploads a member has not committed. */
  skipped: { path: string; reason: string }[];
  adopted: { path: string; size: number; sha256: string }[];
  failed: { path: string; error: WharfError }[];
  declined: boolean;
  committed: boolean;
  generation: number;
}

const COMMIT_ATTEMPTS = 5;

/**
 * Takes the objects that other tools put under a synced prefix into the shared index, so that every member's
 * next sync sees them as files another member added: downloaded where a folder lacks them, nothing moved where
 * a folder already holds the same content, a conflict (both kept) where it holds other content. Each object is
 * read once to get its SHA-256 (checked against its ETag on the way), pinned to the ETag it was listed with;
 * then one commit adds them all (compare-and-swap on the index, or the lease where the store has no conditional
 * writes). Uploads that carry a member's sync metadata are left to that member's next sync. The local folder is
 * not touched.
 */
export async function adoptUntracked(options: AdoptOptions): Promise<AdoptResult> {
  const dir = resolve(options.dir);
  const paths = syncPaths(dir);
  const config = await readConfig(paths);
  await assertRemoteApart(dir, config.remote);
  const store = options.store ?? (await openStorage(config.remote, options.storage ?? {}));
  const { signal } = options;
  const unlock = options.dryRun
    ? async () => undefined
    : await lockFolder(paths.stateDir, dir, 'wharf sync adopt');
  let lease: Lease | undefined;
  try {
    const rules = await IgnoreRules.load(dir);
    let index = await readRemoteIndex(store, signal);
    const result: AdoptResult = {
      dir,
      remote: config.remote,
      member: config.member,
      found: [],
      skipped: [],
      adopted: [],
      failed: [],
      declined: false,
      committed: false,
      generation: index.generation,
    };
    for await (const info of store.list('', signal ? { signal } : {})) {
      const path = info.key;
      if (info.isPrefix || path.startsWith(REMOTE_STATE_PREFIX) || index.entries.has(path)) continue;
      if (path.endsWith('/') && info.size === 0) continue; // a "folder" marker some tools create
      const unsafe = unsafeKeyReason(path);
      if (unsafe) result.skipped.push({ path, reason: `no folder can hold this name: ${unsafe}` });
      else if (rules.ignores(path)) result.skipped.push({ path, reason: 'ignored by .wharfignore' });
      else result.found.push({ path, size: info.size, etag: info.etag ?? '' });
    }
    result.found = withoutFolderClashes(result.found, index.entries, result.skipped);
    if (options.dryRun || result.found.length === 0) return result;
    if (options.confirm && !(await options.confirm(result.found))) return { ...result, declined: true };

    const hashed: { object: UntrackedObject; sha256: string }[] = [];
    await runPool(
      result.found,
      options.concurrency ?? 16,
      async (object) => {
        try {
          const outcome = await hashObject(store, object, signal);
          if ('member' in outcome) {
            result.skipped.push({
              path: object.path,
              reason: `uploaded by member ${outcome.member} and not committed yet: that member's next sync commits it`,
            });
          } else {
            hashed.push({ object, sha256: outcome.sha256 });
          }
          options.onObject?.(object.path, true);
        } catch (error) {
          if (signal?.aborted) throw error;
          result.failed.push({ path: object.path, error: toWharfError(error) });
          options.onObject?.(object.path, false);
        }
      },
      signal,
    );
    if (hashed.length === 0) return result;

    if ((await guaranteeOf(store, signal)) === 'lease')
      lease = await acquireLease(store, config.member, signal);
    for (let attempt = 1; ; attempt++) {
      // Another member may have committed some of these paths meanwhile: theirs stand.
      const fresh = hashed.filter(({ object }) => !index.entries.has(object.path));
      const remoteChanges = fresh.map(({ object, sha256 }) => ({
        change: { path: object.path, action: 'add' as const, sha256 },
        entry: { size: object.size, sha256, etag: object.etag },
      }));
      const next = nextIndex(index, { remoteChanges }, config.member);
      if (next === undefined) return result; // everything found was committed by others meanwhile
      if (lease) await lease.renew();
      const outcome = await commitRemoteIndex(store, index, withShortLastCommit(next), signal);
      if (outcome.committed) {
        result.committed = true;
        result.generation = next.generation;
        result.adopted = fresh.map(({ object, sha256 }) => ({
          path: object.path,
          size: object.size,
          sha256,
        }));
        if (next.lastCommit) await writeJournal(store, next.lastCommit, signal).catch(() => undefined);
        return result;
      }
      if (attempt >= COMMIT_ATTEMPTS) {
        throw new PreconditionFailedError(
          `other members kept committing to ${store.name}: gave up after ${attempt} attempts`,
          { hint: 'run wharf sync adopt again; nothing was changed' },
        );
      }
      index = await readRemoteIndex(store, signal);
    }
  } finally {
    await lease?.release().catch(() => undefined);
    await unlock();
    if (!options.store) await store.close?.();
  }
}

/**
 * Reads an object once, pinned to the listed ETag, and returns its SHA-256 after checking size and ETag; or the
 * member named in its metadata when a sync uploaded it (its SHA-256 is in the metadata, but it is not ours to
 * commit).
 */
async function hashObject(
  store: StorageDriver,
  object: UntrackedObject,
  signal: AbortSignal | undefined,
): Promise<{ sha256: string } | { member: string }> {
  let info: ReadInfo | undefined;
  let body: Readable | undefined;
  try {
    body = await store.read(object.path, {
      ...(object.etag ? { ifMatch: object.etag } : {}),
      ...(signal ? { signal } : {}),
      onInfo: (i) => {
        info = i;
      },
    });
    const member = info?.metadata?.[MEMBER_METADATA_KEY];
    if (member !== undefined && info?.metadata?.[SHA256_METADATA_KEY] !== undefined) return { member };
    const expect = expectationsFor({ ...object, key: object.path, ...info });
    const hasher = new ContentHasher({ ...hashNeedsFor(expect), sha256: true });
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      hasher.update(chunk);
      size += chunk.length;
    }
    const hashes = hasher.digest();
    checkDownload(joinKey(store.name, object.path), expect, size, hashes);
    if (hashes.sha256 === undefined) throw new Error('no SHA-256 was computed');
    return { sha256: hashes.sha256 };
  } catch (error) {
    if (isWharfError(error) && error.code === 'PRECONDITION_FAILED') {
      throw new PreconditionFailedError(
        `${joinKey(store.name, object.path)} changed since it was listed; run wharf sync adopt again`,
      );
    }
    throw error;
  } finally {
    body?.destroy();
  }
}

/**
 * No folder holds a file and a folder of one name (`data/x` beside `data/x/y`), so such a pair in the index would
 * fail every member's sync. The folder wins: a found object that other paths need as a folder is left alone, and
 * so is one below a path the index tracks as a file. Both go to `skipped` with the reason.
 */
function withoutFolderClashes(
  found: UntrackedObject[],
  tracked: ReadonlyMap<string, unknown>,
  skipped: AdoptResult['skipped'],
): UntrackedObject[] {
  const shadowed = keysShadowedByFolders([...tracked.keys(), ...found.map((object) => object.path)]);
  return found.filter((object) => {
    const below = shadowed.get(object.path);
    if (below !== undefined) {
      skipped.push({
        path: object.path,
        reason: `a folder of the same name holds other objects (${below}), and no folder can hold both`,
      });
      return false;
    }
    const file = trackedFileAbove(object.path, tracked);
    if (file !== undefined) {
      skipped.push({
        path: object.path,
        reason: `the index tracks ${file} as a file, and no folder can hold a folder of that name too`,
      });
      return false;
    }
    return true;
  });
}

function trackedFileAbove(path: string, tracked: ReadonlyMap<string, unknown>): string | undefined {
  for (let cut = path.indexOf('/'); cut !== -1; cut = path.indexOf('/', cut + 1)) {
    if (tracked.has(path.slice(0, cut))) return path.slice(0, cut);
  }
  return undefined;
}
