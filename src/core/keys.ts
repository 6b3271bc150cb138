import { InvalidKeyError } from './errors.js';

/**
 * Object keys are '/'-separated strings. Stores that map keys onto a file system (the local driver,
 * a fetch destination) must refuse keys that would leave their folder; this module is that guard.
 */

/** Throws InvalidKeyError unless `key` is a safe relative path: no '..', '.', empty segments, NUL or leading '/'. */
export function assertSafeRelativeKey(key: string): void {
  const reason = unsafeKeyReason(key);
  if (reason) throw new InvalidKeyError(key, reason);
}

export function unsafeKeyReason(key: string): string | undefined {
  if (key.length === 0) return 'the key is empty';
  if (key.includes('\0')) return 'it contains a NUL character';
  if (key.startsWith('/')) return 'it is an absolute path';
  if (key.includes('\\')) return 'it contains a backslash, which is a path separator on some systems';
  if (/^[A-Za-z]:/.test(key)) return 'it starts with a drive letter';
  for (const segment of key.split('/')) {
    if (segment === '..') return "it contains a '..' segment that would escape the destination folder";
    if (segment === '.') return "it contains a '.' segment";
    if (segment === '') return 'it contains an empty path segment (a doubled or trailing /)';
  }
  return undefined;
}

/**
 * Throws InvalidKeyError if no store should create `key`: a '.' or '..' segment is legal in S3 but becomes a path
 * escape in whatever tool later copies the object into a folder, so every driver refuses to write one. Reading,
 * listing and deleting such keys stays possible, so existing ones can be cleaned up.
 */
export function assertCreatableKey(key: string): void {
  const reason = uncreatableKeyReason(key);
  if (reason) throw new InvalidKeyError(key, reason);
}

/** Why `assertCreatableKey` refuses `key`, or undefined. */
export function uncreatableKeyReason(key: string): string | undefined {
  const segments = key.split('/');
  if (segments.includes('..'))
    return "it contains a '..' segment, which points outside the folder of anyone who downloads it; choose a key without one";
  if (segments.includes('.'))
    return "it contains a '.' segment, which a download folder cannot hold apart from its parent; choose a key without one";
  return undefined;
}

/** Joins key parts with single slashes: joinKey('a/', '/b', 'c') === 'a/b/c'. Empty parts are skipped. */
export function joinKey(...parts: string[]): string {
  const kept = parts.filter((p) => p.length > 0);
  if (kept.length === 0) return '';
  return kept
    .map((p, i) => {
      let out = p;
      if (i > 0) out = out.replace(/^\/+/, '');
      if (i < kept.length - 1) out = out.replace(/\/+$/, '');
      return out;
    })
    .filter((p) => p.length > 0)
    .join('/');
}

/** Normalises a folder-like prefix: '' stays '', anything else ends with exactly one '/'. */
export function asFolderPrefix(prefix: string): string {
  if (prefix === '') return '';
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** The part of `key` after `prefix`; throws if the key is not under the prefix. */
export function relativeKey(prefix: string, key: string): string {
  if (!key.startsWith(prefix)) throw new Error(`key ${key} is not under prefix ${prefix}`);
  return key.slice(prefix.length);
}

/** Last segment of a key ('a/b/c.txt' -> 'c.txt', 'a/b/' -> 'b'). */
export function baseName(key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key;
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

/** Compares keys in UTF-8 byte order, the order S3 lists them in. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The keys of `keys` that a folder on disk cannot hold as files, because other keys of `keys` need a folder of
 * that name (`data/x` beside `data/x/y`), each mapped to the first such other key.
 */
export function keysShadowedByFolders(keys: Iterable<string>): Map<string, string> {
  const firstBelow = new Map<string, string>();
  const all: string[] = [];
  for (const key of keys) {
    all.push(key);
    for (let cut = key.indexOf('/'); cut !== -1; cut = key.indexOf('/', cut + 1)) {
      const folder = key.slice(0, cut);
      if (folder !== '' && !firstBelow.has(folder)) firstBelow.set(folder, key);
    }
  }
  const shadowed = new Map<string, string>();
  for (const key of all) {
    const below = firstBelow.get(key);
    if (below !== undefined) shadowed.set(key, below);
  }
  return shadowed;
}
