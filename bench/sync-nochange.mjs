// bench/sync-nochange.mjs - a sync when nothing changed: wharf sync over a large tracked folder must
// find that there is nothing to do, quickly and in little memory. Compared with rclone sync and
// aws s3 sync doing the same rerun.
//
//   node bench/sync-nochange.mjs [--runs 3] [--warmup 1] [--files 100000] [--size 64] [--no-start] [--no-aws] [--no-rclone]
//
// Starts (or finds) the test services (scripts/test-services start), writes FILES random files of
// SIZE bytes into a temp dir, spread over 100 subfolders (d00/f000000.bin ...), and creates a bucket
// bench-<random>. Wharf keeps its state in the folder it syncs (DIR/.wharf/), so it gets its own
// folder of hard links to the same files; rclone and aws-cli read the plain one. Then, untimed, each
// tool makes its first full push with the very same command that is timed afterwards: wharf (after
// `wharf sync init DIR s3://B/sync/`) into sync/, rclone into sync-rclone/, aws-cli into sync-aws/.
// The script prints how long each took (at 100,000 files, minutes) and checks every prefix holds
// FILES data objects of FILES*SIZE bytes (wharf's .wharf/ index and journal left out). The timed runs
// repeat the commands with nothing changed. Wharf runs with --json; after every run its document
// must show plan.counts all 0 (nothing to upload, download, delete, move; no conflict) and
// committed: false, or the benchmark fails loudly. After the last round every prefix is counted again.
// Targets: wharf's median at most 5 s and its peak RSS at most 300 MB, printed as MET or NOT MET. The
// bucket and temp dir are removed at the end, also on Ctrl-C. Needs the built CLI: npm run build. See
// docs/benchmarks.md.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AWS_BIN, RCLONE_BIN, addToResults, formatSize, rcloneEnv, runOnce, version } from './lib/peers.mjs';
import { BenchError, compare, log } from './lib/harness.mjs';
import { REPO, summarizePrefix } from './lib/s3.mjs';
import { WHARF_MAIN, openS3Bench, parseBenchArgs } from './lib/s3-bench.mjs';

const USAGE = `usage: node bench/sync-nochange.mjs [--runs N] [--warmup N] [--files N] [--size BYTES] [--no-start] [--no-aws]
  --runs 3          measured rounds (each round runs every tool once, alternating)
  --warmup 1        unmeasured rounds first
  --files 100000    number of tracked files (spread over 100 subfolders)
  --size 64         bytes per file (random)
  --no-start        don't run scripts/test-services start; use AWS_ENDPOINT_URL etc. from the env
  --no-aws          leave aws-cli out (its first push of 100,000 files takes long)
  --no-rclone       leave rclone out (likewise)`;

/** Wharf sync's state under the remote prefix (index, journal); not data. */
const WHARF_STATE = '.wharf/';
const MEMBER = 'bench';
const FOLDERS = 100;
/** The issue's targets for a sync with nothing changed. */
const TARGET_SECONDS = 5;
const TARGET_RSS_BYTES = 300e6;

