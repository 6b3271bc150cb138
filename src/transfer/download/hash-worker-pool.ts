import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HashNeeds, HashResult } from './content-hasher.js';

export type HashWorkerRequest =
  | { job: number; open: { path: string; needs: HashNeeds } }
  | { job: number; to: number }
  | { job: number; finish: true }
  | { job: number; cancel: true };

export type HashWorkerReply = { job: number; digest: HashResult } | { job: number; error: string };

/** One file being hashed on a pooled worker, from its start up to the offsets given. */
export interface HashJob {
  hashTo(offset: number): void;
  /** The digests once everything up to the last offset is hashed; rejects if reading or hashing failed. */
  finish(): Promise<HashResult>;
  /** Stops the job (the worker closes the file); a pending finish() rejects. */
  cancel(): void;
}

/** An idle worker is stopped after this long, so a long-running process does not keep isolates it no longer uses. */
const IDLE_STOP_MS = 10_000;

interface Pending {
  resolve: (digest: HashResult) => void;
  reject: (error: Error) => void;
}

class PooledWorker {
  readonly worker: Worker;
  readonly jobs = new Map<number, Pending>();
  readonly #onGone: (w: PooledWorker) => void;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(url: URL, onGone: (w: PooledWorker) => void) {
    this.#onGone = onGone;
    this.worker = new Worker(url);
    this.worker.unref();
    this.worker.on('message', (m: HashWorkerReply) => {
      const pending = this.jobs.get(m.job);
      if (!pending) return;
      this.#settled(m.job);
      if ('digest' in m) pending.resolve(m.digest);
      else pending.reject(new Error(`hashing the download failed: ${m.error}`));
    });
    const fail = (error: Error): void => {
      onGone(this);
      clearTimeout(this.#idleTimer);
      for (const pending of this.jobs.values()) pending.reject(error);
      this.jobs.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error('the hashing worker stopped')));
  }

  add(job: number, pending: Pending): void {
    clearTimeout(this.#idleTimer);
    // While it has work the worker keeps the process alive (its answer is awaited); idle, it does not.
    if (this.jobs.size === 0) this.worker.ref();
    this.jobs.set(job, pending);
  }

  /** The job ended (answered or cancelled): no longer awaited. */
  #settled(job: number): void {
    if (!this.jobs.delete(job) || this.jobs.size > 0) return;
    this.worker.unref();
    this.#idleTimer = setTimeout(() => {
      this.#onGone(this); // out of the pool first, so no new job lands on a stopping worker
      void this.worker.terminate();
    }, IDLE_STOP_MS);
    this.#idleTimer.unref();
  }

  cancel(job: number): void {
    const pending = this.jobs.get(job);
    if (!pending) return;
    this.worker.postMessage({ job, cancel: true } satisfies HashWorkerRequest);
    this.#settled(job);
    pending.reject(new Error('hashing was cancelled'));
  }
}

/**
 * A few worker threads shared by every large download of the process: each file is a job on one of them. One
 * worker per file cost ~10 MB of memory each (a V8 isolate), so 64 ranged files at once took 800 MB; the pool
 * bounds that to `size` isolates, and hashing needs no more threads than there are cores to spare anyway.
 */
export class HashWorkerPool {
  readonly size: number;
  readonly #url: URL;
  readonly #workers: PooledWorker[] = [];
  #nextJob = 1;

  constructor(url: URL, size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('hash worker pool size must be >= 1');
    this.#url = url;
    this.size = size;
  }

  /** Workers running now (for tests and diagnostics). */
  get running(): number {
    return this.#workers.length;
  }

  open(path: string, needs: HashNeeds): HashJob {
    const job = this.#nextJob++;
    const pooled = this.#pick();
    const result = new Promise<HashResult>((resolve, reject) => pooled.add(job, { resolve, reject }));
    // Until finish() is awaited, a failure must not count as an unhandled rejection.
    result.catch(() => undefined);
    pooled.worker.postMessage({ job, open: { path, needs } } satisfies HashWorkerRequest);
    return {
      hashTo: (to) => pooled.worker.postMessage({ job, to } satisfies HashWorkerRequest),
      finish: () => {
        pooled.worker.postMessage({ job, finish: true } satisfies HashWorkerRequest);
        return result;
      },
      cancel: () => pooled.cancel(job),
    };
  }

  /** A new worker while the pool has room and every worker is busy; else the least busy one. */
  #pick(): PooledWorker {
    const idle = this.#workers.find((w) => w.jobs.size === 0);
    if (idle) return idle;
    if (this.#workers.length < this.size) {
      const pooled = new PooledWorker(this.#url, (gone) => {
        const i = this.#workers.indexOf(gone);
        if (i >= 0) this.#workers.splice(i, 1);
      });
      this.#workers.push(pooled);
      return pooled;
    }
    return this.#workers.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
  }
}

const WORKER_URL = new URL('./hash-worker.js', import.meta.url);
let shared: HashWorkerPool | undefined;

/**
 * The process's pool, sized to leave a core for receiving bytes (1 worker on 2 cores, at most 4); undefined
 * when the compiled worker is absent (running from TypeScript sources), and then files are hashed in-thread.
 */
export function sharedHashWorkerPool(): HashWorkerPool | undefined {
  if (shared) return shared;
  if (!existsSync(fileURLToPath(WORKER_URL))) return undefined;
  shared = new HashWorkerPool(WORKER_URL, Math.max(1, Math.min(4, availableParallelism() - 1)));
  return shared;
}
