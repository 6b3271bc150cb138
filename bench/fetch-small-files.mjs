// bench/fetch-small-files.mjs - download many small objects into an empty folder: wharf fetch vs
// aws-cli, rclone and s3cmd, every tool with its default settings.
//
//   node bench/fetch-small-files.mjs [--runs 3] [--warmup 1] [--files 2000] [--size 16384] [--no-start]
//
// Starts (or finds) the test services (scripts/test-services start), creates a bucket
// bench-<random> and PUTs FILES random objects of SIZE bytes under data/ with the SDK, 32 at once
// (untimed, once). Each round every tool downloads the whole prefix into its own fresh, empty
// local folder, so nobody can skip a file that is "already there". After every run (untimed) the
// script counts the files and bytes that landed (FILES files, FILES*SIZE bytes, or the benchmark
// stops); the folders stay until the end (deleting them between runs slows the next tool's file
// creates on a journal-less ext4). Then it checks the issue's targets against the medians: wharf
// at most 0.5x rclone's time and at most 0.2x aws-cli's, each printed as MET or NOT MET. The
// bucket and temp dir, with every folder, are removed at the end. Needs the built CLI: npm run build. See
// docs/benchmarks.md.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  AWS_BIN,
  RCLONE_BIN,
  S3CMD_BIN,
  addToResults,
  formatSize,
  rcloneEnv,
  roundArgs,
  summarizeDir,
  version,
  writeS3cmdConfig,
} from './lib/peers.mjs';
import { BenchError, compare, log } from './lib/harness.mjs';
import { REPO, summarizePrefix } from './lib/s3.mjs';
import { openS3Bench, parseBenchArgs, wharfArgv } from './lib/s3-bench.mjs';
import { measureServerLatency } from './lib/server-latency.mjs';

const USAGE = `usage: node bench/fetch-small-files.mjs [--runs N] [--warmup N] [--files N] [--size BYTES] [--no-start]
  --runs 3          measured rounds (each round runs every tool once, alternating)
  --warmup 1        unmeasured rounds first
  --files 2000      number of objects
  --size 16384      bytes per object (random)
  --no-start        don't run scripts/test-services start; use AWS_ENDPOINT_URL etc. from the env`;

const PREFIX = 'data/';
const DATASET_ID = 'x';
/** The issue's targets: wharf's median at most this share of the peer's median. */
const TARGETS = [
  { peer: 'rclone', share: 0.5 },
  { peer: 'aws', share: 0.2 },
];

