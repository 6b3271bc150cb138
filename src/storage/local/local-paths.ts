import { basename, dirname, join, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
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
  return join(dirname(path), `.${basename(path)}${TEMP_MARK}${randomBytes(6).toString('hex')}`);
}

export function lockPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}${LOCK_MARK}`);
}
