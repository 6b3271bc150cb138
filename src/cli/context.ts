import { UsageError } from '../core/errors.js';
import type { OpenStorageOptions } from '../storage/registry.js';
import type { Output } from './output.js';

export interface CommandContext {
  output: Output;
  storage: OpenStorageOptions;
  signal: AbortSignal;
}

/**
 * Wraps a command body (called with the context, the positional arguments and the command's options)
 * as a commander action that records the exit code. Provided by cli/main.ts.
 */
export type RunAction = (
  body: (ctx: CommandContext, ...args: never[]) => Promise<number | void>,
) => (...args: unknown[]) => Promise<void>;

/** Parses a positive integer option, for commander's option parsers. */
export function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
}
