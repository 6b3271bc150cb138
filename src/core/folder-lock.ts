import { open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConflictError } from './errors.js';

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
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(
        JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
      );
      await fh.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readHolder(path);
      if (holder && holder.host === hostname() && !isRunning(holder.pid)) {
        await rm(path, { force: true });
        continue;
      }
      throw new ConflictError(
        `another ${command} (pid ${holder?.pid ?? '?'} on ${holder?.host ?? '?'}) is writing ${folder}`,
        { hint: `wait for it to finish; if it is gone, delete ${path}` },
      );
    }
  }
  throw new ConflictError(`could not lock ${folder}`, { hint: `delete ${path} if no ${command} is running` });
}

async function readHolder(path: string): Promise<{ pid: number; host: string } | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown; host?: unknown };
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string')
      return { pid: parsed.pid, host: parsed.host };
  } catch {
    // Unreadable or half-written: treat as held by an unknown process.
  }
  return undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
