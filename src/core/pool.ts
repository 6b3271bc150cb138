import { throwIfAborted } from './errors.js';

/**
 * Runs `worker` over every item of `items` with at most `concurrency` in flight, pulling items lazily
 * (so a listing of millions of keys is never held in memory at once). Items are processed in order of
 * arrival; the first worker error stops new work and is rethrown after in-flight work settles, unless the
 * worker itself catches and records per-item failures (which batch operations do).
 */
export async function runPool<T>(
  items: Iterable<T> | AsyncIterable<T>,
  concurrency: number,
  worker: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const iterator = toAsyncIterator(items);
  let index = 0;
  let failure: { error: unknown } | undefined;
  let done = false;

  // Only one lane pulls from the iterator at a time: async generators reject concurrent next() calls
  // only by queueing, but user iterables may not be safe.
  let pulling: Promise<void> = Promise.resolve();
  const next = (): Promise<IteratorResult<T> & { index: number }> => {
    const result = pulling.then(async () => {
      if (done || failure) return { done: true as const, value: undefined, index: -1 };
      const r = await iterator.next();
      if (r.done) done = true;
      return { ...r, index: index++ };
    });
    pulling = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };

  // Lanes start one by one, each as the previous one takes an item, so there are never more lanes than items:
  // `--concurrency 99999999` over three files must not allocate a hundred million of them.
  const lanes: Promise<void>[] = [];
  const startLane = (): void => {
    lanes.push(
      lane().catch((error: unknown) => {
        failure ??= { error };
      }),
    );
  };
  const lane = async (): Promise<void> => {
    for (;;) {
      if (failure) return;
      throwIfAborted(signal);
      const r = await next();
      if (r.done) return;
      if (lanes.length < concurrency) startLane();
      try {
        await worker(r.value, r.index);
      } catch (error) {
        failure ??= { error };
        return;
      }
    }
  };

  startLane();
  // A lane adds the next one before it settles, so awaiting them in order awaits them all.
  for (let i = 0; i < lanes.length; i++) await lanes[i];
  if (failure) {
    await iterator.return?.();
    throw failure.error;
  }
}

function toAsyncIterator<T>(items: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in items) return items[Symbol.asyncIterator]();
  const it = items[Symbol.iterator]();
  return {
    next: () => Promise.resolve(it.next()),
    return: () => Promise.resolve(it.return?.() ?? { done: true as const, value: undefined }),
  };
}
