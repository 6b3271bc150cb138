// bench/lib/harness.mjs - time CLI commands against each other, in the same run.
//
// compare() runs every command once per round, alternating them within the round (A B C, A B C,
// ...), so that drift (server warming up, page cache, a noisy neighbour) hits all commands alike.
// Each run is one child process; the harness records its wall time and its peak RSS.
//
// Wall time: process.hrtime.bigint() from just before spawn() to the child's 'exit' event.
// Peak RSS: the child runs under GNU time (`/usr/bin/time -f '%M %U %S' -o FILE cmd args...`, Debian
//   package `time`), which reads ru_maxrss from wait4() when the child exits. That is exact (no
//   sampling), costs the child nothing, and covers the largest process of the child's tree (the
//   kernel folds reaped grandchildren's peak into it). Node has no API for a child's rusage
//   (process.resourceUsage() is the caller's own), and polling /proc/PID/status VmHWM misses short
//   peaks and processes the child forks. When /usr/bin/time is missing the harness installs it
//   with apt-get (as root); if that fails too, RSS is reported as n/a, never guessed.
// CPU: the same wait4() rusage gives the child's user + system CPU seconds (%U %S, including reaped
//   children). On a small machine that shares its cores with the server under test, a client's CPU
//   time is time the server does not get, so the table shows it next to the wall time.
//
// A run that exits non-zero (or is killed) aborts the whole comparison with the tail of its
// stderr: a failed run is never reported as a time.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TIME_BIN = '/usr/bin/time';
const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
const TAIL_BYTES = 64 * 1024;

/**
 * @typedef {object} BenchCommand
 * @property {string} label  full name, shown in the table (e.g. "aws s3 cp --recursive")
 * @property {string} [short]  short name for the summary line (default: label)
 * @property {string} cmd  executable (absolute path recommended)
 * @property {string[]} args
 * @property {Record<string, string | undefined>} [env]  merged over process.env; undefined deletes a variable
 * @property {string} [cwd]
 * @property {string} [note]  how the tool is tuned, printed under the table and saved in the JSON
 * @property {(label: string, round: number, info: RoundInfo) => unknown} [before]  untimed, before each run
 * @property {(label: string, round: number, info: RoundInfo) => unknown} [after]  untimed, after each
 *   successful run (e.g. verify the upload, clean up); throwing aborts the comparison
 */

/**
 * @typedef {object} RoundInfo
 * @property {boolean} warmup  a warmup round: timed but not counted
 * @property {number} index  round number within its kind (warmup rounds and measured rounds each start at 0)
 */

/**
 * @typedef {object} CompareOptions
 * @property {string} name  file-name-safe id, used for bench/results/<name>-<timestamp>.json
 * @property {string} [title]  what the summary line starts with (default: name)
 * @property {number} [runs]  measured rounds (default 5)
 * @property {number} [warmup]  unmeasured rounds first (default 1)
 * @property {() => unknown} [setup]  untimed, once before the first round
 * @property {BenchCommand[]} commands  the first one is the subject (Wharf); ratios are against it
 * @property {Record<string, unknown>} [meta]  anything worth keeping with the results (sizes, versions)
 * @property {boolean} [writeJson]  default true
 */

/**
 * @typedef {object} RunResult
 * @property {number} seconds
 * @property {number | null} maxRssKiB
 * @property {number | null} cpuSeconds  user + system
 */

/**
 * @typedef {object} CommandStats
 * @property {string} label
 * @property {string} short
 * @property {number} median  seconds
 * @property {number} min
 * @property {number} max
 * @property {number | null} peakRssMiB  largest peak RSS over the measured runs
 * @property {number | null} cpuMedian  median user + system CPU seconds
 * @property {number} ratio  this median / the first command's median
 * @property {RunResult[]} runs
 */

/**
 * Run the comparison, print a table and a summary line, write the JSON results.
 * @param {CompareOptions} options
 * @returns {Promise<{ stats: CommandStats[], summary: string, jsonPath: string | null }>}
 */
