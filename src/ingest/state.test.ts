import { describe, expect, it } from 'vitest';
import { MemoryDriver } from '../storage/memory/memory-driver.js';
import { DEFAULT_LAYOUT, runKeys } from './layout.js';
import { newestKeyInstant, pendingKey, readPending, readState, stateKey, writeJson } from './state.js';

describe('state', () => {
  it('finds the newest key among more than 1,000 objects, skipping keys outside the layout', async () => {
    const store = new MemoryDriver();
    for (let i = 0; i < 1500; i++) {
      const instant = `2020-01-${String((i % 28) + 1).padStart(2, '0')}T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(6, '0')}Z`;
      await store.write(runKeys(DEFAULT_LAYOUT, 't', instant, 1)[0] ?? '', Buffer.from('x'));
    }
    await store.write('t/2020/01/28/notes.txt', Buffer.from('x'));
    await store.write('t/zzz.parquet', Buffer.from('x'));
    await store.write(
      runKeys(DEFAULT_LAYOUT, 'other', '2030-01-01T00:00:00.000000Z', 1)[0] ?? '',
      Buffer.from('x'),
    );
    const newest = await newestKeyInstant(store, DEFAULT_LAYOUT, 't');
    expect(newest?.instant).toBe('2020-01-28T00:00:59.001259Z');
    expect(newest?.listed).toBe(1502);
  });

  it('reads absent state as undefined, and refuses a foreign file with a hint', async () => {
    const store = new MemoryDriver();
    expect(await readState(store, 't')).toBeUndefined();
    expect(await readPending(store, 't')).toBeUndefined();
    await writeJson(store, stateKey('t'), { hello: 1 });
    await expect(readState(store, 't')).rejects.toThrow(/not a Wharf ingest state/);
    await writeJson(store, pendingKey('t'), { version: 1 });
    await expect(readPending(store, 't')).rejects.toThrow(/not a Wharf pending-run marker/);
    await store.write(stateKey('u'), Buffer.from('{oops'));
    await expect(readState(store, 'u')).rejects.toThrow(/not valid JSON/);
  });
});
