import { mkdir, rmdir, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, throwIfAborted } from '../../core/errors.js';

const STALE_AFTER_MS = 30_000;
const GIVE_UP_AFTER_MS = 15_000;

/**
 * Holds a lock directory for the duration of `fn`. mkdir is atomic across processes, so this serialises
 * compare-and-swap writes on one key between every Wharf process using the folder. A lock older than
 * 30 s is taken to be left by a crashed process and broken.
 */
export async function withLockDir<T>(
  lockPath: string,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(signal);
    try {
      await mkdir(lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_AFTER_MS) {
        await rmdir(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() - started > GIVE_UP_AFTER_MS) {
        throw new ConflictError(`timed out waiting for lock ${lockPath}`, {
          retryable: true,
          hint: 'another process is writing the same key; if none is, delete the lock folder',
        });
      }
      await sleep(Math.min(5 * 2 ** attempt, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await rmdir(lockPath).catch(() => undefined);
  }
}
