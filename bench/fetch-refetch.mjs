// bench/fetch-refetch.mjs - rerun a fetch when nothing changed: wharf fetch must skip every file
// without reading a single object. Compared with rclone copy and aws s3 sync doing the same rerun.
//
//   node bench/fetch-refetch.mjs [--runs 3] [--warmup 1] [--files 10000] [--size 1024] [--no-start]
//
// Starts (or finds) the test services (scripts/test-services start), creates a bucket
// bench-<random> and PUTs FILES random objects of SIZE bytes under data/ with the SDK, 32 at once
// (untimed, once). Then, untimed, each tool makes its first full copy into its own local folder
// (wharf fetch, rclone copy, aws s3 sync), checked by file count and bytes. The timed runs repeat
// the same command into the same, already complete folder: every tool has to find out that there
// is nothing to do. After every run (untimed) the folder is counted again. Wharf runs with --json;
// its document's stats.requests.reads (the object GETs it made) must be 0, and stats.downloaded 0,
// in every run, or the benchmark fails loudly. Target: wharf's median at most 2 s, printed as MET
// or NOT MET. The bucket and temp dir are removed at the end. Needs the built CLI: npm run build.
// See docs/benchmarks.md.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AWS_BIN,
  RCLONE_BIN,
  addToResults,
  formatSize,
  rcloneEnv,
  summarizeDir,
  version,
} from './lib/peers.mjs';
import { BenchError, compare, log } from './lib/harness.mjs';
import { REPO, summarizePrefix } from './lib/s3.mjs';
import { WHARF_MAIN, openS3Bench, parseBenchArgs } from './lib/s3-bench.mjs';

const USAGE = `usage: node bench/fetch-refetch.mjs [--runs N] [--warmup N] [--files N] [--size BYTES] [--no-start]
  --runs 3          measured rounds (each round runs every tool once, alternating)
  --warmup 1        unmeasured rounds first
  --files 10000     number of objects
  --size 1024       bytes per object (random)
  --no-start        don't run scripts/test-services start; use AWS_ENDPOINT_URL etc. from the env`;

const PREFIX = 'data/';
const DATASET_ID = 'x';
/** The issue's target: a rerun with nothing changed takes at most this long (median). */
const TARGET_SECONDS = 2;

