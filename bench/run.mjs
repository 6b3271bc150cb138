// bench/run.mjs - run every benchmark (npm run bench). See docs/benchmarks.md.
//
//   npm run bench                          build, then every benchmark with its defaults
//   npm run bench -- cp-small-files        only the named one(s)
//   npm run bench -- --runs 3              options after the names go to every benchmark
//   npm run bench -- --no-build            skip `npm run build` (measure the dist/ that is there)
//
// Each benchmark is its own process (node bench/<name>.mjs), one after the other, never in
// parallel: they share the machine and the test server. Exit code: 0 if all succeeded, else 1.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** Every benchmark, in the order they run. */
const BENCHMARKS = [
  {
    name: 'cp-small-files',
    script: 'bench/cp-small-files.mjs',
    what: 'wharf cp --recursive of 1000 x 16 KiB files vs aws-cli, rclone, s3cmd and a bare SDK loop',
  },
  {
    name: 'fetch-small-files',
    script: 'bench/fetch-small-files.mjs',
    what: 'wharf fetch of 2000 x 16 KiB objects into an empty folder vs aws-cli, rclone, s3cmd (defaults)',
  },
  {
    name: 'fetch-large-object',
    script: 'bench/fetch-large-object.mjs',
    what: 'wharf fetch of one 1 GiB object vs aws-cli, rclone, curl on a presigned URL (MiB/s, peak RSS)',
  },
  {
    name: 'fetch-refetch',
    script: 'bench/fetch-refetch.mjs',
    what: 'wharf fetch rerun over 10000 unchanged 1 KiB files (0 object GETs) vs rclone copy, aws s3 sync',
  },
  {
    name: 'sync-push',
    script: 'bench/sync-push.mjs',
    what: 'wharf sync first push of 2000 x 16 KiB files into an empty prefix vs rclone sync, aws s3 sync (defaults)',
  },
  {
    name: 'sync-nochange',
    script: 'bench/sync-nochange.mjs',
    what: 'wharf sync with nothing changed over 100000 tracked files (<= 5 s, <= 300 MB RSS) vs rclone sync, aws s3 sync',
  },
  {
    name: 'ingest',
    script: 'bench/ingest.mjs',
    what: 'wharf ingest of a 1M-row mixed-type table (PostgreSQL -> Parquet -> S3) vs psql \\copy to a CSV file (rows/s, peak RSS)',
  },
  {
    name: 'tables',
    script: 'bench/tables.mjs',
    what: 'wharf table build of 5000 small gzipped NDJSON files into one Parquet table vs naive per-file appends (cached and cold)',
  },
  {
    name: 'datastore',
    script: 'bench/datastore.mjs',
    what: 'wharf serve with 100,000 seeded datasets, 50 connections on list, search and fetch (req/s, p50/p99 <= 50 ms)',
  },
];

const argv = process.argv.slice(2);
if (argv.includes('-h') || argv.includes('--help')) {
  console.log(
    'usage: npm run bench -- [NAME ...] [--no-build] [OPTIONS passed to each benchmark]\n\nbenchmarks:',
  );
  const width = Math.max(...BENCHMARKS.map((b) => b.name.length));
  for (const b of BENCHMARKS) console.log(`  ${b.name.padEnd(width)}  ${b.what}`);
  process.exit(0);
}
const names = [];
let i = 0;
for (; i < argv.length && !argv[i].startsWith('-'); i++) names.push(argv[i]);
const rest = argv.slice(i);
const noBuild = rest.includes('--no-build');
const passOn = rest.filter((a) => a !== '--no-build');

const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
if (unknown.length > 0) {
  console.error(
    `bench: unknown benchmark(s) ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`,
  );
  process.exit(2);
}
const selected = names.length > 0 ? BENCHMARKS.filter((b) => names.includes(b.name)) : BENCHMARKS;

if (!noBuild) {
  // Measure the source as it is, not a stale dist/.
  console.error('bench: npm run build');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('bench: build failed; nothing measured');
    process.exit(1);
  }
}

const failed = [];
for (const b of selected) {
  console.error(`\nbench: ${b.name}: ${b.what}`);
  const r = spawnSync(process.execPath, [b.script, ...passOn], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0) failed.push(`${b.name} (${r.signal ?? `exit ${r.status}`})`);
}
if (failed.length > 0) {
  console.error(`\nbench: failed: ${failed.join(', ')}`);
  process.exit(1);
}
