import { mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { WharfError } from './errors.js';

/**
 * `mkdir -p`: creates `path` and any missing parents; a folder that is already there is fine.
 *
 * Not Node's `mkdir(path, { recursive: true })`: in Node 18–22 that never settles, spinning a CPU, when a folder's
 * mkdir fails with ENOENT although its parent exists, which is what procfs and sysfs answer (`/proc/x/y`). It
 * creates the parent (EEXIST), retries the child, gets ENOENT again, and so on forever. Here a child is retried
 * once after its parent is in place, and a second ENOENT is the answer.
 */
/**
 * `makeDir` that runs once per folder: thousands of files in a few folders cost a few mkdir calls. With
 * `inside`, a folder that resolves outside that one (a symlinked folder on the way) is refused, so that a
 * download never writes through a link into a place the user did not name.
 */
export function memoisedMakeDir(options: { inside?: string } = {}): (dir: string) => Promise<void> {
  const made = new Map<string, Promise<void>>();
  const { inside } = options;
  let realInside: Promise<string> | undefined;
  const check = async (dir: string): Promise<void> => {
    if (inside === undefined) return makeDir(dir);
    // The deepest folder that exists is checked before anything is created below it: a link leading outside
    // must not get folders made through it either.
    realInside ??= makeDir(inside).then(() => realpath(inside));
    const root = await realInside;
    let existing = dir;
    while (!(await isThere(existing)) && dirname(existing) !== existing) existing = dirname(existing);
    const real = await realpath(existing);
    if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
      throw new WharfError(
        'INVALID_KEY',
        `refusing to write into ${dir}: a folder on its path is a symbolic link that leads outside ${inside}`,
        { hint: 'remove or replace the link, or choose another destination' },
      );
    }
    return makeDir(dir);
  };
  return (dir) => {
    let pending = made.get(dir);
    if (!pending) {
      pending = check(dir);
      pending.catch(() => made.delete(dir));
      made.set(dir, pending);
    }
    return pending;
  };
}

async function isThere(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function makeDir(path: string, options: { mode?: number } = {}): Promise<void> {
  const once = options.mode === undefined ? {} : { mode: options.mode };
  try {
    await mkdir(path, once);
    return;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return existingFolder(path, error);
    const parent = dirname(path);
    if (errorCode(error) !== 'ENOENT' || parent === path) throw error;
    await makeDir(parent, options);
  }
  try {
    await mkdir(path, once);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return existingFolder(path, error);
    throw error;
  }
}

/** EEXIST is success when a folder (or a link to one) is there, as for `mkdir -p`; a file is the caller's error. */
async function existingFolder(path: string, error: unknown): Promise<void> {
  const isFolder = await stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isFolder) throw error;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
