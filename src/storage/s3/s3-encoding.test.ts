import { describe, expect, it } from 'vitest';
import {
  assertS3Key,
  s3KeyRefusal,
  checksumsOf,
  decodeListValue,
  decodeMetadata,
  encodeCopySource,
  encodeMetadata,
  rangeHeader,
  wholeSeconds,
} from './s3-encoding.js';

describe('s3 encoding', () => {
  it('encodes copy sources segment by segment', () => {
    expect(encodeCopySource('b', 'a dir/x+y%z=1&ü.txt')).toBe('b/a%20dir/x%2By%25z%3D1%26%C3%BC.txt');
    expect(encodeCopySource('b', "it's (1)*!")).toBe('b/it%27s%20%281%29%2A%21');
    expect(encodeCopySource('b', 'a//b/')).toBe('b/a//b/');
  });

  it('formats and validates ranges', () => {
    expect(rangeHeader(undefined)).toBeUndefined();
    expect(rangeHeader({ start: 0, end: 9 })).toBe('bytes=0-9');
    expect(rangeHeader({ start: 5 })).toBe('bytes=5-');
    expect(rangeHeader({ suffix: 3 })).toBe('bytes=-3');
    for (const bad of [{ suffix: 0 }, { suffix: -1 }, { start: -1 }, { start: 5, end: 4 }, { start: 1.5 }]) {
      expect(() => rangeHeader(bad)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    }
  });

  it('lower-cases metadata keys and round-trips values headers cannot carry', () => {
    const input = { Owner: 'Team A', uni: 'héllo ✓', pad: ' x ', word: '=?UTF-8?B?eA==?=', plain: 'a=b;c' };
    const encoded = encodeMetadata(input) ?? {};
    expect(Object.keys(encoded)).toEqual(['owner', 'uni', 'pad', 'word', 'plain']);
    expect(encoded['owner']).toBe('Team A');
    expect(encoded['plain']).toBe('a=b;c');
    expect(encoded['uni']).toMatch(/^=\?UTF-8\?B\?/);
    for (const value of Object.values(encoded)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    expect(decodeMetadata(encoded)).toEqual({
      owner: 'Team A',
      uni: 'héllo ✓',
      pad: ' x ',
      word: '=?UTF-8?B?eA==?=',
      plain: 'a=b;c',
    });
    expect(() => encodeMetadata({ 'bad key': 'v' })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    expect(encodeMetadata(undefined)).toBeUndefined();
  });

  it('decodes url-encoded listing values from AWS (+ for space) and RGW (%20)', () => {
    expect(decodeListValue('a+b%2Bc', true)).toBe('a b+c');
    expect(decodeListValue('a%20b%2Bc%2Fd', true)).toBe('a b+c/d');
    expect(decodeListValue('a+b', false)).toBe('a+b');
  });

  it('collects checksums and floors dates', () => {
    expect(checksumsOf({})).toBeUndefined();
    expect(checksumsOf({ ChecksumCRC32: 'x', ChecksumSHA256: 'y' })).toEqual({ CRC32: 'x', SHA256: 'y' });
    expect(wholeSeconds(new Date('2026-01-01T00:00:01.999Z'))?.toISOString()).toBe(
      '2026-01-01T00:00:01.000Z',
    );
  });

  it('refuses keys S3 cannot store', () => {
    expect(() => assertS3Key('')).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
    expect(() => assertS3Key('x'.repeat(1025))).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
    expect(() => assertS3Key('ü'.repeat(512))).not.toThrow();
    expect(() => assertS3Key('../odd//but fine')).not.toThrow();
  });

  it('says how long a refused key is and what to do (s3KeyRefusal: the same refusal, returned)', () => {
    const key = `${'ü'.repeat(512)}x`;
    const refusal = s3KeyRefusal(key);
    expect(refusal).toMatchObject({
      code: 'INVALID_KEY',
      key,
      reason: 'the key is 1,025 bytes; S3 allows 1,024',
      hint: expect.stringMatching(/^shorten the file or folder names/),
    });
    expect(() => assertS3Key(key)).toThrow(refusal!.message);
    expect(s3KeyRefusal('ü'.repeat(512))).toBeUndefined();
  });
});
