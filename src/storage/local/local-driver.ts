import { createReadStream, fstatSync, type Stats } from 'node:fs';
import {
  type FileHandle,
  copyFile,
  link,
  lstat,
  open,
  readdir,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { addAbortSignal, pipeline, Readable, Transform } from 'node:stream';
import {
  ConflictError,
  InvalidKeyError,
  NotFoundError,
  PreconditionFailedError,
  throwIfAborted,
  toWharfError,
} from '../../core/errors.js';
import { compareKeys } from '../../core/keys.js';
import { DeleteError } from '../delete-error.js';
import { sameEtag } from '../etag.js';
import { resolveRange } from '../range.js';
import type {
  CopyOptions,
  DriverCapabilities,
  ListOptions,
  ObjectInfo,
  OpOptions,
  ReadOptions,
  StorageDriver,
  WriteOptions,
} from '../types.js';
import { isInternalName, keyToPath, lockPathFor, tempPathFor } from './local-paths.js';
import { withLockDir } from './local-lock.js';
import { makeDir } from '../../core/make-dir.js';

export interface LocalDriverOptions {
  /** The folder used as the store. Relative paths resolve against the working directory. */
  root: string;
}

/**
 * A folder used as a bucket. Keys map to relative paths; a key that could resolve outside the folder is
 * refused (InvalidKeyError). Writes go to a temporary file in the target folder, are fsync'ed and then
 * renamed into place, so a reader never sees half a file. The ETag is derived from inode, size and
 * nanosecond mtime: it changes whenever the file is replaced or modified.
 */
export class LocalDriver implements StorageDriver {
  readonly name: string;
  readonly capabilities: DriverCapabilities = {
    serverSideCopy: true,
    presign: false,
    conditionalWrite: true,
    metadata: false,
    pathKeys: true,
    checksumAlgorithms: [],
    mtimePrecisionMs: 1,
  };
  private readonly root: string;

  constructor(options: LocalDriverOptions) {
    this.root = resolve(options.root);
    this.name = this.root;
  }

  localPath(key: string): string {
    return key === '' ? this.root : keyToPath(this.root, key);
  }

  async stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined> {
    throwIfAborted(options?.signal);
    const path = keyToPath(this.root, key);
    const stats = await statOrUndefined(path);
    if (!stats?.isFile()) return undefined;
    return toInfo(key, stats);
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const rootStats = await statOrUndefined(this.root);
    if (rootStats && !rootStats.isDirectory()) {
      throw new NotFoundError(`${this.root} is a file, not a folder of files`, {
        hint: 'name the folder that holds it; to copy one file, use wharf cp',
      });
    }
    if (!rootStats) {
      throw new NotFoundError(`folder ${this.root} does not exist`, {
        hint: 'check the path, or write to it first to create it',
      });
    }
    // Start at the deepest folder the prefix fully names; filter the remaining partial name.
    const cut = prefix.lastIndexOf('/');
    const baseKey = cut < 0 ? '' : prefix.slice(0, cut + 1);
    if (
      baseKey !== '' &&
      baseKey
        .split('/')
        .slice(0, -1)
        .some((s) => s === '' || s === '.' || s === '..')
    )
      return;
    yield* this.walk(baseKey, prefix, options);
  }

  private async *walk(dirKey: string, prefix: string, options: ListOptions): AsyncGenerator<ObjectInfo> {
    throwIfAborted(options.signal);
    const dirPath = dirKey === '' ? this.root : join(this.root, ...dirKey.slice(0, -1).split('/'));
    let names: string[];
    try {
      names = await readdir(dirPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw toWharfError(error, `listing ${dirPath}`);
    }
    // Sorting by "name/" for folders yields keys in exact byte order across the whole tree.
    const entries: { name: string; key: string; stats: Stats }[] = [];
    for (const name of names) {
      if (isInternalName(name)) continue;
      const key = dirKey + name;
      const stats = await listedStats(join(dirPath, name));
      if (!stats) {
        // readdir decodes a name that is not UTF-8 with U+FFFD, and that name then does not exist: say so rather
        // than leave the file (or a whole folder) out of a copy that reports success.
        if (name.includes('\uFFFD')) {
          throw new InvalidKeyError(
            undefined,
            `${join(dirPath, name)}: its name is not valid UTF-8, which keys must be`,
            {
              hint: 'rename it to UTF-8 (for example convmv -f latin1 -t utf8 --notest NAME) or move it out of the folder',
            },
          );
        }
        continue;
      }
      if (stats.isDirectory()) {
        const folderKey = `${key}/`;
        if (folderKey.startsWith(prefix) || prefix.startsWith(folderKey))
          entries.push({ name, key: folderKey, stats });
      } else if (stats.isFile() && key.startsWith(prefix)) {
        entries.push({ name, key, stats });
      }
    }
    entries.sort((a, b) => compareKeys(a.key, b.key));
    for (const entry of entries) {
      const isFolder = entry.key.endsWith('/');
      if (isFolder) {
        if (
          options.startAfter !== undefined &&
          compareKeys(entry.key, options.startAfter) <= 0 &&
          !options.startAfter.startsWith(entry.key)
        )
          continue;
        if (options.delimiter && entry.key.startsWith(prefix)) {
          if (options.startAfter === undefined || compareKeys(entry.key, options.startAfter) > 0) {
            yield { key: entry.key, size: 0, isPrefix: true };
          }
          continue;
        }
        yield* this.walk(entry.key, prefix, options);
      } else {
        if (options.startAfter !== undefined && compareKeys(entry.key, options.startAfter) <= 0) continue;
        yield toInfo(entry.key, entry.stats);
      }
    }
  }

  /**
   * The file's bytes, whole or a range (resolved as `resolveRange` does). `onInfo` gets the open file's stat (size,
   * ETag, lastModified; no metadata, which this store does not keep) before this resolves; if it throws, the file
   * is closed and `read` rejects with that error.
   * Throws NotFoundError if the file is absent, PreconditionFailedError if `ifMatch` fails, ValidationError for a
   * bad range, InvalidKeyError for a key that is not a safe relative path, AbortedError.
   */
  async read(key: string, options: ReadOptions = {}): Promise<Readable> {
    throwIfAborted(options.signal);
    const path = keyToPath(this.root, key);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A name too long for the file system cannot have been stored.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENAMETOOLONG') {
        throw new NotFoundError(`${path} does not exist`);
      }
      throw toWharfError(error, `reading ${path}`);
    }
    try {
      const stats = await handle.stat({ bigint: false });
      if (!stats.isFile()) throw new NotFoundError(`${path} is not a file`);
      if (options.ifMatch !== undefined && !sameEtag(options.ifMatch, etagOf(stats))) {
        throw new PreconditionFailedError(`${path} changed (ETag is no longer ${options.ifMatch})`);
      }
      const { start, end } = resolveRange(options.range, stats.size);
      options.onInfo?.(toInfo(key, stats));
      if (end < start) {
        await handle.close();
        return Readable.from([]);
      }
      const stream = createReadStream('', {
        fd: handle,
        start,
        end,
        autoClose: false,
        signal: options.signal,
      });
      return unchangedWhileRead(stream, handle, stats, path);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async write(key: string, body: Readable | Uint8Array, options: WriteOptions = {}): Promise<ObjectInfo> {
    throwIfAborted(options.signal);
    const path = keyToPath(this.root, key);
    await this.prepareParent(key, path);
    const temp = tempPathFor(path);
    try {
      await writeDurably(temp, body, options);
      throwIfAborted(options.signal);
      if (options.ifNoneMatch === '*') {
        // link() fails with EEXIST if the target exists: an atomic create-if-absent.
        await link(temp, path).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'EEXIST') throw new PreconditionFailedError(`${path} already exists`);
          throw error;
        });
        await unlink(temp);
      } else if (options.ifMatch !== undefined) {
        const expected = options.ifMatch;
        await withLockDir(
          lockPathFor(path),
          async () => {
            const current = await statOrUndefined(path);
            if (!current?.isFile() || !sameEtag(expected, etagOf(current))) {
              throw new PreconditionFailedError(`${path} is not at ETag ${expected}`);
            }
            await rename(temp, path);
          },
          options.signal,
        );
      } else {
        await rename(temp, path);
      }
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      if (isNameTooLong(error)) throw nameTooLong(key);
      throw isFolderClash(error) ? folderAtKey(key) : toWharfError(error, `writing ${path}`);
    }
    const stats = await stat(path);
    return toInfo(key, stats);
  }

  async delete(keys: readonly string[], options?: OpOptions): Promise<void> {
    const failed: { key: string; error: ReturnType<typeof toWharfError> }[] = [];
    for (const key of keys) {
      throwIfAborted(options?.signal);
      try {
        const path = keyToPath(this.root, key);
        await this.assertParentInside(key, path);
        // A folder at the key holds other keys, not this one: there is nothing to delete (as for a missing key).
        await unlink(path).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'ENAMETOOLONG') return;
          // Linux says EISDIR, macOS EPERM (which may also be a real permission problem: look).
          if (
            error.code === 'EISDIR' ||
            (error.code === 'EPERM' && (await statOrUndefined(path))?.isDirectory())
          )
            return;
          throw error;
        });
        await this.pruneEmptyParents(dirname(path));
      } catch (error) {
        failed.push({ key, error: toWharfError(error, `deleting ${key}`) });
      }
    }
    if (failed.length > 0) throw new DeleteError(failed);
  }

  async copy(src: string, dst: string, options: CopyOptions = {}): Promise<ObjectInfo> {
    throwIfAborted(options.signal);
    const from = keyToPath(this.root, src);
    const to = keyToPath(this.root, dst);
    const source = await statOrUndefined(from);
    if (!source?.isFile()) throw new NotFoundError(`${from} does not exist`);
    await this.prepareParent(dst, to);
    const temp = tempPathFor(to);
    try {
      await copyFile(from, temp);
      const handle = await open(temp, 'r+');
      await handle.sync().finally(() => handle.close());
      await rename(temp, to);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      if (isNameTooLong(error)) throw nameTooLong(dst);
      throw isFolderClash(error) ? folderAtKey(dst) : toWharfError(error, `copying ${from} to ${to}`);
    }
    return toInfo(dst, await stat(to));
  }

  /** Creates the key's parent folders and checks that no symlink along the way leads out of the store. */
  private async prepareParent(key: string, path: string): Promise<void> {
    const parent = dirname(path);
    try {
      await makeDir(parent);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') {
        throw new InvalidKeyError(key, 'a parent of this key is a file, not a folder');
      }
      if (code === 'ENAMETOOLONG') throw nameTooLong(key);
      throw toWharfError(error);
    }
    await this.assertParentInside(key, path);
  }

  /** The key's folder is inside the store: no symlink on its path leads out of it (a missing folder is fine). */
  private async assertParentInside(key: string, path: string): Promise<void> {
    const [realRoot, realParent] = await Promise.all([
      realpath(this.root),
      realpath(dirname(path)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'ENAMETOOLONG')
          return undefined;
        throw error;
      }),
    ]);
    if (realParent !== undefined && realParent !== realRoot && !realParent.startsWith(realRoot + sep)) {
      throw new InvalidKeyError(key, 'a folder on its path is a symbolic link that leads outside the store');
    }
  }

  private async pruneEmptyParents(dir: string): Promise<void> {
    let current = dir;
    while (current !== this.root && current.startsWith(this.root + sep)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
      current = dirname(current);
    }
  }
}

