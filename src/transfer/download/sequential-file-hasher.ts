import type { FileHandle } from 'node:fs/promises';
import type { ContentHasher, HashResult } from './content-hasher.js';
import type { PlannedRange } from './range-plan.js';

const READ_CHUNK = 1024 * 1024;

/**
 * Hashes a file being filled by ranges that finish out of order: whenever the finished ranges form a longer
 * prefix of the file, it reads that prefix back (from the page cache, normally) and feeds the hasher in order.
 * So the MD5 a single-part ETag needs is computed while the download runs, not in a second pass afterwards.
 */
export class SequentialFileHasher {
  readonly #file: FileHandle;
  readonly #ranges: PlannedRange[];
  readonly #hasher: ContentHasher;
  readonly #done = new Set<number>();
  #next = 0;
  #hashedTo = 0;
  #work: Promise<void> = Promise.resolve();
  #error: unknown;
  readonly #buffer = Buffer.allocUnsafe(READ_CHUNK);

  constructor(file: FileHandle, ranges: PlannedRange[], hasher: ContentHasher) {
    this.#file = file;
    this.#ranges = ranges;
    this.#hasher = hasher;
  }

  /** Marks ranges as present in the file and hashes whatever prefix that completes (in the background). */
  markDone(indexes: Iterable<number>): void {
    for (const i of indexes) this.#done.add(i);
    let end = this.#hashedTo;
    while (this.#next < this.#ranges.length && this.#done.has(this.#next)) {
      end = (this.#ranges[this.#next]?.end ?? -1) + 1;
      this.#next += 1;
    }
    if (end > this.#hashedTo) {
      const from = this.#hashedTo;
      this.#hashedTo = end;
      this.#work = this.#work
        .then(() => this.#hashSpan(from, end))
        .catch((error: unknown) => {
          this.#error ??= error;
        });
    }
  }

  /** The digests, once every range has been marked done and hashed. */
  async finish(): Promise<HashResult> {
    await this.#work;
    if (this.#error !== undefined) throw this.#error;
    if (this.#next !== this.#ranges.length) {
      throw new Error(`hashing finished with ${this.#ranges.length - this.#next} ranges missing`);
    }
    return this.#hasher.digest();
  }

  async #hashSpan(from: number, to: number): Promise<void> {
    let position = from;
    while (position < to) {
      const length = Math.min(READ_CHUNK, to - position);
      const { bytesRead } = await this.#file.read(this.#buffer, 0, length, position);
      if (bytesRead === 0) throw new Error(`the partial file ended at byte ${position}, expected ${to}`);
      this.#hasher.update(this.#buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  }
}
