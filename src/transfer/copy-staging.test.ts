import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRunStaging, runFolderName } from './copy-staging.js';

let dir: string;
let staging: string;
const ensureDir = async (path: string): Promise<void> => {
  await mkdir(path, { recursive: true });
};
const twoHoursAgo = (): Date => new Date(Date.now() - 2 * 3600 * 1000);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-copy-staging-'));
  staging = join(dir, '.wharf-tmp-partial');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  if (pid === undefined) throw new Error('could not start a process');
  return pid;
}

/** A run folder of process `pid` holding a temporary file whose mtime (set like a download's) is old. */
async function runFolderOf(pid: number): Promise<string> {
  const folder = join(staging, runFolderName(pid));
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'a.tmp'), 'temp');
  await utimes(join(folder, 'a.tmp'), twoHoursAgo(), twoHoursAgo());
  return folder;
}

describe('openRunStaging', () => {
  it("gives each run its own temporary folder and removes a dead run's folder at once, keeping partials", async () => {
    const dead = await runFolderOf(deadPid());
    await writeFile(join(staging, 'abc.part'), 'resumable');
    await writeFile(join(staging, 'abc.json'), '{}');
    const run = await openRunStaging(staging, ensureDir);
    expect(run.partialDir).toBe(staging);
    expect(run.tempDir.startsWith(staging)).toBe(true);
    expect((await readdir(staging)).sort()).toEqual(['abc.json', 'abc.part', basename(run.tempDir)].sort());
    expect(dead).not.toBe(run.tempDir);
  });

  it("never removes a live run's folder or files, however old their mtimes look", async () => {
    const live = await runFolderOf(process.ppid);
    // A loose temporary file of an older Wharf: its mtime says 2 hours, but it changed just now.
    await writeFile(join(staging, 'loose.tmp'), 'still being written');
    await utimes(join(staging, 'loose.tmp'), twoHoursAgo(), twoHoursAgo());
    const run = await openRunStaging(staging, ensureDir);
    expect(await readdir(live)).toEqual(['a.tmp']);
    expect(await readdir(staging)).toContain('loose.tmp');
    await run.finish();
    expect((await readdir(staging)).sort()).toEqual([basename(live), 'loose.tmp'].sort());
  });

  it('finish removes its own folder and the staging folder when nothing else is left', async () => {
    const run = await openRunStaging(staging, ensureDir);
    await writeFile(join(run.tempDir, 'left.tmp'), 'x');
    await run.finish();
    expect(await readdir(dir)).toEqual([]);
  });

  it('a run started after another finished and removed the staging folder still gets its folder', async () => {
    const first = await openRunStaging(staging, ensureDir);
    const memoised = new Set<string>();
    const once = async (path: string): Promise<void> => {
      if (memoised.has(path)) return;
      memoised.add(path);
      await ensureDir(path);
    };
    await once(staging);
    await first.finish();
    const second = await openRunStaging(staging, once);
    expect(await readdir(staging)).toEqual([basename(second.tempDir)]);
  });
});
