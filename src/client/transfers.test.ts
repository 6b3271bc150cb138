import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../storage/memory/memory-driver.js';
import type { ObjectInfo, WriteOptions } from '../storage/types.js';
import { uploadFolder } from './transfers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-upload-folder-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A store that records, per write, the SHA-256 of the bytes it got and the `wharf-sha256` sent with them. */
class CheckingDriver extends MemoryDriver {
  readonly sent = new Map<string, { bytes: string; claimed: string | undefined }>();
  beforeWrite: (key: string) => Promise<void> = async () => undefined;

  override async write(key: string, body: Readable | Uint8Array, o: WriteOptions = {}): Promise<ObjectInfo> {
    await this.beforeWrite(key);
    const chunks: Buffer[] = [];
    if (body instanceof Uint8Array) chunks.push(Buffer.from(body));
    else for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    this.sent.set(key, { bytes: sha256(bytes), claimed: o.metadata?.['wharf-sha256'] });
    return super.write(key, bytes, o);
  }
}

describe('uploadFolder', () => {
  it('sends with each file the SHA-256 of the bytes it sends, even for a file rewritten before its turn', async () => {
    await writeFile(join(dir, 'a.csv'), 'a,1\n');
    await writeFile(join(dir, 'b.csv'), 'b,1\n');
    const driver = new CheckingDriver();
    // While a.csv goes up, b.csv (not uploaded yet) is rewritten, as a program still writing the folder would.
    driver.beforeWrite = async (key) => {
      if (key === 'a.csv') await writeFile(join(dir, 'b.csv'), 'b,2\n');
    };

    const result = await uploadFolder(driver, dir, { concurrency: 1 });

    expect(result.failed).toEqual([]);
    for (const [key, { bytes, claimed }] of driver.sent) expect([key, claimed]).toEqual([key, bytes]);
    expect(result.uploaded).toEqual([
      { path: 'a.csv', size: 4, sha256: sha256(Buffer.from('a,1\n')) },
      { path: 'b.csv', size: 4, sha256: sha256(Buffer.from('b,2\n')) },
    ]);
  });
});
