import { describeDriverConformance } from '../../src/storage/conformance/describe-driver-conformance.js';
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
