import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { toWharfError } from '../core/errors.js';
import type { FileDigest } from '../transfer/download/content-hasher.js';

/** What the cache knows about one fetched file: the object it came from and the local file it became. */
export interface IndexEntry {
  /** Key relative to the dataset prefix (= path relative to the dataset folder). */
  path: string;
  /** Full object key in the source store. */
  key: string;
  size: number;
  etag?: string;
  /** ISO time. */
  lastModified?: string;
  localSize: number;
  localMtimeMs: number;
  digest: FileDigest;
}

interface IndexFile {
  version: 1;
  source: string;
  entries: IndexEntry[];
}

const INDEX_FILE = 'index.json';
const JOURNAL_FILE = 'index.journal';

/**
 * The dataset folder's index, `.wharf/index.json`, plus a journal of entries recorded since it was last written.
 * Each finished download is appended to the journal at once, so a crash or Ctrl-C keeps the record of every
 * file that reached its final path; `save()` folds the journal into a fresh index (temp, fsync, rename).
 */
export class CacheIndex {
  readonly #dir: string;
  readonly #source: string;
  readonly entries: Map<string, IndexEntry>;
  #journal: FileHandle | undefined;
  #appending: Promise<void> = Promise.resolve();
  /** The journal ends in a torn line: the next record must start on a new line, or it is lost with it. */
  #tornTail = false;
  #pending: string[] = [];

  /** `index.json` was there but unreadable: its records are lost, files are judged by content instead. */
  readonly damaged: boolean;

  private constructor(dir: string, source: string, entries: Map<string, IndexEntry>, damaged: boolean) {
    this.#dir = dir;
    this.#source = source;
    this.entries = entries;
    this.damaged = damaged;
  }

  /** Loads the index in `stateDir` (empty if none); a torn last journal line is ignored. */
  static async load(stateDir: string, source: string): Promise<CacheIndex> {
    const entries = new Map<string, IndexEntry>();
    const index = await readJson(join(stateDir, INDEX_FILE));
    const valid = index !== 'damaged' && index?.version === 1 && Array.isArray(index.entries);
    if (valid) for (const e of index.entries ?? []) if (isEntry(e)) entries.set(e.path, e);
    const journal = await readFile(join(stateDir, JOURNAL_FILE), 'utf8').catch(() => '');
    for (const line of journal.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const record = JSON.parse(line) as { set?: unknown; remove?: unknown };
        if (isEntry(record.set)) entries.set(record.set.path, record.set);
        else if (typeof record.remove === 'string') entries.delete(record.remove);
      } catch {
        // A line cut short by a crash: everything before it counts.
      }
    }
    const cache = new CacheIndex(stateDir, source, entries, index !== undefined && !valid);
    cache.#tornTail = journal !== '' && !journal.endsWith('\n');
    return cache;
  }

  get(path: string): IndexEntry | undefined {
    return this.entries.get(path);
  }

  /** Records an entry in memory and in the journal (durable once the returned promise settles). */
  record(entry: IndexEntry): Promise<void> {
    this.entries.set(entry.path, entry);
    return this.#append({ set: entry });
  }

  remove(path: string): Promise<void> {
    if (!this.entries.delete(path)) return Promise.resolve();
    return this.#append({ remove: path });
  }

  /** Writes the whole index atomically and empties the journal. */
  async save(): Promise<void> {
    await this.#appending;
    const file: IndexFile = {
      version: 1,
      source: this.#source,
      entries: [...this.entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    };
    const path = join(this.#dir, INDEX_FILE);
    await writeFileAtomic(path, JSON.stringify(file)).catch((error: unknown) => {
      throw toWharfError(error, `writing the cache index ${path}`);
    });
    await this.#journal?.close();
    this.#journal = undefined;
    await rm(join(this.#dir, JOURNAL_FILE), { force: true });
  }

  async close(): Promise<void> {
    await this.#appending.catch(() => undefined);
    await this.#journal?.close().catch(() => undefined);
    this.#journal = undefined;
  }

  /**
   * Group commit: records that arrive while a write is in flight go out together in the next write, so 32
   * downloads finishing at once cost one append, not 32 queued ones.
   */
  #append(record: object): Promise<void> {
    this.#pending.push(`${JSON.stringify(record)}\n`);
    this.#appending = this.#appending.then(async () => {
      if (this.#pending.length === 0) return; // an earlier write in the chain took this record
      const lines = this.#pending.join('');
      this.#pending = [];
      const path = join(this.#dir, JOURNAL_FILE);
      try {
        this.#journal ??= await open(path, 'a');
        await this.#journal.write(this.#tornTail ? `\n${lines}` : lines);
      } catch (error) {
        this.#tornTail = true; // a short write may have left half a line
        throw toWharfError(error, `recording finished downloads in ${path}`);
      }
      this.#tornTail = false;
    });
    return this.#appending;
  }
}

/** The parsed file; undefined when there is none; 'damaged' when it is there but unreadable. */
async function readJson(path: string): Promise<Partial<IndexFile> | undefined | 'damaged'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'damaged';
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Partial<IndexFile>) : 'damaged';
  } catch {
    return 'damaged';
  }
}

function isEntry(value: unknown): value is IndexEntry {
  const e = value as Partial<IndexEntry> | undefined;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.path === 'string' &&
    typeof e.key === 'string' &&
    typeof e.size === 'number' &&
    typeof e.localSize === 'number' &&
    typeof e.localMtimeMs === 'number' &&
    typeof e.digest?.value === 'string'
  );
}
