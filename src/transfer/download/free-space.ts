import { lstatSync, statSync, type Stats } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { WharfError } from '../../core/errors.js';
import { formatBytes } from '../../core/units.js';
import { partialBaseName } from './download-file.js';

/**
 * Disk space the resumable partial downloads of `objects` already take in `partialDir`: resumed or (for a
 * changed object) discarded and started again, that space serves the download, so it is not needed on top.
 */
export async function heldByPartials(
  partialDir: string,
  objects: readonly { key: string; size: number }[],
  rangeThreshold: number,
): Promise<number> {
  let held = 0;
  for (const object of objects) {
    if (object.size <= rangeThreshold) continue;
    const part = await stat(join(partialDir, `${partialBaseName(object.key)}.part`)).catch(() => undefined);
    if (part) held += Math.min(part.blocks * 512, object.size);
  }
  return held;
}

/** One download into a local folder, as the free-space check counts it. */
export interface PlannedDownload {
  /** The object's key: it names the resumable partial in `partialDir`. */
  key: string;
  size: number;
  /** The local file it lands at; a file there now is replaced (the new one is renamed over it). */
  path: string;
}

export interface SpaceNeededOptions {
  /** Where the resumable partials of ranged downloads are kept. */
  partialDir: string;
  rangeThreshold: number;
  /** Downloads in flight at once. */
  concurrency: number;
  /** An existing file is kept, not replaced, so its download needs nothing (`cp --no-clobber`). */
  keepExisting?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Disk space a set of downloads adds to a local folder, counted before any of them starts: each object's size,
 * less what its resumable partial holds and what the file it replaces takes (freed when the new one is renamed
 * over it); and on top, the `concurrency` biggest of the files replaced, as that many downloads may be in flight
 * while the files they replace still take their space.
 */
export async function spaceNeededFor(
  downloads: Iterable<PlannedDownload> | AsyncIterable<PlannedDownload>,
  options: SpaceNeededOptions,
): Promise<number> {
  let needed = 0;
  const replaced: number[] = [];
  for await (const download of downloads) {
    options.signal?.throwIfAborted();
    // Synchronous: most targets of a first fetch do not exist, and a throwing async stat costs ~20x as much.
    const own = statOrUndefined(download.path, lstatSync);
    if (options.keepExisting && own && (!own.isSymbolicLink() || statOrUndefined(download.path, statSync))) {
      continue;
    }
    // The rename replaces a symlink, not what it points to; a file with other hard links keeps its blocks.
    const taken = own?.isFile() && own.nlink === 1 ? Math.min(own.blocks * 512, download.size) : 0;
    const held =
      download.size > options.rangeThreshold
        ? await heldByPartials(options.partialDir, [download], options.rangeThreshold)
        : 0;
    needed += Math.max(0, download.size - taken - held);
    if (taken > 0) replaced.push(taken);
  }
  replaced.sort((a, b) => b - a);
  for (const taken of replaced.slice(0, options.concurrency)) needed += taken;
  return needed;
}

function statOrUndefined(path: string, how: typeof statSync | typeof lstatSync): Stats | undefined {
  try {
    return how(path, { throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR: a file where a folder of the path should be
  }
}

export interface FreeSpaceWording {
  /** What needs the space, for the message: `the download`, `the copy`. */
  what: string;
  /** What to do instead; ends the error line. */
  hint: string;
  /** Said after the numbers, e.g. `nothing was copied`. */
  outcome?: string;
}

/**
 * Fails early, with one clear line, when `needed` bytes cannot fit on the disk that holds `dir`. A `dir` that does
 * not exist yet is measured at its nearest existing parent, where it would be made. Where the free space cannot
 * be read, nothing is checked (the download then meets a full disk as it writes).
 */
export async function assertFreeSpace(dir: string, needed: number, wording: FreeSpaceWording): Promise<void> {
  if (needed <= 0) return;
  const fs = await statfs(await nearestExisting(dir)).catch(() => undefined);
  if (!fs) return;
  const free = fs.bavail * fs.bsize;
  if (free < needed) {
    const outcome = wording.outcome ? `; ${wording.outcome}` : '';
    throw new WharfError(
      'IO',
      `not enough disk space in ${dir}: ${wording.what} needs ${formatBytes(needed)}, ${formatBytes(free)} are free${outcome}`,
      { hint: wording.hint },
    );
  }
}

async function nearestExisting(dir: string): Promise<string> {
  for (let current = dir; ; current = dirname(current)) {
    if ((await stat(current).catch(() => undefined)) !== undefined || dirname(current) === current)
      return current;
  }
}
