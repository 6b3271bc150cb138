import type { ProgressSnapshot } from '../core/events.js';
import type { WharfError } from '../core/errors.js';

/** Typed events of a copy run; the CLI renders bars or JSON lines from the same stream. */
export type CopyEvent =
  | { type: 'planned'; snapshot: ProgressSnapshot }
  | { type: 'progress'; snapshot: ProgressSnapshot }
  | { type: 'file-done'; key: string; destKey: string; size: number; snapshot: ProgressSnapshot }
  /** Not copied: the destination exists and the copy runs with `noClobber`. */
  | { type: 'file-skipped'; key: string; destKey: string; size: number; snapshot: ProgressSnapshot }
  | { type: 'file-failed'; key: string; destKey: string; error: WharfError; snapshot: ProgressSnapshot }
  | { type: 'retry'; key: string; attempt: number; error: WharfError };
