import { randomUUID } from 'node:crypto';
import { ConflictError, isWharfError } from '../core/errors.js';
import type { StorageDriver } from '../storage/types.js';
import { LEASE_KEY, readText } from './remote-index.js';

/**
 * The fallback for stores without conditional writes: `.wharf/lease.json` names one member as the only one
 * committing until it expires. Taking it is write-then-read-back after a pause, so two members racing for it
 * within the same instant on an eventually consistent store could both believe they hold it: weaker than the
 * compare-and-swap commit, and the sync's output says which guarantee held.
 */
export interface Lease {
  renew(): Promise<void>;
  release(): Promise<void>;
}

interface LeaseDocument {
  holder: string;
  token: string;
  expiresAt: string;
}

export interface LeaseOptions {
  /** How long a lease lasts without renewal (default 5 minutes). */
  ttlMs?: number;
  /** How long to wait for another member's lease (default 2 minutes). */
  waitMs?: number;
  /** Pause between writing the lease and reading it back (default 1 s). */
  settleMs?: number;
}

export async function acquireLease(
  store: StorageDriver,
  member: string,
  signal?: AbortSignal,
  options: LeaseOptions = {},
): Promise<Lease> {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const waitMs = options.waitMs ?? 2 * 60_000;
  const settleMs = options.settleMs ?? 1000;
  const token = randomUUID();
  const give = signal ? { signal } : {};
  const write = () =>
    store.write(
      LEASE_KEY,
      Buffer.from(
        JSON.stringify({ holder: member, token, expiresAt: new Date(Date.now() + ttlMs).toISOString() }),
      ),
      { contentType: 'application/json', ...give },
    );
  const deadline = Date.now() + waitMs;
  for (;;) {
    const current = await readLease(store, signal);
    const heldByOther = current && current.token !== token && Date.parse(current.expiresAt) > Date.now();
    if (heldByOther) {
      if (Date.now() > deadline) {
        throw new ConflictError(
          `${store.name} is being synced by ${current.holder} (lease until ${current.expiresAt}); this store has no conditional writes, so members take turns`,
          { hint: "sync again later; a crashed member's lease expires by itself" },
        );
      }
      await pause(Math.min(2000, settleMs * 2), signal);
      continue;
    }
    await write();
    await pause(settleMs, signal);
    const check = await readLease(store, signal);
    if (check?.token === token) break;
  }
  return {
    renew: async () => {
      await write();
    },
    release: async () => {
      const current = await readLease(store, signal);
      if (current?.token === token) await store.delete([LEASE_KEY], give);
    },
  };
}

async function readLease(
  store: StorageDriver,
  signal: AbortSignal | undefined,
): Promise<LeaseDocument | undefined> {
  try {
    const doc = JSON.parse(
      await readText(await store.read(LEASE_KEY, signal ? { signal } : {})),
    ) as Partial<LeaseDocument>;
    if (typeof doc.holder === 'string' && typeof doc.token === 'string' && typeof doc.expiresAt === 'string')
      return doc as LeaseDocument;
    return undefined; // unreadable: treat as free
  } catch (error) {
    if (isWharfError(error) && error.code === 'NOT_FOUND') return undefined;
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
