import { lstatSync } from 'node:fs';
import { readdir, realpath, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { WharfError } from '../core/errors.js';

export interface FolderInTheWayOptions {
  /** The dataset folder; nothing outside it (or reached through a link) is ever removed. */
  datasetDir: string;
  /** Relative keys of the selection: a file below the folder that is one of them keeps the folder. */
  keep: ReadonlySet<string>;
  /** `--delete`: files outside the selection may go. */
  deleteOthers: boolean;
}

/**
 * Makes room for a selected object whose local path is a folder (replaced by one locally, or left by a key that
 * used it as a folder): the folder is removed when that loses nothing the user keeps — it holds only empty
 * folders, or only files outside the selection and `deleteOthers` is set. Does nothing when the path is not a
 * folder, or when a selected key lies below it (the download then fails naming the clash). Throws an IO
 * WharfError when the folder holds files that are not part of the dataset and `deleteOthers` is not set.
 */
export async function clearFolderInTheWay(
  localPath: string,
  relativeKey: string,
  options: FolderInTheWayOptions,
): Promise<void> {
  if (!isRealFolder(localPath)) return;
  if (!(await parentIsInside(localPath, options.datasetDir))) return;
  const files = await filesBelow(localPath, relativeKey);
  if (files.some((file) => options.keep.has(file))) return;
  if (files.length > 0 && !options.deleteOthers) {
    throw new WharfError(
      'IO',
      `${localPath} is a folder locally, holding ${files.length} file(s) that are not part of the dataset (e.g. ${files[0] as string})`,
      { hint: 'move that folder away, or run again with --delete to remove files outside the selection' },
    );
  }
  await rm(localPath, { recursive: true });
}

function isRealFolder(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** True when `path`'s parent, resolved, is the dataset folder or below it (no link on the way leads out). */
async function parentIsInside(path: string, datasetDir: string): Promise<boolean> {
  const [parent, root] = await Promise.all([realpath(dirname(path)), realpath(datasetDir)]);
  const rel = relative(root, parent);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
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
