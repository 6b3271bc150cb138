import type { Logger } from '../core/logger.js';

/** The logger ingest reports through: the core Logger plus CRITICAL for a table's fatal failure. */
export interface IngestLogger extends Logger {
  critical(fields: Record<string, unknown>, message: string): void;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50, critical: 60 } as const;
const LABELS = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  critical: 'CRITICAL',
} as const;

/**
 * Structured JSON logs, one object per line, in pino's shape (`level` number, `time` in ms, `msg`) plus a
 * `severity` label (INFO, WARNING, CRITICAL) that CloudWatch and humans filter on. Secrets never reach it:
 * callers log tables, rows, bytes, keys and durations only.
 */
export function createJsonLogger(
  stream: NodeJS.WritableStream = process.stdout,
  bindings: Record<string, unknown> = { name: 'wharf-ingest' },
  minLevel: keyof typeof LEVELS = 'info',
): IngestLogger {
  const write =
    (level: keyof typeof LEVELS) =>
    (fields: Record<string, unknown>, msg: string): void => {
      if (LEVELS[level] < LEVELS[minLevel]) return;
      stream.write(
        `${JSON.stringify({ level: LEVELS[level], severity: LABELS[level], time: Date.now(), ...bindings, ...fields, msg })}\n`,
      );
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    critical: write('critical'),
  };
}

export const silentIngestLogger: IngestLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  critical: () => undefined,
};
