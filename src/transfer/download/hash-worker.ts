import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { ContentHasher, type HashNeeds } from './content-hasher.js';

/**
 * Worker thread for SequentialFileHasher: hashes a file from the start up to the offsets it is sent, so the
 * MD5 of a large download runs on another core than the one receiving the bytes.
 * Messages in: `{ to }` (hash up to this offset), `{ finish: true }`. Out: `{ digest }` or `{ error }`.
 */
const { path, needs } = workerData as { path: string; needs: HashNeeds };
const port = parentPort;
if (!port) throw new Error('hash-worker must run as a worker thread');

const fd = openSync(path, 'r');
const hasher = new ContentHasher(needs);
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
let position = 0;
let failed = false;

port.on('message', (message: { to?: number; finish?: boolean }) => {
  if (failed) return;
  try {
    if (message.to !== undefined) {
      while (position < message.to) {
        const length = Math.min(buffer.length, message.to - position);
        const read = readSync(fd, buffer, 0, length, position);
        if (read === 0) throw new Error(`the partial file ended at byte ${position}, expected ${message.to}`);
        hasher.update(buffer.subarray(0, read));
        position += read;
      }
    }
    if (message.finish) {
      closeSync(fd);
      port.postMessage({ digest: hasher.digest() });
    }
  } catch (error) {
    failed = true;
    closeSync(fd);
    port.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
