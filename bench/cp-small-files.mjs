// bench/cp-small-files.mjs - upload many small files: wharf cp --recursive vs aws-cli, rclone,
// s3cmd, and a bare SDK loop that shows the server's own ceiling.
//
//   node bench/cp-small-files.mjs [--runs 5] [--warmup 1] [--files 1000] [--size 16384] [--concurrency 32]
//
// Starts (or finds) the test services (scripts/test-services start), writes FILES random files of
// SIZE bytes into a temp dir, creates a bucket bench-<random>, and times each tool uploading the
// dir to its own fresh prefix per run (tool/rN/). After every run (untimed) it checks that the
// prefix holds FILES objects of FILES*SIZE bytes, then deletes them, so the bucket is the same
// size for every run and nobody profits from objects already there. The bucket and temp dir are
// removed at the end. Needs the built CLI: npm run build. See docs/benchmarks.md.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AWS_BIN,
  RCLONE_BIN,
  S3CMD_BIN,
  formatSize,
  roundArgs,
  version,
  writeS3cmdConfig,
} from './lib/peers.mjs';
import { BenchError, compare, log } from './lib/harness.mjs';
import { REPO, deletePrefix, summarizePrefix } from './lib/s3.mjs';
import { openS3Bench, parseBenchArgs, wharfArgv } from './lib/s3-bench.mjs';

const USAGE = `usage: node bench/cp-small-files.mjs [--runs N] [--warmup N] [--files N] [--size BYTES] [--concurrency N] [--no-start]
  --runs 5          measured rounds (each round runs every tool once, alternating)
  --warmup 1        unmeasured rounds first
  --files 1000      number of files
  --size 16384      bytes per file (random)
  --concurrency 32  parallel requests for every tool that has the knob (wharf's default is 32)
  --no-start        don't run scripts/test-services start; use AWS_ENDPOINT_URL etc. from the env`;

