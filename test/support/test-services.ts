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

/** The test PostgreSQL server's URL (a database the tests may create scratch databases next to). */
export function testPgUrl(): string {
  const url = process.env.WHARF_TEST_PG_URL;
  if (!url) throw new Error('WHARF_TEST_PG_URL is not set: run `source /tmp/svc-env.sh` or `npm test`');
  return url;
}

/** The role the test S3 server's STS lets the tests assume (scoped credentials). */
export function testStsRoleArn(): string {
  const arn = process.env.WHARF_TEST_STS_ROLE_ARN;
  if (!arn) throw new Error('WHARF_TEST_STS_ROLE_ARN is not set: run `source /tmp/svc-env.sh` or `npm test`');
  return arn;
}
