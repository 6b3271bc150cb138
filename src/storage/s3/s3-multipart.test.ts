import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { choosePartSize, readExactly, readParts, untilAborted } from './s3-multipart.js';

const MIB = 1024 * 1024;

describe('multipart helpers', () => {
  it('grows the part size so a body fits in 10,000 parts', () => {
    expect(choosePartSize(8 * MIB, undefined)).toBe(8 * MIB);
    expect(choosePartSize(8 * MIB, 80_000 * MIB)).toBe(8 * MIB);
    expect(choosePartSize(8 * MIB, 80_000 * MIB + 1)).toBe(9 * MIB);
    expect(() => choosePartSize(MIB, 10)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => choosePartSize(8 * MIB, 60 * 1024 ** 4)).toThrow(/at most 10,000 parts/);
  });

  it('cuts a stream into exact parts with a short tail and no empty part', async () => {
    const chunks = [Buffer.alloc(3, 1), 'ab', Buffer.alloc(0), Buffer.alloc(7, 2)];
    const parts: Buffer[] = [];
    for await (const p of readParts(Readable.from(chunks), 4)) parts.push(Buffer.from(p));
    expect(parts.map((p) => p.length)).toEqual([4, 4, 4]);
    expect(
      Buffer.concat(parts).equals(Buffer.concat([Buffer.alloc(3, 1), Buffer.from('ab'), Buffer.alloc(7, 2)])),
    ).toBe(true);
    const exact: Buffer[] = [];
    for await (const p of readParts(Readable.from([Buffer.alloc(8)]), 4)) exact.push(p);
    expect(exact.map((p) => p.length)).toEqual([4, 4]);
    const none: Buffer[] = [];
    for await (const p of readParts(Readable.from([]), 4)) none.push(p);
    expect(none).toEqual([]);
  });

  it('reads a body of a declared size exactly', async () => {
    expect((await readExactly(Readable.from([Buffer.from('ab'), Buffer.from('c')]), 3)).toString()).toBe(
      'abc',
    );
    await expect(readExactly(Readable.from([Buffer.from('abcd')]), 3)).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    await expect(readExactly(Readable.from([Buffer.from('ab')]), 3)).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });

  it('stops waiting for a stalled body when aborted', async () => {
    const controller = new AbortController();
    const stalled = new Promise<never>(() => undefined);
    setTimeout(() => controller.abort(), 10);
    await expect(untilAborted(stalled, controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
