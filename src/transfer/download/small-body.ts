import { closeSync, fstatSync, fsync, futimesSync, openSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { BatchedFileWriter, BufferPool } from './batched-writer.js';

/**
 * Small downloads are kept in memory until they are complete and verified, then written with a handful of
 * synchronous system calls and one asynchronous fsync. Through `fs/promises` each of the seven calls a file needs
 * (open, write, futimes, fsync, fstat, close, rename) is a round trip through libuv's thread pool, with a thread
 * wake-up each way; for 2,000 files of 16 KiB those wake-ups cost more CPU than the writes (docs/benchmarks.md).
 * The synchronous calls on a small file take microseconds on a local disk; on a network file system they would
 * briefly hold up the event loop, which is why only the fsync (the one slow call) stays in the thread pool.
 */

/**
 * Takes a body as borrowed chunks: in memory up to `limit` bytes; past that it moves to a file opened by `openFile`
 * and streams through a BatchedFileWriter (so a body larger than announced never grows memory beyond `limit`).
 * `write` returns a promise only while it moves to the file; the caller stops producing until it settles.
 */
export class MemoryFirstWriter {
  readonly #limit: number;
  readonly #batch: number;
  readonly #openFile: () => Promise<FileHandle>;
  #memory: Buffer;
  #fill = 0;
  #file: BatchedFileWriter | undefined;

  /** `expected` bytes are allocated at once (the announced size, at most `limit`); a `limit` of 0 streams to a file. */
  constructor(expected: number, limit: number, batch: number, openFile: () => Promise<FileHandle>) {
    this.#limit = limit;
    this.#batch = batch;
    this.#openFile = openFile;
    this.#memory = Buffer.allocUnsafe(Math.min(Math.max(expected, 0), limit));
  }

  /** The whole body when it stayed in memory; undefined once it went to a file. */
  get inMemory(): Buffer | undefined {
    return this.#file ? undefined : this.#memory.subarray(0, this.#fill);
  }

  write(bytes: Buffer): void | Promise<void> {
    if (this.#file) return this.#file.write(bytes);
    const needed = this.#fill + bytes.length;
    if (needed > this.#limit) return this.#moveToFile(Buffer.from(bytes));
    if (needed > this.#memory.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.#limit, Math.max(needed, 2 * this.#memory.length)));
      this.#memory.copy(grown, 0, 0, this.#fill);
      this.#memory = grown;
    }
    bytes.copy(this.#memory, this.#fill);
    this.#fill = needed;
  }

  /** Waits for the file writes (if the body went to a file). */
  async end(): Promise<void> {
    await this.#file?.end();
  }

  /** After a failure: waits for the file writes in flight. */
  async abandon(): Promise<void> {
    await this.#file?.abandon();
  }

  async #moveToFile(rest: Buffer): Promise<void> {
    const handle = await this.#openFile();
    const writer = new BatchedFileWriter(handle, 0, new BufferPool(this.#batch, 2));
    this.#file = writer;
    const held = this.#memory.subarray(0, this.#fill);
    this.#memory = Buffer.alloc(0);
    this.#fill = 0;
    if (held.length > 0) await writer.write(held);
    await writer.write(rest);
  }
}

function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}

/**
 * Creates `path` (which must not exist) holding `data`, with mtime `lastModified` when given, fsynced. Returns the
 * mtime the file system recorded. On failure the file may exist; the caller removes it.
 */
export async function writeNewFileDurably(
  path: string,
  data: Buffer,
  lastModified: Date | undefined,
): Promise<number> {
  const fd = openSync(path, 'wx');
  try {
    let written = 0;
    while (written < data.length) {
      const n = writeSync(fd, data, written, data.length - written);
      if (n <= 0) throw new Error(`writing ${path} made no progress`);
      written += n;
    }
    if (lastModified) futimesSync(fd, lastModified, lastModified);
    await fsyncFd(fd);
    return fstatSync(fd).mtimeMs;
  } finally {
    closeSync(fd);
  }
}
