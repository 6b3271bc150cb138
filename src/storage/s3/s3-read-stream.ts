import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import { AbortedError, WharfError } from '../../core/errors.js';

/**
 * Wraps a GetObject body so that consumers only ever see WharfErrors: a broken connection becomes a retryable
 * NETWORK error, an SDK checksum mismatch a retryable IO error, and `signal` ends the stream with AbortedError.
 * Destroying the returned stream early destroys the response (the socket is not reused).
 */
export function guardBody(
  body: Readable,
  context: { what: string; endpointLabel: string; signal: AbortSignal | undefined },
): Readable {
  const { what, endpointLabel, signal } = context;
  const out = new PassThrough();
  const onAbort = () => {
    out.destroy(new AbortedError());
    body.destroy();
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const cleanup = () => signal?.removeEventListener('abort', onAbort);
  body.on('error', (error: Error) => {
    cleanup();
    if (out.destroyed) return;
    if (/checksum mismatch/i.test(error.message)) {
      out.destroy(
        new WharfError('IO', `the data of ${what} failed checksum validation: ${error.message}`, {
          cause: error,
          retryable: true,
        }),
      );
    } else if (signal?.aborted) {
      out.destroy(new AbortedError(undefined, { cause: error }));
    } else {
      out.destroy(
        new WharfError(
          'NETWORK',
          `lost the connection to ${endpointLabel} while reading ${what}: ${error.message}`,
          {
            cause: error,
            retryable: true,
          },
        ),
      );
    }
  });
  body.on('end', cleanup);
  out.on('close', () => {
    cleanup();
    if (!body.destroyed && !body.readableEnded) body.destroy();
  });
  body.pipe(out);
  return out;
}
