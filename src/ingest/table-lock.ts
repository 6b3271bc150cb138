import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ConflictError, isWharfError, ValidationError } from '../core/errors.js';
import type { StorageDriver } from '../storage/types.js';
import { readJson, STATE_FOLDER, writeJson } from './state.js';

/** `DEST/_wharf/ingest/<table>.lock.json`: the run that holds it is the only one ingesting that table. */
export function lockKey(folder: string): string {
  return `${STATE_FOLDER}${folder}.lock.json`;
}

interface LockDocument {
  version: 1;
  token: string;
  host: string;
  pid: number;
  acquiredAt: string;
  expiresAt: string;
}

export interface TableLock {
  /** Stops renewing and removes the lock (if still ours). */
  release(): Promise<void>;
  /** Throws a ConflictError if the lock was lost (a renewal failed): the run must not commit. */
  assertHeld(): void;
}

export interface TableLockOptions {
  /** A lock not renewed for this long belongs to a run that died (default 2 minutes). */
  ttlMs?: number;
  signal?: AbortSignal;
}

/**
 * Takes the table's lock, created with `If-None-Match: *`, renewed (compare-and-swap on its ETag) every third of
 * its lifetime. A lock held by a live run makes this run fail with a ConflictError before it does anything; one
 * whose holder stopped renewing it (killed, crashed) is taken over. The pending marker then tells the new holder
 * what the dead run left half done. Expiry compares the holder's clock with ours: keep clocks in sync.
 */
export async function acquireTableLock(
  store: StorageDriver,
  folder: string,
  table: string,
  options: TableLockOptions = {},
): Promise<TableLock> {
  const ttlMs = options.ttlMs ?? 2 * 60_000;
  const key = lockKey(folder);
  const op = options.signal ? { signal: options.signal } : {};
  const token = randomUUID();
  const acquiredAt = new Date().toISOString();
  const doc = (): LockDocument => ({
    version: 1,
    token,
    host: hostname(),
    pid: process.pid,
    acquiredAt,
    expiresAt: new Date(Date.now() + ttlMs).toISOString(),
  });

  let etag: string | undefined;
  try {
    etag = (await writeJson(store, key, doc(), { ...op, ifNoneMatch: '*' })).etag;
  } catch (error) {
    if (!isWharfError(error) || error.code !== 'PRECONDITION_FAILED') throw error;
    const current = await readJson<Partial<LockDocument>>(store, key, options.signal);
    if (current === undefined) return acquireTableLock(store, folder, table, options); // released meanwhile
    const expiresAt = Date.parse(String(current.value.expiresAt));
    if (Number.isFinite(expiresAt) && expiresAt > Date.now() && !deadOnThisHost(current.value)) {
      throw new ConflictError(
        `another ingest of ${table} is running (${String(current.value.host)} pid ${String(current.value.pid)}, since ${String(current.value.acquiredAt)}); nothing was done`,
        {
          hint: `run one ingest per table at a time; if that run died, its lock lapses at ${new Date(expiresAt).toISOString()}`,
        },
      );
    }
    try {
      etag = (
        await writeJson(store, key, doc(), {
          ...op,
          ...(current.etag ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const }),
        })
      ).etag;
    } catch (takeover) {
      if (isWharfError(takeover) && takeover.code === 'PRECONDITION_FAILED') {
        throw new ConflictError(
          `another ingest of ${table} took over its lapsed lock first; nothing was done`,
          {
            hint: 'run one ingest per table at a time',
          },
        );
      }
      throw takeover;
    }
  }
  if (etag === undefined) {
    throw new ValidationError(`${store.name} returned no ETag for ${key}: ingest needs conditional writes`);
  }

  let lost: unknown;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = renewing.then(async () => {
        if (lost !== undefined || etag === undefined) return;
        try {
          etag = (await writeJson(store, key, doc(), { ...op, ifMatch: etag })).etag;
        } catch (error) {
          // A renewal cut short by the run's own stop loses nothing: the run is ending anyway.
          if (!options.signal?.aborted) lost = error;
        }
      });
    },
    Math.max(1000, Math.floor(ttlMs / 3)),
  );
  timer.unref();

  return {
    assertHeld() {
      if (lost !== undefined) {
        throw new ConflictError(
          `lost the ingest lock of ${table} (it could not be renewed); nothing was committed`,
          {
            cause: lost,
            hint: 'run again: the pending work is redone',
          },
        );
      }
    },
    async release() {
      clearInterval(timer);
      await renewing;
      if (lost !== undefined) return;
      // Not under the run's signal: a run stopped by Ctrl-C or a deadline still gives its lock back (else the
      // next run waits for it to lapse). Bounded instead.
      const cleanup = AbortSignal.timeout(RELEASE_TIMEOUT_MS);
      const current = await readJson<Partial<LockDocument>>(store, key, cleanup).catch(() => undefined);
      if (current?.value.token === token) await store.delete([key], { signal: cleanup });
    },
  };
}

const RELEASE_TIMEOUT_MS = 10_000;

/** The holder ran on this machine and its process is gone (killed): its lock need not lapse first. */
function deadOnThisHost(lock: Partial<LockDocument>): boolean {
  if (lock.host !== hostname() || typeof lock.pid !== 'number' || lock.pid === process.pid) return false;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
