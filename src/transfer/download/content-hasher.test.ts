import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContentHasher, describeDigest, sameDigest, type FileDigest } from './content-hasher.js';

const md5 = (data: Uint8Array): Buffer => createHash('md5').update(data).digest();
const hex = (algorithm: string, data: Uint8Array): string => createHash(algorithm).update(data).digest('hex');

/** The S3 multipart ETag, computed independently of the code under test. */
function multipartEtag(data: Buffer, partSize: number): string {
  const digests: Buffer[] = [];
  for (let start = 0; start < data.length || digests.length === 0; start += partSize) {
    digests.push(md5(data.subarray(start, start + partSize)));
  }
  return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}`;
}

/** A small deterministic PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function bytes(n: number, seed = 1): Buffer {
  const rnd = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** Cuts `data` at the given offsets (sorted, inside the buffer) and feeds the pieces. */
function feedAt(hasher: ContentHasher, data: Buffer, cuts: number[]): void {
  let last = 0;
  for (const cut of [...cuts, data.length]) {
    hasher.update(data.subarray(last, cut));
    last = cut;
  }
}

function randomCuts(length: number, rnd: () => number, maxChunk: number): number[] {
  const cuts: number[] = [];
  let at = 0;
  for (;;) {
    at += 1 + Math.floor(rnd() * maxChunk);
    if (at >= length) return cuts;
    cuts.push(at);
  }
}

describe('ContentHasher', () => {
  it('computes the plain MD5 of the whole content without part sizes', () => {
    const data = bytes(100_003);
    const hasher = new ContentHasher({});
    feedAt(hasher, data, [1, 500, 4096, 70_000]);
    const result = hasher.digest();
    expect(result.md5).toEqual([{ algorithm: 'md5', value: hex('md5', data) }]);
    expect(result.sha256).toBeUndefined();
    expect(result.sha1).toBeUndefined();
  });

  it('also gives the plain MD5 when the part size list is empty', () => {
    const data = bytes(1000);
    const hasher = new ContentHasher({ md5PartSizes: [] });
    hasher.update(data);
    expect(hasher.digest().md5).toEqual([{ algorithm: 'md5', value: hex('md5', data) }]);
  });

  it('computes the multipart ETag form regardless of how the input is chunked', () => {
    const partSize = 1000;
    const rnd = prng(42);
    for (const length of [1, 999, 1000, 1001, 2000, 5_432, 10_000]) {
      const data = bytes(length, length);
      const expected = multipartEtag(data, partSize);
      const chunkings: number[][] = [
        [], // one chunk
        Array.from({ length: Math.floor((length - 1) / partSize) }, (_, i) => (i + 1) * partSize), // exactly on boundaries
        Array.from({ length: Math.floor((length - 1) / 7) }, (_, i) => (i + 1) * 7), // many tiny chunks
        randomCuts(length, rnd, 2_500), // chunks spanning several parts
        randomCuts(length, rnd, 300),
      ];
      for (const cuts of chunkings) {
        const hasher = new ContentHasher({ md5PartSizes: [partSize] });
        // Empty chunks in between must not matter either.
        hasher.update(Buffer.alloc(0));
        feedAt(hasher, data, cuts);
        hasher.update(Buffer.alloc(0));
        expect(hasher.digest().md5, `length ${length}, cuts ${cuts.join(',')}`).toEqual([
          { algorithm: 'md5', partSize, value: expected },
        ]);
      }
    }
  });

  it('counts parts as S3 does: an exact multiple has no empty trailing part', () => {
    const data = bytes(3000);
    const hasher = new ContentHasher({ md5PartSizes: [1000] });
    hasher.update(data);
    const [digest] = hasher.digest().md5;
    expect(digest?.value.endsWith('-3')).toBe(true);
    expect(digest?.value).toBe(multipartEtag(data, 1000));
  });

  it('gives a single part for content smaller than the part size', () => {
    const data = bytes(10);
    const hasher = new ContentHasher({ md5PartSizes: [1 << 20] });
    hasher.update(data);
    const expected = `${createHash('md5').update(md5(data)).digest('hex')}-1`;
    expect(hasher.digest().md5[0]?.value).toBe(expected);
  });

  it('handles empty input in both forms', () => {
    const whole = new ContentHasher({});
    expect(whole.digest().md5[0]?.value).toBe('d41d8cd98f00b204e9800998ecf8427e');

    const parts = new ContentHasher({ md5PartSizes: [1000], sha256: true, sha1: true });
    const result = parts.digest();
    const emptyMd5 = md5(Buffer.alloc(0));
    expect(result.md5).toEqual([
      { algorithm: 'md5', partSize: 1000, value: `${createHash('md5').update(emptyMd5).digest('hex')}-1` },
    ]);
    expect(result.sha256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(result.sha1).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
  });

  it('computes SHA-256 and SHA-1 only when asked', () => {
    const data = bytes(12_345);
    const both = new ContentHasher({ sha256: true, sha1: true });
    feedAt(both, data, [3, 4000, 9000]);
    const r = both.digest();
    expect(r.sha256).toBe(hex('sha256', data));
    expect(r.sha1).toBe(hex('sha1', data));

    const onlySha256 = new ContentHasher({ sha256: true });
    onlySha256.update(data);
    const r2 = onlySha256.digest();
    expect(r2.sha256).toBe(hex('sha256', data));
    expect(r2).not.toHaveProperty('sha1');

    const onlySha1 = new ContentHasher({ sha1: true, sha256: false });
    onlySha1.update(data);
    const r3 = onlySha1.digest();
    expect(r3.sha1).toBe(hex('sha1', data));
    expect(r3).not.toHaveProperty('sha256');
  });

  it('computes several candidate part sizes at once, in the order given', () => {
    const data = bytes(25_001, 7);
    const sizes = [8_000, 5_000, 16_000, 25_001, 30_000];
    const hasher = new ContentHasher({ md5PartSizes: sizes, sha256: true });
    feedAt(hasher, data, randomCuts(data.length, prng(3), 6_000));
    const result = hasher.digest();
    expect(result.md5).toEqual(
      sizes.map((partSize) => ({ algorithm: 'md5', partSize, value: multipartEtag(data, partSize) })),
    );
    expect(result.md5.map((d) => d.value.split('-')[1])).toEqual(['4', '6', '2', '1', '1']);
    expect(result.sha256).toBe(hex('sha256', data));
  });

  it('refuses part sizes that are not positive integers', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new ContentHasher({ md5PartSizes: [bad] })).toThrow(RangeError);
    }
  });
});

describe('sameDigest / describeDigest', () => {
  const plain: FileDigest = { algorithm: 'md5', value: 'a'.repeat(32) };
  const parts: FileDigest = { algorithm: 'md5', partSize: 8, value: `${'a'.repeat(32)}-2` };

  it('compares algorithm, part size and value', () => {
    expect(sameDigest(plain, { ...plain })).toBe(true);
    expect(sameDigest(parts, { ...parts })).toBe(true);
    expect(sameDigest(plain, { ...plain, value: 'b'.repeat(32) })).toBe(false);
    expect(sameDigest(parts, { ...parts, partSize: 16 })).toBe(false);
    expect(sameDigest(plain, { ...plain, partSize: 8 })).toBe(false);
  });

  it('describes both forms', () => {
    expect(describeDigest(plain)).toBe(`md5 ${plain.value}`);
    expect(describeDigest(parts)).toBe(`md5 of 8-byte parts ${parts.value}`);
  });
});
