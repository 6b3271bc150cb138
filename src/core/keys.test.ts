import { describe, expect, it } from 'vitest';
import {
  asFolderPrefix,
  assertCreatableKey,
  assertSafeRelativeKey,
  baseName,
  compareKeys,
  joinKey,
  keysShadowedByFolders,
  unsafeKeyReason,
} from './keys.js';

describe('keys', () => {
  it('accepts ordinary relative keys', () => {
    for (const key of ['a', 'a/b/c.txt', 'with space/ü.txt', '..hidden', 'a..b/c', '.dotfile']) {
      expect(unsafeKeyReason(key)).toBeUndefined();
    }
  });

  it('refuses keys that could escape a folder, with the reason', () => {
    expect(unsafeKeyReason('../x')).toMatch(/'\.\.' segment/);
    expect(unsafeKeyReason('a/../../x')).toMatch(/'\.\.' segment/);
    expect(unsafeKeyReason('/etc/passwd')).toMatch(/absolute/);
    expect(unsafeKeyReason('a\0b')).toMatch(/NUL/);
    expect(unsafeKeyReason('a//b')).toMatch(/empty path segment/);
    expect(unsafeKeyReason('a/')).toMatch(/empty path segment/);
    expect(unsafeKeyReason('a\\..\\b')).toMatch(/backslash/);
    expect(unsafeKeyReason('C:x')).toMatch(/drive letter/);
    expect(unsafeKeyReason('')).toMatch(/empty/);
    expect(() => assertSafeRelativeKey('../x')).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
  });

  it("refuses to create keys with '.' or '..' segments, but not dots inside names or empty segments", () => {
    for (const key of ['a/b.txt', '..hidden', 'a..b/c', '.dotfile', 'a//b', 'folder/', '...']) {
      expect(() => assertCreatableKey(key)).not.toThrow();
    }
    for (const key of ['../x', 'a/../b', 'a/..']) {
      expect(() => assertCreatableKey(key)).toThrow(
        expect.objectContaining({
          code: 'INVALID_KEY',
          message: expect.stringMatching(/'\.\.' segment.*outside/),
        }),
      );
    }
    for (const key of ['a/./b', '.']) {
      expect(() => assertCreatableKey(key)).toThrow(
        expect.objectContaining({ code: 'INVALID_KEY', message: expect.stringMatching(/'\.' segment/) }),
      );
    }
  });

  it('joins, folders and names keys', () => {
    expect(joinKey('a/', '/b', 'c')).toBe('a/b/c');
    expect(joinKey('', 'x')).toBe('x');
    expect(joinKey('p/', '')).toBe('p/');
    expect(asFolderPrefix('')).toBe('');
    expect(asFolderPrefix('a')).toBe('a/');
    expect(asFolderPrefix('a/')).toBe('a/');
    expect(baseName('a/b/c.txt')).toBe('c.txt');
    expect(baseName('c.txt')).toBe('c.txt');
  });

  it('orders keys by UTF-8 bytes as S3 does', () => {
    const keys = ['a0', 'a/', 'a-', '\u{1F433}', '\uFFFD', 'Z', 'a'];
    expect([...keys].sort(compareKeys)).toEqual(['Z', 'a', 'a-', 'a/', 'a0', '\uFFFD', '\u{1F433}']);
  });

  it('names the keys that other keys need as folders, each with the first key below it', () => {
    const keys = ['data/x', 'data/x/y', 'data/x/z', 'data/xy', 'a', 'a/b/c', 'a/b', 'solo'];
    expect(keysShadowedByFolders(keys)).toEqual(
      new Map([
        ['data/x', 'data/x/y'],
        ['a', 'a/b/c'],
        ['a/b', 'a/b/c'],
      ]),
    );
    expect(keysShadowedByFolders(['x/', 'x'])).toEqual(new Map([['x', 'x/']]));
    expect(keysShadowedByFolders(['/a', 'a'])).toEqual(new Map());
  });
});
