import { open, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConflictError, toWharfError } from './errors.js';

/**
 * An exclusive lock on a folder Wharf manages (`<stateDir>/lock`, created with O_EXCL) so two runs never write
 * one folder at once. A lock left by a process on this host that no longer runs is taken over. `command`
 * names the kind of run in messages (`wharf fetch`, `wharf sync`).
 */
export async function lockFolder(
  stateDir: string,
  folder: string,
  command = 'wharf',
): Promise<() => Promise<void>> {
  const path = join(stateDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    let fh: FileHandle;
    try {
      fh = await open(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw toWharfError(error, `locking ${folder}`);
      const holder = await readHolder(path);
      if (holder === 'abandoned' || (holder && holder.host === hostname() && !isRunning(holder.pid))) {
        await rm(path, { force: true });
        continue;
      }
      throw new ConflictError(
        `another ${command} (pid ${holder?.pid ?? '?'} on ${holder?.host ?? '?'}) is writing ${folder}`,
        { hint: `wait for it to finish; if it is gone, delete ${path}` },
      );
    }
    try {
      await fh.writeFile(
        JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
      );
      await fh.close();
      return () => rm(path, { force: true });
    } catch (error) {
      // A lock without its holder (the disk filled as it was written) would stop every later run.
      await fh.close().catch(() => undefined);
      await rm(path, { force: true }).catch(() => undefined);
      throw toWharfError(error, `writing the lock file ${path}`);
    }
  }
  throw new ConflictError(`could not lock ${folder}`, { hint: `delete ${path} if no ${command} is running` });
}

/**
 * The lock's holder; `abandoned` for a lock that is still empty or unreadable a while after it was made (a holder
 * writes it right after creating it, so that one died in between); undefined while it may still be being written.
 */
async function readHolder(path: string): Promise<{ pid: number; host: string } | 'abandoned' | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown; host?: unknown };
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string')
      return { pid: parsed.pid, host: parsed.host };
  } catch {
    // Unreadable or half-written: judged by its age below.
  }
  const made = await stat(path).catch(() => undefined);
  return made && Date.now() - made.mtimeMs > UNWRITTEN_LOCK_MS ? 'abandoned' : undefined;
}

const UNWRITTEN_LOCK_MS = 60_000;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
