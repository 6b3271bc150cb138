import { randomBytes } from 'node:crypto';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../support/fault-proxy.js';
import { tempDir } from '../support/fixtures.js';
import { wharf } from '../support/run-cli.js';
import { adminClient, createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';
import { s3TestEnv } from '../support/test-services.js';

// wharf cp / rm / ls / presign as a user moving data would use them (as with aws s3, rclone, s5cmd).

const MIB = 1024 * 1024;
let bucket: string;
let other: string;
let work: string;

beforeAll(async () => {
  s3TestEnv();
  bucket = await createTestBucket('xfer');
  other = await createTestBucket('xfer2');
  work = await tempDir('xfer');
});

afterAll(async () => {
  if (bucket) await deleteTestBucket(bucket);
  if (other) await deleteTestBucket(other);
  if (work) await rm(work, { recursive: true, force: true });
});

async function head(key: string, inBucket = bucket) {
  return adminClient()
    .send(new HeadObjectCommand({ Bucket: inBucket, Key: key }))
    .catch((error: { name?: string }) => {
      if (error.name === 'NotFound') return undefined;
      throw error;
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('wharf cp: a file that changes while it is uploaded', () => {
  it('fails naming the file and leaves no torn object at the key', { timeout: 120_000 }, async () => {
    const path = join(work, 'growing.bin');
    await writeFile(path, randomBytes(40 * MIB));
    const proxy = await startFaultProxy(s3TestEnv().endpoint, { uploadBytesPerSecond: 4 * MIB });
    try {
      const run = wharf(['--endpoint-url', proxy.url, 'cp', path, `s3://${bucket}/torn/growing.bin`]);
      const isPart = (r: { method: string; query: URLSearchParams }) =>
        r.method === 'PUT' && r.query.has('partNumber');
      for (let waited = 0; proxy.count(isPart) === 0 && waited < 30_000; waited += 50) await sleep(50);
      expect(proxy.count(isPart)).toBeGreaterThan(0);
      // Rewritten in place while the first parts are on their way: its head was read already, its tail not yet.
      const handle = await open(path, 'r+');
      await handle.write(Buffer.alloc(MIB, 1), 0, MIB, 0);
      await handle.write(Buffer.alloc(MIB, 2), 0, MIB, 39 * MIB);
      await handle.close();
      const r = await run;
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toContain(path);
      expect(r.stderr).toMatch(/changed while/);
      expect(await head('torn/growing.bin')).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });
});
