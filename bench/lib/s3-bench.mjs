// bench/lib/s3-bench.mjs - the setup every S3 benchmark script shares: its command line (--runs,
// --warmup, --no-start, --help), the built CLI, the test services and their environment, a temp dir,
// an SDK client and a scratch bucket that are removed at the end, also on Ctrl-C.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BenchError, log } from './harness.mjs';
import { REPO, createScratchBucket, deleteBucket, s3Client, startTestServices } from './s3.mjs';

/** The built CLI the benchmarks time (npm run build). */
export const WHARF_MAIN = path.join(REPO, 'dist/cli/main.js');

/** The argv of a quiet Wharf CLI run against `endpoint`: `node` runs it with `args` after the global flags. */
export function wharfArgv(endpoint, ...args) {
  return [WHARF_MAIN, '--quiet', '--no-progress', '--endpoint-url', endpoint, ...args];
}

/** The environment an S3 benchmark needs; scripts/test-services start exports it. */
const REQUIRED_ENV = ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

/**
 * @typedef {object} BenchArgs
 * @property {Record<string, string | boolean | undefined>} values  every option, as node:util parseArgs gives them
 * @property {(name: string, min: number) => number} int  the option `name` as an integer >= min; throws a
 *   BenchError `--NAME must be an integer >= MIN` followed by the usage otherwise
 * @property {number} runs  --runs, checked (>= 1)
 * @property {number} warmup  --warmup, checked (>= 0)
 */

/**
 * Parse the command line of a benchmark script: its own options plus the common ones, --runs N
 * (default `defaults.runs`, '3'), --warmup N (default `defaults.warmup`, '1'), --no-start and
 * --help / -h. Unknown options throw (strict). With --help it prints `usage` and returns null: the
 * script then returns 0. Otherwise --runs and --warmup are checked first, in that order.
 * @param {string} usage  the script's usage text, printed for --help and after a bad value
 * @param {import('node:util').ParseArgsConfig['options']} [options]  the script's own options
 * @param {{ runs?: string, warmup?: string }} [defaults]
 * @returns {BenchArgs | null}
 */
export function parseBenchArgs(usage, options = {}, defaults = {}) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: defaults.runs ?? '3' },
      warmup: { type: 'string', default: defaults.warmup ?? '1' },
      ...options,
      'no-start': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return null;
  }
  /** @param {string} name @param {number} min */
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min)
      throw new BenchError(`--${name} must be an integer >= ${min}\n${usage}`);
    return n;
  };
  const runs = int('runs', 1);
  const warmup = int('warmup', 0);
  return { values, int, runs, warmup };
}

/**
 * @typedef {object} S3Bench
 * @property {string} endpoint  AWS_ENDPOINT_URL
 * @property {URL} endpointUrl  the same, parsed
 * @property {string} region  AWS_REGION, or us-east-1
 * @property {string} tmp  the benchmark's temp dir (removed by close())
 * @property {import('@aws-sdk/client-s3').S3Client} client
 * @property {() => Promise<string>} createBucket  create the scratch bucket `bench-<random>` (emptied
 *   and deleted by close()) and return its name
 * @property {() => Promise<void>} close  remove the signal handlers, the bucket and the temp dir
 */

/**
 * Get ready to benchmark against S3: check that the CLI is built, start (or find) the test services
 * unless `noStart`, check that the S3 environment is set, make a temp dir
 * `$TMPDIR/wharf-bench-<name>-XXXXXX` and an SDK client. Until close(), SIGINT and SIGTERM remove the
 * bucket and the temp dir and exit with 130. Call close() in a `finally`.
 * @param {{ name: string, noStart?: boolean }} options  name: part of the temp dir's name; noStart:
 *   --no-start, use AWS_ENDPOINT_URL etc. from the environment as they are
 * @returns {Promise<S3Bench>}
 */
export async function openS3Bench({ name, noStart = false }) {
  if (!existsSync(WHARF_MAIN))
    throw new BenchError(`${WHARF_MAIN} is missing: build the CLI first (npm run build)`);
  if (!noStart) startTestServices();
  for (const v of REQUIRED_ENV) {
    if (!process.env[v]) throw new BenchError(`${v} is not set (run without --no-start, or export it)`);
  }
  const endpoint = /** @type {string} */ (process.env.AWS_ENDPOINT_URL);
  const region = process.env.AWS_REGION || 'us-east-1';
  const endpointUrl = new URL(endpoint);

  const tmp = await mkdtemp(path.join(os.tmpdir(), `wharf-bench-${name}-`));
  const client = s3Client();
  /** @type {string | null} */
  let bucket = null;
  const cleanup = async () => {
    if (bucket)
      await deleteBucket(client, bucket).catch((e) => log(`could not delete bucket ${bucket}: ${e.message}`));
    bucket = null;
    await rm(tmp, { recursive: true, force: true });
  };
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  return {
    endpoint,
    endpointUrl,
    region,
    tmp,
    client,
    createBucket: async () => {
      bucket = await createScratchBucket(client);
      return bucket;
    },
    close: async () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      await cleanup();
    },
  };
}
