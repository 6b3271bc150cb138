import { setTimeout as sleep } from 'node:timers/promises';
import { isWharfError, throwIfAborted, toWharfError } from './errors.js';

export interface RetryOptions {
  /** Attempts including the first (default 3). */
  attempts?: number | undefined;
  /** First back-off in ms, doubled each time with full jitter (default 200). */
  baseDelayMs?: number | undefined;
  signal?: AbortSignal | undefined;
  onRetry?: ((error: unknown, attempt: number) => void) | undefined;
}

/**
 * Runs `fn` again when it fails with a retryable WharfError (decided by `retryable`, never by class).
 * Used for whole-object work (a streamed copy) above the SDK's per-request retries.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 3;
  const base = options.baseDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.signal);
    try {
      return await fn(attempt);
    } catch (error) {
      const wharfError = isWharfError(error) ? error : toWharfError(error);
      if (!wharfError.retryable || attempt >= attempts) throw wharfError;
      options.onRetry?.(wharfError, attempt);
      const delay = Math.random() * base * 2 ** (attempt - 1);
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
    }
  }
}
