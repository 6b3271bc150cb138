// bench/lib/s3.mjs - the S3 side of the benchmarks: start the test services, make and remove
// a scratch bucket, check what a tool uploaded. Not timed; uses the AWS SDK directly.
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `eval "$(scripts/test-services start)"`, in-process: run it, parse its `export K=V` lines into
 * process.env. Throws with its stderr when it fails.
 * @returns {Record<string, string>} the exported variables
 */
export function startTestServices() {
  const r = spawnSync('bash', [`${REPO}scripts/test-services`, 'start'], {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exports = parseExports(r.stdout ?? '');
  if (r.status !== 0 || Object.keys(exports).length === 0) {
    throw new Error(
      `scripts/test-services start failed (exit ${r.status}):\n${(r.stderr ?? '').trimEnd().split('\n').slice(-20).join('\n')}`,
    );
  }
  Object.assign(process.env, exports);
  return exports;
}

/**
 * Parse `export NAME=VALUE` lines as printed by bash's `printf 'export %s=%q\n'`.
 * @param {string} text
 */
export function parseExports(text) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2];
    if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) v = v.slice(1, -1);
    else v = v.replace(/\\(.)/g, '$1');
    out[m[1]] = v;
  }
  return out;
}

/** An SDK client for the endpoint in the environment, with RGW-safe settings. */
export function s3Client() {
  // The SDK warns once per process that its 2027 releases will need Node 22; noise in a benchmark.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: process.env.AWS_ENDPOINT_URL,
    region: process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * @param {S3Client} client
 * @returns {Promise<string>} the new bucket's name, `bench-<random>`
 */
export async function createScratchBucket(client) {
  const bucket = `bench-${randomBytes(5).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/**
 * Count the objects and bytes under a prefix. With `exclude` (a key prefix relative to `prefix`, e.g.
 * `.wharf/` for Wharf sync's index and journal), the objects under it are counted apart, as `excluded`.
 * @param {S3Client} client
 * @param {string} bucket
 * @param {string} prefix
 * @param {{ exclude?: string }} [options]
 */
export async function summarizePrefix(client, bucket, prefix, options = {}) {
  const skip = options.exclude === undefined ? null : prefix + options.exclude;
  let count = 0;
  let bytes = 0;
  let excluded = 0;
  /** @type {string | undefined} */
  let token;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (skip !== null && o.Key?.startsWith(skip)) {
        excluded++;
        continue;
      }
      count++;
      bytes += o.Size ?? 0;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { count, bytes, excluded };
}

/**
 * Delete every object under a prefix (1000 per DeleteObjects call).
 * @param {S3Client} client
 * @param {string} bucket
 * @param {string} prefix
 */
export async function deletePrefix(client, bucket, prefix) {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (keys.length === 0) return;
    const r = await client.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
    );
    if (r.Errors?.length)
      throw new Error(`delete under s3://${bucket}/${prefix}: ${r.Errors[0].Code} ${r.Errors[0].Message}`);
  }
}

/**
 * Empty and delete the bucket.
 * @param {S3Client} client
 * @param {string} bucket
 */
export async function deleteBucket(client, bucket) {
  await deletePrefix(client, bucket, '');
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
