import { basename, dirname, join, sep } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { assertSafeRelativeKey } from '../../core/keys.js';
import { InvalidKeyError } from '../../core/errors.js';

/** Files the local driver creates for itself; never listed as objects. */
const TEMP_MARK = '.wharf-tmp-';
const LOCK_MARK = '.wharf-lock';

export function isInternalName(name: string): boolean {
  return name.startsWith('.') && (name.includes(TEMP_MARK) || name.endsWith(LOCK_MARK));
}

/** Absolute path for `key` under `root`; throws InvalidKeyError for keys that could leave the folder. */
export function keyToPath(root: string, key: string): string {
  assertSafeRelativeKey(key);
  const segments = key.split('/');
  if (segments.some(isInternalName)) {
    throw new InvalidKeyError(
      key,
      'names ending in .wharf-lock or containing .wharf-tmp- are reserved for Wharf',
    );
  }
  const path = join(root, ...segments);
  if (!path.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new InvalidKeyError(key, 'it resolves outside the store folder');
  }
  return path;
}

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${shortName(basename(path))}${TEMP_MARK}${randomBytes(6).toString('hex')}`);
}

export function lockPathFor(path: string): string {
  return join(dirname(path), `.${shortName(basename(path))}${LOCK_MARK}`);
}

/** Names over this many bytes are shortened in temp and lock names, which add to them. */
const LONG_NAME_BYTES = 100;

/**
 * `name`, or for a long one its first bytes and a hash of the whole, so that a file whose name uses (nearly) all
 * of the file system's 255 bytes still gets a temp and a lock file next to it, and two long names never share one.
 */
function shortName(name: string): string {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length <= LONG_NAME_BYTES) return name;
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  // Cut on a character boundary: the decoder drops a partial last character as U+FFFD, which is removed.
  return `${bytes
    .subarray(0, LONG_NAME_BYTES - 20)
    .toString('utf8')
    .replace(/\uFFFD$/, '')}~${hash}`;
}
