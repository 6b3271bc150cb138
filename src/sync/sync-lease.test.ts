import { describe, expect, it } from 'vitest';
import { MemoryDriver } from '../storage/memory/memory-driver.js';
import { LEASE_KEY, readText } from './remote-index.js';
import { acquireLease } from './sync-lease.js';

const fast = { settleMs: 5, waitMs: 60 };

describe('acquireLease', () => {
  it('gives the lease to one member at a time and names the holder to the other', async () => {
    const store = new MemoryDriver();
    const alice = await acquireLease(store, 'alice', undefined, fast);
    const doc = JSON.parse(await readText(await store.read(LEASE_KEY))) as { holder: string };
    expect(doc.holder).toBe('alice');
    await expect(acquireLease(store, 'bob', undefined, fast)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('being synced by alice'),
    });
    await alice.release();
    expect(await store.stat(LEASE_KEY)).toBeUndefined();
    const bob = await acquireLease(store, 'bob', undefined, fast);
    await bob.release();
  });

  it('takes over an expired lease, and a release does not remove a lease someone else holds now', async () => {
    const store = new MemoryDriver();
    const stale = await acquireLease(store, 'crashed', undefined, { ...fast, ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 10));
    const bob = await acquireLease(store, 'bob', undefined, fast);
    await stale.release(); // the crashed member's late release must leave bob's lease alone
    const doc = JSON.parse(await readText(await store.read(LEASE_KEY))) as { holder: string };
    expect(doc.holder).toBe('bob');
    await bob.release();
  });

  it('waits for a lease that is released in time', async () => {
    const store = new MemoryDriver();
    const alice = await acquireLease(store, 'alice', undefined, fast);
    setTimeout(() => void alice.release(), 20);
    const bob = await acquireLease(store, 'bob', undefined, { settleMs: 5, waitMs: 2000 });
    const doc = JSON.parse(await readText(await store.read(LEASE_KEY))) as { holder: string };
    expect(doc.holder).toBe('bob');
    await bob.release();
  });
});
