import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeDriverConformance } from '../../src/storage/conformance/describe-driver-conformance.js';
import { PrefixedDriver } from '../../src/storage/prefixed-driver.js';
import { openS3Driver } from '../../src/storage/s3/s3-driver.js';
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
