import { describe, expect, it } from 'vitest';
import { ResponseCache } from './response-cache.js';

function counter() {
  let generation = 1;
  let computed = 0;
  return {
    bump: () => (generation += 1),
    generation: () => Promise.resolve(String(generation)),
    compute: (answer: unknown) => () => {
      computed += 1;
      return Promise.resolve(answer);
    },
    get computed() {
      return computed;
    },
  };
}

describe('ResponseCache', () => {
  it('answers from memory while the generation holds and recomputes when it moves', async () => {
    const c = counter();
    const cache = new ResponseCache(c.generation, 1 << 20);
    expect(await cache.json('k', c.compute({ a: 1 }))).toBe('{"a":1}');
    expect(await cache.json('k', c.compute({ a: 2 }))).toBe('{"a":1}');
    expect(c.computed).toBe(1);
    c.bump();
    expect(await cache.json('k', c.compute({ a: 3 }))).toBe('{"a":3}');
    expect(c.computed).toBe(2);
    expect(await cache.json('other', c.compute([]))).toBe('[]');
    expect(c.computed).toBe(3);
  });

  it('shares one computation among concurrent requests for the same answer', async () => {
    const c = counter();
    const cache = new ResponseCache(c.generation, 1 << 20);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let computed = 0;
    const slow = async () => {
      computed += 1;
      await gate;
      return { slow: true };
    };
    const answers = Promise.all([cache.json('k', slow), cache.json('k', slow), cache.json('k', slow)]);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await answers).toEqual(Array(3).fill('{"slow":true}'));
    expect(computed).toBe(1);
  });

  it('does not keep failures, and computes every time when turned off', async () => {
    const c = counter();
    const cache = new ResponseCache(c.generation, 1 << 20);
    await expect(cache.json('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await cache.json('k', c.compute('ok'))).toBe('"ok"');

    const off = new ResponseCache(c.generation, 0);
    await off.json('k', c.compute(1));
    await off.json('k', c.compute(1));
    expect(c.computed).toBe(3);
  });

  it('stays within its memory bound, evicting the least recently used answer', async () => {
    const c = counter();
    const cache = new ResponseCache(c.generation, 1000);
    // 240 characters of JSON each: four fit, a fifth evicts one
    const big = (tag: string) => c.compute({ tag, pad: 'x'.repeat(220) });
    for (const key of ['a', 'b', 'c', 'd']) await cache.json(key, big(key));
    await cache.json('a', big('a')); // a is now the most recently used
    await cache.json('e', big('e')); // over 1000: b, the least recently used, goes
    const before = c.computed;
    for (const key of ['a', 'c', 'd', 'e']) await cache.json(key, big(key));
    expect(c.computed).toBe(before);
    await cache.json('b', big('b'));
    expect(c.computed).toBe(before + 1);
    // An answer larger than a quarter of the bound is served but not kept.
    await cache.json('huge', c.compute('y'.repeat(300)));
    await cache.json('huge', c.compute('y'.repeat(300)));
    expect(c.computed).toBe(before + 3);
  });
});
