import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csvBytesPerRow, makePipe, openPipeForWriting } from './csv-pipe.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-csv-pipe-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeAll(path: string, reader: Promise<unknown>, data: Buffer): Promise<void> {
  const handle = await openPipeForWriting(path, reader);
  try {
    for (let offset = 0; offset < data.length;) {
      const { bytesWritten } = await handle.write(data, offset, Math.min(256 * 1024, data.length - offset));
      offset += bytesWritten;
    }
  } finally {
    await handle.close();
  }
}

describe('csv pipe', () => {
  it('carries every byte from the writer to a reader that opens the pipe by name, end of input at close', async () => {
    const path = join(dir, 'rows.csv');
    expect(await makePipe(path)).toBe(true);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const reader = readFile(path);
    await writeAll(path, reader, data);
    expect((await reader).equals(data)).toBe(true);
  });

  it('throws the reader error instead of waiting forever when the reader fails before opening the pipe', async () => {
    const path = join(dir, 'rows.csv');
    expect(await makePipe(path)).toBe(true);
    const reader = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('duckdb could not start')), 50),
    );
    await expect(openPipeForWriting(path, reader)).rejects.toThrow('duckdb could not start');
  });

  it('fails the writer (no hang) when the reader stops in the middle', async () => {
    const path = join(dir, 'rows.csv');
    expect(await makePipe(path)).toBe(true);
    const reader = (async () => {
      const handle = await open(path, 'r');
      await handle.read(Buffer.alloc(4096), 0, 4096, null);
      await handle.close();
      throw new Error('reader gave up');
    })();
    reader.catch(() => undefined);
    await expect(writeAll(path, reader, randomBytes(8 * 1024 * 1024))).rejects.toThrow(/EPIPE/);
  });

  it('estimates CSV bytes per row from a batch', () => {
    expect(csvBytesPerRow(Buffer.from('1,a\n2,bb\n3,ccc\n'))).toBe(5);
    expect(csvBytesPerRow(Buffer.from('no newline yet'))).toBe(14);
  });
});
