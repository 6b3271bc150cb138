// bench/sync-push.mjs - the first push of a folder into an empty prefix: wharf sync vs rclone sync
// and aws s3 sync, every tool with its default settings.
//
//   node bench/sync-push.mjs [--runs 3] [--warmup 1] [--files 2000] [--size 16384] [--no-start]
//
// Starts (or finds) the test services (scripts/test-services start), writes FILES random files of
// SIZE bytes into a temp dir (flat, f0000.bin ...) and creates a bucket bench-<random>. Wharf keeps
// its state in the folder it syncs (DIR/.wharf/), so it gets its own folder of hard links to the same
// files; rclone and aws-cli read the plain one. Each round every tool pushes into its own fresh, empty
// prefix (tool/rN/). Before each wharf run (untimed) the script removes the folder's .wharf/ and runs
// `wharf sync init DIR s3://B/wharf/rN/`, so every run is a first sync that hashes and uploads every
// file. After every run (untimed) it checks that the prefix holds FILES data objects of FILES*SIZE
// bytes (for wharf, leaving out its .wharf/ index and journal, and checking that the committed index
// lists FILES files), then deletes the prefix. There is no target: the script prints wharf's time as a
// multiple of each peer's. The bucket and temp dir are removed at the end, also on Ctrl-C. Needs the
// built CLI: npm run build. See docs/benchmarks.md.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AWS_BIN,
  RCLONE_BIN,
  addToResults,
  formatSize,
  rcloneEnv,
  roundArgs,
  runOnce,
  version,
} from './lib/peers.mjs';
import { BenchError, compare, log } from './lib/harness.mjs';
import { REPO, deletePrefix, summarizePrefix } from './lib/s3.mjs';
import { WHARF_MAIN, openS3Bench, parseBenchArgs, wharfArgv } from './lib/s3-bench.mjs';

const USAGE = `usage: node bench/sync-push.mjs [--runs N] [--warmup N] [--files N] [--size BYTES] [--no-start]
  --runs 3          measured rounds (each round runs every tool once, alternating)
  --warmup 1        unmeasured rounds first
  --files 2000      number of files
  --size 16384      bytes per file (random)
  --no-start        don't run scripts/test-services start; use AWS_ENDPOINT_URL etc. from the env`;

/** Wharf sync's state under the remote prefix (index, journal); not data. */
const WHARF_STATE = '.wharf/';
const MEMBER = 'bench';