async function main() {
  const args = parseBenchArgs(USAGE, {
    files: { type: 'string', default: '2000' },
    size: { type: 'string', default: '16384' },
  });
  if (!args) return 0;
  const { values, int, runs, warmup } = args;
  const files = int('files', 1);
  const size = int('size', 0);

  const bench = await openS3Bench({ name: 'fetch-small', noStart: values['no-start'] });
  const { endpoint, endpointUrl, region, tmp, client } = bench;

  try {
    // ---- data: FILES random objects, flat (data/f0000.bin ...), uploaded once
    const bucket = await bench.createBucket();
    const t0 = process.hrtime.bigint();
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

    // ---- the server's answer time for one small GET, fresh connection vs kept-alive (untimed, before the rounds)
    const latency = await measureServerLatency(
      client,
      bucket,
      `${PREFIX}f${'0'.repeat(String(files - 1).length)}.bin`,
    );
    const latencyLine =
      `server: one GET of a ${formatSize(size)} object takes ${latency.freshMs.toFixed(1)} ms on a fresh connection, ` +
      `${latency.reusedMs.toFixed(1)} ms on a kept-alive one (medians of 20 in a row; every tool reuses connections)`;
    log(latencyLine);

    // ---- per-tool configuration, all generated into the temp dir; nothing but what is needed to connect
    const awsConfig = path.join(tmp, 'aws-config');
    await writeFile(awsConfig, ['[default]', `region = ${region}`, ''].join('\n'));
    const s3cfg = await writeS3cmdConfig(path.join(tmp, 's3cfg'), endpointUrl, region);

    /** The local folder a tool downloads into in a round: fresh and empty every time. */
    const dirFor = (tool, round) => path.join(tmp, 'dl', `${tool}-r${round}`);
    const source = `s3://${bucket}/${PREFIX}`;
    const makeDir = (tool) => async (_label, round) => {
      await mkdir(dirFor(tool, round), { recursive: true });
    };
    /**
     * After each run: the download must be complete. The folder stays until the temp dir goes at the end: on a
     * file system without a journal (this benchmark machine's ext4), inode allocation steps over every inode
     * freed in the last half minute, checking each one, so deleting 2,000 files right before the next tool
     * creates 2,000 made that tool's creates several times dearer (2 s of system time instead of 0.5 s, for
     * every tool; docs/benchmarks.md).
     */
    const verifyComplete =
      (tool, sub = '') =>
      async (label, round) => {
        const dir = dirFor(tool, round);
        const got = await summarizeDir(path.join(dir, sub));
        if (got.count !== files || got.bytes !== files * size) {
          throw new BenchError(
            `benchmark aborted: "${label}" exited 0 but ${path.join(dir, sub)} holds ${got.count} files / ` +
              `${got.bytes} B, expected ${files} / ${files * size} B`,
          );
        }
      };

    /** @type {import('./lib/harness.mjs').BenchCommand[]} */
    const commands = [];
    const { FETCH_DEFAULTS: fetchDefaults } = await import(
      pathToFileURL(path.join(REPO, 'dist/fetch/fetch-defaults.js')).href
    );
    // Wharf first: every ratio is against it. --endpoint-url is also in the env; passed explicitly too.
    commands.push(
      roundArgs({
        label: 'wharf fetch',
        short: 'wharf',
        cmd: process.execPath,
        cwd: REPO,
        note: `defaults (--concurrency ${fetchDefaults.concurrency}); node dist/cli/main.js --quiet --no-progress fetch SRC DIR --dataset-id x`,
        before: makeDir('wharf'),
        after: verifyComplete('wharf', DATASET_ID),
        argsFor: (round) =>
          wharfArgv(endpoint, 'fetch', source, dirFor('wharf', round), '--dataset-id', DATASET_ID),
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
          note: 'defaults (max_concurrent_requests 10); config holds only the region; --only-show-errors --no-progress',
          before: makeDir('aws'),
          after: verifyComplete('aws'),
          argsFor: (round) => [
            '--endpoint-url',
            endpoint,
            's3',
            'cp',
            '--recursive',
            '--only-show-errors',
            '--no-progress',
            source,
            dirFor('aws', round),
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
          env: rcloneEnv(endpoint, region),
          note: 'defaults (--transfers 4 --checkers 8); remote from RCLONE_CONFIG_BENCH_* variables',
          before: makeDir('rclone'),
          after: verifyComplete('rclone'),
          argsFor: (round) => ['copy', `bench:${bucket}/${PREFIX}`, dirFor('rclone', round)],
        }),
      );
      // Server-capacity probe (not a peer row for the targets): a client tuned for many small files, and
      // the same load split between two client processes at once. If two clients together are no faster
      // than one, the server (which shares this machine's cores) is the limit, not the client.
      const width = String(files - 1).length;
      const names = Array.from({ length: files }, (_, i) => `f${String(i).padStart(width, '0')}.bin`);
      const half = Math.ceil(files / 2);
      const lists = [path.join(tmp, 'first-half.txt'), path.join(tmp, 'second-half.txt')];
      await writeFile(lists[0], `${names.slice(0, half).join('\n')}\n`);
      await writeFile(lists[1], `${names.slice(half).join('\n')}\n`);
      commands.push(
        roundArgs({
          label: 'rclone copy --transfers 64',
          short: 'rclone t64',
          cmd: RCLONE_BIN,
          env: rcloneEnv(endpoint, region),
          note: 'server-capacity probe: rclone tuned for small files (64 transfers)',
          before: makeDir('rclone-t64'),
          after: verifyComplete('rclone-t64'),
          argsFor: (round) => [
            'copy',
            '--transfers',
            '64',
            `bench:${bucket}/${PREFIX}`,
            dirFor('rclone-t64', round),
          ],
        }),
      );
      const quote = (a) => `'${a.replace(/'/g, `'\\''`)}'`;
      commands.push(
        roundArgs({
          label: '2 x rclone copy --transfers 32 at once',
          short: 'rclone 2x32',
          cmd: '/bin/sh',
          env: rcloneEnv(endpoint, region),
          note: 'server-capacity probe: two rclone processes at once, each copying half the files (--files-from)',
          before: makeDir('rclone-2x32'),
          after: verifyComplete('rclone-2x32'),
          argsFor: (round) => {
            const one = (list) =>
              [
                RCLONE_BIN,
                'copy',
                '--transfers',
                '32',
                '--files-from',
                list,
                `bench:${bucket}/${PREFIX}`,
                dirFor('rclone-2x32', round),
              ]
                .map(quote)
                .join(' ');
            return ['-c', `${one(lists[0])} & a=$!; ${one(lists[1])}; b=$?; wait $a && exit $b`];
          },
        }),
      );
    } else log(`${RCLONE_BIN} not found: rclone skipped (scripts/test-services start installs it)`);
    if (existsSync(S3CMD_BIN)) {
      commands.push(
        roundArgs({
          label: 's3cmd get --recursive',
          short: 's3cmd',
          cmd: S3CMD_BIN,
          note: 'defaults (one file at a time); generated .s3cfg; --no-progress --quiet',
          before: makeDir('s3cmd'),
          after: verifyComplete('s3cmd'),
          argsFor: (round) => [
            '-c',
            s3cfg,
            'get',
            '--recursive',
            '--no-progress',
            '--quiet',
            source,
            `${dirFor('s3cmd', round)}/`,
          ],
        }),
      );
    } else log(`${S3CMD_BIN} not found: s3cmd skipped (scripts/test-services start installs it)`);

    const { stats, jsonPath } = await compare({
      name: 'fetch-small-files',
      title: `wharf fetch ${files}x${formatSize(size)}`,
      runs,
      warmup,
      commands,
      meta: {
        files,
        sizeBytes: size,
        endpoint,
        settings: 'defaults for every tool',
        versions: {
          node: process.version,
          aws: version(AWS_BIN, ['--version']),
          rclone: version(RCLONE_BIN, ['version']),
          s3cmd: version(S3CMD_BIN, ['--version']),
        },
      },
    });

    // ---- the issue's targets, against this run's medians
    const wharf = stats[0];
    const targets = TARGETS.map(({ peer, share }) => {
      const p = stats.find((s) => s.short === peer);
      const target = `wharf <= ${share} x ${peer}`;
      if (!p) return { target, met: null, line: `${target}: NOT MEASURED (${peer} is not installed)` };
      const limit = share * p.median;
      const met = wharf.median <= limit;
      return {
        target,
        met,
        wharfSeconds: wharf.median,
        peerSeconds: p.median,
        limitSeconds: limit,
        line:
          `${target}: wharf ${wharf.median.toFixed(3)} s vs limit ${limit.toFixed(3)} s ` +
          `(${share} x ${p.median.toFixed(3)} s; wharf took ${(wharf.median / p.median).toFixed(2)}x ` +
          `${peer}'s time): ${met ? 'MET' : 'NOT MET'}`,
      };
    });
    console.log('targets (medians of this run):');
    for (const t of targets) console.log(`  ${t.line}`);

    // ---- is the server the limit? files per second of the capacity probes vs what the targets need
    const rate = (s) => files / s.median;
    const probes = stats.filter((s) => s.short === 'rclone t64' || s.short === 'rclone 2x32');
    /** @type {Record<string, unknown> | undefined} */
    let server;
    if (probes.length > 0) {
      const best = probes.reduce((a, b) => (rate(b) > rate(a) ? b : a));
      const needed = targets
        .filter((t) => t.limitSeconds !== undefined)
        .map((t) => ({ target: t.target, filesPerSecond: files / t.limitSeconds }));
      console.log("server capacity (the S3 server shares this machine's cores with the client):");
      console.log(`  ${latencyLine}`);
      for (const p of probes) console.log(`  ${p.label}: ${rate(p).toFixed(0)} files/s`);
      console.log(`  wharf fetch: ${rate(wharf).toFixed(0)} files/s`);
      for (const n of needed) {
        const beyond = n.filesPerSecond > rate(best);
        console.log(
          `  "${n.target}" needs ${n.filesPerSecond.toFixed(0)} files/s: ` +
            (beyond
              ? `more than the best probe (${best.label}, ${rate(best).toFixed(0)} files/s): SERVER-BOUND here`
              : `within what the server delivered to ${best.label} (${rate(best).toFixed(0)} files/s)`),
        );
      }
      server = {
        latencyMs: { fresh: latency.freshMs, reused: latency.reusedMs },
        probes: Object.fromEntries(probes.map((p) => [p.label, rate(p)])),
        wharfFilesPerSecond: rate(wharf),
        needed: needed.map((n) => ({ ...n, serverBound: n.filesPerSecond > rate(best) })),
      };
    }
    if (jsonPath)
      await addToResults(jsonPath, {
        targets: targets.map(({ line: _line, ...t }) => t),
        ...(server ? { serverCapacity: server } : {}),
      });
    return 0;
  } finally {
    await bench.close();
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
