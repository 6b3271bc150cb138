import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../storage/memory/memory-driver.js';
import type { StorageDriver, WriteOptions } from '../storage/types.js';
import { readIndexDocument } from './remote-index.js';
import { initSync } from './sync-admin.js';
import { syncFolder } from './sync-folder.js';

/** A store that says it has no conditional writes and ignores the conditions (like an old S3 clone). */
function withoutConditionalWrites(inner: MemoryDriver): StorageDriver {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'capabilities') return { ...target.capabilities, conditionalWrite: false };
      if (prop === 'write')
        return (key: string, body: Uint8Array, o: WriteOptions = {}) => {
          const { ifMatch: _m, ifNoneMatch: _n, ...rest } = o;
          return target.write(key, body, rest);
        };
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Counts reads of one key (the store keeps working as before). */
function countReads(store: MemoryDriver, key: string): { count: number } {
  const counter = { count: 0 };
  const read = store.read.bind(store);
  store.read = (k, o) => {
    if (k === key) counter.count += 1;
    return read(k, o);
  };
  return counter;
}

describe('syncFolder on in-memory stores', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-sync-unit-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function member(name: string, store: StorageDriver): Promise<string> {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    await initSync({ dir, remote: 's3://unit/team', member: name, store });
    return dir;
  }

  it('commits with compare-and-swap where the store has conditional writes', async () => {
    const store = new MemoryDriver();
    const a = await member('alice', store);
    const b = await member('bob', store);
    await writeFile(join(a, 'x.txt'), 'from alice');
    const first = await syncFolder({ dir: a, store });
    expect(first).toMatchObject({ committed: true, generation: 1, guarantee: 'compare-and-swap' });
    const second = await syncFolder({ dir: b, store });
    expect(second.plan.counts.download).toBe(1);
    expect(await readFile(join(b, 'x.txt'), 'utf8')).toBe('from alice');
  });

  it('an option passed as undefined (exactOptionalPropertyTypes callers) gets its default', async () => {
    const store = new MemoryDriver();
    const a = await member('alice', store);
    const b = await member('bob', store);
    await writeFile(join(a, 'x.txt'), 'from alice');
    const unset = {
      concurrency: undefined,
      partSize: undefined,
      partConcurrency: undefined,
      attempts: undefined,
      commitAttempts: undefined,
      direction: undefined,
      prefer: undefined,
      maxDelete: undefined,
      storage: undefined,
    };
    expect(await syncFolder({ dir: a, store, ...unset })).toMatchObject({ committed: true, generation: 1 });
    const second = await syncFolder({ dir: b, store, ...unset });
    expect(second.plan.counts.download).toBe(1);
    expect(await readFile(join(b, 'x.txt'), 'utf8')).toBe('from alice');
  });

  it('takes the base for the index while the index keeps its ETag, and reads it again once it changes', async () => {
    const store = new MemoryDriver();
    const indexReads = countReads(store, '.wharf/index.json');
    const a = await member('alice', store);
    const b = await member('bob', store);
    await writeFile(join(a, 'x.txt'), 'one');
    await syncFolder({ dir: a, store });
    await syncFolder({ dir: b, store });
    const base = JSON.parse(await readFile(join(b, '.wharf', 'base.json'), 'utf8')) as { indexEtag?: string };
    expect(base.indexEtag).toBe((await store.stat('.wharf/index.json'))?.etag);

    indexReads.count = 0;
    const idle = await syncFolder({ dir: b, store });
    expect(idle.plan.actions).toEqual([]);
    expect(indexReads.count).toBe(0);

    await writeFile(join(a, 'x.txt'), 'two');
    await syncFolder({ dir: a, store });
    const pulled = await syncFolder({ dir: b, store });
    expect(indexReads.count).toBe(1);
    expect(pulled.plan.counts.download).toBe(1);
    expect(await readFile(join(b, 'x.txt'), 'utf8')).toBe('two');
  });

  it('falls back to the lease, says so, and leaves no lease behind', async () => {
    const inner = new MemoryDriver();
    const store = withoutConditionalWrites(inner);
    const a = await member('alice', store);
    await writeFile(join(a, 'x.txt'), 'from alice');
    const result = await syncFolder({ dir: a, store });
    expect(result).toMatchObject({ committed: true, guarantee: 'lease' });
    expect((await readIndexDocument(inner)).index.entries['x.txt']?.modifiedBy).toBe('alice');
    expect(await inner.stat('.wharf/lease.json')).toBeUndefined();
  });

  it('prefer newer keeps the edit made later, even when it was committed first', async () => {
    const store = new MemoryDriver();
    const p = await member('p', store);
    const q = await member('q', store);
    await writeFile(join(p, 'n.txt'), 'base\n');
    await syncFolder({ dir: p, store });
    await syncFolder({ dir: q, store });
    const hoursAgo = (h: number): Date => new Date(Date.now() - h * 3600_000);
    await appendFile(join(p, 'n.txt'), 'older\n');
    await utimes(join(p, 'n.txt'), hoursAgo(2), hoursAgo(2));
    await appendFile(join(q, 'n.txt'), 'newer\n');
    await utimes(join(q, 'n.txt'), hoursAgo(1), hoursAgo(1));
    await syncFolder({ dir: p, store });
    const entry = (await readIndexDocument(store)).index.entries['n.txt'];
    expect(Math.round((entry?.mtimeMs ?? 0) / 1000)).toBe(Math.round(hoursAgo(2).getTime() / 1000));

    const result = await syncFolder({ dir: q, store, prefer: 'newer' });
    expect(result.plan.actions).toMatchObject([{ kind: 'conflict', resolution: 'local' }]);
    expect(await readFile(join(q, 'n.txt'), 'utf8')).toBe('base\nnewer\n');
    await syncFolder({ dir: p, store });
    expect(await readFile(join(p, 'n.txt'), 'utf8')).toBe('base\nnewer\n');
  });

  it('declining the plan changes nothing anywhere', async () => {
    const store = new MemoryDriver();
    const a = await member('alice', store);
    await writeFile(join(a, 'x.txt'), 'data');
    const result = await syncFolder({ dir: a, store, confirm: async () => false });
    expect(result).toMatchObject({ declined: true, applied: false, committed: false });
    expect(await store.stat('x.txt')).toBeUndefined();
    expect(await store.stat('.wharf/index.json')).toBeUndefined();
  });

  it('an edit or a new file saved while its download runs is kept, not replaced; the next sync sees a conflict', async () => {
    const store = new MemoryDriver();
    const a = await member('alice', store);
    const b = await member('bob', store);
    await writeFile(join(a, 'report.txt'), 'v1');
    await syncFolder({ dir: a, store });
    await syncFolder({ dir: b, store });
    await writeFile(join(a, 'report.txt'), 'v2 from alice');
    await writeFile(join(a, 'new.txt'), 'new from alice');
    await syncFolder({ dir: a, store });

    // Bob saves his own edit and creates new.txt while each download is under way.
    const read = store.read.bind(store);
    store.read = async (key, o) => {
      if (key === 'report.txt') await writeFile(join(b, 'report.txt'), 'bob edited during the download');
      if (key === 'new.txt') await writeFile(join(b, 'new.txt'), 'bob created during the download');
      return read(key, o);
    };
    const during = await syncFolder({ dir: b, store });
    expect(during.failed.map((f) => f.path).sort()).toEqual(['new.txt', 'report.txt']);
    expect(await readFile(join(b, 'report.txt'), 'utf8')).toBe('bob edited during the download');
    expect(await readFile(join(b, 'new.txt'), 'utf8')).toBe('bob created during the download');

    store.read = read;
    const next = await syncFolder({ dir: b, store });
    expect(next.plan.actions.map((x) => x.kind)).toContain('conflict');
    // Both versions of each file are kept: one at the path, the other as a conflict copy beside it.
    const contents = await Promise.all(
      (await readdir(b)).filter((n) => n !== '.wharf').map((n) => readFile(join(b, n), 'utf8')),
    );
    expect(contents.sort()).toEqual(
      [
        'bob created during the download',
        'bob edited during the download',
        'new from alice',
        'v2 from alice',
      ].sort(),
    );
  });
});
