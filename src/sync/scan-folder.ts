import { createHash } from 'node:crypto';
import { constants, lstatSync, type Dirent, type Stats } from 'node:fs';
import { open, readFile, readdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { writeFileAtomic } from '../core/atomic-file.js';
import { InvalidKeyError, isAbortLike, throwIfAborted, toWharfError } from '../core/errors.js';
import { unsafeKeyReason } from '../core/keys.js';
import { runPool } from '../core/pool.js';
import type { IgnoreRules } from './ignore-rules.js';
import type { LocalSnapshot, RefusedPath } from './types.js';
import { makeDir } from '../core/make-dir.js';

/** What the last scan saw of a file; a file whose size, mtime and inode still match is not read again. */
export interface StatCacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

export interface ScanOptions {
  rules: IgnoreRules;
  /** From the previous scan (loadStatCache); an empty map hashes every file. */
  statCache: Map<string, StatCacheEntry>;
  signal?: AbortSignal;
  /** Called once per file whose content was read, with the bytes read. */
  onHashed?: (path: string, bytes: number) => void;
  /** Files hashed at once. Default 4. */
  hashConcurrency?: number;
}

export interface ScanResult {
  files: LocalSnapshot;
  /** The cache to save: entries for the files in `files` only. */
  statCache: Map<string, StatCacheEntry>;
  /** Files whose content was read. */
  hashed: number;
  hashedBytes: number;
  /** One line per thing left out for a reason the user may want to know (symlink, unreadable). */
  warnings: string[];
  /** Files and folders (ending in '/') left out because their name can be no object key (a backslash, not UTF-8). */
  refused: RefusedPath[];
  /**
   * Paths that exist but are missing from `files` because they could not be read or kept changing while
   * they were read; a folder ends with '/' and stands for everything below it. Their absence from `files`
   * must not be taken for a local deletion.
   */
  incomplete: string[];
}

const READ_SIZE = 1024 * 1024;
const DEFAULT_HASH_CONCURRENCY = 4;
/** Entries handled between two yields to the event loop (so an abort is noticed during a long walk). */
const YIELD_EVERY = 500;
/** Never follow a symlink swapped in after the walk; never block opening a FIFO swapped in. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
const STAT_CACHE_FORMAT = 'wharf-stat-cache';

/**
 * Lists the regular files of `dir` that the rules do not ignore, with their SHA-256. Only files whose size,
 * mtime or inode differ from the stat cache are read. Symlinks (never followed), sockets, FIFOs, unreadable
 * entries and names that cannot be object keys are left out with a warning.
 */
export async function scanFolder(dir: string, options: ScanOptions): Promise<ScanResult> {
  const scan = new FolderScan(resolve(dir), options);
  await scan.walk();
  await scan.hashPending();
  return scan.result();
}

/** Reads a stat cache written by saveStatCache; a missing or unreadable-as-cache file gives an empty map. */
export async function loadStatCache(file: string): Promise<Map<string, StatCacheEntry>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw toWharfError(error, `reading the stat cache ${file}`);
  }
  return parseStatCache(text) ?? new Map();
}

/** Writes the stat cache atomically (temp file, fsync, rename over `file`). */
export async function saveStatCache(file: string, cache: Map<string, StatCacheEntry>): Promise<void> {
  try {
    await makeDir(dirname(file));
    await writeFileAtomic(file, serializeStatCache(cache));
  } catch (error) {
    throw toWharfError(error, `writing the stat cache ${file}`);
  }
}

/** SHA-256 (hex) and size of a regular file's content, read in 1 MiB chunks. */
export async function sha256File(
  path: string,
  signal?: AbortSignal,
): Promise<{ sha256: string; size: number }> {
  const { sha256, bytesRead } = await hashContent(path, Buffer.allocUnsafe(READ_SIZE), undefined, signal);
  return { sha256, size: bytesRead };
}

/** One scan's state: the walk collects cache hits and the files to hash, then the hashing fills in the rest. */
class FolderScan {
  readonly #prefix: string;
  readonly #options: ScanOptions;
  readonly #files: LocalSnapshot = new Map();
  readonly #statCache = new Map<string, StatCacheEntry>();
  readonly #toHash: { path: string; stat: Stats }[] = [];
  readonly #warnings: string[] = [];
  readonly #refused: RefusedPath[] = [];
  readonly #incomplete: string[] = [];
  #visited = 0;
  #hashed = 0;
  #hashedBytes = 0;

  constructor(root: string, options: ScanOptions) {
    this.#prefix = root.endsWith(sep) ? root : root + sep;
    this.#options = options;
  }

  result(): ScanResult {
    return {
      files: this.#files,
      statCache: this.#statCache,
      hashed: this.#hashed,
      hashedBytes: this.#hashedBytes,
      warnings: this.#warnings,
      refused: this.#refused,
      incomplete: this.#incomplete,
    };
  }

