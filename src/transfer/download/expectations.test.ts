import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WharfError } from '../../core/errors.js';
import { ContentHasher, type HashResult } from './content-hasher.js';
import {
  candidatePartSizes,
  checkDownload,
  expectationsFor,
  hashNeedsFor,
  multipartPartCount,
  SHA256_METADATA_KEY,
  type Expectations,
} from './expectations.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const MD5 = '0123456789abcdef0123456789abcdef';
const MULTI = `${'f'.repeat(32)}-5`;

function thrownBy(fn: () => unknown): Error & { code?: string; retryable?: boolean } {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('candidatePartSizes', () => {
  it('finds 5 MiB for 21 MiB + 123 bytes in 5 parts', () => {
    const sizes = candidatePartSizes(21 * MiB + 123, 5);
    expect(sizes).toContain(5 * MiB);
    for (const p of sizes) expect(Math.ceil((21 * MiB + 123) / p)).toBe(5);
  });

  it('gives exactly 8 MiB for 1 GiB in 128 parts', () => {
    expect(candidatePartSizes(GiB, 128)).toEqual([8 * MiB]);
  });

  it('gives the size itself for one part', () => {
    expect(candidatePartSizes(12_345, 1)).toEqual([12_345]);
    expect(candidatePartSizes(GiB, 1)).toEqual([GiB]);
  });

  it('gives nothing for impossible combinations', () => {
    expect(candidatePartSizes(10 * MiB, 100)).toEqual([]); // parts would be < 1 MiB
    expect(candidatePartSizes(100, 2)).toEqual([]);
    // 10 MiB in 9 parts: 1 MiB gives 10 parts, 2 MiB gives 5.
    expect(candidatePartSizes(10 * MiB, 9)).toEqual([]);
  });

  it('gives nothing for zero parts or an empty object', () => {
    expect(candidatePartSizes(10 * MiB, 0)).toEqual([]);
    expect(candidatePartSizes(0, 1)).toEqual([]);
    expect(candidatePartSizes(0, 3)).toEqual([]);
  });

  it('returns at most 3 sizes, 8 MiB first when valid, then the other usual ones', () => {
    // 15 MiB in 2 parts: every P in 8..14 MiB works.
    const sizes = candidatePartSizes(15 * MiB, 2);
    expect(sizes).toEqual([8 * MiB, 10 * MiB, 9 * MiB]);
  });

  it('ranks powers of two ahead of other unusual sizes', () => {
    // 40 MiB in 2 parts: 20..39 MiB; 32 is in the usual list, the rest ascend.
    expect(candidatePartSizes(40 * MiB, 2)).toEqual([32 * MiB, 20 * MiB, 21 * MiB]);
    // 200 MiB in 2 parts: 100..199 MiB; 100 and 128 are usual (100 first), then the smallest other.
    expect(candidatePartSizes(200 * MiB, 2)).toEqual([100 * MiB, 128 * MiB, 101 * MiB]);
  });

  it('every candidate yields the requested part count', () => {
    for (const [size, parts] of [
      [21 * MiB + 123, 5],
      [100 * MiB + 1, 7],
      [3 * GiB + 17, 193],
      [50 * MiB, 2],
    ] as const) {
      const sizes = candidatePartSizes(size, parts);
      expect(sizes.length).toBeGreaterThan(0);
      expect(sizes.length).toBeLessThanOrEqual(3);
      for (const p of sizes) {
        expect(p % MiB).toBe(0);
        expect(Math.ceil(size / p)).toBe(parts);
      }
    }
  });
});

describe('multipartPartCount', () => {
  it('reads N from quoted and unquoted multipart ETags only', () => {
    expect(multipartPartCount(`"${MULTI}"`)).toBe(5);
    expect(multipartPartCount(MULTI)).toBe(5);
    expect(multipartPartCount(`"${MD5}"`)).toBeUndefined();
    expect(multipartPartCount('"1a2b-10-3c"')).toBeUndefined();
    expect(multipartPartCount(undefined)).toBeUndefined();
  });
});

describe('expectationsFor', () => {
  it('expects a plain MD5 ETag strictly', () => {
    expect(expectationsFor({ key: 'k', size: 10, etag: `"${MD5}"` })).toEqual({
      size: 10,
      md5: { value: MD5, strict: true },
    });
  });

  it('expects a multipart ETag strictly when the store reports the layout', () => {
    const e = expectationsFor(
      { key: 'k', size: 21 * MiB + 123, etag: `"${MULTI}"` },
      {
        partSize: 5 * MiB,
        partsCount: 5,
      },
    );
    expect(e.md5).toEqual({ value: MULTI, partSizes: [5 * MiB], strict: true });
  });

  it('falls back to non-strict candidates without a layout, or with one for a different part count', () => {
    const info = { key: 'k', size: 21 * MiB + 123, etag: `"${MULTI}"` };
    const expected = { value: MULTI, partSizes: candidatePartSizes(info.size, 5), strict: false };
    expect(expected.partSizes).toContain(5 * MiB);
    expect(expectationsFor(info).md5).toEqual(expected);
    expect(expectationsFor(info, { partSize: 4 * MiB, partsCount: 6 }).md5).toEqual(expected);
  });

  it('expects no MD5 for a multipart ETag no whole-MiB part size explains', () => {
    expect(expectationsFor({ key: 'k', size: 100, etag: `"${'a'.repeat(32)}-2"` }).md5).toBeUndefined();
  });

  it('expects no MD5 for ETags that are not MD5s', () => {
    expect(expectationsFor({ key: 'k', size: 1, etag: '"1a2b-10-3c"' }).md5).toBeUndefined();
    expect(expectationsFor({ key: 'k', size: 1 }).md5).toBeUndefined();
  });

  it('expects no MD5 from the ETag of KMS- or SSE-C-encrypted objects', () => {
    for (const encryption of ['aws:kms', 'aws:kms:dsse', 'SSE-C']) {
      expect(expectationsFor({ key: 'k', size: 10, etag: `"${MD5}"`, encryption }).md5).toBeUndefined();
      expect(
        expectationsFor({ key: 'k', size: 21 * MiB + 123, etag: MULTI, encryption }).md5,
      ).toBeUndefined();
    }
    // SSE-S3 ETags are still MD5s.
    expect(expectationsFor({ key: 'k', size: 10, etag: `"${MD5}"`, encryption: 'AES256' }).md5).toEqual({
      value: MD5,
      strict: true,
    });
  });

  it("uses rclone's md5chksum for the whole-file MD5, ahead of a multipart ETag", () => {
    const content = Buffer.from('hello rclone');
    const digest = createHash('md5').update(content).digest();
    const e = expectationsFor({
      key: 'k',
      size: 21 * MiB + 123,
      etag: MULTI,
      metadata: { md5chksum: digest.toString('base64') },
    });
    expect(e.md5).toEqual({ value: digest.toString('hex'), strict: true });
    // Also for encrypted objects: the metadata is the content's MD5, not an ETag.
    const kms = expectationsFor({
      key: 'k',
      size: 5,
      etag: MULTI,
      encryption: 'aws:kms',
      metadata: { md5chksum: digest.toString('base64') },
    });
    expect(kms.md5?.value).toBe(digest.toString('hex'));
  });

  it('ignores a malformed md5chksum and falls back to the ETag', () => {
    const e = expectationsFor({
      key: 'k',
      size: 10,
      etag: `"${MD5}"`,
      metadata: { md5chksum: 'not-base64' },
    });
    expect(e.md5).toEqual({ value: MD5, strict: true });
  });

  it("takes the SHA-256 from Wharf's metadata, lower-cased, ahead of a checksum", () => {
    const sha = 'AB'.repeat(32);
    const e = expectationsFor({
      key: 'k',
      size: 1,
      metadata: { [SHA256_METADATA_KEY]: sha },
      checksums: { SHA256: Buffer.alloc(32, 1).toString('base64') },
    });
    expect(e.sha256).toBe('ab'.repeat(32));
  });

  it('ignores malformed wharf-sha256 metadata', () => {
    expect(expectationsFor({ key: 'k', size: 1, metadata: { [SHA256_METADATA_KEY]: 'xyz' } })).toEqual({
      size: 1,
    });
  });

  it('turns full-object SHA256 and SHA1 checksums from base64 into hex', () => {
    const sha256 = createHash('sha256').update('x').digest();
    const sha1 = createHash('sha1').update('x').digest();
    const e = expectationsFor({
      key: 'k',
      size: 1,
      checksums: { SHA256: sha256.toString('base64'), SHA1: sha1.toString('base64'), CRC32: 'AAAAAA==' },
    });
    expect(e.sha256).toBe(sha256.toString('hex'));
    expect(e.sha1).toBe(sha1.toString('hex'));
  });

  it('ignores composite checksums of multipart uploads', () => {
    const composite = `${createHash('sha256').update('x').digest('base64')}-3`;
    const e = expectationsFor({
      key: 'k',
      size: 1,
      checksums: { SHA256: composite, SHA1: 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0=-2' },
    });
    expect(e.sha256).toBeUndefined();
    expect(e.sha1).toBeUndefined();
  });
});

describe('hashNeedsFor', () => {
  it('asks for the part sizes and optional hashes the expectations need', () => {
    expect(hashNeedsFor({ size: 1 })).toEqual({});
    expect(hashNeedsFor({ size: 1, md5: { value: MD5, strict: true } })).toEqual({});
    expect(
      hashNeedsFor({
        size: 1,
        md5: { value: MULTI, partSizes: [5 * MiB, 8 * MiB], strict: false },
        sha256: 'a'.repeat(64),
        sha1: 'b'.repeat(40),
      }),
    ).toEqual({ md5PartSizes: [5 * MiB, 8 * MiB], sha256: true, sha1: true });
  });
});

describe('checkDownload', () => {
  const content = Buffer.from('the quick brown fox jumps over the lazy dog, several times over');
  const hashOf = (partSizes: number[] = [], extra: { sha256?: boolean; sha1?: boolean } = {}): HashResult => {
    const h = new ContentHasher({ md5PartSizes: partSizes, ...extra });
    h.update(content);
    return h.digest();
  };
  const plainMd5 = createHash('md5').update(content).digest('hex');

  it('throws a retryable IO error naming the object on a size mismatch', () => {
    const error = thrownBy(() =>
      checkDownload('mem/data/file.bin', { size: content.length + 1 }, content.length, hashOf()),
    );
    expect(error).toBeInstanceOf(WharfError);
    expect(error).toMatchObject({ code: 'IO', retryable: true });
    expect(error.message).toContain('mem/data/file.bin');
    expect(error.message).toContain(`expected ${content.length + 1} bytes, got ${content.length} bytes`);
  });

  it('passes a matching plain MD5', () => {
    const r = checkDownload(
      'x',
      { size: content.length, md5: { value: plainMd5, strict: true } },
      content.length,
      hashOf(),
    );
    expect(r.passed).toEqual(['size', 'md5']);
    expect(r.digest).toEqual({ algorithm: 'md5', value: plainMd5 });
  });

  it('throws on a strict MD5 mismatch', () => {
    const error = thrownBy(() =>
      checkDownload(
        'obj',
        { size: content.length, md5: { value: MD5, strict: true } },
        content.length,
        hashOf(),
      ),
    );
    expect(error).toMatchObject({ code: 'IO', retryable: true });
    expect(error.message).toMatch(/^obj: .*ETag/);
    expect(error.message).toContain(MD5);
    expect(error.message).toContain(plainMd5);
  });

  it('lets a non-strict mismatch pass unverified and returns the first digest', () => {
    const hashes = hashOf([16, 32]);
    const r = checkDownload(
      'obj',
      { size: content.length, md5: { value: MULTI, partSizes: [16, 32], strict: false } },
      content.length,
      hashes,
    );
    expect(r.passed).toEqual(['size']);
    expect(r.passed).not.toContain('etag-md5-parts');
    expect(r.digest).toEqual(hashes.md5[0]);
    expect(r.digest.partSize).toBe(16);
  });

  it('returns the candidate that matched as the digest', () => {
    const hashes = hashOf([16, 32, 64]);
    const second = hashes.md5[1];
    expect(second?.partSize).toBe(32);
    const r = checkDownload(
      'obj',
      { size: content.length, md5: { value: second?.value ?? '', partSizes: [16, 32, 64], strict: false } },
      content.length,
      hashes,
    );
    expect(r.passed).toEqual(['size', 'etag-md5-parts']);
    expect(r.digest).toEqual(second);
  });

  it('checks SHA-256 and SHA-1', () => {
    const hashes = hashOf([], { sha256: true, sha1: true });
    const good: Expectations = {
      size: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      sha1: createHash('sha1').update(content).digest('hex'),
    };
    expect(checkDownload('o', good, content.length, hashes).passed).toEqual(['size', 'sha256', 'sha1']);
    expect(() => checkDownload('o', { ...good, sha256: 'a'.repeat(64) }, content.length, hashes)).toThrow(
      /SHA-256/,
    );
    expect(() => checkDownload('o', { ...good, sha1: 'a'.repeat(40) }, content.length, hashes)).toThrow(
      /SHA-1/,
    );
    // Expected but never computed is a failure, not a pass.
    expect(() =>
      checkDownload('o', { size: content.length, sha256: good.sha256 }, content.length, hashOf()),
    ).toThrow(/got none/);
  });
});
