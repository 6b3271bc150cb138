import type { OpOptions, StorageDriver } from './types.js';

/**
 * Checks that the store answers and exists by listing (non-recursively) up to the first entry of its root.
 * A HEAD of an absent key cannot tell a missing bucket from a missing object (both are a 404, read as "absent");
 * a listing throws NOT_FOUND for a missing bucket. Throws what the listing throws.
 */
export async function probeStore(store: StorageDriver, options: OpOptions = {}): Promise<void> {
  const entries = store.list('', { ...options, delimiter: '/' })[Symbol.asyncIterator]();
  try {
    await entries.next();
  } finally {
    await entries.return?.();
  }
}
