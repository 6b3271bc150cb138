import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { ContentHasher } from './content-hasher.js';
import type { HashWorkerReply, HashWorkerRequest } from './hash-worker-pool.js';

/**
 * Worker thread of the HashWorkerPool: hashes files from their start up to the offsets it is sent, for any
 * number of jobs (one per file), so the MD5 of large downloads runs on another core than the one receiving the
 * bytes. Messages are handled one at a time; each `to` covers only the ranges finished since the last one.
 */
const port = parentPort;
if (!port) throw new Error('hash-worker must run as a worker thread');

interface Job {
  fd: number | undefined;
  hasher: ContentHasher;
  position: number;
  failed: boolean;
}

const jobs = new Map<number, Job>();
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);

function hashTo(job: Job, to: number): void {
  while (job.position < to) {
    const length = Math.min(buffer.length, to - job.position);
    const read = readSync(job.fd as number, buffer, 0, length, job.position);
    if (read === 0) throw new Error(`the partial file ended at byte ${job.position}, expected ${to}`);
    job.hasher.update(buffer.subarray(0, read));
    job.position += read;
  }
}

function close(job: Job): void {
  if (job.fd !== undefined) closeSync(job.fd);
  job.fd = undefined;
}

function reply(message: HashWorkerReply): void {
  port?.postMessage(message);
}

port.on('message', (message: HashWorkerRequest) => {
  const id = message.job;
  if ('open' in message) {
    const job: Job = {
      fd: undefined,
      hasher: new ContentHasher(message.open.needs),
      position: 0,
      failed: false,
    };
    jobs.set(id, job);
    try {
      job.fd = openSync(message.open.path, 'r');
    } catch (error) {
      job.failed = true;
      reply({ job: id, error: describe(error) });
    }
    return;
  }
  const job = jobs.get(id);
  if (!job) return;
  if ('cancel' in message || 'finish' in message) jobs.delete(id);
  if ('cancel' in message || job.failed) {
    close(job);
    return;
  }
  try {
    if ('to' in message) hashTo(job, message.to);
    else {
      close(job);
      reply({ job: id, digest: job.hasher.digest() });
    }
  } catch (error) {
    job.failed = true;
    close(job);
    reply({ job: id, error: describe(error) });
  }
});

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
