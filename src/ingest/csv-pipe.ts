import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * Creates a named pipe (mode 0600) at `path`, so that DuckDB reads COPY's CSV while PostgreSQL still sends it
 * (extraction and Parquet writing overlap instead of taking turns). False where no pipe can be made (no
 * `mkfifo`, e.g. Windows): the caller then goes through a temp file.
 */
export async function makePipe(path: string): Promise<boolean> {
  if (process.platform === 'win32') return false;
  try {
    await promisify(execFile)('mkfifo', ['-m', '600', path]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens the write end of the pipe at `path` for a reader that is opening its read end (`reader`: the task
 * that reads the pipe to its end). Opening for writing waits for a reader, so nothing is written before it is
 * there and nothing is lost; closing the handle is the reader's end of input. When the reader fails before it
 * opens the pipe, the waiting open is released (a read end opened here for a moment) and its error is thrown.
 */
export async function openPipeForWriting(path: string, reader: Promise<unknown>): Promise<FileHandle> {
  let failure: { error: unknown } | undefined;
  reader.catch(async (error: unknown) => {
    failure = { error };
    const release = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
    await release?.close();
  });
  const handle = await open(path, 'w');
  if (failure) {
    await handle.close();
    throw failure.error;
  }
  return handle;
}

/** CSV bytes per row in a batch of COPY output (a quoted newline makes it an underestimate, which is fine). */
export function csvBytesPerRow(batch: Buffer): number {
  let rows = 0;
  for (let i = batch.indexOf(10); i !== -1; i = batch.indexOf(10, i + 1)) rows += 1;
  return batch.length / Math.max(1, rows);
}
