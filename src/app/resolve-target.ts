import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { asFolderPrefix, baseName } from '../core/keys.js';
import { formatLocation, parseLocation, type Location } from '../core/location.js';
import { openStorageRoot, type OpenStorageOptions } from '../storage/registry.js';
import type { StorageDriver } from '../storage/types.js';

/**
 * A user-given location resolved to a store plus a key in it. S3 locations open the bucket; local paths open
 * the folder itself when it is (or is meant to be) a folder, else its parent with the file name as key.
 */
export interface Target {
  location: Location;
  store: StorageDriver;
  /** Object key, or folder prefix ('' or ending in '/') when `isFolder`. */
  key: string;
  isFolder: boolean;
  /** How to show a key of this store to the user. */
  display(key: string): string;
}

export type TargetIntent =
  /** A folder/prefix: `ls`, recursive copies. */
  | 'folder'
  /** One object; for a destination, a folder-like target gets the source's file name appended. */
  | 'object';

export async function resolveTarget(
  input: string,
  intent: TargetIntent,
  options: OpenStorageOptions = {},
): Promise<Target> {
  const location = parseLocation(input, options.cwd);
  if (location.kind === 's3') {
    const store = await openStorageRoot(location, options);
    const isFolder = intent === 'folder' || location.key === '' || location.key.endsWith('/');
    const key = intent === 'folder' ? asFolderPrefix(location.key) : location.key;
    const root: Location = { ...location, key: '' };
    return { location, store, key, isFolder, display: (k) => formatLocation(root, k) };
  }
  const existing = await stat(location.path).catch(() => undefined);
  const isFolder = intent === 'folder' || location.trailingSlash || existing?.isDirectory() === true;
  const rootPath = isFolder ? location.path : dirname(location.path);
  const rootLocation: Location = { kind: 'local', path: rootPath, trailingSlash: true, raw: rootPath };
  const store = await openStorageRoot(rootLocation, options);
  return {
    location,
    store,
    key: isFolder ? '' : basename(location.path),
    isFolder,
    display: (k) => formatLocation(rootLocation, k),
  };
}

/** Destination key for copying one object named `sourceKey` to `dest` (folder targets keep the file name). */
export function destinationKeyFor(dest: Target, sourceKey: string): string {
  return dest.isFolder ? asFolderPrefix(dest.key) + baseName(sourceKey) : dest.key;
}

/**
 * Whether `target.key`, named without its trailing `/`, is a folder or prefix with something under it
 * (`s3://b/logs` for `logs/...`): the commands that take one object say so instead of "does not exist".
 */
export async function namesPrefix(target: Target, signal?: AbortSignal): Promise<boolean> {
  if (target.key === '') return false;
  const options = signal ? { signal, delimiter: '/' as const } : { delimiter: '/' as const };
  for await (const _ of target.store.list(asFolderPrefix(target.key), options)) return true;
  return false;
}

/**
 * Whether a folder-like `target` (`s3://b/notes/`) is also an object of that very name holding bytes: a key
 * ending in '/' with content, not an empty folder marker. cat and presign read such an object.
 */
export async function holdsBytes(target: Target, signal?: AbortSignal): Promise<boolean> {
  if (target.key === '' || target.location.kind !== 's3') return false;
  return ((await target.store.stat(target.key, signal ? { signal } : {}))?.size ?? 0) > 0;
}
