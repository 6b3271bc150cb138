import { existsSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ContentHasher, type HashNeeds, type HashResult } from './content-hasher.js';
import type { PlannedRange } from './range-plan.js';

const READ_CHUNK = 1024 * 1024;
const WORKER_URL = new URL('./hash-worker.js', import.meta.url);

/**
 * Hashes a file being filled by ranges that finish out of order: whenever the finished ranges form a longer
 * prefix of the file, that prefix is read back (from the page cache, normally) and hashed in order. So the
 * MD5 a single-part ETag needs is computed while the download runs, not in a second pass afterwards. The
 * hashing runs in a worker thread when the compiled worker is present (in the built package), so it does
 * not compete with receiving bytes on the main thread; otherwise in this thread.
 */
export class SequentialFileHasher {
  readonly #ranges: PlannedRange[];
  readonly #backend: HashBackend;
  readonly #done = new Set<number>();
  #next = 0;
  #hashedTo = 0;

  constructor(file: FileHandle, path: string, ranges: PlannedRange[], needs: HashNeeds) {
    this.#ranges = ranges;
    this.#backend = existsSync(fileURLToPath(WORKER_URL))
      ? new WorkerBackend(path, needs)
      : new InThreadBackend(file, new ContentHasher(needs));
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

interface HashBackend {
  hashTo(offset: number): void;
  finish(): Promise<HashResult>;
  cancel(): void;
}

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

class WorkerBackend implements HashBackend {
  readonly #worker: Worker;
  readonly #result: Promise<HashResult>;

  constructor(path: string, needs: HashNeeds) {
    this.#worker = new Worker(WORKER_URL, { workerData: { path, needs } });
    this.#result = new Promise<HashResult>((resolve, reject) => {
      this.#worker.on('message', (m: { digest?: HashResult; error?: string }) => {
        if (m.digest) resolve(m.digest);
        else reject(new Error(`hashing the download failed: ${m.error ?? 'unknown error'}`));
        void this.#worker.terminate();
      });
      this.#worker.on('error', reject);
      this.#worker.on('exit', () => reject(new Error('the hashing worker stopped')));
    });
    // Until finish() is awaited, a rejection must not count as unhandled.
    this.#result.catch(() => undefined);
  }

  hashTo(offset: number): void {
    this.#worker.postMessage({ to: offset });
  }

  finish(): Promise<HashResult> {
    this.#worker.postMessage({ finish: true });
    return this.#result;
  }

  cancel(): void {
    void this.#worker.terminate();
  }
}
