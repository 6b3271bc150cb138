import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../support/fault-proxy.js';
import { tempDir } from '../support/fixtures.js';
import { jsonLines, wharf } from '../support/run-cli.js';
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
  it('an upload gets the Content-Type of its extension, as with aws s3 cp; an unknown one application/octet-stream, whatever its size', async () => {
    const dir = join(work, 'types');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'report.CSV'), 'a,b\n1,2\n');
    await writeFile(join(dir, 'sub', 'page.html'), '<p>hi</p>');
    await writeFile(join(dir, 'blob.weird'), 'x');
    // Above the single-PUT limit: a multipart upload, which RGW would type binary/octet-stream on its own.
    await writeFile(join(dir, 'big.weird'), Buffer.alloc(17 * 1024 * 1024, 1));
    await writeFile(join(work, 'q2.pdf'), '%PDF-1.4');
    expect((await wharf(['cp', '-r', dir, `s3://${bucket}/types/`])).code).toBe(0);
    expect((await wharf(['cp', join(work, 'q2.pdf'), `s3://${bucket}/types/`])).code).toBe(0);
    expect((await head('types/report.CSV'))?.ContentType).toBe('text/csv');
    expect((await head('types/sub/page.html'))?.ContentType).toBe('text/html');
    expect((await head('types/q2.pdf'))?.ContentType).toBe('application/pdf');
    expect((await head('types/blob.weird'))?.ContentType).toBe('application/octet-stream');
    expect((await head('types/big.weird'))?.ContentType).toBe('application/octet-stream');
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

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('wharf cp: uploads store their SHA-256 as wharf-sha256', () => {
  it(
    'for one file and with -r, sent in one PUT or as a multipart upload; downloads verify against it',
    { timeout: 120_000 },
    async () => {
      const dir = join(work, 'hashed');
      await mkdir(join(dir, 'sub'), { recursive: true });
      const small = randomBytes(1000);
      const big = randomBytes(40 * MIB);
      await writeFile(join(dir, 'small.bin'), small);
      await writeFile(join(dir, 'sub', 'big.bin'), big);
      for (const args of [
        ['cp', join(dir, 'small.bin'), `s3://${bucket}/hashed/one/small.bin`],
        ['cp', join(dir, 'sub', 'big.bin'), `s3://${bucket}/hashed/one/big.bin`],
        ['cp', '-r', dir, `s3://${bucket}/hashed/tree/`],
      ]) {
        const r = await wharf(args);
        expect(r.code, r.stderr).toBe(0);
      }
      for (const [key, body] of [
        ['hashed/one/small.bin', small],
        ['hashed/one/big.bin', big],
        ['hashed/tree/small.bin', small],
        ['hashed/tree/sub/big.bin', big],
      ] as const) {
        const stored = await head(key);
        expect(stored?.Metadata?.['wharf-sha256'], key).toBe(sha256Of(body));
        if (body === big) expect(stored?.ETag, key).toMatch(/-\d+"$/); // a multipart upload
      }

      // Ceph RGW cannot tell a multipart object's part size, so its ETag cannot be checked strictly: the SHA-256 is
      // what catches a byte flipped on the way down.
      const proxy = await startFaultProxy(s3TestEnv().endpoint, {
        corrupt: (r) => r.isObjectGet && r.key === 'hashed/one/big.bin',
      });
      try {
        const target = join(work, 'hashed-down.bin');
        const r = await wharf([
          '--endpoint-url',
          proxy.url,
          'cp',
          `s3://${bucket}/hashed/one/big.bin`,
          target,
        ]);
        expect(r.code, r.stderr).not.toBe(0);
        expect(r.stderr).toMatch(/sha256|SHA-256/i);
        await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      } finally {
        await proxy.close();
      }
    },
  );
});

describe('wharf cp --no-clobber', () => {
  it('keeps what exists on S3 and copies the rest, one object or -r, uploads and copies within a bucket', async () => {
    const dir = join(work, 'noclobber-up');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'a.txt'), 'new a');
    await writeFile(join(dir, 'b.txt'), 'new b');
    await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: 'nc/a.txt', Body: 'old a' }));
    const before = (await head('nc/a.txt'))?.ETag;

    const one = await wharf(['--json', 'cp', '--no-clobber', join(dir, 'a.txt'), `s3://${bucket}/nc/a.txt`]);
    expect(one.code, one.stderr).toBe(0);
    expect(jsonLines(one.stdout)).toEqual([
      {
        action: 'skip',
        source: join(dir, 'a.txt'),
        dest: `s3://${bucket}/nc/a.txt`,
        size: 5,
        reason: 'exists',
      },
      { summary: { copied: 0, skipped: 1, failed: 0, bytes: 0, seconds: expect.any(Number) } },
    ]);
    const text = await wharf(['cp', '--no-clobber', join(dir, 'a.txt'), `s3://${bucket}/nc/a.txt`]);
    expect(text.code).toBe(0);
    expect(text.stderr.trim()).toBe(`skipped s3://${bucket}/nc/a.txt: it exists (--no-clobber)`);

    const tree = await wharf(['--json', 'cp', '-r', '--no-clobber', dir, `s3://${bucket}/nc/`]);
    expect(tree.code, tree.stderr).toBe(0);
    const records = jsonLines(tree.stdout);
    expect(records).toContainEqual(
      expect.objectContaining({ action: 'skip', dest: `s3://${bucket}/nc/a.txt` }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ action: 'copy', dest: `s3://${bucket}/nc/b.txt` }),
    );
    expect(records.at(-1)).toMatchObject({ summary: { copied: 1, skipped: 1, failed: 0 } });
    expect((await head('nc/a.txt'))?.ETag).toBe(before);
    expect((await head('nc/b.txt'))?.ContentLength).toBe(5);

    // Server-side, within the bucket.
    const within = await wharf(['cp', '--no-clobber', `s3://${bucket}/nc/b.txt`, `s3://${bucket}/nc/a.txt`]);
    expect(within.code, within.stderr).toBe(0);
    expect((await head('nc/a.txt'))?.ETag).toBe(before);
    // Without it, replaced as before.
    expect((await wharf(['cp', join(dir, 'a.txt'), `s3://${bucket}/nc/a.txt`])).code).toBe(0);
    expect((await head('nc/a.txt'))?.ETag).not.toBe(before);
  });

  it('keeps local files that exist and downloads the rest, one object or -r; --dry-run says which it would skip', async () => {
    for (const key of ['ncd/a.txt', 'ncd/b.txt'])
      await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `remote ${key}` }));
    const dir = join(work, 'noclobber-down');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'a.txt'), 'local a');

    const one = await wharf(['cp', '--no-clobber', `s3://${bucket}/ncd/a.txt`, join(dir, 'a.txt')]);
    expect(one.code, one.stderr).toBe(0);
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('local a');

    const dry = await wharf(['--json', 'cp', '-r', '-n', '--no-clobber', `s3://${bucket}/ncd/`, dir]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(jsonLines(dry.stdout)).toEqual([
      expect.objectContaining({ action: 'skip', dest: join(dir, 'a.txt'), reason: 'exists', dryRun: true }),
      expect.objectContaining({ action: 'copy', dest: join(dir, 'b.txt'), dryRun: true }),
      { summary: { copied: 1, skipped: 1, failed: 0, bytes: 16, seconds: expect.any(Number), dryRun: true } },
    ]);
    await expect(stat(join(dir, 'b.txt'))).rejects.toMatchObject({ code: 'ENOENT' });

    const tree = await wharf(['cp', '-r', '--no-clobber', `s3://${bucket}/ncd/`, dir]);
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stderr).toContain('copied 1 object');
    expect(tree.stderr).toContain('skipped 1 that exist');
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('local a');
    expect(await readFile(join(dir, 'b.txt'), 'utf8')).toBe('remote ncd/b.txt');
  });
});

