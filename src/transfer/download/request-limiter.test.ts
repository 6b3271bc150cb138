import { describe, expect, it } from 'vitest';
import { RequestLimiter } from './request-limiter.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A limiter whose tasks are gated by deferreds, with counters of what is in flight. */
function harness(limit: number) {
  const limiter = new RequestLimiter(limit);
  let active = 0;
  let maxActive = 0;
  const started: number[] = [];
  const gates = new Map<number, Deferred<void>>();
  const task = (id: number, signal?: AbortSignal): Promise<number> => {
    const gate = deferred();
    gates.set(id, gate);
    return limiter.run(async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      started.push(id);
      try {
        await gate.promise;
        return id;
      } finally {
        active -= 1;
      }
    }, signal);
  };
  return {
    limiter,
    task,
    finish: (id: number) => gates.get(id)?.resolve(),
    fail: (id: number, error: unknown) => gates.get(id)?.reject(error),
    get active() {
      return active;
    },
    get maxActive() {
      return maxActive;
    },
    started,
  };
}

describe('RequestLimiter', () => {
  it('refuses a limit that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new RequestLimiter(bad)).toThrow(RangeError);
    expect(new RequestLimiter(3).limit).toBe(3);
  });

  it('never has more than `limit` requests in flight', async () => {
    const h = harness(3);
    const results = Array.from({ length: 10 }, (_, i) => h.task(i));
    await settle();
    expect(h.active).toBe(3);
    expect(h.started).toEqual([0, 1, 2]);
    // Finish them one at a time, in a scrambled order; the cap holds at every step.
    const order = [1, 0, 2, 5, 3, 4, 8, 6, 7, 9];
    for (const id of order) {
      h.finish(id);
      await settle();
      expect(h.active).toBeLessThanOrEqual(3);
    }
    expect(await Promise.all(results)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(h.maxActive).toBe(3);
    expect(h.started.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it('hands freed slots to waiters in arrival order', async () => {
    const h = harness(1);
    const results = [h.task(0), h.task(1), h.task(2), h.task(3)];
    await settle();
    expect(h.started).toEqual([0]);
    for (const id of [0, 1, 2]) {
      h.finish(id);
      await settle();
      expect(h.started).toEqual(Array.from({ length: id + 2 }, (_, i) => i));
      expect(h.active).toBe(1);
    }
    h.finish(3);
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3]);
  });

  it('releases the slot when the request fails', async () => {
    const h = harness(1);
    const first = h.task(0);
    const second = h.task(1);
    await settle();
    h.fail(0, new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    await settle();
    expect(h.started).toEqual([0, 1]);
    h.finish(1);
    await expect(second).resolves.toBe(1);
    expect(h.active).toBe(0);
  });

  it('rejects a waiter with ABORTED when its signal fires, without taking or freeing a slot', async () => {
    const h = harness(2);
    const a = h.task(0);
    const b = h.task(1);
    const controller = new AbortController();
    const waiting = h.task(2, controller.signal);
    const after = h.task(3);
    await settle();
    expect(h.started).toEqual([0, 1]);

    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    await settle();
    // The aborted waiter held nothing: the two running requests still hold both slots.
    expect(h.started).toEqual([0, 1]);
    expect(h.active).toBe(2);

    // A freed slot goes to the next waiter, not to the aborted one; the cap still holds.
    h.finish(0);
    await settle();
    expect(h.started).toEqual([0, 1, 3]);
    expect(h.active).toBe(2);
    h.finish(1);
    h.finish(3);
    expect(await Promise.all([a, b, after])).toEqual([0, 1, 3]);
    expect(h.maxActive).toBe(2);

    // Every slot is free again.
    const more = [h.task(4), h.task(5)];
    await settle();
    expect(h.active).toBe(2);
    h.finish(4);
    h.finish(5);
    expect(await Promise.all(more)).toEqual([4, 5]);
  });

  it('rejects at once with an already-aborted signal and never runs the request', async () => {
    const limiter = new RequestLimiter(1);
    const controller = new AbortController();
    controller.abort();
    let ran = false;
    await expect(
      limiter.run(async () => {
        ran = true;
      }, controller.signal),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(ran).toBe(false);
    // The slot was not consumed.
    await expect(limiter.run(async () => 'ok')).resolves.toBe('ok');
  });

  it('an abort after the slot was granted does not cancel the running request', async () => {
    const h = harness(1);
    const controller = new AbortController();
    const running = h.task(0, controller.signal);
    await settle();
    controller.abort();
    h.finish(0);
    await expect(running).resolves.toBe(0);
    const next = h.task(1);
    await settle();
    expect(h.active).toBe(1);
    h.finish(1);
    await expect(next).resolves.toBe(1);
  });
});
