import { describe, expect, it } from 'vitest';
import { runPool } from './pool.js';

describe('runPool', () => {
  it('runs every item with at most N in flight, pulling lazily from an async iterable', async () => {
    let inFlight = 0;
    let peak = 0;
    let pulled = 0;
    async function* items(): AsyncGenerator<number> {
      for (let i = 0; i < 50; i++) {
        pulled++;
        yield i;
      }
    }
    const seen: number[] = [];
    await runPool(items(), 4, async (item) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      expect(pulled - seen.length).toBeLessThanOrEqual(5);
      await new Promise((r) => setTimeout(r, 1));
      seen.push(item);
      inFlight--;
    });
    expect(peak).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('stops taking new work after a failure and rethrows it', async () => {
    const started: number[] = [];
    await expect(
      runPool([1, 2, 3, 4, 5, 6, 7, 8], 2, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom');
        await new Promise((r) => setTimeout(r, 5));
      }),
    ).rejects.toThrow('boom');
    expect(started.length).toBeLessThan(8);
  });

  it('rejects with AbortedError when the signal fires', async () => {
    const controller = new AbortController();
    const run = runPool(
      [1, 2, 3, 4],
      1,
      async (n) => {
        if (n === 2) controller.abort();
      },
      controller.signal,
    );
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('a concurrency far above the number of items starts one lane per item, not one per unit of concurrency', async () => {
    // Eager lanes: 1e9 of them ran the CLI out of memory (`wharf cp -r --concurrency 99999999`).
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await runPool([1, 2, 3], 1_000_000_000, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(n);
      inFlight--;
    });
    expect(peak).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3]);
  });

  it('refuses a non-positive concurrency', async () => {
    await expect(runPool([1], 0, async () => undefined)).rejects.toThrow(/positive integer/);
  });
});
