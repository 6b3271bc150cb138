import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_FOLDER } from './local-paths.js';

/**
 * Relative paths (with '/') of the files under `datasetDir` that are not in `keep`, skipping Wharf's state folder.
 * Symlinks are listed as files and never followed, so nothing outside the dataset folder is ever visited.
 */
export async function filesOutsideSelection(
  datasetDir: string,
  keep: ReadonlySet<string>,
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of entries) {
      const relative = prefix + entry.name;
      if (prefix === '' && entry.name === STATE_FOLDER) continue;
      if (entry.isDirectory()) await walk(join(dir, entry.name), `${relative}/`);
      else if (!keep.has(relative)) out.push(relative);
    }
  };
  await walk(datasetDir, '');
  return out.sort();
}

/** Deletes the given files (relative to `datasetDir`) and then every folder they leave empty. */
export async function deleteFromDatasetFolder(
  datasetDir: string,
  relativePaths: readonly string[],
): Promise<void> {
  const folders = new Set<string>();
  for (const relative of relativePaths) {
    // A download took its place, so it is gone already: a folder on its path became a file (ENOTDIR), or the
    // file became a folder (EISDIR; rm says ERR_FS_EISDIR).
    await rm(join(datasetDir, ...relative.split('/')), { force: true }).catch(
      (error: NodeJS.ErrnoException) => {
        if (!['ENOTDIR', 'EISDIR', 'ERR_FS_EISDIR'].includes(error.code ?? '')) throw error;
      },
    );
    const parts = relative.split('/');
    for (let i = parts.length - 1; i > 0; i--) folders.add(parts.slice(0, i).join('/'));
  }
  // Deepest first; a folder that still holds something stays.
  for (const folder of [...folders].sort((a, b) => b.split('/').length - a.split('/').length)) {
    await rmdir(join(datasetDir, ...folder.split('/'))).catch(() => undefined);
  }
}
