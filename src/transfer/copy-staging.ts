import { randomBytes } from 'node:crypto';
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { makeDir } from '../core/make-dir.js';

/**
 * The hidden staging folder a copy into a local folder writes through. Two copies into one folder may run at
 * once, so each run keeps its whole-object temporary files in its own `run-HOST-PID-RANDOM/` subfolder; a run
 * removes only subfolders whose process is gone (same host), so a rerun after a killed copy cleans up at once
 * and never touches a live run's files. Resumable partials of big objects stay at the staging root, shared.
 */
export const STAGING_FOLDER = '.wharf-tmp-partial';

/** How old a foreign host's run folder (its own mtime, which file times cannot set) must be to count as abandoned. */
const FOREIGN_RUN_ABANDONED_MS = 24 * 60 * 60 * 1000;
/** How long since the last change a loose temporary file of an older Wharf must be left alone. */
const LOOSE_TEMP_ABANDONED_MS = 60 * 60 * 1000;

const RUN_FOLDER = /^run-(.+)-(\d+)-[0-9a-f]{8}$/;

export interface RunStaging {
  /** Where this run's whole-object temporary files go. */
  tempDir: string;
  /** Where resumable partials go (shared by all runs). */
  partialDir: string;
  /** Removes this run's folder, then the staging folder if nothing else is left in it. */
  finish(): Promise<void>;
}

/** A host name that is safe in a file name. */
function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9.]/g, '_') || 'host';
}

/** The name of the run folder of process `pid` on this host. */
export function runFolderName(pid: number): string {
  return `run-${hostTag()}-${pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Creates this run's folder under `staging` (and `staging` itself; `ensureDir` checks it is where it should be),
 * then removes what dead runs left there.
 */
export async function openRunStaging(
  staging: string,
  ensureDir: (dir: string) => Promise<void>,
): Promise<RunStaging> {
  await ensureDir(staging);
  const tempDir = join(staging, runFolderName(process.pid));
  // mkdir -p: another run finishing may have just removed an empty staging folder.
  await makeDir(tempDir);
  await removeAbandoned(staging, tempDir);
  return {
    tempDir,
    partialDir: staging,
    finish: async () => {
      await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
      // rmdir, not rm -r: partials of interrupted big downloads and other runs' folders stay.
      await rmdir(staging).catch(() => undefined);
    },
  };
}

/** Removes the folders of runs that are gone, and loose temporary files an older Wharf left an hour ago. */
export async function removeAbandoned(staging: string, own?: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(staging).catch(() => [] as string[])) {
    const path = join(staging, name);
    if (path === own) continue;
    const run = RUN_FOLDER.exec(name);
    if (run) {
      if (await runIsGone(path, run[1] ?? '', Number(run[2]), now))
        await rm(path, { recursive: true, force: true });
      continue;
    }
    if (!name.endsWith('.tmp')) continue;
    // ctime, not mtime: the download engine sets a temporary file's mtime to the object's LastModified.
    const s = await stat(path).catch(() => undefined);
    if (s && s.ctimeMs < now - LOOSE_TEMP_ABANDONED_MS) await rm(path, { force: true });
  }
}

async function runIsGone(path: string, host: string, pid: number, now: number): Promise<boolean> {
  if (host === hostTag()) return !processIsAlive(pid);
  const s = await stat(path).catch(() => undefined);
  return s !== undefined && s.mtimeMs < now - FOREIGN_RUN_ABANDONED_MS;
}

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
