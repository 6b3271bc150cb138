import { StringDecoder } from 'node:string_decoder';
import { isWharfError, ValidationError } from '../core/errors.js';
import { joinKey } from '../core/keys.js';
import type { StorageDriver } from '../storage/types.js';
import type { CommitRecord, EntryMap, IndexEntry, SyncIndex } from './types.js';

/** Wharf's state under the synced prefix. */
export const REMOTE_STATE_PREFIX = '.wharf/';
export const INDEX_KEY = '.wharf/index.json';
export const JOURNAL_PREFIX = '.wharf/journal/';
export const TRASH_PREFIX = '.wharf/trash/';
export const LEASE_KEY = '.wharf/lease.json';
/** Content that was replaced at its path, by SHA-256: what a member downloads while the path holds an uncommitted upload. */
export const VERSIONS_PREFIX = '.wharf/versions/';

export function versionKey(sha256: string): string {
  return `${VERSIONS_PREFIX}${sha256}`;
}

/** The remote index as read, with the ETag a commit must match (undefined: there is no index yet). */
export interface IndexSnapshot {
  generation: number;
  entries: EntryMap;
  etag: string | undefined;
  /** See SyncIndex.lineage; undefined for no index, or one written before lineages. */
  lineage?: string;
}

export function emptyIndex(): SyncIndex {
  return { format: 'wharf-sync-index', version: 1, generation: 0, entries: {} };
}

/** Reads `.wharf/index.json`; an absent index is an empty one at generation 0. */
export async function readRemoteIndex(store: StorageDriver, signal?: AbortSignal): Promise<IndexSnapshot> {
  const { index, etag } = await readIndexDocument(store, signal);
  return {
    generation: index.generation,
    entries: new Map(Object.entries(index.entries)),
    etag,
    ...(index.lineage !== undefined ? { lineage: index.lineage } : {}),
  };
}

/** The index document as stored, with its ETag (an absent index: an empty one, no ETag). */
export async function readIndexDocument(
  store: StorageDriver,
  signal?: AbortSignal,
): Promise<{ index: SyncIndex; etag: string | undefined }> {
  let etag: string | undefined;
  let text: string;
  try {
    const body = await store.read(INDEX_KEY, {
      ...(signal ? { signal } : {}),
      onInfo: (info) => {
        etag = info.etag;
      },
    });
    text = await readText(body);
  } catch (error) {
    if (isWharfError(error) && error.code === 'NOT_FOUND') {
      // A missing bucket is NOT_FOUND too: tell the two apart by listing (which throws for the bucket).
      await firstKey(store, signal);
      return { index: emptyIndex(), etag: undefined };
    }
    throw error;
  }
  return { index: parseIndex(text, joinKey(store.name, INDEX_KEY)), etag };
}

/** The index's current ETag (a HEAD), undefined when there is none. */
export async function remoteIndexEtag(
  store: StorageDriver,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const info = await store.stat(INDEX_KEY, signal ? { signal } : {});
  return info?.etag;
}

/** Validates an index document; anything else is a ValidationError naming the object. */
export function parseIndex(text: string, where: string): SyncIndex {
  const fail = (why: string): never => {
    throw new ValidationError(`${where} is not a Wharf sync index: ${why}`, {
      hint: 'restore it from the journal with `wharf sync log`, or start over with `wharf sync reset --remote`',
    });
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(`invalid JSON (${(error as Error).message})`);
  }
  const v = value as Partial<SyncIndex>;
  if (typeof v !== 'object' || v === null) return fail('not an object');
  if (v.format !== 'wharf-sync-index') return fail('format is not "wharf-sync-index"');
  if (v.version !== 1) return fail(`version ${String(v.version)} is not supported by this Wharf`);
  if (!Number.isSafeInteger(v.generation) || (v.generation ?? -1) < 0) return fail('bad generation');
  if (typeof v.entries !== 'object' || v.entries === null) return fail('entries missing');
  if (v.lineage !== undefined && typeof v.lineage !== 'string') return fail('bad lineage');
  for (const [path, entry] of Object.entries(v.entries)) {
    if (!isIndexEntry(entry)) return fail(`entry ${JSON.stringify(path)} is malformed`);
  }
  return v as SyncIndex;
}

export function isIndexEntry(value: unknown): value is IndexEntry {
  const e = value as Partial<IndexEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.size === 'number' &&
    typeof e.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(e.sha256) &&
    typeof e.etag === 'string' &&
    typeof e.version === 'number' &&
    typeof e.modifiedBy === 'string' &&
    typeof e.modifiedAt === 'string' &&
    (e.mtimeMs === undefined || Number.isFinite(e.mtimeMs))
  );
}

export type CommitOutcome = { committed: true; etag: string } | { committed: false };

/**
 * Replaces the remote index with `next` only if it is still the one `previous` read: `If-Match` on its ETag,
 * or `If-None-Match: *` when there was none. `{ committed: false }` means another member committed first.
 */
export async function commitRemoteIndex(
  store: StorageDriver,
  previous: IndexSnapshot,
  next: SyncIndex,
  signal?: AbortSignal,
): Promise<CommitOutcome> {
  const body = Buffer.from(`${JSON.stringify(next)}\n`);
  try {
    const info = await store.write(INDEX_KEY, body, {
      contentType: 'application/json',
      ...(previous.etag !== undefined ? { ifMatch: previous.etag } : { ifNoneMatch: '*' as const }),
      ...(signal ? { signal } : {}),
    });
    return { committed: true, etag: info.etag ?? '' };
  } catch (error) {
    if (isWharfError(error) && error.code === 'PRECONDITION_FAILED') return { committed: false };
    throw error;
  }
}

export function journalKey(generation: number): string {
  return `${JOURNAL_PREFIX}${String(generation).padStart(12, '0')}.json`;
}

/** Writes the journal object of a commit (once: an existing one is left alone). */
export async function writeJournal(
  store: StorageDriver,
  commit: CommitRecord,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await store.write(journalKey(commit.generation), Buffer.from(`${JSON.stringify(commit)}\n`), {
      contentType: 'application/json',
      ifNoneMatch: '*',
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (isWharfError(error) && error.code === 'PRECONDITION_FAILED') return;
    throw error;
  }
}

/** Every journal record, oldest first. Unreadable records are skipped (the journal is informational). */
export async function readJournal(store: StorageDriver, signal?: AbortSignal): Promise<CommitRecord[]> {
  const keys: string[] = [];
  for await (const o of store.list(JOURNAL_PREFIX, signal ? { signal } : {})) keys.push(o.key);
  keys.sort();
  const records: CommitRecord[] = [];
  for (const key of keys) {
    try {
      const record = JSON.parse(await readText(await store.read(key, signal ? { signal } : {})));
      if (typeof record?.generation === 'number' && Array.isArray(record.changes))
        records.push(record as CommitRecord);
    } catch (error) {
      if (signal?.aborted) throw error;
    }
  }
  return records;
}

async function firstKey(store: StorageDriver, signal: AbortSignal | undefined): Promise<string | undefined> {
  for await (const o of store.list('', signal ? { signal } : {})) return o.key;
  return undefined;
}

/** The body as UTF-8 text, decoded chunk by chunk (no second copy of a 20 MB index in a Buffer). */
export async function readText(body: AsyncIterable<unknown>): Promise<string> {
  const decoder = new StringDecoder('utf8');
  const parts: string[] = [];
  for await (const chunk of body) parts.push(Buffer.isBuffer(chunk) ? decoder.write(chunk) : String(chunk));
  parts.push(decoder.end());
  return parts.join('');
}