async function main() {
  const args = parseBenchArgs(USAGE, {
    files: { type: 'string', default: '2000' },
    size: { type: 'string', default: '16384' },
  });
  if (!args) return 0;
  const { values, int, runs, warmup } = args;
  const files = int('files', 1);
  const size = int('size', 0);

  const bench = await openS3Bench({ name: 'sync-push', noStart: values['no-start'] });
  const { endpoint, region, tmp, client } = bench;

  try {
    // ---- data: FILES random files, flat (f0000.bin ...); wharf's folder holds hard links to them
    const dataDir = path.join(tmp, 'data');
    const wharfDir = path.join(tmp, 'wharf');
    await mkdir(dataDir);
    await mkdir(wharfDir);
    const width = String(files - 1).length;
    for (let i = 0; i < files; i++) {
      const name = `f${String(i).padStart(width, '0')}.bin`;
      await writeFile(path.join(dataDir, name), randomBytes(size));
      await link(path.join(dataDir, name), path.join(wharfDir, name));
    }
    const bucket = await bench.createBucket();
    log(
      `${files} x ${size} B in ${dataDir} (and linked into ${wharfDir}); bucket s3://${bucket} at ${endpoint}`,
    );

    const awsConfig = path.join(tmp, 'aws-config');
    await writeFile(awsConfig, ['[default]', `region = ${region}`, ''].join('\n'));

    /** The prefix a tool pushes into in a round: fresh and empty every time. */
    const prefixFor = (tool, round) => `${tool}/r${round}/`;
    /** After each run: the push must be complete; then make room for the next. */
    const verifyAndClean = (tool) => async (label, round) => {
      const prefix = prefixFor(tool, round);
      const got = await summarizePrefix(client, bucket, prefix, { exclude: WHARF_STATE });
      const what =
        tool === 'wharf'
          ? `${got.count} data objects / ${got.bytes} B (+ ${got.excluded} under ${WHARF_STATE})`
          : `${got.count} objects / ${got.bytes} B`;
      if (got.count !== files || got.bytes !== files * size || (tool !== 'wharf' && got.excluded !== 0)) {
        throw new BenchError(
          `benchmark aborted: "${label}" exited 0 but s3://${bucket}/${prefix} holds ${what}, ` +
            `expected ${files} / ${files * size} B`,
        );
      }
      if (tool === 'wharf') await checkWharfIndex(label, prefix);
      await deletePrefix(client, bucket, prefix);
    };
    /**
     * The shared index wharf committed must list every file: a push whose data landed but whose
     * commit did not is not a sync.
     */
    const checkWharfIndex = async (label, prefix) => {
      const key = `${prefix}${WHARF_STATE}index.json`;
      let index;
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        index = JSON.parse(await r.Body.transformToString());
      } catch (e) {
        throw new BenchError(
          `benchmark aborted: "${label}" exited 0 but s3://${bucket}/${key}: ${e.message}`,
        );
      }
      const entries = Object.keys(index?.entries ?? {}).length;
      if (entries !== files || index?.generation !== 1) {
        throw new BenchError(
          `benchmark aborted: "${label}" exited 0 but s3://${bucket}/${key} lists ${entries} files at ` +
            `generation ${index?.generation}, expected ${files} at generation 1`,
        );
      }
    };

    /** @type {import('./lib/harness.mjs').BenchCommand[]} */
    const commands = [];
    // Wharf first: every ratio is against it. --endpoint-url is also in the env; passed explicitly too.
    commands.push(
      roundArgs({
        label: 'wharf sync',
        short: 'wharf',
        cmd: process.execPath,
        cwd: REPO,
        note:
          'defaults (--concurrency 16); node dist/cli/main.js --quiet --no-progress sync DIR --yes, ' +
          'after an untimed `sync init DIR s3://B/wharf/rN/` into a folder without .wharf/',
        // untimed: forget the previous round's link and state, link the folder to this round's prefix
        before: async (_label, round) => {
          await rm(path.join(wharfDir, '.wharf'), { recursive: true, force: true });
          runOnce({
            label: 'wharf sync init',
            cmd: process.execPath,
            cwd: REPO,
            args: [
              WHARF_MAIN,
              '--quiet',
              '--endpoint-url',
              endpoint,
              'sync',
              'init',
              wharfDir,
              `s3://${bucket}/${prefixFor('wharf', round)}`,
              '--member',
              MEMBER,
            ],
          });
        },
        after: verifyAndClean('wharf'),
        argsFor: () => wharfArgv(endpoint, 'sync', wharfDir, '--yes'),
      }),
    );
    if (existsSync(RCLONE_BIN)) {
      commands.push(
        roundArgs({
          label: 'rclone sync',
          short: 'rclone',
          cmd: RCLONE_BIN,
          env: rcloneEnv(endpoint, region),
          note: 'defaults (--transfers 4 --checkers 8); remote from RCLONE_CONFIG_BENCH_* variables',
          after: verifyAndClean('rclone'),
          argsFor: (round) => ['sync', dataDir, `bench:${bucket}/${prefixFor('rclone', round)}`],
        }),
      );
    } else log(`${RCLONE_BIN} not found: rclone skipped (scripts/test-services start installs it)`);
    if (existsSync(AWS_BIN)) {
      commands.push(
        roundArgs({
          label: 'aws s3 sync',
          short: 'aws',
          cmd: AWS_BIN,
          env: {
            AWS_CONFIG_FILE: awsConfig,
            AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
            AWS_PAGER: '',
            AWS_EC2_METADATA_DISABLED: 'true',
          },
          note: 'defaults (max_concurrent_requests 10); config holds only the region; --only-show-errors --no-progress',
          after: verifyAndClean('aws'),
          argsFor: (round) => [
            '--endpoint-url',
            endpoint,
            's3',
            'sync',
            '--only-show-errors',
            '--no-progress',
            dataDir,
            `s3://${bucket}/${prefixFor('aws', round)}`,
          ],
        }),
      );
    } else log(`${AWS_BIN} not found: aws-cli skipped (scripts/test-services start installs it)`);

    const { stats, jsonPath } = await compare({
      name: 'sync-push',
      title: `wharf sync push ${files}x${formatSize(size)}`,
      runs,
      warmup,
      commands,
      meta: {
        files,
        sizeBytes: size,
        endpoint,
        settings: 'defaults for every tool; every run pushes into its own fresh, empty prefix',
        versions: {
          node: process.version,
          aws: version(AWS_BIN, ['--version']),
          rclone: version(RCLONE_BIN, ['version']),
        },
      },
    });

    // ---- the issue asks for the ratio only: wharf's median as a multiple of each peer's
    const wharf = stats[0];
    const ratios = stats.slice(1).map((p) => ({
      peer: p.short,
      wharfSeconds: wharf.median,
      peerSeconds: p.median,
      wharfOverPeer: wharf.median / p.median,
    }));
    console.log('ratios (medians of this run; no target):');
    for (const r of ratios) {
      console.log(
        `  wharf / ${r.peer}: ${r.wharfOverPeer.toFixed(2)} (wharf ${r.wharfSeconds.toFixed(3)} s, ` +
          `${r.peer} ${r.peerSeconds.toFixed(3)} s; ` +
          `${r.wharfOverPeer <= 1 ? `wharf ${(1 / r.wharfOverPeer).toFixed(2)}x faster` : `wharf ${r.wharfOverPeer.toFixed(2)}x slower`})`,
      );
    }
    if (jsonPath) await addToResults(jsonPath, { ratios });
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
