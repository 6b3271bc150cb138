import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { UsageError } from '../core/errors.js';
import { parseLocation } from '../core/location.js';

/**
 * Refuses a local-folder remote that is the synced folder, lies inside it, or holds it: each sync would copy
 * the folder into itself one level deeper (or see its own writes as changes). Paths are compared after
 * resolving symlinks, so `/data/team` and a link to it are the same folder. S3 remotes always pass.
 */
export async function assertRemoteApart(dir: string, remote: string): Promise<void> {
  const location = parseLocation(remote);
  if (location.kind !== 'local') return;
  const [folder, target] = await Promise.all([realPathOf(dir), realPathOf(location.path)]);
  const overlap =
    folder === target
      ? 'is the synced folder itself'
      : isInside(target, folder)
        ? `is inside the synced folder ${dir}`
        : isInside(folder, target)
          ? `holds the synced folder ${dir}`
          : undefined;
  if (overlap === undefined) return;
  throw new UsageError(`the remote ${location.path} ${overlap}: a folder cannot sync with itself`, {
    hint: 'choose a remote folder that neither is, nor is inside, nor holds the synced folder',
  });
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && rel.split(sep)[0] !== '..' && !isAbsolute(rel);
}

/** The real path of `path`, or of its nearest existing ancestor with the rest appended (it may not exist yet). */
async function realPathOf(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return path;
    return join(await realPathOf(parent), basename(path));
  }
}
