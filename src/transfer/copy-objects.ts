import { emptySnapshot, type ProgressListener, type ProgressSnapshot } from '../core/events.js';
import { isWharfError, throwIfAborted, toWharfError, type WharfError } from '../core/errors.js';
import { assertCreatableKey, assertSafeRelativeKey, joinKey } from '../core/keys.js';
import { runPool } from '../core/pool.js';
import { withRetry } from '../core/retry.js';
import type { ObjectInfo, StorageDriver } from '../storage/types.js';
import type { CopyEvent } from './copy-events.js';

export interface CopyItem {
  /** Key in the source store. */
  sourceKey: string;
  /** Key in the destination store. */
  destKey: string;
  size: number;
}

export interface CopyPlan {
  items: CopyItem[];
  totalBytes: number;
}

export interface CopyResult {
  done: { sourceKey: string; destKey: string; size: number }[];
  failed: { sourceKey: string; destKey: string; error: WharfError }[];
  bytes: number;
}

export interface CopyOptions {
  /** Objects copied at once (default 32). */
  concurrency?: number;
  /** Attempts per object for retryable failures, above the driver's own request retries (default 3). */
  attempts?: number;
  signal?: AbortSignal;
  onEvent?: ProgressListener<CopyEvent>;
}

/**
 * Lists everything under `sourcePrefix` and maps each key to `destPrefix + relative key`. When the destination
 * maps keys to paths (a local folder), every destination key is checked before anything is written, so a
 * listing with a key like `a/../../x` refuses the whole copy instead of writing half of it; other stores refuse
 * '.' and '..' segments the same way.
 */
export async function planTreeCopy(
  source: StorageDriver,
  sourcePrefix: string,
  dest: StorageDriver,
  destPrefix: string,
  signal?: AbortSignal,
): Promise<CopyPlan> {
  const items: CopyItem[] = [];
  let totalBytes = 0;
  for await (const info of source.list(sourcePrefix, signal ? { signal } : {})) {
    if (info.isPrefix) continue;
    const relative = info.key.slice(sourcePrefix.length);
    if (relative === '') continue;
    const destKey = joinKey(destPrefix, relative);
    assertDestinationKey(dest, destKey);
    items.push({ sourceKey: info.key, destKey, size: info.size });
    totalBytes += info.size;
  }
  return { items, totalBytes };
}

/** Throws InvalidKeyError, before any byte moves, for a key the destination would refuse to create. */
export function assertDestinationKey(dest: StorageDriver, key: string): void {
  if (dest.capabilities.pathKeys) assertSafeRelativeKey(key);
  else assertCreatableKey(key);
}

/**
 * Copies every item of the plan on a bounded pool. Same-store copies use server-side copy where the driver
 * has it; otherwise bytes stream from source to destination without touching local disk.
 * Per-object failures are collected, not thrown; setup failures and aborts throw.
 */
export async function copyObjects(
  source: StorageDriver,
  dest: StorageDriver,
  plan: CopyPlan,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const { signal, onEvent } = options;
  const snapshot: ProgressSnapshot = {
    ...emptySnapshot(),
    totalBytes: plan.totalBytes,
    totalFiles: plan.items.length,
  };
  const snap = (): ProgressSnapshot => ({ ...snapshot });
  onEvent?.({ type: 'planned', snapshot: snap() });
  const result: CopyResult = { done: [], failed: [], bytes: 0 };
  const serverSide = source === dest && dest.capabilities.serverSideCopy && dest.copy !== undefined;

  await runPool(
    plan.items,
    options.concurrency ?? 32,
    async (item) => {
      let counted = 0;
      try {
        await withRetry(
          async () => {
            throwIfAborted(signal);
            snapshot.bytes -= counted;
            counted = 0;
            const onProgress = (sent: number): void => {
              snapshot.bytes += sent - counted;
              counted = sent;
              onEvent?.({ type: 'progress', snapshot: snap() });
            };
            await copyOne(source, dest, item, serverSide, signal, onProgress);
            if (counted !== item.size) onProgress(item.size);
          },
          {
            attempts: options.attempts ?? 3,
            ...(signal ? { signal } : {}),
            onRetry: (error, attempt) =>
              onEvent?.({ type: 'retry', key: item.sourceKey, attempt, error: toWharfError(error) }),
          },
        );
        snapshot.files += 1;
        result.done.push({ ...item });
        result.bytes += item.size;
        onEvent?.({ type: 'file-done', key: item.sourceKey, size: item.size, snapshot: snap() });
      } catch (error) {
        const wharfError = isWharfError(error) ? error : toWharfError(error);
        if (wharfError.code === 'ABORTED') throw wharfError;
        snapshot.bytes -= counted;
        snapshot.failedFiles += 1;
        result.failed.push({ ...item, error: wharfError });
        onEvent?.({ type: 'file-failed', key: item.sourceKey, error: wharfError, snapshot: snap() });
      }
    },
    signal,
  );
  return result;
}

async function copyOne(
  source: StorageDriver,
  dest: StorageDriver,
  item: CopyItem,
  serverSide: boolean,
  signal: AbortSignal | undefined,
  onProgress: (sent: number) => void,
): Promise<ObjectInfo> {
  const o = signal ? { signal } : {};
  if (serverSide && dest.copy) return dest.copy(item.sourceKey, item.destKey, o);
  const body = await source.read(item.sourceKey, o);
  try {
    return await dest.write(item.destKey, body, { ...o, size: item.size, onProgress });
  } finally {
    body.destroy();
  }
}