  async walk(): Promise<void> {
    const folders = [''];
    for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
      throwIfAborted(this.#options.signal);
      const entries = await this.#readFolder(folder);
      for (const entry of entries) {
        const path = folder === '' ? entry.name : `${folder}/${entry.name}`;
        if (entry.isDirectory()) this.#visitFolder(path, folders);
        else this.#visitEntry(path, entry, folders);
        if (++this.#visited % YIELD_EVERY === 0) await this.#pause();
      }
    }
  }

  async hashPending(): Promise<void> {
    const buffers: Buffer[] = []; // one per lane, reused from file to file
    const concurrency = this.#options.hashConcurrency ?? DEFAULT_HASH_CONCURRENCY;
    await runPool(
      this.#toHash,
      concurrency,
      async ({ path, stat }) => {
        const buffer = buffers.pop() ?? Buffer.allocUnsafe(READ_SIZE);
        try {
          await this.#hashFile(path, stat, buffer);
        } finally {
          buffers.push(buffer);
        }
      },
      this.#options.signal,
    );
  }

  async #readFolder(folder: string): Promise<Dirent[]> {
    try {
      return await readdir(this.#absolute(folder), { withFileTypes: true });
    } catch (error) {
      if (folder === '') throw toWharfError(error, `reading the folder ${this.#prefix}`);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') this.#noteGone(folder);
      else this.#noteUnreadable(`${folder}/`, error);
      return [];
    }
  }

  #visitFolder(path: string, folders: string[]): void {
    if (this.#options.rules.ignoresDir(path)) return;
    const unsafe = unsafeKeyReason(path);
    if (unsafe) this.#refuse(`${path}/`, unsafe);
    else folders.push(path);
  }

  #visitEntry(path: string, entry: Dirent, folders: string[]): void {
    if (this.#options.rules.ignores(path)) return;
    const unsafe = unsafeKeyReason(path);
    if (unsafe) {
      this.#refuse(path, unsafe);
    } else if (!entry.isFile()) {
      this.#skipSpecial(path, entry);
    } else {
      this.#visitListedFile(path, folders);
    }
  }

  /** Stats a file the listing showed; it may have gone or changed type since. */
  #visitListedFile(path: string, folders: string[]): void {
    const stat = this.#lstat(path);
    if (stat === undefined) return;
    if (stat.isFile()) this.#visitFile(path, stat);
    else if (stat.isDirectory()) this.#visitFolder(path, folders);
    else this.#skipSpecial(path, stat);
  }

  #visitFile(path: string, stat: Stats): void {
    const cached = this.#options.statCache.get(path);
    if (cached && sameStat(cached, stat)) this.#keep(path, cached);
    else this.#toHash.push({ path, stat });
  }

  /** lstat without a promise: a promise round trip per file costs several times the syscall itself. */
  #lstat(path: string): Stats | undefined {
    try {
      const stat = lstatSync(this.#absolute(path), { throwIfNoEntry: false });
      if (stat === undefined) this.#noteGone(path);
      return stat;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') this.#noteGone(path);
      else this.#noteUnreadable(path, error);
      return undefined;
    }
  }

  /** Hashes `path`, once more if it changed meanwhile; a file that still changes is left out. */
  async #hashFile(path: string, walked: Stats, buffer: Buffer): Promise<void> {
    let before = walked;
    let bytes = 0;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const content = await this.#readContent(path, before, buffer);
      if (content === undefined) return;
      bytes += content.bytesRead;
      const after = this.#lstat(path);
      if (after === undefined) return;
      if (sameStat(before, after) && content.bytesRead === after.size) {
        this.#countHashed(path, bytes);
        return this.#keep(path, { ...statFields(after), sha256: content.sha256 });
      }
      before = after;
    }
    this.#countHashed(path, bytes);
    this.#warn(`${path}: skipped: it kept changing while it was read (it is picked up by a later sync)`);
    this.#incomplete.push(path);
  }

  async #readContent(path: string, stat: Stats, buffer: Buffer): Promise<HashedContent | undefined> {
    try {
      return await hashContent(this.#absolute(path), buffer, stat.size, this.#options.signal);
    } catch (error) {
      if (isAbortLike(error)) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') this.#noteGone(path);
      else this.#noteUnreadable(path, error);
      return undefined;
    }
  }

  /** The snapshot and the new cache share the entry (a LocalFile with the inode): one object per file. */
  #keep(path: string, entry: StatCacheEntry): void {
    this.#files.set(path, entry);
    this.#statCache.set(path, entry);
  }

  #countHashed(path: string, bytes: number): void {
    this.#hashed++;
    this.#hashedBytes += bytes;
    this.#options.onHashed?.(path, bytes);
  }

  /** Gone since it was listed: simply absent, unless the name only looked missing because it is not UTF-8. */
  #noteGone(path: string): void {
    // Node decodes a name that is not valid UTF-8 with U+FFFD, and that decoded name does not exist.
    if (path.includes('\uFFFD')) this.#refuse(path, 'its name is not valid UTF-8');
  }

  /**
   * A symlink, socket, FIFO or device: not synced, and neither is anything the remote holds at its path or
   * below it. Left alone, a remote file is never written through a symlinked folder, and the remote file
   * behind it is not taken for one the member deleted.
   */
  #skipSpecial(path: string, entry: Dirent | Stats): void {
    this.#warn(`${path}: skipped: ${describeSpecial(entry)}`);
    this.#incomplete.push(path, `${path}/`);
  }

  #noteUnreadable(path: string, error: unknown): void {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    this.#warn(`${path}: skipped: cannot be read (${reason})`);
    this.#incomplete.push(path);
  }

  /** A name no object key can carry: left out, and reported as not synced. */
  #refuse(path: string, reason: string): void {
    const hint = 'rename it, or list it in .wharfignore to leave it out of the sync';
    this.#refused.push({ path, error: new InvalidKeyError(path, reason, { hint }) });
  }

  #warn(message: string): void {
    this.#warnings.push(message);
  }

  #absolute(path: string): string {
    return path === '' ? this.#prefix : this.#prefix + (sep === '/' ? path : path.replaceAll('/', sep));
  }

  async #pause(): Promise<void> {
    await yieldToEventLoop();
    throwIfAborted(this.#options.signal);
  }
}

