import { basename, dirname, join, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { assertSafeRelativeKey } from '../../core/keys.js';
import { InvalidKeyError } from '../../core/errors.js';
import { distinctNameWithin, nameWithin } from '../../core/file-names.js';

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

/** A hidden temporary name beside `path`; a name near the length limit is cut so that the temporary one fits. */
export function tempPathFor(path: string): string {
  const suffix = `${TEMP_MARK}${randomBytes(6).toString('hex')}`;
  return join(dirname(path), `.${nameWithin(basename(path), suffix.length + 1)}${suffix}`);
}

/** The lock beside `path`: the same for one file every time, different for two files (a cut name is hashed). */
export function lockPathFor(path: string): string {
  return join(dirname(path), `.${distinctNameWithin(basename(path), LOCK_MARK.length + 1)}${LOCK_MARK}`);
}
