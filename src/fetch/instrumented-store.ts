import { setTimeout as sleep } from 'node:timers/promises';
import { isWharfError, toWharfError } from '../core/errors.js';
import type { ListOptions, ObjectInfo, StorageDriver } from '../storage/types.js';

/** Requests a fetch made to the source store, by kind. A rerun with nothing changed shows zero reads. */
export interface RequestCounts {
  /** Object listings started or resumed (each may span many pages). */
  listings: number;
  /** Object reads (whole GETs and ranged GETs). */
  reads: number;
  /** Metadata lookups (HEAD). */
  stats: number;
}

/**
 * Wraps a store for one fetch: counts requests, and makes `list` survive transient failures by resuming after
 * the last key it yielded (a listing of millions of keys is not restarted because page 900 got a 503).
 */
export function instrumentStore(
  store: StorageDriver,
  counts: RequestCounts,
  listAttempts: number,
): StorageDriver {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'list') {
        return (prefix: string, options: ListOptions = {}) =>
          resumableList(target, prefix, options, counts, listAttempts);
      }
      if (
        property === 'read' ||
        property === 'readInto' ||
        property === 'stat' ||
        property === 'multipartLayout'
      ) {
        const method = Reflect.get(target, property, receiver) as unknown;
        if (typeof method !== 'function') return method;
        return (...args: unknown[]) => {
          if (property === 'read' || property === 'readInto') counts.reads += 1;
          else counts.stats += 1;
          return (method as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function* resumableList(
  store: StorageDriver,
  prefix: string,
  options: ListOptions,
  counts: RequestCounts,
  attempts: number,
): AsyncGenerator<ObjectInfo> {
  let after = options.startAfter;
  for (let attempt = 1; ; attempt++) {
    counts.listings += 1;
    try {
      for await (const info of store.list(prefix, {
        ...options,
        ...(after !== undefined ? { startAfter: after } : {}),
      })) {
        after = info.key;
        attempt = 1;
        yield info;
      }
      return;
    } catch (error) {
      const wharfError = isWharfError(error) ? error : toWharfError(error);
      if (!wharfError.retryable || attempt >= attempts) throw wharfError;
      const delay = Math.random() * 200 * 2 ** (attempt - 1);
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}
