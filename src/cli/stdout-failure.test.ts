import { describe, expect, it } from 'vitest';
import { isClosedPipe, stdoutWriteError } from './stdout-failure.js';

const errno = (code: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: failed, write`), { code, syscall: 'write' });

describe('stdoutWriteError', () => {
  it('names standard output and the disk in words, and does not claim nothing was written', () => {
    const error = stdoutWriteError(errno('ENOSPC'));
    expect(error.code).toBe('IO');
    expect(error.message).toBe('cannot write to standard output: no space left on device');
    expect(error.hint).toBe('the output is incomplete; free some disk space and run the command again');
  });

  it('falls back to the errno code when Wharf has no words for it', () => {
    expect(stdoutWriteError(errno('EBADF')).message).toBe('cannot write to standard output: EBADF');
    expect(stdoutWriteError(errno('EIO')).message).toBe(
      'cannot write to standard output: the disk reported an I/O error',
    );
  });

  it('a closed pipe is told apart', () => {
    expect(isClosedPipe(errno('EPIPE'))).toBe(true);
    expect(isClosedPipe(errno('ENOSPC'))).toBe(false);
  });
});
