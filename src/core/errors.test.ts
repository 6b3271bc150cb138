import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aboutSubject, InvalidKeyError, toWharfError, type WharfError } from './errors.js';

describe('toWharfError for file-system errors', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'wharf-errors-'));
    await writeFile(join(root, 'file'), 'x');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const failure = async (call: Promise<unknown>): Promise<WharfError> => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'the call should have failed').toBeDefined();
    return toWharfError(error);
  };

  it('names the action, the path and the reason in words, with what to do', async () => {
    const missing = await failure(mkdir(join(root, 'no', 'such')));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toBe(
      `cannot create the folder ${join(root, 'no', 'such')}: no such file or folder`,
    );
    expect(missing.hint).toMatch(/parent folder must exist/);

    const inTheWay = await failure(mkdir(join(root, 'file', 'below')));
    expect(inTheWay.code).toBe('IO');
    expect(inTheWay.message).toBe(
      `cannot create the folder ${join(root, 'file', 'below')}: part of the path is a file, not a folder`,
    );
    expect(inTheWay.hint).toMatch(/move the file out of the way/);

    const moved = await failure(rename(join(root, 'gone'), join(root, 'there')));
    expect(moved.message).toBe(
      `cannot move ${join(root, 'gone')} to ${join(root, 'there')}: no such file or folder`,
    );
  });

  it('maps permission errors to ACCESS_DENIED and keeps unknown codes readable', () => {
    const denied = toWharfError(
      Object.assign(new Error("EACCES: permission denied, open '/srv/x'"), {
        code: 'EACCES',
        syscall: 'open',
        path: '/srv/x',
      }),
    );
    expect(denied.code).toBe('ACCESS_DENIED');
    expect(denied.message).toBe('cannot open /srv/x: permission denied');
    expect(denied.hint).toMatch(/permissions/);

    const odd = toWharfError(
      Object.assign(new Error('EWEIRD'), { code: 'EWEIRD', syscall: 'open', path: '/x' }),
    );
    expect(odd.code).toBe('IO');
    expect(odd.message).toBe('cannot open /x: EWEIRD');
  });

  it("after a caller's context, gives the reason alone", () => {
    const cache = toWharfError(
      Object.assign(new Error('x'), { code: 'EACCES', syscall: 'open', path: '/d/.wharf/stat-cache' }),
      'reading the stat cache /d/.wharf/stat-cache',
    );
    expect(cache.message).toBe('reading the stat cache /d/.wharf/stat-cache: permission denied');
    expect(cache.code).toBe('ACCESS_DENIED');
  });

  it('keeps ENOSPC short and other errors as they were', () => {
    const full = toWharfError(
      Object.assign(new Error('nospc'), { code: 'ENOSPC', syscall: 'write', path: '/x' }),
    );
    expect(full.message).toBe('no space left on device');
    expect(full.hint).toMatch(/free some disk space/);
    // It cannot know that nothing else was written (a run may have placed many files before the disk filled).
    expect(full.hint).not.toMatch(/nothing was written/);
    const plain = toWharfError(new Error('something else'), 'context');
    expect(plain.code).toBe('INTERNAL');
    expect(plain.message).toBe('context: something else');
  });
});

describe('aboutSubject', () => {
  it('puts the subject first once', () => {
    expect(aboutSubject('s3://b/k', 'access denied')).toBe('s3://b/k: access denied');
    expect(aboutSubject('s3://b/k', 's3://b/k: downloaded content does not match')).toBe(
      's3://b/k: downloaded content does not match',
    );
    expect(aboutSubject('s3://b/k', 's3://b/k2: other')).toBe('s3://b/k: s3://b/k2: other');
  });
});

describe('InvalidKeyError', () => {
  it('quotes a short key whole', () => {
    expect(new InvalidKeyError('a/../b', 'no').message).toBe('refusing object key "a/../b": no');
  });

  it('shows a long key as its start, its end and its size, so the reason stays readable', () => {
    const key = `${'x'.repeat(500)}/é${'y'.repeat(600)}`;
    const message = new InvalidKeyError(key, 'too long').message;
    expect(message).toBe(
      `refusing object key "${'x'.repeat(80)}"…"${'y'.repeat(80)}" (1103 bytes): too long`,
    );
    expect(message.length).toBeLessThan(250);
  });
});
