import { joinKey } from '../core/keys.js';
import { ValidationError, WharfError } from '../core/errors.js';
import type { ObjectInfo, StorageDriver } from '../storage/types.js';
import { instantOfKey, tablePrefix } from './layout.js';

/** Committed per-table state, `DEST/_wharf/ingest/<table>.json`. Written only after the run's objects are verified. */
export interface IngestState {
  version: 1;
  /** `schema.table`. */
  table: string;
  cursorColumn: string;
  /**
   * Exclusive upper bound of the last committed window, a UTC instant with microseconds
   * (`2024-06-01T10:00:00.654321Z`). The next run selects `cursor >= watermark`.
   */
  watermark: string;
  /** The greatest `(cursor, primary key)` written so far (the keyset position; informational). */
  lastRow: { cursor: string; pk: string[] } | null;
  /** Objects of the last committed run (empty when it found no rows). */
  keys: string[];
  runId: string;
  rows: number;
  committedAt: string;
  /** The Parquet schema of the last run, `{name, type}` per column, to detect schema changes. */
  columns: { name: string; type: string }[];
}

/** A run that started uploading, `DEST/_wharf/ingest/<table>.pending.json`; removed after its state commit. */
export interface PendingRun {
  version: 1;
  table: string;
  runId: string;
  /** The window `[from, to)`: `from` is the previous watermark (or the initial bound), `to` the new one. */
  from: string;
  to: string;
  keys: string[];
  startedAt: string;
}

export const STATE_FOLDER = '_wharf/ingest/';

export function stateKey(folder: string): string {
  return `${STATE_FOLDER}${folder}.json`;
}

export function pendingKey(folder: string): string {
  return `${STATE_FOLDER}${folder}.pending.json`;
}

export interface Stored<T> {
  value: T;
  etag: string | undefined;
}

/** A JSON object and its ETag; undefined when absent. */
export async function readJson<T>(
  store: StorageDriver,
  key: string,
  signal?: AbortSignal,
): Promise<Stored<T> | undefined> {
  let etag: string | undefined;
  let body;
  try {
    body = await store.read(key, { ...(signal ? { signal } : {}), onInfo: (info) => (etag = info.etag) });
  } catch (error) {
    if (error instanceof WharfError && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T, etag };
  } catch (error) {
    throw new ValidationError(`${joinKey(store.name, key)} is not valid JSON`, {
      cause: error,
      hint: 'restore it or delete it; without state the next run starts from the newest object key',
    });
  }
}

export async function readState(
  store: StorageDriver,
  folder: string,
  signal?: AbortSignal,
): Promise<Stored<IngestState> | undefined> {
  const stored = await readJson<IngestState>(store, stateKey(folder), signal);
  if (stored && (stored.value.version !== 1 || typeof stored.value.watermark !== 'string')) {
    throw new ValidationError(
      `${joinKey(store.name, stateKey(folder))} is not a Wharf ingest state (version 1)`,
      {
        hint: 'it was written by another tool or a newer Wharf; move it away to start from the newest key',
      },
    );
  }
  return stored;
}

export async function readPending(
  store: StorageDriver,
  folder: string,
  signal?: AbortSignal,
): Promise<PendingRun | undefined> {
  const value = (await readJson<PendingRun>(store, pendingKey(folder), signal))?.value;
  if (
    value &&
    (value.version !== 1 ||
      typeof value.runId !== 'string' ||
      typeof value.from !== 'string' ||
      typeof value.to !== 'string' ||
      !Array.isArray(value.keys))
  ) {
    throw new ValidationError(
      `${joinKey(store.name, pendingKey(folder))} is not a Wharf pending-run marker`,
      {
        hint: 'another ingest may be writing it; if none runs, delete it and run again',
      },
    );
  }
  return value;
}

export async function writeJson(
  store: StorageDriver,
  key: string,
  value: unknown,
  options: { ifMatch?: string; ifNoneMatch?: '*'; signal?: AbortSignal } = {},
): Promise<ObjectInfo> {
  const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  return store.write(key, body, { ...options, size: body.length, contentType: 'application/json' });
}

/**
 * The watermark to resume from when there is no state: the instant of the newest object key under the
 * table's folder. Lists every page (keys sort by time, so the newest is the last that matches the layout).
 */
export async function newestKeyInstant(
  store: StorageDriver,
  template: string,
  folder: string,
  signal?: AbortSignal,
): Promise<{ key: string; instant: string; listed: number } | undefined> {
  let best: { key: string; instant: string } | undefined;
  let listed = 0;
  for await (const object of store.list(tablePrefix(template, folder), signal ? { signal } : {})) {
    listed++;
    const instant = instantOfKey(template, folder, object.key);
    if (instant && (!best || instant > best.instant)) best = { key: object.key, instant };
  }
  return best ? { ...best, listed } : undefined;
}