async function main() {
  const args = parseBenchArgs(
    USAGE,
    {
      files: { type: 'string', default: '1000' },
      size: { type: 'string', default: '16384' },
      concurrency: { type: 'string', default: '32' },
    },
    { runs: '5' },
  );
  if (!args) return 0;
  const { values, int, runs, warmup } = args;
  const files = int('files', 1);
  const size = int('size', 0);
  const concurrency = int('concurrency', 1);

  const bench = await openS3Bench({ name: 'cp-small', noStart: values['no-start'] });
  const { endpoint, endpointUrl, region, tmp, client } = bench;

  try {
    // ---- data: FILES random files, flat (f0000.bin ...)
    const dataDir = path.join(tmp, 'data');
    await mkdir(dataDir);
    const width = String(files - 1).length;
    for (let i = 0; i < files; i++) {
      await writeFile(path.join(dataDir, `f${String(i).padStart(width, '0')}.bin`), randomBytes(size));
    }
    const bucket = await bench.createBucket();
    log(`${files} x ${size} B in ${dataDir}; bucket s3://${bucket} at ${endpoint}`);

    // ---- per-tool configuration, all generated into the temp dir
    const awsConfig = path.join(tmp, 'aws-config');
    await writeFile(
      awsConfig,
      [
        '[default]',
        `region = ${region}`,
        's3 =',
        `    max_concurrent_requests = ${concurrency}`,
        '    max_queue_size = 10000',
        '    addressing_style = path',
        '',
      ].join('\n'),
    );
    const s3cfg = await writeS3cmdConfig(path.join(tmp, 's3cfg'), endpointUrl, region);

    /** The prefix a tool writes to in a round: fresh every time. */
    const prefixFor = (tool, round) => `${tool}/r${round}/`;
    const dest = (tool, round) => `s3://${bucket}/${prefixFor(tool, round)}`;
    /** After each run: the upload must be complete; then make room for the next. */
    const verifyAndClean = (tool) => async (label, round) => {
      const prefix = prefixFor(tool, round);
      const got = await summarizePrefix(client, bucket, prefix);
      if (got.count !== files || got.bytes !== files * size) {
        throw new BenchError(
          `benchmark aborted: "${label}" exited 0 but s3://${bucket}/${prefix} holds ${got.count} objects / ` +
            `${got.bytes} B, expected ${files} / ${files * size} B`,
        );
      }
      await deletePrefix(client, bucket, prefix);
    };

    /** @type {import('./lib/harness.mjs').BenchCommand[]} */
    const commands = [];
    // Wharf first: every ratio is against it. --endpoint-url is also in the env; passed explicitly too.
    const wharfArgs = (round) =>
      wharfArgv(
        endpoint,
        'cp',
        '--recursive',
        '--concurrency',
        String(concurrency),
        `${dataDir}/`,
        dest('wharf', round),
      );
    commands.push(
      roundArgs({
        label: 'wharf cp --recursive',
        short: 'wharf',
        cmd: process.execPath,
        cwd: REPO,
        note: `node dist/cli/main.js --quiet --no-progress cp --recursive --concurrency ${concurrency}`,
        after: verifyAndClean('wharf'),
        argsFor: wharfArgs,
      }),
    );
    if (existsSync(AWS_BIN)) {
      commands.push(
        roundArgs({
          label: 'aws s3 cp --recursive',
          short: 'aws',
          cmd: AWS_BIN,
          env: {
            AWS_CONFIG_FILE: awsConfig,
            AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
            AWS_PAGER: '',
            AWS_EC2_METADATA_DISABLED: 'true',
          },
          note: `max_concurrent_requests = ${concurrency} (default 10), max_queue_size = 10000, --only-show-errors --no-progress`,
          after: verifyAndClean('aws'),
          argsFor: (round) => [
            '--endpoint-url',
            endpoint,
            's3',
            'cp',
            '--recursive',
            '--only-show-errors',
            '--no-progress',
            `${dataDir}/`,
            dest('aws', round),
          ],
        }),
      );
    } else log(`${AWS_BIN} not found: aws-cli skipped (scripts/test-services start installs it)`);
    if (existsSync(RCLONE_BIN)) {
      commands.push(
        roundArgs({
          label: 'rclone copy',
          short: 'rclone',
          cmd: RCLONE_BIN,
          env: {
            RCLONE_CONFIG: '/dev/null', // no config file: the remote comes from the variables below
            RCLONE_CONFIG_BENCH_TYPE: 's3',
            RCLONE_CONFIG_BENCH_PROVIDER: 'Ceph',
            RCLONE_CONFIG_BENCH_ENV_AUTH: 'false',
            RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
            RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
            RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
            RCLONE_CONFIG_BENCH_REGION: region,
            RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
            AWS_CA_BUNDLE: undefined, // rclone 1.60 fails with LoadCustomCABundleError when it is set
          },
          note: `--transfers ${concurrency} --checkers ${concurrency} (defaults 4 and 8) --s3-no-check-bucket`,
          after: verifyAndClean('rclone'),
          argsFor: (round) => [
            'copy',
            '--transfers',
            String(concurrency),
            '--checkers',
            String(concurrency),
            '--s3-no-check-bucket',
            `${dataDir}/`,
            `bench:${bucket}/${prefixFor('rclone', round)}`,
          ],
        }),
      );
    } else log(`${RCLONE_BIN} not found: rclone skipped (scripts/test-services start installs it)`);
    if (existsSync(S3CMD_BIN)) {
      commands.push(
        roundArgs({
          label: 's3cmd put --recursive',
          short: 's3cmd',
          cmd: S3CMD_BIN,
          note: 'one file at a time (s3cmd has no parallelism); --no-preserve --no-mime-magic --no-progress',
          after: verifyAndClean('s3cmd'),
          argsFor: (round) => [
            '-c',
            s3cfg,
            'put',
            '--recursive',
            '--no-preserve',
            '--no-mime-magic',
            '--no-progress',
            '--quiet',
            `${dataDir}/`,
            dest('s3cmd', round),
          ],
        }),
      );
    } else log(`${S3CMD_BIN} not found: s3cmd skipped (scripts/test-services start installs it)`);
    commands.push(
      roundArgs({
        label: `raw SDK PutObject x${concurrency} (server ceiling)`,
        short: 'raw SDK',
        cmd: process.execPath,
        cwd: REPO,
        note: `bench/lib/raw-put.mjs: bare @aws-sdk/client-s3 PutObject loop, ${concurrency} at once, keep-alive`,
        after: verifyAndClean('raw'),
        argsFor: (round) => [
          path.join(REPO, 'bench/lib/raw-put.mjs'),
          `${dataDir}/`,
          bucket,
          prefixFor('raw', round),
          String(concurrency),
        ],
      }),
    );

    await compare({
      name: 'cp-small-files',
      title: `wharf cp -r ${files}x${formatSize(size)}`,
      runs,
      warmup,
      commands,
      meta: {
        files,
        sizeBytes: size,
        concurrency,
        endpoint,
        versions: {
          node: process.version,
          aws: version(AWS_BIN, ['--version']),
          rclone: version(RCLONE_BIN, ['version']),
          s3cmd: version(S3CMD_BIN, ['--version']),
        },
      },
    });
    return 0;
  } finally {
    await bench.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof BenchError ? err.message : (err?.stack ?? err)}\n`);
    process.exit(1);
  },
);