export async function compare(options) {
  const { name, commands, setup, meta = {} } = options;
  const title = options.title ?? name;
  const runs = options.runs ?? 5;
  const warmup = options.warmup ?? 1;
  if (!/^[\w.-]+$/.test(name))
    throw new Error(`compare: name must be file-name-safe, got ${JSON.stringify(name)}`);
  if (!Array.isArray(commands) || commands.length === 0) throw new Error('compare: no commands');
  if (!(Number.isInteger(runs) && runs >= 1))
    throw new Error(`compare: runs must be an integer >= 1, got ${runs}`);
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new Error(`compare: warmup must be an integer >= 0`);
  const labels = new Set();
  for (const c of commands) {
    if (labels.has(c.label)) throw new Error(`compare: duplicate label ${JSON.stringify(c.label)}`);
    labels.add(c.label);
  }

  const timeBin = await ensureGnuTime();
  if (!timeBin)
    log(`warning: ${TIME_BIN} is not available and could not be installed: peak RSS will show as n/a`);

  if (setup) await setup();

  /** @type {RunResult[][]} */
  const results = commands.map(() => []);
  const startedAt = new Date();
  const t0 = process.hrtime.bigint();
  // GNU time's report, one small file per run, deleted as soon as it is read
  const rssFile = path.join(os.tmpdir(), `wharf-bench-time-${process.pid}`);
  const total = warmup + runs;
  for (let round = 0; round < total; round++) {
    const info = { warmup: round < warmup, index: round < warmup ? round : round - warmup };
    const tag = info.warmup ? `warmup ${info.index + 1}/${warmup}` : `run ${info.index + 1}/${runs}`;
    const parts = [];
    for (let i = 0; i < commands.length; i++) {
      const c = commands[i];
      if (c.before) await c.before(c.label, round, info);
      const r = await timeOnce(c, timeBin, rssFile, tag);
      if (c.after) await c.after(c.label, round, info);
      if (!info.warmup) results[i].push(r);
      parts.push(`${c.short ?? c.label} ${r.seconds.toFixed(2)}s`);
    }
    log(`${tag}: ${parts.join(', ')}`);
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;

  const stats = commands.map((c, i) => {
    const secs = results[i].map((r) => r.seconds);
    const rss = results[i].map((r) => r.maxRssKiB).filter((v) => v !== null);
    const cpu = results[i].map((r) => r.cpuSeconds).filter((v) => v !== null);
    return {
      label: c.label,
      short: c.short ?? c.label,
      median: median(secs),
      min: Math.min(...secs),
      max: Math.max(...secs),
      peakRssMiB: rss.length === results[i].length && rss.length > 0 ? Math.max(...rss) / 1024 : null,
      cpuMedian: cpu.length === results[i].length && cpu.length > 0 ? median(cpu) : null,
      ratio: 0,
      runs: results[i],
    };
  });
  for (const s of stats) s.ratio = s.median / stats[0].median;

  const summary = summaryLine(title, stats);
  printTable(title, stats, commands, { runs, warmup, elapsed });
  console.log(summary);

  let jsonPath = null;
  if (options.writeJson !== false) {
    await mkdir(RESULTS_DIR, { recursive: true });
    jsonPath = path.join(RESULTS_DIR, `${name}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    const doc = {
      name,
      title,
      startedAt: startedAt.toISOString(),
      elapsedSeconds: elapsed,
      runs,
      warmup,
      host: {
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? null,
        memoryMiB: Math.round(os.totalmem() / 2 ** 20),
      },
      rssMethod: timeBin ? `${timeBin} -f '%M %U %S' (wait4 rusage: ru_maxrss, ru_utime + ru_stime)` : null,
      meta,
      summary,
      commands: stats.map((s, i) => ({
        label: s.label,
        short: s.short,
        cmd: commands[i].cmd,
        args: commands[i].args,
        note: commands[i].note ?? null,
        medianSeconds: s.median,
        minSeconds: s.min,
        maxSeconds: s.max,
        peakRssMiB: s.peakRssMiB,
        cpuMedianSeconds: s.cpuMedian,
        ratioToFirst: s.ratio,
        runs: s.runs,
      })),
    };
    await writeFile(jsonPath, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`results: ${path.relative(process.cwd(), jsonPath) || jsonPath}`);
  }
  return { stats, summary, jsonPath };
}

/**
 * One timed run. Throws (with the stderr tail) unless the command exits 0.
 * @param {BenchCommand} c
 * @param {string | null} timeBin
 * @param {string} rssFile
 * @param {string} tag
 * @returns {Promise<RunResult>}
 */
async function timeOnce(c, timeBin, rssFile, tag) {
  const env = { ...process.env };
  for (const [k, v] of Object.entries(c.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const [file, args] = timeBin
    ? [timeBin, ['-f', '%M %U %S', '-o', rssFile, c.cmd, ...c.args]]
    : [c.cmd, c.args];
  await rm(rssFile, { force: true });

  const stdout = new Tail(TAIL_BYTES);
  const stderr = new Tail(TAIL_BYTES);
  const start = process.hrtime.bigint();
  const child = spawn(file, args, { cwd: c.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (b) => stdout.push(b));
  child.stderr.on('data', (b) => stderr.push(b));
  const { code, signal, end, error } = await new Promise((resolve) => {
    let exit = null;
    child.on('error', (err) =>
      resolve({ code: null, signal: null, end: process.hrtime.bigint(), error: err }),
    );
    child.on('exit', (code, signal) => {
      exit = { code, signal, end: process.hrtime.bigint() };
    });
    child.on('close', () => resolve(exit ?? { code: null, signal: null, end: process.hrtime.bigint() }));
  });
  const seconds = Number(end - start) / 1e9;

  let timeOut = '';
  if (timeBin) {
    timeOut = await readFile(rssFile, 'utf8').catch(() => '');
    await rm(rssFile, { force: true });
  }
  if (error || code !== 0) {
    const why = error
      ? `could not start: ${error.message}`
      : signal
        ? `killed by ${signal}`
        : `exit code ${code}${code === 127 ? ' (command not found?)' : ''}`;
    const lines = [
      `benchmark aborted: "${c.label}" failed in ${tag} (${why})`,
      `  command: ${[c.cmd, ...c.args].join(' ')}`,
      // GNU time's own lines ("Command exited with non-zero status 3", "cannot run ...") but not the figures
      ...tailLines('stderr', stderr.text() + timeOut.replace(/^\d+ [\d.]+ [\d.]+\s*$/m, '')),
      ...tailLines('stdout', stdout.text()),
    ];
    throw new BenchError(lines.join('\n'));
  }

  let maxRssKiB = null;
  let cpuSeconds = null;
  if (timeBin) {
    const m = /^(\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/.exec((timeOut.trim().split('\n').pop() ?? '').trim());
    if (m) {
      maxRssKiB = Number(m[1]);
      cpuSeconds = Number(m[2]) + Number(m[3]);
    }
  }
  return { seconds, maxRssKiB, cpuSeconds };
}

/** An error whose message is already the whole report (no stack needed). */
export class BenchError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BenchError';
  }
}

/** Keeps the last `limit` bytes of a stream. */
class Tail {
  /** @param {number} limit */
  constructor(limit) {
    this.limit = limit;
    /** @type {Buffer[]} */
    this.chunks = [];
    this.size = 0;
  }
  /** @param {Buffer} b */
  push(b) {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size - this.chunks[0].length >= this.limit) this.size -= this.chunks.shift().length;
  }
  text() {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** @param {string} what @param {string} text */
function tailLines(what, text) {
  const lines = text
    .trimEnd()
    .split('\n')
    .filter((l) => l.length > 0);
  if (lines.length === 0) return [`  (${what}: empty)`];
  const shown = lines.slice(-20);
  return [`  ${what} (last ${shown.length} of ${lines.length} lines):`, ...shown.map((l) => `    ${l}`)];
}

/**
 * /usr/bin/time if present; else try `apt-get install -y time` (root only), once with
 * `apt-get update` first if the plain install fails. Returns the path, or null.
 * @returns {Promise<string | null>}
 */
export async function ensureGnuTime() {
  if (existsSync(TIME_BIN)) return TIME_BIN;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return null;
  log(`${TIME_BIN} missing: installing the Debian package 'time' (apt-get install -y time)`);
  const opts = {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  };
  let r = spawnSync('apt-get', ['install', '-y', '-q', 'time'], opts);
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], opts);
    r = spawnSync('apt-get', ['install', '-y', '-q', 'time'], opts);
  }
  return existsSync(TIME_BIN) ? TIME_BIN : null;
}

/** @param {number[]} xs */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * `wharf cp -r 1000x16KiB: 1.23 s median; aws 2.46 s (wharf is 2.00x faster); ...`
 * @param {string} title
 * @param {CommandStats[]} stats
 */
export function summaryLine(title, stats) {
  const [first, ...peers] = stats;
  const parts = peers.map((p) => `${p.short} ${fmtSec(p.median)} s (${first.short} is ${relation(p.ratio)})`);
  return [`${title}: ${fmtSec(first.median)} s median`, ...parts].join('; ');
}

/** @param {number} ratio peer median / subject median */
function relation(ratio) {
  if (ratio >= 1) return `${ratio.toFixed(2)}x faster`;
  return `${(1 / ratio).toFixed(2)}x slower`;
}

/** @param {number} s */
function fmtSec(s) {
  return s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2);
}

/**
 * @param {string} title
 * @param {CommandStats[]} stats
 * @param {BenchCommand[]} commands
 * @param {{ runs: number, warmup: number, elapsed: number }} info
 */
function printTable(title, stats, commands, info) {
  const header = ['command', 'median s', 'min s', 'max s', 'CPU s', 'peak RSS MiB', 'vs first'];
  const rows = stats.map((s, i) => [
    s.label,
    s.median.toFixed(3),
    s.min.toFixed(3),
    s.max.toFixed(3),
    s.cpuMedian === null ? 'n/a' : s.cpuMedian.toFixed(2),
    s.peakRssMiB === null ? 'n/a' : s.peakRssMiB.toFixed(1),
    i === 0 ? '1.00x' : `${s.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => r[col].length)));
  const fmt = (r) =>
    r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  ');
  console.log('');
  console.log(
    `${title} - ${info.runs} measured round(s) after ${info.warmup} warmup, commands alternated; ` +
      `${info.elapsed.toFixed(0)} s in all`,
  );
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(fmt(r));
  console.log(
    `("vs first" = median / ${stats[0].label} median: above 1.00x the first command is faster; ` +
      `CPU s = median user+sys CPU of the client process tree; peak RSS = largest over the runs)`,
  );
  const notes = commands.filter((c) => c.note);
  if (notes.length > 0) {
    console.log('tuning:');
    for (const c of notes) console.log(`  ${c.short ?? c.label}: ${c.note}`);
  }
  console.log('');
}

/** @param {string} msg */
export function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}
