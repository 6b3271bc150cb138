import type { FileHandle } from 'node:fs/promises';

/** A fixed set of equal buffers lent out and given back; the memory bound of the ranged writers that share it. */
export class BufferPool {
  readonly size: number;
  readonly #free: Buffer[] = [];
  readonly #waiting: ((buffer: Buffer) => void)[] = [];
  /** Buffers not yet allocated (they are made on first need). */
  #unmade: number;

  constructor(size: number, count: number) {
    this.size = size;
    this.#unmade = count;
  }

  take(): Buffer | undefined {
    const buffer = this.#free.pop();
    if (buffer || this.#unmade === 0) return buffer;
    this.#unmade -= 1;
    return Buffer.allocUnsafe(this.size);
  }

  acquire(): Promise<Buffer> {
    const buffer = this.take();
    if (buffer) return Promise.resolve(buffer);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(buffer: Buffer): void {
    const next = this.#waiting.shift();
    if (next) next(buffer);
    else this.#free.push(buffer);
  }
}

/**
 * Writes a stream of borrowed chunks at consecutive positions of a file: each chunk is copied into a pooled buffer
 * and every full buffer is written positionally while the next one fills, so the caller's memory (a socket's read
 * buffer) is free again as soon as `write` returns. `write` returns a promise only when it had to wait for a free
 * buffer; the caller should then stop producing until it settles.
 */
export class BatchedFileWriter {
  readonly #handle: FileHandle;
  readonly #pool: BufferPool;
  #position: number;
  #current: Buffer | undefined;
  #fill = 0;
  readonly #pending = new Set<Promise<void>>();
  #error: unknown;

  constructor(handle: FileHandle, position: number, pool: BufferPool) {
    this.#handle = handle;
    this.#position = position;
    this.#pool = pool;
  }

  write(bytes: Buffer): void | Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    let offset = 0;
    while (offset < bytes.length) {
      if (!this.#current) {
        this.#current = this.#pool.take();
        this.#fill = 0;
        if (!this.#current) return this.#waitThenWrite(Buffer.from(bytes.subarray(offset)));
      }
      const copied = bytes.copy(this.#current, this.#fill, offset);
      this.#fill += copied;
      offset += copied;
      if (this.#fill === this.#current.length) this.#submit();
    }
    return undefined;
  }

  /** Writes what is buffered and waits for every write; resolves with the position after the last byte. */
  async end(): Promise<number> {
    if (this.#current && this.#fill > 0) this.#submit();
    this.#giveBack();
    while (this.#pending.size > 0) await Promise.all(this.#pending);
    if (this.#error !== undefined) throw this.#error;
    return this.#position;
  }

  /** After a failure: waits for writes in flight (their buffers go back to the pool) and drops the rest. */
  async abandon(): Promise<void> {
    this.#giveBack();
    while (this.#pending.size > 0) await Promise.allSettled(this.#pending);
  }

  async #waitThenWrite(rest: Buffer): Promise<void> {
    this.#current = await this.#pool.acquire();
    this.#fill = 0;
    await this.write(rest);
  }

  #giveBack(): void {
    if (this.#current) this.#pool.release(this.#current);
    this.#current = undefined;
    this.#fill = 0;
  }

  #submit(): void {
    const buffer = this.#current as Buffer;
    const length = this.#fill;
    const at = this.#position;
    this.#position += length;
    this.#current = undefined;
    this.#fill = 0;
    const write = writeAllAt(this.#handle, [buffer.subarray(0, length)], length, at)
      .catch((error: unknown) => {
        this.#error ??= error;
      })
      .finally(() => {
        this.#pool.release(buffer);
        this.#pending.delete(write);
      });
    this.#pending.add(write);
  }
}

/** Writes `chunks` (`length` bytes in all) at `position`, however many calls the kernel needs. */
export async function writeAllAt(
  handle: FileHandle,
  chunks: Buffer[],
  length: number,
  position: number,
): Promise<void> {
  let written = 0;
  let rest = chunks;
  while (written < length) {
    const { bytesWritten } = await handle.writev(rest, position + written);
    if (bytesWritten <= 0) throw new Error(`writing at byte ${position + written} made no progress`);
    written += bytesWritten;
    if (written < length) rest = [Buffer.concat(rest).subarray(bytesWritten)];
  }
}