describe('wharf cp --json --dry-run', () => {
  it('ends with the summary record a real run prints, marked dryRun', async () => {
    await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: 'dry/a.txt', Body: 'abc' }));
    const dry = await wharf([
      '--json',
      'cp',
      '--dry-run',
      `s3://${bucket}/dry/a.txt`,
      `s3://${bucket}/dry/b.txt`,
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(jsonLines(dry.stdout)).toEqual([
      {
        action: 'copy',
        source: `s3://${bucket}/dry/a.txt`,
        dest: `s3://${bucket}/dry/b.txt`,
        size: 3,
        dryRun: true,
      },
      { summary: { copied: 1, skipped: 0, failed: 0, bytes: 3, seconds: expect.any(Number), dryRun: true } },
    ]);
    expect(await head('dry/b.txt')).toBeUndefined();
  });
});

describe('wharf ls --human-readable --summarize', () => {
  it('shows sizes in KiB/MiB and ends with the object count and total size, as aws s3 ls does; --json stays in bytes', async () => {
    await adminClient().send(
      new PutObjectCommand({ Bucket: bucket, Key: 'lsh/a.bin', Body: Buffer.alloc(1536) }),
    );
    await adminClient().send(
      new PutObjectCommand({ Bucket: bucket, Key: 'lsh/sub/b.bin', Body: Buffer.alloc(100) }),
    );
    const r = await wharf(['ls', '--human-readable', '--summarize', `s3://${bucket}/lsh/`]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +1\.5 KiB a\.bin$/);
    expect(lines.slice(1)).toEqual([
      `${' '.repeat(19)}          PRE sub/`,
      '',
      'Total Objects: 1',
      '   Total Size: 1.5 KiB',
      '',
    ]);
    const all = await wharf(['ls', '-r', '--summarize', `s3://${bucket}/lsh/`]);
    expect(all.stdout).toContain('Total Objects: 2\n   Total Size: 1636 Bytes\n');
    const json = await wharf([
      '--json',
      'ls',
      '-r',
      '--human-readable',
      '--summarize',
      `s3://${bucket}/lsh/`,
    ]);
    expect(jsonLines(json.stdout).map((l) => l.size ?? l.summary)).toEqual([
      1536,
      100,
      { objects: 2, bytes: 1636 },
    ]);
  });
});