async function main() {
  const args = parseBenchArgs(USAGE, {
    files: { type: 'string', default: '100000' },
    size: { type: 'string', default: '64' },
    'no-aws': { type: 'boolean', default: false },
    'no-rclone': { type: 'boolean', default: false },
  });
  if (!args) return 0;
  const { values, int, runs, warmup } = args;
  const files = int('files', 1);
  const size = int('size', 0);

  const bench = await openS3Bench({ name: 'sync-nochange', noStart: values['no-start'] });
  const { endpoint, region, tmp, client } = bench;

  try {
    // ---- data: FILES random files over FOLDERS subfolders; wharf's folder holds hard links to them
    const dataDir = path.join(tmp, 'data');
    const wharfDir = path.join(tmp, 'wharf');
    let t0 = process.hrtime.bigint();
    await writeTree(dataDir, wharfDir, files, size);
    const bucket = await bench.createBucket();
    log(
      `${files} x ${size} B in ${Math.min(FOLDERS, files)} subfolders of ${dataDir} (and linked into ` +
        `${wharfDir}), ${seconds(t0)} s; bucket s3://${bucket} at ${endpoint}`,
    );

    const awsConfig = path.join(tmp, 'aws-config');
    await writeFile(awsConfig, ['[default]', `region = ${region}`, ''].join('\n'));
    /** Each tool's one prefix: pushed to once before the rounds, then synced again with nothing changed. */
    const prefixFor = (tool) => (tool === 'wharf' ? 'sync/' : `sync-${tool}/`);
    /** The wharf --json document of the latest run. */
    const wharfJson = path.join(tmp, 'wharf-sync.json');

    /** The prefix must hold exactly the dataset (wharf's .wharf/ state apart). */
    const verifyPrefix = async (label, tool, when) => {
      const prefix = prefixFor(tool);
      const got = await summarizePrefix(client, bucket, prefix, { exclude: WHARF_STATE });
      if (got.count !== files || got.bytes !== files * size || (tool !== 'wharf' && got.excluded !== 0)) {
        let linked = '';
        if (tool === 'wharf') {
          const config = await readFile(path.join(wharfDir, '.wharf', 'sync.json'), 'utf8').catch(() => '{}');
          linked = ` (${path.join(wharfDir, '.wharf', 'sync.json')} says remote = ${JSON.parse(config).remote})`;
        }
        throw new BenchError(
          `benchmark aborted: ${when}: s3://${bucket}/${prefix} holds ${got.count} data objects / ` +
            `${got.bytes} B${tool === 'wharf' ? ` (+ ${got.excluded} under ${WHARF_STATE})` : ''}, ` +
            `expected ${files} / ${files * size} B after "${label}"${linked}`,
        );
      }
    };

    /** What every wharf run reported, the first (untimed) push included. */
    const wharfRuns = [];
    /**
     * Read wharf's --json document; the first push must have uploaded everything and committed, every
     * later run must have planned nothing and committed nothing.
     * @param {string} what
     * @param {boolean} first
     */
    const checkWharfJson = async (what, first) => {
      const text = await readFile(wharfJson, 'utf8').catch(() => '');
      let doc;
      try {
        doc = JSON.parse(text);
      } catch {
        throw new BenchError(
          `benchmark FAILED: ${what}: wharf --json sync did not print one JSON document ` +
            `(${text.length} characters: ${JSON.stringify(text.slice(0, 200))})`,
        );
      }
      const counts = doc?.plan?.counts ?? {};
      wharfRuns.push({
        run: what,
        counts,
        tracked: doc?.plan?.tracked,
        committed: doc?.committed,
        generation: doc?.generation,
        attempts: doc?.attempts,
      });
      const problems = [];
      if (Object.keys(counts).length === 0) problems.push('plan.counts is missing');
      if ((doc?.failed ?? []).length > 0) problems.push(`${doc.failed.length} failed`);
      if ((doc?.guards ?? []).length > 0) problems.push(`guards tripped: ${JSON.stringify(doc.guards)}`);
      if (first) {
        for (const [k, n] of Object.entries(counts))
          if (n !== (k === 'upload' ? files : 0)) problems.push(`plan.counts.${k} = ${n}`);
        if (doc?.committed !== true) problems.push(`committed = ${JSON.stringify(doc?.committed)}`);
        if (problems.length > 0)
          throw new BenchError(
            [
              `benchmark aborted: ${what}: the first wharf sync should upload all ${files} files and commit`,
              ...problems.map((p) => `  ${p}`),
            ].join('\n'),
          );
        return;
      }
      for (const [k, n] of Object.entries(counts)) if (n !== 0) problems.push(`plan.counts.${k} = ${n}`);
      if (doc?.committed !== false) problems.push(`committed = ${JSON.stringify(doc?.committed)}`);
      if (doc?.plan?.tracked !== files) problems.push(`plan.tracked = ${doc?.plan?.tracked}`);
      if (problems.length > 0) {
        throw new BenchError(
          [
            `benchmark FAILED: ${what}: wharf sync ran with nothing changed and still found work ` +
              `(all plan.counts must be 0, committed false, plan.tracked ${files})`,
            ...problems.map((p) => `  ${p}`),
            `  plan.counts = ${JSON.stringify(counts)}`,
          ].join('\n'),
        );
      }
    };

    /** @type {import('./lib/harness.mjs').BenchCommand[]} */
    const commands = [];
    // Wharf first: every ratio is against it. Its --json document goes to a file: sh redirects stdout
    // and then execs node, so the timed and measured process is wharf itself.
    commands.push({
      label: 'wharf sync (no change)',
      short: 'wharf',
      cmd: '/bin/sh',
      args: [
        '-c',
        'exec "$@" > "$WHARF_BENCH_JSON"',
        'sh',
        process.execPath,
        WHARF_MAIN,
        '--quiet',
        '--no-progress',
        '--json',
        '--endpoint-url',
        endpoint,
        'sync',
        wharfDir,
        '--yes',
      ],
      env: { WHARF_BENCH_JSON: wharfJson },
      cwd: REPO,
      note:
        'defaults; node dist/cli/main.js --quiet --no-progress --json sync DIR --yes, stdout to a file ' +
        '(checked: plan.counts all 0, committed false)',
      before: () => rm(wharfJson, { force: true }),
      after: async (_label, _round, info) =>
        checkWharfJson(`${info.warmup ? 'warmup' : 'run'} ${info.index + 1}`, false),
    });
    if (values['no-rclone']) log('--no-rclone: rclone left out');
    else if (existsSync(RCLONE_BIN)) {
      commands.push({
        label: 'rclone sync (no change)',
        short: 'rclone',
        cmd: RCLONE_BIN,
        args: ['sync', dataDir, `bench:${bucket}/${prefixFor('rclone')}`],
        env: rcloneEnv(endpoint, region),
        note: 'defaults (--checkers 8, compares size and modification time); remote from RCLONE_CONFIG_BENCH_* variables',
      });
    } else log(`${RCLONE_BIN} not found: rclone skipped (scripts/test-services start installs it)`);
    if (values['no-aws']) log('--no-aws: aws-cli left out');
    else if (existsSync(AWS_BIN)) {
      commands.push({
        label: 'aws s3 sync (no change)',
        short: 'aws',
        cmd: AWS_BIN,
        args: [
          '--endpoint-url',
          endpoint,
          's3',
          'sync',
          '--only-show-errors',
          '--no-progress',
          dataDir,
          `s3://${bucket}/${prefixFor('aws')}`,
        ],
        env: {
          AWS_CONFIG_FILE: awsConfig,
          AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
          AWS_PAGER: '',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        note: 'defaults (compares size and last-modified time); config holds only the region; --only-show-errors --no-progress',
      });
    } else log(`${AWS_BIN} not found: aws-cli skipped (scripts/test-services start installs it)`);

    // ---- the first full push of every tool, untimed, with the very same command
    /** @type {Record<string, number>} */
    const firstPushSeconds = {};
    for (const c of commands) {
      t0 = process.hrtime.bigint();
      if (c.short === 'wharf') {
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
            `s3://${bucket}/${prefixFor('wharf')}`,
            '--member',
            MEMBER,
          ],
        });
        await c.before(c.label, -1, { warmup: true, index: -1 });
      }
      // The seeding push may use more connections (it is untimed); the timed reruns use the defaults.
      const seedArgs =
        c.short === 'wharf'
          ? [...c.args, '--concurrency', '64']
          : c.short === 'rclone'
            ? [...c.args, '--transfers', '64']
            : c.args;
      runOnce({ ...c, args: seedArgs, label: `${c.label.replace(' (no change)', '')} (first push)` });
      firstPushSeconds[c.short] = Number(process.hrtime.bigint() - t0) / 1e9;
      if (c.short === 'wharf') await checkWharfJson('first push', true);
      await verifyPrefix(c.label, c.short, 'after the first push');
      log(`${c.short}: first push of ${files} files (untimed) ${firstPushSeconds[c.short].toFixed(1)} s`);
    }

    const { stats, jsonPath } = await compare({
      name: 'sync-nochange',
      title: `wharf sync no-change ${files}x${formatSize(size)}`,
      runs,
      warmup,
      commands,
      meta: {
        files,
        sizeBytes: size,
        folders: Math.min(FOLDERS, files),
        endpoint,
        settings: 'defaults for every tool; every timed run syncs a folder that is already fully pushed',
        firstPushSeconds,
        versions: {
          node: process.version,
          aws: values['no-aws'] ? null : version(AWS_BIN, ['--version']),
          rclone: version(RCLONE_BIN, ['version']),
        },
      },
    });

    // ---- nobody may have changed the remote copy in a no-change run
    for (const c of commands) await verifyPrefix(c.label, c.short, 'after the last round');

    const timed = wharfRuns.filter((r) => r.run !== 'first push');
    console.log(
      `wharf no-change syncs: plan.counts all 0 and committed false in all ${timed.length}; ` +
        `tracked = ${files}, generation = ${[...new Set(timed.map((r) => r.generation))].join('/')}`,
    );
    console.log(
      `first push (untimed): ${Object.entries(firstPushSeconds)
        .map(([tool, s]) => `${tool} ${s.toFixed(1)} s`)
        .join(', ')}`,
    );
    const wharf = stats[0];
    const timeMet = wharf.median <= TARGET_SECONDS;
    const rssBytes = wharf.peakRssMiB === null ? null : wharf.peakRssMiB * 2 ** 20;
    const rssMet = rssBytes === null ? null : rssBytes <= TARGET_RSS_BYTES;
    const targets = [
      {
        target: `wharf no-change sync <= ${TARGET_SECONDS} s`,
        met: timeMet,
        wharfSeconds: wharf.median,
        line:
          `wharf no-change sync <= ${TARGET_SECONDS} s: wharf ${wharf.median.toFixed(3)} s median ` +
          `(${files} files, nothing changed): ${timeMet ? 'MET' : 'NOT MET'}`,
      },
      {
        target: `wharf peak RSS <= ${TARGET_RSS_BYTES / 1e6} MB`,
        met: rssMet,
        peakRssMiB: wharf.peakRssMiB,
        line:
          rssBytes === null
            ? `wharf peak RSS <= ${TARGET_RSS_BYTES / 1e6} MB: NOT MEASURED (no /usr/bin/time)`
            : `wharf peak RSS <= ${TARGET_RSS_BYTES / 1e6} MB (${(TARGET_RSS_BYTES / 2 ** 20).toFixed(1)} MiB): ` +
              `wharf ${(rssBytes / 1e6).toFixed(1)} MB (${wharf.peakRssMiB.toFixed(1)} MiB, largest over the ` +
              `measured runs): ${rssMet ? 'MET' : 'NOT MET'}`,
      },
    ];
    console.log('targets (this run):');
    for (const t of targets) console.log(`  ${t.line}`);
    if (jsonPath) {
      await addToResults(jsonPath, {
        wharfRuns,
        targets: [
          ...targets.map(({ line: _line, ...t }) => t),
          { target: 'wharf no-change sync: plan.counts all 0, committed false', met: true },
        ],
      });
    }
    return 0;
  } finally {
    await bench.close();
  }
}

/**
 * Write `count` files of `size` random bytes into `dir`, spread over FOLDERS subfolders
 * (d00/f000000.bin, d01/f000001.bin, ...), and hard-link each into the same place under `linkDir`.
 * 32 files at once.
 * @param {string} dir
 * @param {string} linkDir
 * @param {number} count
 * @param {number} size
 */
async function writeTree(dir, linkDir, count, size) {
  const folders = Math.min(FOLDERS, count);
  const fw = String(folders - 1).length;
  const width = String(count - 1).length;
  const folder = (i) => `d${String(i % folders).padStart(fw, '0')}`;
  for (let f = 0; f < folders; f++) {
    await mkdir(path.join(dir, folder(f)), { recursive: true });
    await mkdir(path.join(linkDir, folder(f)), { recursive: true });
  }
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const rel = path.join(folder(i), `f${String(i).padStart(width, '0')}.bin`);
      await writeFile(path.join(dir, rel), randomBytes(size));
      await link(path.join(dir, rel), path.join(linkDir, rel));
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, count) }, worker));
}

/** @param {bigint} t0 */
function seconds(t0) {
  return (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof BenchError ? err.message : (err?.stack ?? err)}\n`);
    process.exit(1);
  },
);
