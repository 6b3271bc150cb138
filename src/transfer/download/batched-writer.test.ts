import { mkdtemp, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchedFileWriter, BufferPool, writeAllAt } from './batched-writer.js';

const dirs: string[] = [];
afterEach(async () => {
  while (dirs.length > 0) await rm(dirs.pop() as string, { recursive: true, force: true });
});

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-batched-'));
  dirs.push(dir);
  return join(dir, 'out.bin');
}

describe('BufferPool', () => {
  it('makes at most `count` buffers and hands a returned one to the next waiter', async () => {
    const pool = new BufferPool(8, 2);
    const a = pool.take();
    const b = pool.take();
    expect(a?.length).toBe(8);
    expect(b).toBeDefined();
    expect(pool.take()).toBeUndefined();
    const waiting = pool.acquire();
    pool.release(a as Buffer);
    expect(await waiting).toBe(a);
  });
});

describe('BatchedFileWriter', () => {
  it('writes borrowed chunks at consecutive positions, reusing a small pool', async () => {
    const path = await tempFile();
    const handle = await open(path, 'w+');
    const pool = new BufferPool(5, 2);
    const ranges = [new BatchedFileWriter(handle, 0, pool), new BatchedFileWriter(handle, 20, pool)];
    const scratch = Buffer.alloc(3);
    const texts = ['abcdefghijklmnopqrst', 'ABCDEFGHIJKLMNOPQRST'];
    // Interleave both writers, reusing one scratch buffer as a socket's read buffer is reused.
    for (let at = 0; at < 20; at += 3) {
      for (const [i, writer] of ranges.entries()) {
        const n = scratch.write((texts[i] as string).slice(at, at + 3));
        await writer.write(scratch.subarray(0, n));
        scratch.fill(0);
      }
    }
    expect(await ranges[0]?.end()).toBe(20);
    expect(await ranges[1]?.end()).toBe(40);
    await handle.close();
    expect(await readFile(path, 'utf8')).toBe(texts.join(''));
  });

  it('reports a failed write at the next write or at the end', async () => {
    const path = await tempFile();
    const handle = await open(path, 'w+');
    await handle.close(); // every write now fails with EBADF
    const writer = new BatchedFileWriter(handle, 0, new BufferPool(4, 1));
    await writer.write(Buffer.from('abcd'));
    await expect(writer.end()).rejects.toMatchObject({ code: 'EBADF' });
  });
});

describe('writeAllAt', () => {
  it('finishes a vectored write the kernel took only part of, at the right offsets', async () => {
    const file = Buffer.alloc(32, '.');
    const calls: number[] = [];
    // A handle whose writev accepts at most 5 bytes per call, as a short write would.
    const handle = {
      writev: async (buffers: Buffer[], position: number) => {
        const data = Buffer.concat(buffers).subarray(0, 5);
        data.copy(file, position);
        calls.push(position);
        return { bytesWritten: data.length, buffers };
      },
    } as unknown as FileHandle;
    const chunks = [Buffer.from('abcdefg'), Buffer.from('hij'), Buffer.from('klmnop')];
    await writeAllAt(handle, chunks, 16, 10);
    expect(file.toString()).toBe('..........abcdefghijklmnop......');
    expect(calls).toEqual([10, 15, 20, 25]);
  });

  it('fails instead of looping when a write makes no progress', async () => {
    const handle = {
      writev: async (buffers: Buffer[]) => ({ bytesWritten: 0, buffers }),
    } as unknown as FileHandle;
    await expect(writeAllAt(handle, [Buffer.from('abc')], 3, 0)).rejects.toThrow(/made no progress/);
  });
});