describe('wharf cp between two buckets of one endpoint', () => {
  it('runs server-side: no byte of the objects is downloaded, and the copies are identical', async () => {
    const body = randomBytes(3 * MIB);
    await adminClient().send(
      new PutObjectCommand({ Bucket: bucket, Key: 'xb/one.bin', Body: body, Metadata: { owner: 'Team A' } }),
    );
    await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: 'xb/tree/two.bin', Body: 'two' }));
    const proxy = await startFaultProxy(s3TestEnv().endpoint, {});
    try {
      const one = await wharf([
        '--endpoint-url',
        proxy.url,
        'cp',
        `s3://${bucket}/xb/one.bin`,
        `s3://${other}/xb/one.bin`,
      ]);
      expect(one.code, one.stderr).toBe(0);
      const tree = await wharf([
        '--endpoint-url',
        proxy.url,
        'cp',
        '-r',
        `s3://${bucket}/xb/`,
        `s3://${other}/xb-tree/`,
      ]);
      expect(tree.code, tree.stderr).toBe(0);
      expect(proxy.count((r) => r.isObjectGet)).toBe(0);
    } finally {
      await proxy.close();
    }
    const down = await wharf(['cp', `s3://${other}/xb/one.bin`, join(work, 'xb-one.bin')]);
    expect(down.code, down.stderr).toBe(0);
    expect((await readFile(join(work, 'xb-one.bin'))).equals(body)).toBe(true);
    expect((await head('xb/one.bin', other))?.Metadata).toEqual({ owner: 'Team A' });
    expect((await head('xb-tree/tree/two.bin', other))?.ContentLength).toBe(3);
  });
});
