import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryFirstWriter, writeNewFileDurably } from './small-body.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-small-body-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Hands `writer` the chunks as a socket would: one reused buffer, overwritten after each call. */
async function feed(writer: MemoryFirstWriter, chunks: string[]): Promise<void> {
  const borrowed = Buffer.alloc(64);
  for (const chunk of chunks) {
    const n = borrowed.write(chunk);
    await writer.write(borrowed.subarray(0, n));
    borrowed.fill(0x2a);
  }
  await writer.end();
}

describe('MemoryFirstWriter', () => {
  it('keeps a body within the limit in memory, copied out of the borrowed chunks, growing past the announced size', async () => {
    let opened = 0;
    const writer = new MemoryFirstWriter(4, 32, 8, async () => {
      opened += 1;
      return open(join(dir, 'never'), 'wx');
    });
    await feed(writer, ['abc', 'def', 'ghijklmnop']);
    expect(writer.inMemory?.toString()).toBe('abcdefghijklmnop');
    expect(opened).toBe(0);
  });

  it('moves to the file once the body passes the limit: the held bytes first, then the rest, in order', async () => {
    const path = join(dir, 'spilled');
    const writer = new MemoryFirstWriter(8, 8, 4, () => open(path, 'wx'));
    await feed(writer, ['12345', '6789', 'abcdefghij', 'k']);
    expect(writer.inMemory).toBeUndefined();
    expect(await readFile(path, 'utf8')).toBe('123456789abcdefghijk');
  });

  it('with a limit of 0 streams every byte to the file; an empty body stays an empty buffer', async () => {
    const path = join(dir, 'streamed');
    const streamed = new MemoryFirstWriter(100, 0, 16, () => open(path, 'wx'));
    await feed(streamed, ['hello ', 'world']);
    expect(streamed.inMemory).toBeUndefined();
    expect(await readFile(path, 'utf8')).toBe('hello world');
    const empty = new MemoryFirstWriter(100, 0, 16, () => open(join(dir, 'empty'), 'wx'));
    await empty.end();
    expect(empty.inMemory?.length).toBe(0);
  });
});

describe('writeNewFileDurably', () => {
  it('creates the file with the bytes and the mtime, and returns the recorded mtime', async () => {
    const path = join(dir, 'f.bin');
    const when = new Date('2024-05-06T07:08:09Z');
    const mtimeMs = await writeNewFileDurably(path, Buffer.from('payload'), when);
    expect(await readFile(path, 'utf8')).toBe('payload');
    expect(mtimeMs).toBe(when.getTime());
    expect((await stat(path)).mtimeMs).toBe(mtimeMs);
    expect(await writeNewFileDurably(join(dir, 'empty'), Buffer.alloc(0), undefined)).toBeGreaterThan(0);
  });

  it('refuses a path that exists, leaving it as it was', async () => {
    const path = join(dir, 'taken');
    await writeFile(path, 'mine');
    await expect(writeNewFileDurably(path, Buffer.from('theirs'), undefined)).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(await readFile(path, 'utf8')).toBe('mine');
  });
});
