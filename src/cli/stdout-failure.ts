import { errnoReason, WharfError } from '../core/errors.js';

/**
 * The one error for a write to standard output that failed: a full disk, /dev/full, a broken device. A closed
 * pipe (EPIPE, `wharf ls | head`) is the reader's choice and never comes here.
 */
export function stdoutWriteError(error: unknown): WharfError {
  const code = (error as { code?: unknown } | null)?.code;
  const reason =
    typeof code === 'string'
      ? (errnoReason(code) ?? code)
      : error instanceof Error
        ? error.message
        : String(error);
  return new WharfError('IO', `cannot write to standard output: ${reason}`, {
    cause: error,
    hint:
      code === 'ENOSPC'
        ? 'the output is incomplete; free some disk space and run the command again'
        : 'the output is incomplete',
  });
}

/** True for the error a write to a pipe whose reader has gone away gets. */
export function isClosedPipe(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'EPIPE';
}
