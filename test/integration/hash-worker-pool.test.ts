import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContentHasher, type HashNeeds } from '../../src/transfer/download/content-hasher.js';
import { HashWorkerPool } from '../../src/transfer/download/hash-worker-pool.js';

// The worker runs as compiled JavaScript: the test command builds dist/ before the tests.
const WORKER = new URL('../../dist/transfer/download/hash-worker.js', import.meta.url);
const NEEDS: HashNeeds = { md5PartSizes: [1024 * 1024], sha256: true };

describe.skipIf(!existsSync(fileURLToPath(WORKER)))('HashWorkerPool (built hash worker)', () => {
  let dir: string;
  const files: { path: string; data: Buffer }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-hash-pool-'));
    for (let i = 0; i < 6; i++) {
      const data = randomBytes(3 * 1024 * 1024 + i * 4099);
      const file = path.join(dir, `f${i}.bin`);
      await writeFile(file, data);
      files.push({ path: file, data });
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const expected = (data: Buffer): ReturnType<ContentHasher['digest']> => {
    const hasher = new ContentHasher(NEEDS);
    hasher.update(data);
    return hasher.digest();
  };

  it('hashes many files at once on at most `size` workers, each exactly as in-thread hashing would', async () => {
    const pool = new HashWorkerPool(WORKER, 2);
    const jobs = files.map((f) => ({ f, job: pool.open(f.path, NEEDS) }));
    expect(pool.running).toBe(2);
    // Offsets arrive in steps, as finished ranges extend each file's prefix.
    for (const { f, job } of jobs) {
      job.hashTo(1024 * 1024);
      job.hashTo(f.data.length - 1000);
      job.hashTo(f.data.length);
    }
    const digests = await Promise.all(jobs.map(({ job }) => job.finish()));
    expect(digests).toEqual(files.map((f) => expected(f.data)));
    expect(pool.running).toBeLessThanOrEqual(2);
  });

  it('fails only the job whose file is shorter than asked, or cancelled; the others on the same worker finish', async () => {
    const pool = new HashWorkerPool(WORKER, 1);
    const [a, b, c] = files;
    const short = pool.open(a!.path, NEEDS);
    const good = pool.open(b!.path, NEEDS);
    const cancelled = pool.open(c!.path, NEEDS);
    short.hashTo(a!.data.length + 1);
    good.hashTo(b!.data.length);
    cancelled.hashTo(1024);
    cancelled.cancel();
    await expect(short.finish()).rejects.toThrow(/partial file ended at byte/);
    await expect(cancelled.finish()).rejects.toThrow(/cancelled/);
    await expect(good.finish()).resolves.toEqual(expected(b!.data));
    expect(pool.running).toBe(1);
  });

  it('rejects a job whose file cannot be opened', async () => {
    const pool = new HashWorkerPool(WORKER, 1);
    const missing = pool.open(path.join(dir, 'missing.bin'), NEEDS);
    missing.hashTo(10);
    await expect(missing.finish()).rejects.toThrow(/hashing the download failed: .*ENOENT/);
  });
});
