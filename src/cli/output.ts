import type { WharfError } from '../core/errors.js';
import { inCliTerms } from './cli-terms.js';
import { visibleLines } from './text-table.js';

export interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  progress?: boolean;
  endpointUrl?: string;
  region?: string;
  profile?: string;
}

/**
 * Where a command's output goes: data to stdout (text or one JSON object per line), messages to stderr.
 * Progress bars only when stderr is a terminal and neither --json, --quiet nor --no-progress is set.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly showProgress: boolean;

  constructor(
    flags: GlobalFlags,
    private readonly stdout: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
    private readonly stderr: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  ) {
    this.json = flags.json === true;
    this.quiet = flags.quiet === true;
    this.verbose = flags.verbose === true;
    this.showProgress = !this.json && !this.quiet && flags.progress !== false && this.stderr.isTTY === true;
  }

  /**
   * A line of data (stdout). As GNU ls does, a terminal gets control characters shown as `\xNN` (a key named with
   * ESC sequences would otherwise rewrite the screen); a pipe or file gets the bytes as they are.
   */
  line(text: string): void {
    this.stdout.write(`${this.stdout.isTTY === true ? visibleLines(text) : text}\n`);
  }

  /** A JSON record (stdout, one per line). */
  record(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A human message (stderr), suppressed by --quiet and --json. */
  info(text: string): void {
    if (!this.quiet && !this.json) this.stderr.write(`${visibleLines(text)}\n`);
  }

  debug(text: string): void {
    if (this.verbose) this.stderr.write(`${visibleLines(text)}\n`);
  }

  warn(text: string): void {
    if (this.json) this.stderr.write(`${JSON.stringify({ warning: text })}\n`);
    else if (!this.quiet) this.stderr.write(`wharf: warning: ${visibleLines(text)}\n`);
  }

  /** The one line that says what failed and what to do, in the CLI's words. Errors are never suppressed. */
  error(error: WharfError): void {
    inCliTerms(error);
    if (this.json) {
      const record: Record<string, unknown> = { code: error.code, message: error.message };
      if (error.hint) record.hint = error.hint;
      // Every failing field, for scripts (FieldValidationError, also when the datastore sent them).
      const issues = (error as { issues?: unknown }).issues;
      if (Array.isArray(issues) && issues.length > 0) record.issues = issues;
      this.stderr.write(`${JSON.stringify({ error: record })}\n`);
      return;
    }
    // Messages carry names and paths from servers and stores: their control characters are shown, not sent.
    const hint = error.hint ? ` (${error.hint})` : '';
    this.stderr.write(`wharf: error: ${visibleLines(`${error.message}${hint}`)}\n`);
    if (this.verbose && error.cause instanceof Error && error.cause.stack) {
      this.stderr.write(`${error.cause.stack}\n`);
    }
  }

  get errorStream(): NodeJS.WritableStream {
    return this.stderr;
  }
}
