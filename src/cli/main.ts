#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { storageOptionsFrom } from '../app/storage-config.js';
import { AbortedError, toWharfError, UsageError, type WharfError } from '../core/errors.js';
import { registerCat } from './commands/cat.js';
import { registerCp } from './commands/cp.js';
import { registerFetch } from './commands/fetch.js';
import { registerLs } from './commands/ls.js';
import { registerIngest } from './commands/ingest.js';
import { registerPresign } from './commands/presign.js';
import { registerRm } from './commands/rm.js';
import { registerServe } from './commands/serve.js';
import { registerSync } from './commands/sync.js';
import { registerToken } from './commands/token.js';
import { registerLogin } from './commands/login.js';
import { registerDataset } from './commands/dataset.js';
import { registerReview } from './commands/review.js';
import { registerReviewer } from './commands/reviewer.js';
import { registerTable } from './commands/table.js';
import { positiveInt, type RunAction } from './context.js';
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.js';
import { Output, type GlobalFlags } from './output.js';
import { isClosedPipe, stdoutWriteError } from './stdout-failure.js';

// The SDK warns on every start that releases after 2026 need Node 22; we pin versions that support Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const controller = new AbortController();
// Each request in flight listens for abort; with dozens at once Node would warn about a leak.
setMaxListeners(0, controller.signal);
let exitCode: number = EXIT.ok;
/** The signal that stopped the command (Ctrl-C or SIGTERM), for its message and exit code. */
let stoppedBy: StopSignal | undefined;
/** A write to stdout that failed (not a closed pipe): reported once, exit 1. */
let stdoutFailure: WharfError | undefined;
let stdoutFailureReported = false;

type StopSignal = 'SIGINT' | 'SIGTERM';
const STOP_SIGNALS: Record<StopSignal, { message: string; exitCode: number; cleaning: string }> = {
  SIGINT: {
    message: 'interrupted',
    exitCode: EXIT.interrupted,
    cleaning: 'interrupted, cleaning up (press Ctrl-C again to quit at once)',
  },
  SIGTERM: {
    message: 'terminated',
    exitCode: EXIT.terminated,
    cleaning: 'terminated, cleaning up (send the signal again to quit at once)',
  },
};

const run: RunAction =
  (body) =>
  async (...args) => {
    const command = args[args.length - 1] as Command;
    const flags = command.optsWithGlobals<GlobalFlags & { maxSockets?: number }>();
    const output = new Output(flags);
    try {
      const storage = storageOptionsFrom({
        ...(flags.endpointUrl !== undefined ? { endpointUrl: flags.endpointUrl } : {}),
        ...(flags.region !== undefined ? { region: flags.region } : {}),
        ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
        ...(flags.maxSockets !== undefined ? { maxSockets: flags.maxSockets } : {}),
      });
      // Commander hands an action only its own options; a parent's same-named ones (`sync --yes` and
      // `sync reset --yes`) would swallow them wherever they are typed, so actions get the merged set.
      const code = await body(
        { output, storage, signal: controller.signal },
        ...([...args.slice(0, -2), command.optsWithGlobals()] as never[]),
      );
      exitCode = typeof code === 'number' ? code : EXIT.ok;
    } catch (error) {
      report(output, failureOf(error));
    }
    if (stdoutFailure) report(output, stdoutFailure);
  };

/** What to tell about a command that threw: a failed stdout or a stop signal is the cause of what followed. */
function failureOf(error: unknown): WharfError {
  if (stdoutFailure) return stdoutFailure;
  if (controller.signal.aborted && stoppedBy) return new AbortedError(STOP_SIGNALS[stoppedBy].message);
  return toWharfError(error);
}