interface HashedContent {
  sha256: string;
  bytesRead: number;
}

/**
 * Hashes a file's content. With `expectedSize` (from a stat just before), reading stops there instead of
 * asking for EOF, saving a read per small file; the caller's stat after the read catches a file that grew.
 */
async function hashContent(
  path: string,
  buffer: Buffer,
  expectedSize: number | undefined,
  signal: AbortSignal | undefined,
): Promise<HashedContent> {
  const handle = await open(path, OPEN_FLAGS);
  try {
    const hash = createHash('sha256');
    let bytesRead = 0;
    while (expectedSize === undefined || bytesRead < expectedSize) {
      throwIfAborted(signal);
      const chunk = await handle.read(buffer, 0, buffer.length, bytesRead);
      if (chunk.bytesRead === 0) break;
      hash.update(buffer.subarray(0, chunk.bytesRead)); // update copies, so the buffer can be reused
      bytesRead += chunk.bytesRead;
    }
    return { sha256: hash.digest('hex'), bytesRead };
  } finally {
    await handle.close();
  }
}

function sameStat(a: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

function statFields(stat: Stats): Omit<StatCacheEntry, 'sha256'> {
  return { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino };
}

function describeSpecial(entry: Dirent | Stats): string {
  if (entry.isSymbolicLink()) return 'symlinks are not followed';
  if (entry.isSocket()) return 'it is a socket';
  if (entry.isFIFO()) return 'it is a FIFO';
  if (entry.isBlockDevice() || entry.isCharacterDevice()) return 'it is a device';
  return 'not a regular file';
}

type StatCacheTuple = [size: number, mtimeMs: number, ino: number, sha256: string];

interface StatCacheFile {
  format: typeof STAT_CACHE_FORMAT;
  version: 1;
  entries: Record<string, StatCacheTuple>;
}

function serializeStatCache(cache: Map<string, StatCacheEntry>): string {
  const file: StatCacheFile = {
    format: STAT_CACHE_FORMAT,
    version: 1,
    // fromEntries defines own properties, so a file named __proto__ stays an ordinary key.
    entries: Object.fromEntries(
      [...cache].map(([path, e]): [string, StatCacheTuple] => [path, [e.size, e.mtimeMs, e.ino, e.sha256]]),
    ),
  };
  return JSON.stringify(file);
}

/** The cache in `text`, or undefined when anything about it is off (then every file is simply re-hashed). */
function parseStatCache(text: string): Map<string, StatCacheEntry> | undefined {
  let file: Partial<StatCacheFile> | null;
  try {
    file = JSON.parse(text) as Partial<StatCacheFile> | null;
  } catch {
    return undefined;
  }
  if (file?.format !== STAT_CACHE_FORMAT || file.version !== 1) return undefined;
  if (typeof file.entries !== 'object' || file.entries === null) return undefined;
  const cache = new Map<string, StatCacheEntry>();
  for (const [path, tuple] of Object.entries(file.entries as Record<string, unknown>)) {
    if (!isStatCacheTuple(tuple)) return undefined;
    const [size, mtimeMs, ino, sha256] = tuple;
    cache.set(path, { size, mtimeMs, ino, sha256 });
  }
  return cache;
}

function isStatCacheTuple(value: unknown): value is StatCacheTuple {
  if (!Array.isArray(value) || value.length !== 4) return false;
  const [size, mtimeMs, ino, sha256] = value as unknown[];
  return (
    Number.isSafeInteger(size) &&
    Number.isFinite(mtimeMs) &&
    Number.isFinite(ino) &&
    typeof sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(sha256)
  );
}
