import { stat } from 'node:fs/promises';
import { parseLocation } from '../core/location.js';
import type { OpenStorageOptions } from '../storage/registry.js';
import type { ObjectInfo } from '../storage/types.js';
import { resolveTarget, type Target } from './resolve-target.js';

/**
 * What `-r URL` covers, one rule for `ls -r`, `rm -r` and `cp -r`, so that what `ls -r URL` shows is exactly
 * what `rm -r URL` deletes and `cp -r URL` copies:
 * - URL names a folder: every object whose key starts with `URL/`, named relative to that folder. This holds
 *   also when URL is an object of its own beside that folder (`data/x` and `data/x/y`): the folder wins, as in
 *   fetch and cp into a folder, and the object is left out (`besideFolder`), never a plain key prefix that would
 *   take `data/xx` with it.
 * - Only when nothing is under `URL/` and URL (no trailing '/') names one object is that object the whole tree
 *   (`object`), named by its base name.
 */
export interface RecursiveTree {
  target: Target;
  /** The folder listed: '' or a prefix ending in '/'; keys are shown relative to it. */
  prefix: string;
  /** Set when URL names one object and no folder: the tree is that object alone. */
  object?: ObjectInfo;
  /** An object named exactly as URL (without its '/'), left out because a folder of that name holds objects. */
  besideFolder?: ObjectInfo;
}

export async function resolveRecursiveTree(
  input: string,
  options: OpenStorageOptions = {},
  signal?: AbortSignal,
): Promise<RecursiveTree> {
  const location = parseLocation(input, options.cwd);
  const opts = signal ? { signal } : {};
  if (location.kind === 'local') {
    // A local path is a file or a folder, never both: a file is the one object, anything else the folder.
    const isFile = (await stat(location.path).catch(() => undefined))?.isFile() === true;
    if (isFile && !location.trailingSlash) {
      const target = await resolveTarget(input, 'object', options);
      const object = await target.store.stat(target.key, opts);
      if (object) return { target, prefix: '', object };
    }
    // Listing the folder itself: one that is missing (or a file after all) is said by the store.
    const target = await resolveTarget(input, 'folder', options);
    return { target, prefix: target.key };
  }
  const target = await resolveTarget(input, 'folder', options);
  const prefix = target.key;
  if (location.key === '' || location.key.endsWith('/')) return { target, prefix };
  const [holdsObjects, object] = await Promise.all([
    folderHoldsObjects(target, prefix, signal),
    target.store.stat(location.key, opts),
  ]);
  if (holdsObjects) return object ? { target, prefix, besideFolder: object } : { target, prefix };
  return object ? { target, prefix, object } : { target, prefix };
}

/** The objects of `tree`, each with the name it is shown under (relative to the folder, or the object's base name). */
export async function* treeObjects(
  tree: RecursiveTree,
  signal?: AbortSignal,
): AsyncIterable<{ info: ObjectInfo; relative: string }> {
  if (tree.object) {
    yield { info: tree.object, relative: tree.object.key.slice(tree.object.key.lastIndexOf('/') + 1) };
    return;
  }
  for await (const info of tree.target.store.list(tree.prefix, signal ? { signal } : {})) {
    if (!info.isPrefix) yield { info, relative: info.key.slice(tree.prefix.length) };
  }
}

/**
 * The warning for a `besideFolder` object: `leftOut` says what -r did not do to it ('not deleted'), `instead` how
 * to reach it, given its URL (a command without -r).
 */
export function besideFolderWarning(
  tree: RecursiveTree,
  leftOut: string,
  instead: (url: string) => string,
): string | undefined {
  if (!tree.besideFolder) return undefined;
  const object = tree.target.display(tree.besideFolder.key);
  const folder = tree.target.display(tree.prefix);
  return `${object} is also an object, ${leftOut}: -r takes the folder ${folder} (${instead(object)})`;
}

async function folderHoldsObjects(target: Target, prefix: string, signal?: AbortSignal): Promise<boolean> {
  for await (const _ of target.store.list(prefix, signal ? { signal } : {})) return true;
  return false;
}
