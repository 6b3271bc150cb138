import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockFolder } from './folder-lock.js';

let stateDir: string;
let lockPath: string;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'wharf-lock-'));
  lockPath = join(stateDir, 'lock');
});

afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

/** The pid of a process that has exited (and been reaped), so nothing runs under it now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  if (child.pid === undefined) throw new Error('could not start a child process');
  return child.pid;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('lockDatasetFolder', () => {
  it('writes a lock naming this process and removes it on release', async () => {
    const release = await lockFolder(stateDir, '/data/ds');
    const holder = JSON.parse(await readFile(lockPath, 'utf8')) as {
      pid: number;
      host: string;
      since: string;
    };
    expect(holder.pid).toBe(process.pid);
    expect(holder.host).toBe(hostname());
    expect(Number.isNaN(Date.parse(holder.since))).toBe(false);
    await release();
    expect(await exists(lockPath)).toBe(false);
  });

  it('refuses a second lock with CONFLICT while the first is held, and allows one after release', async () => {
    const release = await lockFolder(stateDir, '/data/ds');
    const second = lockFolder(stateDir, '/data/ds');
    await expect(second).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(lockFolder(stateDir, '/data/ds')).rejects.toThrow(`pid ${process.pid}`);
    // The refused attempt did not disturb the holder's lock.
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
    await release();

    const again = await lockFolder(stateDir, '/data/ds');
    await again();
  });

  it('takes over a lock left by a dead process on this host', async () => {
    const pid = deadPid();
    await writeFile(lockPath, JSON.stringify({ pid, host: hostname(), since: '2020-01-01T00:00:00.000Z' }));
    const release = await lockFolder(stateDir, '/data/ds');
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
    });
    await release();
  });

  it('does not take over a lock of a live process on this host', async () => {
    // The parent of this process is alive for as long as the test runs.
    await writeFile(lockPath, JSON.stringify({ pid: process.ppid, host: hostname(), since: 'x' }));
    await expect(lockFolder(stateDir, '/data/ds')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: process.ppid });
  });

  it('does not take over a lock from another host, whose processes it cannot see', async () => {
    const pid = deadPid();
    await writeFile(lockPath, JSON.stringify({ pid, host: `${hostname()}-elsewhere`, since: 'x' }));
    await expect(lockFolder(stateDir, '/data/ds')).rejects.toThrow(`${hostname()}-elsewhere`);
  });

  it('treats an unreadable lock as held', async () => {
    await writeFile(lockPath, '{"pid": 12');
    await expect(lockFolder(stateDir, '/data/ds')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await readFile(lockPath, 'utf8')).toBe('{"pid": 12');
  });

  it('takes over a lock still empty a minute after it was made: its maker died before writing it', async () => {
    await writeFile(lockPath, '');
    const longAgo = new Date(Date.now() - 61_000);
    await utimes(lockPath, longAgo, longAgo);
    const release = await lockFolder(stateDir, '/data/ds');
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
    await release();
  });

  it('fails with one line naming the folder when the state folder is missing', async () => {
    await expect(lockFolder(join(stateDir, 'missing'), '/data/ds')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('locking /data/ds') as unknown,
    });
  });
});
