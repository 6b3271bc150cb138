import type { FetchEvent } from '../fetch/fetch-events.js';
import type { BadFile } from './prepare-inputs.js';

/** What `buildTable` reports while it runs. */
export type TableEvent =
  /** The fetch engine's own events while source files are brought into the cache. */
  | { type: 'fetch'; event: FetchEvent }
  | { type: 'reading'; files: number }
  /** A file that cannot be parsed was left out (`skipBad`). */
  | { type: 'bad-file'; file: BadFile }
  | { type: 'writing'; rows: number }
  | { type: 'uploading'; bytes: number; totalBytes: number };
