import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
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
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain(path);
      expect(r.stderr).toMatch(/changed while/);
      expect(await head('torn/growing.bin')).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });
});

describe('wharf cp: Content-Type and metadata', () => {
  it('an upload gets the Content-Type of its extension, as with aws s3 cp; an unknown one the store default', async () => {
    const dir = join(work, 'types');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'report.CSV'), 'a,b\n1,2\n');
    await writeFile(join(dir, 'sub', 'page.html'), '<p>hi</p>');
    await writeFile(join(dir, 'blob.weird'), 'x');
    await writeFile(join(work, 'q2.pdf'), '%PDF-1.4');
    expect((await wharf(['cp', '-r', dir, `s3://${bucket}/types/`])).code).toBe(0);
    expect((await wharf(['cp', join(work, 'q2.pdf'), `s3://${bucket}/types/`])).code).toBe(0);
    expect((await head('types/report.CSV'))?.ContentType).toBe('text/csv');
    expect((await head('types/sub/page.html'))?.ContentType).toBe('text/html');
    expect((await head('types/q2.pdf'))?.ContentType).toBe('application/pdf');
    expect((await head('types/blob.weird'))?.ContentType).toMatch(/octet-stream/);
  });

  it('a copy to another bucket keeps the Content-Type and user metadata (wharf-sha256 too), as a server-side copy does', async () => {
    await adminClient().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'meta/a.bin',
        Body: 'hello\n',
        ContentType: 'text/x-custom',
        Metadata: {
          'wharf-sha256': '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
          owner: 'Team A',
        },
      }),
    );
    for (const dest of [`s3://${bucket}/meta/same.bin`, `s3://${other}/meta/a.bin`]) {
      const r = await wharf(['cp', `s3://${bucket}/meta/a.bin`, dest]);
      expect(r.code, r.stderr).toBe(0);
    }
    for (const [inBucket, key] of [
      [bucket, 'meta/same.bin'],
      [other, 'meta/a.bin'],
    ] as const) {
      const copied = await head(key, inBucket);
      expect(copied?.ContentType, `${inBucket}/${key}`).toBe('text/x-custom');
      expect(copied?.Metadata, `${inBucket}/${key}`).toEqual({
        'wharf-sha256': '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
        owner: 'Team A',
      });
    }
    // And the copy verifies against it on the way back down.
    const down = await wharf(['--json', 'cp', `s3://${other}/meta/a.bin`, join(work, 'meta-a.bin')]);
    expect(down.code, down.stderr).toBe(0);
  });
});

describe('wharf rm', () => {
  it('of a prefix named without its trailing / asks for --recursive (exit 2), as cp and cat say, and deletes nothing', async () => {
    await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: 'rmp/logs/a.txt', Body: 'a' }));
    const r = await wharf(['rm', `s3://${bucket}/rmp/logs`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `wharf: error: s3://${bucket}/rmp/logs is a prefix, not one object: add --recursive to delete everything under it`,
    );
    expect(await head('rmp/logs/a.txt')).toBeDefined();
    expect((await wharf(['rm', `s3://${bucket}/rmp/log`])).code).toBe(3);
  });

  it('-r of a whole bucket needs --yes without a terminal (exit 2, nothing deleted); --dry-run and a prefix do not', async () => {
    const scratch = await createTestBucket('xfer-rm');
    try {
      for (const key of ['a.txt', 'p/b.txt', 'p/c.txt'])
        await adminClient().send(new PutObjectCommand({ Bucket: scratch, Key: key, Body: key }));
      for (const url of [`s3://${scratch}`, `s3://${scratch}/`]) {
        const refused = await wharf(['rm', '-r', url]);
        expect(refused.code, refused.stderr).toBe(2);
        expect(refused.stderr).toContain(`rm -r of the whole bucket ${scratch} needs confirmation`);
        expect(refused.stderr).toContain('--yes');
      }
      expect(await head('a.txt', scratch)).toBeDefined();
      const dry = await wharf(['rm', '-r', '--dry-run', `s3://${scratch}`]);
      expect(dry.code).toBe(0);
      expect(dry.stdout.trim().split('\n')).toEqual([
        `would delete s3://${scratch}/a.txt`,
        `would delete s3://${scratch}/p/b.txt`,
        `would delete s3://${scratch}/p/c.txt`,
      ]);
      expect((await wharf(['rm', '-r', `s3://${scratch}/p`])).code).toBe(0);
      expect(await head('p/b.txt', scratch)).toBeUndefined();
      const yes = await wharf(['rm', '-r', '--yes', `s3://${scratch}/`]);
      expect(yes.code, yes.stderr).toBe(0);
      expect(await head('a.txt', scratch)).toBeUndefined();
    } finally {
      await deleteTestBucket(scratch);
    }
  });
});

describe('wharf presign', () => {
  it('a GET URL for a missing object is refused (exit 3), for a prefix asks for a key (exit 2); --put needs none', async () => {
    const missing = await wharf(['presign', `s3://${bucket}/pre/missing.pdf`]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.trim()).toBe(
      `wharf: error: s3://${bucket}/pre/missing.pdf does not exist (a download URL for it would answer 404; for an upload URL add --put)`,
    );
    await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: 'pre/folder/a.txt', Body: 'a' }));
    expect((await wharf(['presign', `s3://${bucket}/pre/folder`])).code).toBe(2);
    const put = await wharf(['presign', '--put', `s3://${bucket}/pre/missing.pdf`]);
    expect(put.code, put.stderr).toBe(0);
    const typeWithoutPut = await wharf([
      'presign',
      '--content-type',
      'text/csv',
      `s3://${bucket}/pre/folder/a.txt`,
    ]);
    expect(typeWithoutPut.code).toBe(2);
    expect(typeWithoutPut.stderr).toContain('--content-type goes with --put');
  });

  it('URLs for keys with spaces, unicode, + and % work for GET and PUT', async () => {
    for (const name of ['sp ace.txt', 'ünï çødé.txt', 'a+b.txt', '100%.txt', 'q?x#y&z=1.txt']) {
      const url = `s3://${bucket}/pre/odd/${name}`;
      const put = await wharf(['presign', '--put', url]);
      expect((await fetch(put.stdout.trim(), { method: 'PUT', body: name })).status, name).toBe(200);
      const get = await wharf(['presign', '--expires', '90s', url]);
      expect(get.code, get.stderr).toBe(0);
      const response = await fetch(get.stdout.trim());
      expect(response.status, name).toBe(200);
      expect(await response.text()).toBe(name);
    }
  });
});
