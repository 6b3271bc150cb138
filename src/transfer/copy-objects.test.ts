import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalDriver } from '../storage/local/local-driver.js';
import { MemoryDriver } from '../storage/memory/memory-driver.js';
import type { CopyEvent } from './copy-events.js';
import { copyObjects, planTreeCopy } from './copy-objects.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-copy-objects-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('copyObjects into a local folder', () => {
  it('fails once, not once per object, when its staging folder cannot be made', async () => {
    const source = new MemoryDriver();
    for (const key of ['a.txt', 'b.txt', 'c/d.txt']) await source.write(key, Buffer.from(key));
    await writeFile(join(dir, 'file'), 'x');
    // A folder under a plain file: every mkdir there fails (ENOTDIR), as on a read-only disk (EROFS).
    const dest = new LocalDriver({ root: join(dir, 'file', 'dest') });
    const plan = await planTreeCopy(source, '', dest, '');
    const events: CopyEvent[] = [];

    await expect(
      copyObjects(source, dest, plan, { concurrency: 2, onEvent: (e) => events.push(e) }),
    ).rejects.toMatchObject({
      affectsAll: true,
      message: expect.stringMatching(/cannot create the folder .*dest/),
    });
    expect(events.filter((e) => e.type === 'file-failed')).toEqual([]);
  });
});
