import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { describeDriverConformance } from '../../src/storage/conformance/describe-driver-conformance.js';
import { PrefixedDriver } from '../../src/storage/prefixed-driver.js';
import { openLocalDriver } from '../../src/storage/local/local-driver.js';
import { openS3Driver, S3Driver } from '../../src/storage/s3/s3-driver.js';
import { resolveS3Options } from '../../src/storage/s3/s3-options.js';
import { createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';
import { s3TestEnv } from '../support/test-services.js';

// The S3 driver against the real Ceph RGW started by scripts/test-services: required, never skipped.
describeDriverConformance(
  's3 (Ceph RGW)',
  async () => {
    const env = s3TestEnv();
    const bucket = await createTestBucket('conformance');
    return {
      driver: await openS3Driver({ bucket, endpoint: env.endpoint }),
      missingStore: () => openS3Driver({ bucket: 'wharf-no-such-bucket-x1', endpoint: env.endpoint }),
      deniedStore: () =>
        openS3Driver({
          bucket,
          endpoint: env.endpoint,
          credentials: { accessKeyId: env.accessKeyId, secretAccessKey: 'not-the-secret' },
        }),
      cleanup: () => deleteTestBucket(bucket),
    };
  },
  { timeout: 300_000 },
);

describe('a prefixed view of the S3 driver', () => {
  it('reads into a sink under its prefix, with keys relative to the view', async () => {
    const env = s3TestEnv();
    const bucket = await createTestBucket('prefixed');
    const driver = await openS3Driver({ bucket, endpoint: env.endpoint });
    try {
      const view = new PrefixedDriver(driver, 'team/data/');
      const body = randomBytes(300_000);
      await driver.write('team/data/nested/file.bin', body);
      const readInto = view.readInto;
      expect(readInto).toBeTypeOf('function');
      const copies: Buffer[] = [];
      let infoKey: string | undefined;
      await readInto?.(
        'nested/file.bin',
        { range: { start: 10, end: 299_999 }, onInfo: (info) => (infoKey = info.key) },
        (bytes) => void copies.push(Buffer.from(bytes)),
      );
      expect(infoKey).toBe('nested/file.bin');
      expect(Buffer.concat(copies).equals(body.subarray(10))).toBe(true);
    } finally {
      await driver.close?.();
      await deleteTestBucket(bucket);
    }
  });
});

describe('lean listings against Ceph RGW', () => {
  it('list the same entries as the SDK for awkward keys, with and without a delimiter, from a start key', async () => {
    const env = s3TestEnv();
    const bucket = await createTestBucket('lean-list');
    const lean = await openS3Driver({ bucket, endpoint: env.endpoint });
    const sdk = await openS3Driver({ bucket, endpoint: env.endpoint, fastGet: false });
    const keys = [
      'odd/a b+c%d=e&f;g,h',
      `odd/<x>&"y'`,
      'odd/é日本🐳',
      'odd/sp ace/ in/',
      'odd/tab\there',
      "odd/~!*()'",
      'odd/dir/x',
      'odd/dir2/y',
    ];
    try {
      for (const key of keys) await lean.write(key, Buffer.from(key));
      const all = async (driver: typeof lean, options: object) => {
        const out = [];
        for await (const o of driver.list('odd/', options)) out.push(o);
        return out;
      };
      for (const options of [{}, { delimiter: '/' }, { startAfter: 'odd/a' }]) {
        expect(await all(lean, options)).toEqual(await all(sdk, options));
      }
      expect((await all(lean, {})).map((o) => o.key)).toEqual(
        [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );
    } finally {
      await lean.close?.();
      await sdk.close?.();
      await deleteTestBucket(bucket);
    }
  });
});

describe('server-side copies between buckets (copierFrom)', () => {
  it('copy from another bucket on the same endpoint keeps the bytes, Content-Type and metadata, multipart too', async () => {
    const env = s3TestEnv();
    const [from, to] = [await createTestBucket('copy-from'), await createTestBucket('copy-to')];
    const MIB = 1024 * 1024;
    // A tiny multipart threshold, so the UploadPartCopy path runs across buckets too (3 parts of 5 MiB).
    const tuning = { copyMultipartThreshold: 5 * MIB, copyPartSize: 5 * MIB };
    const source = new S3Driver(await resolveS3Options({ bucket: from, endpoint: env.endpoint }), tuning);
    const dest = new S3Driver(await resolveS3Options({ bucket: to, endpoint: env.endpoint }), tuning);
    const local = await openLocalDriver({ root: tmpdir() });
    const elsewhere = await openS3Driver({ bucket: from, endpoint: env.endpoint, region: 'eu-west-1' });
    try {
      const small = randomBytes(1000);
      const big = randomBytes(12 * MIB);
      const meta = { contentType: 'text/x-custom', metadata: { 'wharf-sha256': 'abc123', owner: 'Team A' } };
      await source.write('in/small.bin', small, meta);
      await source.write('in/big.bin', big, meta);

      const copy = dest.copierFrom(source);
      expect(copy).toBeTypeOf('function');
      for (const [key, body] of [
        ['small.bin', small],
        ['big.bin', big],
      ] as const) {
        const info = await copy!(`in/${key}`, `out/${key}`);
        expect(info.size).toBe(body.length);
        const copied = await dest.stat(`out/${key}`);
        expect(copied).toMatchObject({ size: body.length, contentType: 'text/x-custom' });
        expect(copied?.metadata).toEqual({ 'wharf-sha256': 'abc123', owner: 'Team A' });
        const chunks: Buffer[] = [];
        for await (const chunk of await dest.read(`out/${key}`)) chunks.push(chunk as Buffer);
        expect(Buffer.concat(chunks).equals(body), key).toBe(true);
      }
      await expect(copy!('in/missing', 'out/missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // Not one server as far as the driver can tell, or not S3 at all: the bytes go through the caller.
      expect(dest.copierFrom(elsewhere)).toBeUndefined();
      expect(dest.copierFrom(local)).toBeUndefined();
    } finally {
      await Promise.all([source.close(), dest.close(), elsewhere.close?.(), local.close?.()]);
      await deleteTestBucket(from);
      await deleteTestBucket(to);
    }
  });
});
