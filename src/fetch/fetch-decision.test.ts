import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectInfo } from '../storage/types.js';
import type { IndexEntry } from './cache-index.js';
import { decideFetch, type DecideOptions } from './fetch-decision.js';

const ETAG = `"${'1'.repeat(32)}"`;
const plain: DecideOptions = { force: false, verify: false };
const verify: DecideOptions = { force: false, verify: true };

let dir: string;
let path: string;
let content: Buffer;
let object: ObjectInfo;
let entry: IndexEntry;

const md5 = (data: Uint8Array): Buffer => createHash('md5').update(data).digest();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-decide-'));
  path = join(dir, 'file.bin');
  content = randomBytes(2500);
  await writeFile(path, content);
  const when = new Date('2023-05-06T07:08:09.123Z');
  await utimes(path, when, when);
  const local = await stat(path);
  object = { key: 'data/file.bin', size: content.length, etag: ETAG, lastModified: when };
  entry = {
    path: 'file.bin',
    key: 'data/file.bin',
    size: content.length,
    etag: ETAG,
    localSize: local.size,
    localMtimeMs: local.mtimeMs,
    digest: { algorithm: 'md5', value: md5(content).toString('hex') },
  };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('decideFetch', () => {
  it('is up to date when the index, the object and the local file agree', async () => {
    expect(await decideFetch(object, entry, path, plain)).toBe('up-to-date');
    expect(await decideFetch(object, entry, path, verify)).toBe('up-to-date');
  });

  it('compares ETags in any quoting', async () => {
    expect(await decideFetch({ ...object, etag: '1'.repeat(32) }, entry, path, plain)).toBe('up-to-date');
  });

  it('is new without an index entry', async () => {
    expect(await decideFetch(object, undefined, path, plain)).toBe('new');
    expect(await decideFetch(object, undefined, join(dir, 'absent'), verify)).toBe('new');
  });

  it('is forced whatever the state when asked', async () => {
    expect(await decideFetch(object, entry, path, { force: true, verify: false })).toBe('forced');
    expect(await decideFetch(object, undefined, path, { force: true, verify: true })).toBe('forced');
  });

  it('is changed when the ETag or the size differ from the index', async () => {
    expect(await decideFetch({ ...object, etag: `"${'2'.repeat(32)}"` }, entry, path, plain)).toBe('changed');
    expect(await decideFetch({ ...object, size: object.size + 1 }, entry, path, plain)).toBe('changed');
    const { etag: _etag, ...withoutEtag } = object;
    expect(await decideFetch(withoutEtag, entry, path, plain)).toBe('changed');
  });

  it('is missing locally when the file is gone or is not a file', async () => {
    await rm(path);
    expect(await decideFetch(object, entry, path, plain)).toBe('missing-locally');
    await mkdir(path);
    expect(await decideFetch(object, entry, path, plain)).toBe('missing-locally');
  });

  it('is modified locally when the local size or mtime changed', async () => {
    expect(await decideFetch(object, { ...entry, localSize: entry.localSize + 1 }, path, plain)).toBe(
      'modified-locally',
    );
    expect(await decideFetch(object, { ...entry, localMtimeMs: entry.localMtimeMs - 1 }, path, plain)).toBe(
      'modified-locally',
    );
    // A real edit: new content and mtime.
    await writeFile(path, Buffer.concat([content, Buffer.from('more')]));
    expect(await decideFetch(object, entry, path, plain)).toBe('modified-locally');
  });

  it('finds content damaged under an unchanged size and mtime only with verify', async () => {
    // Bit rot: the bytes differ from what was downloaded, the metadata does not.
    const damaged = {
      ...entry,
      digest: { algorithm: 'md5' as const, value: md5(Buffer.from('other')).toString('hex') },
    };
    expect(await decideFetch(object, damaged, path, plain)).toBe('up-to-date');
    expect(await decideFetch(object, damaged, path, verify)).toBe('corrupt');
  });

  it('verifies multipart-form digests with their part size', async () => {
    const partSize = 1000;
    const parts = [0, 1000, 2000].map((s) => md5(content.subarray(s, s + partSize)));
    const value = `${md5(Buffer.concat(parts)).toString('hex')}-3`;
    const good = { ...entry, digest: { algorithm: 'md5' as const, partSize, value } };
    expect(await decideFetch(object, good, path, verify)).toBe('up-to-date');
    const wrongPartSize = { ...entry, digest: { algorithm: 'md5' as const, partSize: 2000, value } };
    expect(await decideFetch(object, wrongPartSize, path, verify)).toBe('corrupt');
  });
});
