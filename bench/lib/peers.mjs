// bench/lib/peers.mjs - what the benchmarks share beyond the harness: how peer tools are configured
// (rclone through variables, s3cmd through a generated config), how a run's output folder is checked, and
// small formatting helpers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BenchError } from './harness.mjs';

export const AWS_BIN = '/usr/bin/aws'; // Debian's awscli 2.9; another `aws` may come first in PATH
export const RCLONE_BIN = '/usr/bin/rclone';
export const S3CMD_BIN = '/usr/bin/s3cmd';
export const CURL_BIN = '/usr/bin/curl';

/**
 * Writes an s3cmd config for the test endpoint (nothing but what is needed to connect) and returns its path.
 * @param {string} file
 * @param {URL} endpointUrl
 * @param {string} region
 */
export async function writeS3cmdConfig(file, endpointUrl, region) {
  const hostPort = endpointUrl.host;
  await writeFile(
    file,
    [
      '[default]',
      `access_key = ${process.env.AWS_ACCESS_KEY_ID}`,
      `secret_key = ${process.env.AWS_SECRET_ACCESS_KEY}`,
      `host_base = ${hostPort}`,
      `host_bucket = ${hostPort}`,
      `bucket_location = ${region}`,
      `use_https = ${endpointUrl.protocol === 'https:' ? 'True' : 'False'}`,
      'signature_v2 = False',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

export /**
 * Count the regular files and their bytes under a local folder, leaving out Wharf's `.wharf/`
 * bookkeeping folder.
 * @param {string} dir
 */
async function summarizeDir(dir) {
  let count = 0;
  let bytes = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath ?? e.path, e.name);
    if (path.relative(dir, file).split(path.sep)[0] === '.wharf') continue;
    count++;
    bytes += (await lstat(file)).size;
  }
  return { count, bytes };
}

export /**
 * The rclone remote `bench:`, configured only through variables.
 * @param {string} endpoint
 * @param {string} region
 */
function rcloneEnv(endpoint, region) {
  return {
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
  };
}

export /**
 * A command whose arguments depend on the round (its fresh destination folder): the `before`
 * hook sets them, outside the timed region, then runs the spec's own `before`.
 * @param {Omit<import('./lib/harness.mjs').BenchCommand, 'args'> & { argsFor: (round: number) => string[] }} spec
 * @returns {import('./lib/harness.mjs').BenchCommand}
 */
function roundArgs(spec) {
  const { argsFor, before, ...command } = spec;
  /** @type {import('./lib/harness.mjs').BenchCommand} */
  const c = { ...command, args: argsFor(0) };
  c.before = async (label, round, info) => {
    c.args = argsFor(round);
    if (before) await before(label, round, info);
  };
  return c;
}

export /**
 * Merge `fields` into the results JSON that compare() wrote.
 * @param {string} jsonPath
 * @param {Record<string, unknown>} fields
 */
async function addToResults(jsonPath, fields) {
  const doc = JSON.parse(await readFile(jsonPath, 'utf8'));
  await writeFile(jsonPath, `${JSON.stringify({ ...doc, ...fields }, null, 2)}\n`);
}

export /**
 * Run a benchmark command once, untimed (a first full copy, a seed, a `sync init`), with the command's
 * env merged over process.env as the harness does. Throws a BenchError with the tail of its output
 * unless it exits 0. Returns its stdout.
 * @param {Pick<import('./harness.mjs').BenchCommand, 'label' | 'cmd' | 'args' | 'env' | 'cwd'>} c
 * @returns {string}
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
      `benchmark aborted: the untimed "${c.label}" failed (${r.error?.message ?? r.signal ?? `exit ${r.status}`})\n` +
        `  command: ${[c.cmd, ...c.args].join(' ')}\n    ${tail}`,
    );
  }
  return r.stdout ?? '';
}

export /** @param {string} bin @param {string[]} args */
function version(bin, args) {
  if (!existsSync(bin)) return null;
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, AWS_CA_BUNDLE: '' } });
  return (r.stdout || r.stderr || '').trim().split('\n')[0] || null;
}

export /** @param {number} n */
function formatSize(n) {
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20}MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}KiB`;
  return `${n}B`;
}
