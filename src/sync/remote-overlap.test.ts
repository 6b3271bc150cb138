import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adoptUntracked } from './adopt-untracked.js';
import { assertRemoteApart } from './remote-overlap.js';
import { initSync } from './sync-admin.js';
import { syncFolder } from './sync-folder.js';

describe('a local-folder remote that overlaps the synced folder', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-sync-overlap-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('is refused when it is the folder, inside it (even not yet created) or holds it', async () => {
    const team = join(work, 'team');
    await mkdir(join(team, 'backup'), { recursive: true });
    await expect(assertRemoteApart(team, team)).rejects.toThrow(/is the synced folder itself/);
    await expect(assertRemoteApart(team, join(team, 'backup'))).rejects.toThrow(/inside the synced folder/);
    await expect(assertRemoteApart(team, join(team, 'new', 'deeper'))).rejects.toThrow(
      /inside the synced folder/,
    );
    await expect(assertRemoteApart(team, work)).rejects.toThrow(/holds the synced folder/);
    await expect(assertRemoteApart(team, `file://${join(team, 'backup')}`)).rejects.toMatchObject({
      code: 'USAGE',
    });
  });

  it('is refused through a symlink to the folder; a sibling whose name starts like it passes', async () => {
    const team = join(work, 'team');
    await mkdir(team);
    await symlink(team, join(work, 'alias'));
    await expect(assertRemoteApart(team, join(work, 'alias', 'backup'))).rejects.toThrow(/inside/);
    await expect(assertRemoteApart(team, join(work, 'team-backup'))).resolves.toBeUndefined();
    await expect(assertRemoteApart(team, join(work, '..team'))).resolves.toBeUndefined();
    await expect(assertRemoteApart(team, 's3://bucket/team')).resolves.toBeUndefined();
  });

  it('sync init refuses it and writes no link; a link edited to overlap later makes sync refuse', async () => {
    const team = join(work, 'team');
    await mkdir(join(team, 'backup'), { recursive: true });
    await mkdir(join(work, 'remote'));
    await writeFile(join(team, 'a.txt'), 'hello');
    await expect(initSync({ dir: team, remote: join(team, 'backup'), member: 'm' })).rejects.toMatchObject({
      code: 'USAGE',
    });
    await expect(readFile(join(team, '.wharf', 'sync.json'))).rejects.toThrow();

    await initSync({ dir: team, remote: join(work, 'remote'), member: 'm' });
    const configFile = join(team, '.wharf', 'sync.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { remote: string };
    await writeFile(configFile, JSON.stringify({ ...config, remote: join(team, 'backup') }));
    await expect(syncFolder({ dir: team })).rejects.toThrow(/inside the synced folder/);
    await expect(adoptUntracked({ dir: team })).rejects.toThrow(/inside the synced folder/);
    await expect(readFile(join(team, 'backup', 'a.txt'))).rejects.toThrow();
  });
});
