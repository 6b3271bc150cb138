#!/usr/bin/env node
import { CommanderError, type Command } from 'commander';
import { setMaxListeners } from 'node:events';
import { storageOptionsFrom } from '../app/storage-config.js';
import { AbortedError, toWharfError, UsageError, type WharfError } from '../core/errors.js';
import type { RunAction } from './context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { Output, type GlobalFlags } from './output.js';
import { buildProgram, wantsJson } from './program.js';
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
  const program = buildProgram(run);
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

await main();
