import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { nameWithin } from './file-names.js';

/** A hidden temporary name beside `path` (same folder, so a rename onto `path` is atomic). */
export function tempPathBeside(path: string): string {
  const suffix = `.${randomBytes(6).toString('hex')}.tmp`;
  return join(dirname(path), `.${nameWithin(basename(path), suffix.length + 1)}${suffix}`);
}

/**
 * Writes `data` to `path` so that readers (and a crash) see the old file or the complete new one: a temp file
 * beside it, fsync, rename. On failure (a full disk) the temp file is removed, so nothing is left behind.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathBeside(path);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (error) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw error;
  }
}
