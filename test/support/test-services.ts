/**
 * Connection details of the services `scripts/test-services start` runs (exported into the environment by
 * scripts/test.sh). Integration tests are required, not optional: without the services they fail with
 * this message instead of skipping.
 */
export interface S3TestEnv {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export function s3TestEnv(): S3TestEnv {
  const endpoint = process.env.WHARF_TEST_S3_ENDPOINT;
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    throw new Error(
      'the S3 test server is not configured: run the tests with `npm test`, or `eval "$(scripts/test-services start)"` first',
    );
  }
  return { endpoint, accessKeyId, secretAccessKey, region: process.env.AWS_REGION ?? 'us-east-1' };
}