/** The path is a folder (a rename onto it): in this store that key holds other keys. */
function isFolderClash(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'EISDIR';
}

function isNameTooLong(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENAMETOOLONG';
}

/** A name of the key is longer than a file name may be here (Linux and macOS: 255 bytes). */
function nameTooLong(key: string): InvalidKeyError {
  return new InvalidKeyError(
    key,
    "a name in it is longer than the local store's file system allows (255 bytes of UTF-8 on most)",
    { hint: 'shorten the file or folder name' },
  );
}

function folderAtKey(key: string): InvalidKeyError {
  return new InvalidKeyError(
    key,
    `the local store holds a folder "${key}" (the keys under "${key}/"), and a folder cannot also be a file`,
    { hint: `choose another key, or delete the keys under "${key}/" first` },
  );
}

export async function openLocalDriver(options: LocalDriverOptions): Promise<StorageDriver> {
  return new LocalDriver(options);
}

async function writeDurably(temp: string, body: Readable | Uint8Array, options: WriteOptions): Promise<void> {
  const handle = await open(temp, 'wx', 0o644);
  try {
    if (body instanceof Uint8Array) {
      await handle.writeFile(body);
      options.onProgress?.(body.length);
    } else {
      if (options.signal) addAbortSignal(options.signal, body);
      let sent = 0;
      for await (const chunk of body) {
        throwIfAborted(options.signal);
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        await handle.write(buffer);
        sent += buffer.length;
        options.onProgress?.(sent);
      }
    }
    throwIfAborted(options.signal);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * What a listing shows of a folder entry: a symlink to a file is that file (as aws-cli lists it); a symlink to
 * a folder is not walked into (as rclone does by default), so a listing never loops and `rm -r` never
 * deletes what the link leads to.
 */
async function listedStats(path: string): Promise<Stats | undefined> {
  let own: Stats;
  try {
    own = await lstat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw toWharfError(error, `reading ${path}`);
  }
  if (!own.isSymbolicLink()) return own;
  const target = await stat(path).catch(() => undefined); // dangling or looping: not listed
  return target?.isFile() ? target : undefined;
}

/**
 * The bytes of `stream`, failing at their end if the open file was written to meanwhile (its size or mtime
 * moved): a writer that copies a file being rewritten must not store a mix of two versions as if it were one.
 * A file replaced by a rename is not affected (the open handle keeps the version it opened; its ctime
 * moves as the old name goes, so ctime is not compared). Closes `handle`.
 */
function unchangedWhileRead(stream: Readable, handle: FileHandle, opened: Stats, path: string): Readable {
  const checked = new Transform({
    transform: (chunk: Buffer, _encoding, callback) => callback(null, chunk),
    flush: (callback) => {
      // fstat of an open file takes microseconds; through the thread pool it cost more than small reads.
      let now: Stats;
      try {
        now = fstatSync(handle.fd);
      } catch (error) {
        callback(toWharfError(error, `reading ${path}`));
        return;
      }
      callback(
        now.size === opened.size && now.mtimeMs === opened.mtimeMs
          ? null
          : new ConflictError(`${path} changed while it was being read`, {
              hint: 'try again once whatever writes to it has finished',
            }),
      );
    },
  });
  pipeline(stream, checked, () => void handle.close().catch(() => undefined));
  return checked;
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return undefined;
    throw toWharfError(error, `reading ${path}`);
  }
}

function etagOf(stats: Stats): string {
  const mtimeNs = BigInt(Math.round(stats.mtimeMs * 1e6));
  return `"${stats.ino.toString(16)}-${stats.size.toString(16)}-${mtimeNs.toString(16)}"`;
}

function toInfo(key: string, stats: Stats): ObjectInfo {
  return { key, size: stats.size, etag: etagOf(stats), lastModified: stats.mtime };
}