async function main() {
  const args = parseBenchArgs(USAGE, {
    files: { type: 'string', default: '10000' },
    size: { type: 'string', default: '1024' },
  });
  if (!args) return 0;
  const { values, int, runs, warmup } = args;
  const files = int('files', 1);
  const size = int('size', 0);

  const bench = await openS3Bench({ name: 'fetch-refetch', noStart: values['no-start'] });
  const { endpoint, region, tmp, client } = bench;

  try {
    // ---- data: FILES random objects, flat (data/f00000.bin ...), uploaded once
    const bucket = await bench.createBucket();
    let t0 = process.hrtime.bigint();
    await putRandomObjects(client, bucket, PREFIX, files, size);
    const up = await summarizePrefix(client, bucket, PREFIX);
    if (up.count !== files || up.bytes !== files * size)
      throw new BenchError(
        `upload incomplete: ${up.count} objects / ${up.bytes} B under s3://${bucket}/${PREFIX}`,
      );
    log(
      `${files} x ${size} B uploaded to s3://${bucket}/${PREFIX} at ${endpoint} ` +
        `(untimed, ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s)`,
    );

    const awsConfig = path.join(tmp, 'aws-config');
    await writeFile(awsConfig, ['[default]', `region = ${region}`, ''].join('\n'));
    const source = `s3://${bucket}/${PREFIX}`;
    /** Each tool's one local folder: filled once before the rounds, then rerun into. */
    const dirFor = (tool) => path.join(tmp, 'sync', tool);
    /** The wharf --json document of the latest run. */
    const wharfJson = path.join(tmp, 'wharf-fetch.json');

    /** After each run: the folder must still hold exactly the dataset. */
    const verify = (label, dir) => async () => {
      const got = await summarizeDir(dir);
      if (got.count !== files || got.bytes !== files * size) {
        throw new BenchError(
          `benchmark aborted: "${label}" exited 0 but ${dir} holds ${got.count} files / ` +
            `${got.bytes} B, expected ${files} / ${files * size} B`,
        );
      }
    };

    /** stats.requests of every wharf run, first (untimed) fill included. */
    const wharfRequests = [];
    /**
     * Read wharf's --json document and insist that the rerun read nothing.
     * @param {string} what
     * @param {boolean} first  the initial fill, which has to download everything
     */
    const checkWharfJson = async (what, first) => {
      const text = await readFile(wharfJson, 'utf8').catch(() => '');
      let doc;
      try {
        doc = JSON.parse(text);
      } catch {
        throw new BenchError(
          `benchmark FAILED: ${what}: wharf fetch --json did not print one JSON document ` +
            `(${text.length} characters: ${JSON.stringify(text.slice(0, 200))})`,
        );
      }
      const s = doc?.stats;
      const reads = s?.requests?.reads;
      wharfRequests.push({
        run: what,
        ...(s?.requests ?? {}),
        downloaded: s?.downloaded,
        skipped: s?.skipped,
      });
      if (first) {
        if (s?.downloaded !== files || s?.failed !== 0)
          throw new BenchError(
            `benchmark aborted: ${what}: the first wharf fetch downloaded ${s?.downloaded} ` +
              `(failed ${s?.failed}), expected ${files}`,
          );
        return;
      }
      if (
        typeof reads !== 'number' ||
        reads !== 0 ||
        s.downloaded !== 0 ||
        s.skipped !== files ||
        s.failed !== 0
      ) {
        throw new BenchError(
          [
            `benchmark FAILED: ${what}: wharf fetch reran with nothing changed and still read objects`,
            `  stats.requests.reads = ${JSON.stringify(reads)} (must be 0)`,
            `  stats.downloaded = ${s?.downloaded} (must be 0), skipped = ${s?.skipped} (must be ${files}), ` +
              `failed = ${s?.failed}`,
            `  stats.requests = ${JSON.stringify(s?.requests)}`,
          ].join('\n'),
        );
      }
    };

    /** @type {import('./lib/harness.mjs').BenchCommand[]} */
    const commands = [];
    // Wharf first: every ratio is against it. Its --json document (one line per run, about
    // 150 B per file) goes to a file: sh redirects stdout and then execs node, so the timed and
    // measured process is wharf itself.
    commands.push({
      label: 'wharf fetch (rerun)',
      short: 'wharf',
      cmd: '/bin/sh',
      args: [
        '-c',
        'exec "$@" > "$WHARF_BENCH_JSON"',
        'sh',
        process.execPath,
        WHARF_MAIN,
        '--json',
        '--no-progress',
        '--endpoint-url',
        endpoint,
        'fetch',
        source,
        dirFor('wharf'),
        '--dataset-id',
        DATASET_ID,
      ],
      env: { WHARF_BENCH_JSON: wharfJson },
      cwd: REPO,
      note: `defaults; node dist/cli/main.js --json --no-progress fetch SRC DIR --dataset-id x, stdout to a file (checked: stats.requests.reads = 0)`,
      before: () => rm(wharfJson, { force: true }),
      after: async (label, _round, info) => {
        await checkWharfJson(`${info.warmup ? 'warmup' : 'run'} ${info.index + 1}`, false);
        await verify(label, path.join(dirFor('wharf'), DATASET_ID))();
      },
    });
    if (existsSync(RCLONE_BIN)) {
      commands.push({
        label: 'rclone copy (rerun)',
        short: 'rclone',
        cmd: RCLONE_BIN,
        args: ['copy', `bench:${bucket}/${PREFIX}`, dirFor('rclone')],
        env: rcloneEnv(endpoint, region),
        note: 'defaults (--checkers 8, compares size and modification time); remote from RCLONE_CONFIG_BENCH_* variables',
        after: verify('rclone copy (rerun)', dirFor('rclone')),
      });
    } else log(`${RCLONE_BIN} not found: rclone skipped (scripts/test-services start installs it)`);
    if (existsSync(AWS_BIN)) {
      commands.push({
        label: 'aws s3 sync (rerun)',
        short: 'aws',
        cmd: AWS_BIN,
        args: [
          '--endpoint-url',
          endpoint,
          's3',
          'sync',
          '--only-show-errors',
          '--no-progress',
          source,
          dirFor('aws'),
        ],
        env: {
          AWS_CONFIG_FILE: awsConfig,
          AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
          AWS_PAGER: '',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        note: 'defaults (compares size and last-modified time); config holds only the region; --only-show-errors --no-progress',
        after: verify('aws s3 sync (rerun)', dirFor('aws')),
      });
    } else log(`${AWS_BIN} not found: aws-cli skipped (scripts/test-services start installs it)`);

    // ---- the first full copy of every tool, untimed, with the very same command
    for (const c of commands) {
      t0 = process.hrtime.bigint();
      if (c.before) await c.before(c.label, -1, { warmup: true, index: -1 });
      runOnce(c);
      if (c.short === 'wharf') {
        await checkWharfJson('first fetch', true);
        await verify(c.label, path.join(dirFor('wharf'), DATASET_ID))();
      } else await c.after(c.label, -1, { warmup: true, index: -1 });
      log(
        `${c.short}: first full copy (untimed) ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`,
      );
    }

    const { stats, jsonPath } = await compare({
      name: 'fetch-refetch',
      title: `wharf fetch rerun ${files}x${formatSize(size)}`,
      runs,
      warmup,
      commands,
      meta: {
        files,
        sizeBytes: size,
        endpoint,
        settings: 'defaults for every tool; every timed run goes into a folder that is already complete',
        versions: {
          node: process.version,
          aws: version(AWS_BIN, ['--version']),
          rclone: version(RCLONE_BIN, ['version']),
        },
      },
    });

    const timed = wharfRequests.filter((r) => r.run !== 'first fetch');
    const same = (k) => [...new Set(timed.map((r) => r[k]))].join('/');
    console.log(
      `wharf reruns: stats.requests.reads = 0 in all ${timed.length} (object GETs); ` +
        `listings = ${same('listings')}, stats = ${same('stats')}, downloaded = 0, skipped = ${files}`,
    );
    const wharf = stats[0];
    const met = wharf.median <= TARGET_SECONDS;
    const line =
      `wharf rerun <= ${TARGET_SECONDS} s: wharf ${wharf.median.toFixed(3)} s median ` +
      `(${files} files, nothing changed): ${met ? 'MET' : 'NOT MET'}`;
    console.log('targets (median of this run):');
    console.log(`  ${line}`);
    if (jsonPath) {
      await addToResults(jsonPath, {
        wharfRequests,
        targets: [
          { target: `wharf rerun <= ${TARGET_SECONDS} s`, met, wharfSeconds: wharf.median },
          { target: 'wharf rerun stats.requests.reads = 0', met: true },
        ],
      });
    }
    return 0;
  } finally {
    await bench.close();
  }
}

/**
 * Run a benchmark command once, untimed (the first full copy). Throws with its stderr unless it
 * exits 0.
 * @param {import('./lib/harness.mjs').BenchCommand} c
 */
function runOnce(c) {
  const env = { ...process.env };
  for (const [k, v] of Object.entries(c.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const r = spawnSync(c.cmd, c.args, { cwd: c.cwd, env, encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  if (r.status !== 0) {
    const tail = `${r.stderr ?? ''}${r.stdout ?? ''}`.trimEnd().split('\n').slice(-20).join('\n    ');
    throw new BenchError(
      `benchmark aborted: the first "${c.label}" failed (${r.error?.message ?? r.signal ?? `exit ${r.status}`})\n` +
        `  command: ${[c.cmd, ...c.args].join(' ')}\n    ${tail}`,
    );
  }
}

/**
 * PUT `count` objects of `size` random bytes under `prefix` (f0000.bin ...), 32 at once.
 * @param {import('@aws-sdk/client-s3').S3Client} client
 * @param {string} bucket
 * @param {string} prefix
 * @param {number} count
 * @param {number} size
 */
async function putRandomObjects(client, bucket, prefix, count, size) {
  const width = String(count - 1).length;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const key = `${prefix}f${String(next++).padStart(width, '0')}.bin`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(size) }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, count) }, worker));
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof BenchError ? err.message : (err?.stack ?? err)}\n`);
    process.exit(1);
  },
);
