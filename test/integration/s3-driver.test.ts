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
