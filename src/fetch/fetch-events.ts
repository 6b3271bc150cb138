import type { WharfError } from '../core/errors.js';
import type { ProgressSnapshot } from '../core/events.js';
import type { FetchedFile } from './fetch-dataset.js';

/** What `fetchDataset` reports while it runs; the CLI renders bars or JSON from these. */
export type FetchEvent =
  | {
      type: 'planned';
      listed: number;
      selected: number;
      toFetch: number;
      toDelete: number;
      snapshot: ProgressSnapshot;
    }
  | { type: 'progress'; snapshot: ProgressSnapshot }
  | { type: 'file-done'; file: FetchedFile; snapshot: ProgressSnapshot }
  | { type: 'file-failed'; file: FetchedFile; error: WharfError; snapshot: ProgressSnapshot }
  | { type: 'retry'; key: string; attempt: number; error: WharfError }
  | { type: 'deleted'; count: number }
  /** Something the user should know that stops nothing (a damaged cache index that was rebuilt). */
  | { type: 'warning'; message: string };
