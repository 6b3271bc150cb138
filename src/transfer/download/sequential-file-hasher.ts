import type { FileHandle } from 'node:fs/promises';
import { ContentHasher, type HashNeeds, type HashResult } from './content-hasher.js';
import { sharedHashWorkerPool, type HashJob } from './hash-worker-pool.js';
import type { PlannedRange } from './range-plan.js';

const READ_CHUNK = 1024 * 1024;

/**
 * Hashes a file being filled by ranges that finish out of order: whenever the finished ranges form a longer
 * prefix of the file, that prefix is read back (from the page cache, normally) and hashed in order. So the
 * MD5 a single-part ETag needs is computed while the download runs, not in a second pass afterwards. The
 * hashing runs on the process's shared hash workers when the compiled worker is present (in the built
 * package), so it does not compete with receiving bytes on the main thread; otherwise in this thread.
 */
export class SequentialFileHasher {
  readonly #ranges: PlannedRange[];
  readonly #backend: HashBackend;
  readonly #done = new Set<number>();
  #next = 0;
  #hashedTo = 0;

  constructor(file: FileHandle, path: string, ranges: PlannedRange[], needs: HashNeeds) {
    this.#ranges = ranges;
    this.#backend =
      sharedHashWorkerPool()?.open(path, needs) ?? new InThreadBackend(file, new ContentHasher(needs));
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
      this.#backend.hashTo(end);
      this.#hashedTo = end;
    }
  }

  /** The digests, once every range has been marked done and hashed. */
  async finish(): Promise<HashResult> {
    if (this.#next !== this.#ranges.length) {
      this.#backend.cancel();
      throw new Error(`hashing finished with ${this.#ranges.length - this.#next} ranges missing`);
    }
    return this.#backend.finish();
  }

  /** Stops hashing (after a failed or aborted download). */
  cancel(): void {
    this.#backend.cancel();
  }
}

type HashBackend = HashJob;

class InThreadBackend implements HashBackend {
  readonly #file: FileHandle;
  readonly #hasher: ContentHasher;
  readonly #buffer = Buffer.allocUnsafe(READ_CHUNK);
  #position = 0;
  #work: Promise<void> = Promise.resolve();
  #error: unknown;
  #cancelled = false;

  constructor(file: FileHandle, hasher: ContentHasher) {
    this.#file = file;
    this.#hasher = hasher;
  }

  hashTo(offset: number): void {
    this.#work = this.#work
      .then(async () => {
        while (this.#position < offset && !this.#cancelled) {
          const length = Math.min(READ_CHUNK, offset - this.#position);
          const { bytesRead } = await this.#file.read(this.#buffer, 0, length, this.#position);
          if (bytesRead === 0) throw new Error(`the partial file ended at byte ${this.#position}`);
          this.#hasher.update(this.#buffer.subarray(0, bytesRead));
          this.#position += bytesRead;
        }
      })
      .catch((error: unknown) => {
        this.#error ??= error;
      });
  }

  async finish(): Promise<HashResult> {
    await this.#work;
    if (this.#error !== undefined) throw this.#error;
    return this.#hasher.digest();
  }

  cancel(): void {
    this.#cancelled = true;
  }
}