function report(output: Output, error: WharfError): void {
  if (error === stdoutFailure) {
    if (stdoutFailureReported) return;
    stdoutFailureReported = true;
  }
  output.error(error);
  exitCode =
    error.code === 'ABORTED' && stoppedBy ? STOP_SIGNALS[stoppedBy].exitCode : exitCodeFor(error.code);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function buildProgram(): Command {
  const program = new Command('wharf')
    .description('Datasets in S3-compatible object storage: copy, list, fetch and share them.')
    .version(version(), '-V, --version')
    .option('--json', 'machine-readable output: one JSON object per line on stdout')
    .option('-q, --quiet', 'print only data and errors')
    .option('-v, --verbose', 'print more about what happens (retries, each object)')
    .option('--no-progress', 'no progress bars (they only show on a terminal anyway)')
    .option(
      '--endpoint-url <url>',
      'S3-compatible endpoint (default: AWS_ENDPOINT_URL, the profile, else AWS)',
    )
    .option('--region <region>', 'AWS region (default: AWS_REGION, the profile, else us-east-1)')
    .option(
      '--profile <name>',
      'named profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE)',
    )
    .addOption(
      new Option(
        '--max-sockets <n>',
        'most concurrent HTTP connections per S3 endpoint (default 64)',
      ).argParser(positiveInt('--max-sockets')),
    )
    .showHelpAfterError(wantsJson() ? false : '(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      // With --json, commander's own refusals (a bad option value, an unknown option) are JSON too.
      outputError: (text, write) =>
        write(
          wantsJson()
            ? `${JSON.stringify({ error: { code: 'USAGE', message: text.replace(/^error: /, '').trim() } })}\n`
            : `wharf: ${text}`,
        ),
    })
    .addHelpText(
      'after',
      `
Locations:
  s3://BUCKET[/PREFIX]   a bucket on AWS S3 or any S3-compatible server (Ceph, MinIO, R2, ...)
  file:///ABS/DIR        a folder on this machine used as a store
  ./dir, /abs/dir        the same, as a plain path

Credentials and endpoint come from the usual AWS places: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
AWS_PROFILE or --profile (~/.aws/credentials, ~/.aws/config), AWS_ENDPOINT_URL or --endpoint-url,
AWS_REGION or --region, then the SDK's default chain (SSO, container, instance metadata).

${EXIT_CODES_HELP}

Examples:
  wharf ls s3://my-bucket/
  wharf cp -r ./dataset s3://my-bucket/datasets/v1/
  wharf --endpoint-url http://127.0.0.1:7480 ls -r --json s3://my-bucket/datasets/v1/`,
    );
  registerLs(program, run);
  registerCp(program, run);
  registerFetch(program, run);
  registerSync(program, run);
  registerRm(program, run);
  registerCat(program, run);
  registerPresign(program, run);
  registerTable(program, run);
  registerIngest(program, run);
  registerServe(program, run);
  registerToken(program, run);
  registerLogin(program, run);
  registerDataset(program, run);
  registerReview(program, run);
  registerReviewer(program, run);
  for (const command of program.commands) command.exitOverride();
  return program;
}

async function main(): Promise<void> {
  // Ctrl-C and SIGTERM (kill, systemd, docker stop) both abort the command, which removes its temporary
  // files and locks; a second signal quits at once.
  for (const signal of Object.keys(STOP_SIGNALS) as StopSignal[]) {
    process.on(signal, () => {
      if (stoppedBy) process.exit(STOP_SIGNALS[signal].exitCode);
      stoppedBy = signal;
      process.stderr.write(`wharf: ${STOP_SIGNALS[signal].cleaning}\n`);
      controller.abort(new AbortedError(STOP_SIGNALS[signal].message));
    });
  }
  process.stdout.on('error', (error) => {
    if (isClosedPipe(error)) process.exit(exitCode);
    if (stdoutFailure) return;
    // A full disk or /dev/full: nothing more reaches the reader, so the command stops and cleans up.
    stdoutFailure = stdoutWriteError(error);
    controller.abort(stdoutFailure);
  });
  const program = buildProgram();
  if (process.argv.length <= 2) {
    program.outputHelp();
    process.exit(EXIT.usage);
  }
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with a CommanderError too, with exit code 0.
      process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
    }
    const wharfError = error instanceof UsageError ? error : toWharfError(error);
    new Output({ json: wantsJson() }).error(wharfError);
    process.exit(exitCodeFor(wharfError.code));
  }
  // process.exit drops what a slow reader has not taken yet: `--json` output to a pipe was cut at 64 KiB.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  // A failed last write is reported by an 'error' event after the callback.
  await new Promise((resolve) => setImmediate(resolve));
  if (stdoutFailure) report(new Output({ json: wantsJson() }), stdoutFailure);
  process.exit(exitCode);
}

/** `--json` anywhere on the command line (before commander has parsed it, or when parsing failed). */
function wantsJson(): boolean {
  const end = process.argv.indexOf('--');
  return process.argv.slice(2, end < 0 ? undefined : end).includes('--json');
}

await main();
