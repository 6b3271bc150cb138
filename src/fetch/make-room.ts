import { lstatSync, statSync } from 'node:fs';
import { readdir, realpath, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { WharfError } from '../core/errors.js';

export interface MakeRoomOptions {
  /** The dataset folder; nothing outside it (or reached through a link) is ever removed. */
  datasetDir: string;
  /** Relative keys of the selection: those are never removed to make room for another. */
  keep: ReadonlySet<string>;
  /** `--delete`: files outside the selection may go. */
  deleteOthers: boolean;
}

/**
 * Makes room for selected objects whose local place is taken by what an earlier state of the folder left
 * (an export that turned `report` into `report/part-1`, or a file the user replaced by a folder):
 *
 * - a file (or a link that is not to a folder) where a folder on the key's path belongs is removed when it is
 *   not part of the selection and `deleteOthers` is set;
 * - a folder where the key's file belongs is removed when that loses nothing the user keeps: it holds only
 *   empty folders, or only files outside the selection and `deleteOthers` is set.
 *
 * When a selected key takes the place (both `a` and `a/b` are selected), nothing is touched and the download
 * fails naming the clash. Anything else in the way throws an IO WharfError naming it. The returned function
 * takes the key relative to the dataset folder; checks of a folder are made once.
 */
export function createRoomMaker(options: MakeRoomOptions): (relativeKey: string) => Promise<void> {
  const checkedFolders = new Map<string, Promise<void>>();
  const folderPath = (relativeFolder: string): Promise<void> => {
    let pending = checkedFolders.get(relativeFolder);
    if (!pending) {
      const parent = relativeFolder.includes('/')
        ? relativeFolder.slice(0, relativeFolder.lastIndexOf('/'))
        : '';
      pending = (parent === '' ? Promise.resolve() : folderPath(parent)).then(() =>
        clearFileInTheWay(relativeFolder, options),
      );
      checkedFolders.set(relativeFolder, pending);
    }
    return pending;
  };
  return async (relativeKey) => {
    const cut = relativeKey.lastIndexOf('/');
    if (cut > 0) await folderPath(relativeKey.slice(0, cut));
    await clearFolderInTheWay(relativeKey, options);
  };
}

async function clearFileInTheWay(relativeFolder: string, options: MakeRoomOptions): Promise<void> {
  const path = join(options.datasetDir, ...relativeFolder.split('/'));
  const found = lstatOrUndefined(path);
  if (!found || found.isDirectory() || followsToFolder(path)) return;
  if (options.keep.has(relativeFolder)) return;
  if (!(await parentIsInside(path, options.datasetDir))) return;
  if (!options.deleteOthers) {
    throw new WharfError(
      'IO',
      `${path} is a file locally that is not part of the dataset, where the object needs a folder`,
      { hint: 'move that file away, or run again with --delete to remove files outside the selection' },
    );
  }
  await rm(path);
}

async function clearFolderInTheWay(relativeKey: string, options: MakeRoomOptions): Promise<void> {
  const path = join(options.datasetDir, ...relativeKey.split('/'));
  if (!lstatOrUndefined(path)?.isDirectory()) return;
  if (!(await parentIsInside(path, options.datasetDir))) return;
  const files = await filesBelow(path, relativeKey);
  if (files.some((file) => options.keep.has(file))) return;
  if (files.length > 0 && !options.deleteOthers) {
    throw new WharfError(
      'IO',
      `${path} is a folder locally, holding ${files.length} file(s) that are not part of the dataset (e.g. ${files[0] as string})`,
      { hint: 'move that folder away, or run again with --delete to remove files outside the selection' },
    );
  }
  await rm(path, { recursive: true });
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR and the like: a file further up is checked on its own
  }
}

function followsToFolder(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** True when `path`'s parent, resolved, is the dataset folder or below it (no link on the way leads out). */
async function parentIsInside(path: string, datasetDir: string): Promise<boolean> {
  const [parent, root] = await Promise.all([realpath(dirname(path)), realpath(datasetDir)]);
  const rel = relative(root, parent);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep));
}

/** Relative keys (with '/') of everything below `dir` that is not a folder; links are not followed. */
async function filesBelow(dir: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const key = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await filesBelow(join(dir, entry.name), key)));
    else out.push(key);
  }
  return out;
}
