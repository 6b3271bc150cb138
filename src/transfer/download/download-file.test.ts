import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WharfError } from '../../core/errors.js';
import { LocalDriver } from '../../storage/local/local-driver.js';
import { MemoryDriver } from '../../storage/memory/memory-driver.js';
import type { ReadOptions, StorageDriver } from '../../storage/types.js';
import { downloadFile, downloadListed, type DownloadOptions, type DownloadSource } from './download-file.js';
import { RequestLimiter } from './request-limiter.js';
import type { ResumeState } from './resume-state.js';

const KiB = 1024;
const PART = 64 * KiB;
/** ~1 MiB, not a multiple of the part size: 17 ranges, the last one short. */
const BIG = 1024 * KiB + 1234;
const RANGES = Math.ceil(BIG / PART);

let base: string;
let tempDir: string;
let partialDir: string;
let finalPath: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'wharf-download-'));
  tempDir = join(base, 'tmp');
  partialDir = join(base, 'partial');
  await mkdir(tempDir);
  await mkdir(partialDir);
  // A parent folder that does not exist yet: the download creates it.
  finalPath = join(base, 'out', 'sub', 'file.bin');
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

interface ReadCall {
  key: string;
  options: ReadOptions;
}

/**
 * The store with `read` replaced: `wrap` gets the original read, the call and its 1-based number, and returns
 * the body (or throws). Every other member is the store's own.
 */
function interceptReads(
  store: StorageDriver,
  wrap: (read: () => Promise<Readable>, call: ReadCall, n: number) => Promise<Readable>,
): { store: StorageDriver; calls: ReadCall[] } {
  const calls: ReadCall[] = [];
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'read') {
        return (key: string, options: ReadOptions = {}) => {
          const call = { key, options };
          calls.push(call);
          return wrap(() => target.read(key, options), call, calls.length);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { store: proxy, calls };
}

const counting = (store: StorageDriver): { store: StorageDriver; calls: ReadCall[] } =>
  interceptReads(store, (read) => read());

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The body with one byte flipped in the middle. */
async function corrupt(body: Readable): Promise<Readable> {
  const data = await collect(body);
  const copy = Buffer.from(data);
  const at = Math.floor(copy.length / 2);
  copy[at] = (copy[at] ?? 0) ^ 0xff;
  return Readable.from([copy]);
}

function options(store: StorageDriver, overrides: Partial<DownloadOptions> = {}): DownloadOptions {
  return {
    store,
    finalPath,
    tempDir,
    partialDir,
    limiter: new RequestLimiter(4),
    partSize: PART,
    partConcurrency: 3,
    rangeThreshold: 2 * PART,
    attempts: 3,
    ...overrides,
  };
}

async function sourceOf(store: StorageDriver, key: string): Promise<DownloadSource> {
  const info = await store.stat(key);
  if (!info) throw new Error(`${key} is missing`);
  return {
    key,
    size: info.size,
    ...(info.etag !== undefined ? { etag: info.etag } : {}),
    ...(info.lastModified ? { lastModified: info.lastModified } : {}),
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

/** The file at finalPath holds exactly `data` (compared by length and SHA-256: a deep equal of 1 MiB is slow). */
async function expectFileBytes(data: Buffer): Promise<void> {
  const actual = await readFile(finalPath);
  expect(actual.length).toBe(data.length);
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  expect(sha(actual)).toBe(sha(data));
}

async function interruptedRun(store: StorageDriver, abortAtRead: number): Promise<WharfError> {
  const controller = new AbortController();
  const { store: aborting } = interceptReads(store, (read, _call, n) => {
    if (n === abortAtRead) controller.abort();
    return read();
  });
  const error = await downloadFile(
    await sourceOf(store, 'big.bin'),
    options(aborting, { signal: controller.signal }),
  ).then(
    () => undefined,
    (e: unknown) => e as WharfError,
  );
  if (!error) throw new Error('the interrupted download finished');
  return error;
}

async function partialState(): Promise<ResumeState> {
  const names = await readdir(partialDir);
  const json = names.find((n) => n.endsWith('.json'));
  if (!json) throw new Error(`no resume state in ${names.join(', ')}`);
  return JSON.parse(await readFile(join(partialDir, json), 'utf8')) as ResumeState;
}

describe('downloadFile, whole objects', () => {
  it('writes the exact bytes, verifies the MD5 ETag and sets mtime to LastModified (memory store)', async () => {
    const memory = new MemoryDriver();
    const data = randomBytes(40 * KiB + 7);
    await memory.write('dir/small.bin', data);
    const source = await sourceOf(memory, 'dir/small.bin');
    const { store, calls } = counting(memory);
    let bytes = 0;

    const result = await downloadFile(source, options(store, { onBytes: (d) => (bytes += d) }));

    await expectFileBytes(data);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.options.range).toBeUndefined();
    expect(calls[0]?.options.ifMatch).toBe(source.etag);
    expect(result).toMatchObject({
      size: data.length,
      etag: source.etag,
      ranged: false,
      resumedBytes: 0,
      verified: ['size', 'md5'],
      digest: { algorithm: 'md5', value: md5(data) },
    });
    expect(result.lastModified?.getTime()).toBe(source.lastModified?.getTime());
    const local = await stat(finalPath);
    // mtimeMs is seconds + nanoseconds as a float: compare at millisecond precision.
    expect(Math.round(local.mtimeMs)).toBe(source.lastModified?.getTime());
    expect(result.localMtimeMs).toBe(local.mtimeMs);
    expect(bytes).toBe(data.length);
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('downloads from a local folder store (no MD5 ETag: size only) with its mtime', async () => {
    const root = join(base, 'store');
    await mkdir(join(root, 'a'), { recursive: true });
    const data = randomBytes(3000);
    await writeFile(join(root, 'a', 'f.dat'), data);
    const when = new Date('2021-03-04T05:06:07.890Z');
    await utimes(join(root, 'a', 'f.dat'), when, when);
    const local = new LocalDriver({ root });

    const result = await downloadFile(await sourceOf(local, 'a/f.dat'), options(local));

    await expectFileBytes(data);
    expect(result.verified).toEqual(['size']);
    // The cache index still gets an MD5 of the content.
    expect(result.digest).toEqual({ algorithm: 'md5', value: md5(data) });
    expect(Math.round((await stat(finalPath)).mtimeMs)).toBe(when.getTime());
    expect(Math.round(result.localMtimeMs)).toBe(when.getTime());
  });

  it('downloads an empty object', async () => {
    const memory = new MemoryDriver();
    await memory.write('empty', Buffer.alloc(0));
    const result = await downloadFile(await sourceOf(memory, 'empty'), options(memory));
    expect((await readFile(finalPath)).length).toBe(0);
    expect(result.verified).toEqual(['size', 'md5']);
    expect(result.ranged).toBe(false);
  });

  it('retries a download whose bytes were damaged in transit and discounts the bad attempt', async () => {
    const memory = new MemoryDriver();
    const data = randomBytes(50 * KiB);
    await memory.write('x', data);
    const { store, calls } = interceptReads(memory, async (read, _call, n) =>
      n === 1 ? corrupt(await read()) : read(),
    );
    const retries: WharfError[] = [];
    let bytes = 0;

    const result = await downloadFile(
      await sourceOf(memory, 'x'),
      options(store, { onRetry: (e) => retries.push(e), onBytes: (d) => (bytes += d) }),
    );

    expect(calls).toHaveLength(2);
    expect(retries.map((e) => e.code)).toEqual(['IO']);
    await expectFileBytes(data);
    expect(result.verified).toContain('md5');
    expect(bytes).toBe(data.length);
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('fails with IO after every attempt is damaged, leaving no file and no temporary file', async () => {
    const memory = new MemoryDriver();
    await memory.write('x', randomBytes(50 * KiB));
    const { store, calls } = interceptReads(memory, async (read) => corrupt(await read()));
    let bytes = 0;

    await expect(
      downloadFile(
        await sourceOf(memory, 'x'),
        options(store, { attempts: 2, onBytes: (d) => (bytes += d) }),
      ),
    ).rejects.toMatchObject({ code: 'IO' });

    expect(calls).toHaveLength(2);
    expect(await exists(finalPath)).toBe(false);
    expect(await readdir(tempDir)).toEqual([]);
    expect(bytes).toBe(0);
  });

  it('does not retry a failure that is not retryable', async () => {
    const memory = new MemoryDriver();
    await memory.write('x', randomBytes(100));
    const source = await sourceOf(memory, 'x');
    await memory.write('x', randomBytes(100)); // new ETag: the pinned GET fails its If-Match
    const { store, calls } = counting(memory);

    await expect(downloadFile(source, options(store))).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(calls).toHaveLength(1);
    expect(await exists(finalPath)).toBe(false);
    expect(await readdir(tempDir)).toEqual([]);
  });
  it('says the temporary file was removed, not that the final path is missing, when its folder goes away', async () => {
    const memory = new MemoryDriver();
    await memory.write('x', randomBytes(100));
    const source = await sourceOf(memory, 'x');
    await rm(tempDir, { recursive: true });

    const error = await downloadFile(source, options(memory)).then(
      () => undefined,
      (e: unknown) => e as WharfError,
    );
    expect(error?.code).toBe('IO');
    expect(error?.message).toMatch(
      /^writing .*file\.bin: its temporary file .*\.tmp was removed while it downloaded$/,
    );
    expect(error?.hint).toMatch(/something removed .*tmp while the download ran/);
    expect(await exists(finalPath)).toBe(false);
  });
});

describe('downloadFile, ranged objects', () => {
  it('writes the exact bytes from parallel ranges pinned to the ETag (memory store)', async () => {
    const memory = new MemoryDriver();
    const data = randomBytes(BIG);
    await memory.write('big.bin', data);
    const source = await sourceOf(memory, 'big.bin');
    const { store, calls } = counting(memory);
    let bytes = 0;

    const result = await downloadFile(source, options(store, { onBytes: (d) => (bytes += d) }));

    await expectFileBytes(data);
    expect(result).toMatchObject({
      ranged: true,
      resumedBytes: 0,
      size: BIG,
      verified: ['size', 'md5'],
      digest: { algorithm: 'md5', value: md5(data) },
    });
    expect(calls).toHaveLength(RANGES);
    const starts = calls.map((c) => (c.options.range as { start: number }).start).sort((a, b) => a - b);
    expect(starts).toEqual(Array.from({ length: RANGES }, (_, i) => i * PART));
    for (const call of calls) expect(call.options.ifMatch).toBe(source.etag);
    expect(bytes).toBe(BIG);
    expect(Math.round((await stat(finalPath)).mtimeMs)).toBe(source.lastModified?.getTime());
    // Nothing is left behind: the partial became the file and its state was removed.
    expect(await readdir(partialDir)).toEqual([]);
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('downloads ranges from a local folder store', async () => {
    const root = join(base, 'store');
    await mkdir(root);
    const data = randomBytes(BIG);
    await writeFile(join(root, 'big.bin'), data);
    const local = new LocalDriver({ root });
    const { store, calls } = counting(local);

    const result = await downloadFile(await sourceOf(local, 'big.bin'), options(store));

    await expectFileBytes(data);
    expect(result.ranged).toBe(true);
    expect(result.verified).toEqual(['size']);
    expect(result.digest).toEqual({ algorithm: 'md5', value: md5(data) });
    expect(calls).toHaveLength(RANGES);
    expect(await readdir(partialDir)).toEqual([]);
  });

  it('stays whole at or below the threshold', async () => {
    const memory = new MemoryDriver();
    const data = randomBytes(2 * PART);
    await memory.write('k', data);
    const { store, calls } = counting(memory);
    const result = await downloadFile(await sourceOf(memory, 'k'), options(store));
    expect(result.ranged).toBe(false);
    expect(calls).toHaveLength(1);
    await expectFileBytes(data);
  });

  it('keeps an interrupted download under partialDir and resumes it, reading only the missing ranges', async () => {
    const memory = new MemoryDriver();
    const data = randomBytes(BIG);
    await memory.write('big.bin', data);

    const error = await interruptedRun(memory, 5);
    expect(error.code).toBe('ABORTED');
    expect(await exists(finalPath)).toBe(false);
    expect(await readdir(tempDir)).toEqual([]);
    const names = await readdir(partialDir);
    expect(names.filter((n) => n.endsWith('.part'))).toHaveLength(1);
    expect(names.filter((n) => n.endsWith('.json'))).toHaveLength(1);
    const state = await partialState();
    expect(state).toMatchObject({ key: 'big.bin', size: BIG, rangeSize: PART });
    expect(state.done.length).toBeGreaterThan(0);
    expect(state.done.length).toBeLessThan(RANGES);
    const done = new Set(state.done);

    const { store, calls } = counting(memory);
    let bytes = 0;
    const result = await downloadFile(
      await sourceOf(memory, 'big.bin'),
      options(store, { onBytes: (d) => (bytes += d) }),
    );

    await expectFileBytes(data);
    expect(calls).toHaveLength(RANGES - done.size);
    for (const call of calls) {
      const start = (call.options.range as { start: number }).start;
      expect(done.has(start / PART)).toBe(false);
    }
    const expectedResumed = [...done].reduce((n, i) => n + Math.min(PART, BIG - i * PART), 0);
    expect(result.resumedBytes).toBe(expectedResumed);
    expect(result.resumedBytes).toBeGreaterThan(0);
    expect(result.verified).toEqual(['size', 'md5']);
    // Resumed bytes count as progress once, so the total still adds up to the object's size.
    expect(bytes).toBe(BIG);
    expect(await readdir(partialDir)).toEqual([]);
  });

  it('resumes from a local folder store too', async () => {
    const root = join(base, 'store');
    await mkdir(root);
    const data = randomBytes(BIG);
    await writeFile(join(root, 'big.bin'), data);
    const local = new LocalDriver({ root });

    expect((await interruptedRun(local, 4)).code).toBe('ABORTED');
    const done = (await partialState()).done.length;
    expect(done).toBeGreaterThan(0);

    const { store, calls } = counting(local);
    const result = await downloadFile(await sourceOf(local, 'big.bin'), options(store));
    expect(calls).toHaveLength(RANGES - done);
    expect(result.resumedBytes).toBeGreaterThan(0);
    await expectFileBytes(data);
  });

  it('discards the partial when the object changed between runs', async () => {
    const memory = new MemoryDriver();
    await memory.write('big.bin', randomBytes(BIG));
    expect((await interruptedRun(memory, 5)).code).toBe('ABORTED');
    const oldState = await partialState();
    expect(oldState.done.length).toBeGreaterThan(0);

    // Same size, new content: only the ETag tells them apart.
    const fresh = randomBytes(BIG);
    await memory.write('big.bin', fresh);
    const source = await sourceOf(memory, 'big.bin');
    expect(source.etag).not.toBe(oldState.etag);
    const { store, calls } = counting(memory);

    const result = await downloadFile(source, options(store));

    await expectFileBytes(fresh);
    expect(result.resumedBytes).toBe(0);
    expect(result.etag).toBe(source.etag);
    expect(calls).toHaveLength(RANGES);
    expect(await readdir(partialDir)).toEqual([]);
  });

  it('drops the partial when the object changes during the download', async () => {
    const memory = new MemoryDriver();
    await memory.write('big.bin', randomBytes(BIG));
    const source = await sourceOf(memory, 'big.bin');
    const { store } = interceptReads(memory, async (read, _call, n) => {
      if (n === 3) await memory.write('big.bin', randomBytes(BIG));
      return read();
    });

    await expect(downloadFile(source, options(store))).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(await exists(finalPath)).toBe(false);
    expect(await readdir(partialDir)).toEqual([]);
  });

  it('is pinned to the ETag the caller asked for: a newer object is a 412, not a silent switch', async () => {
    const memory = new MemoryDriver();
    await memory.write('big.bin', randomBytes(BIG));
    const asked = await sourceOf(memory, 'big.bin');
    await memory.write('big.bin', randomBytes(BIG)); // replaced after the caller looked

    await expect(downloadFile(asked, options(memory))).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(await exists(finalPath)).toBe(false);
  });

  it('fails with IO when a range was damaged in transit, leaving no file and starting over next time', async () => {
    const memory = new MemoryDriver();
    const data = randomBytes(BIG);
    await memory.write('big.bin', data);
    const { store } = interceptReads(memory, async (read, _call, n) =>
      n === 2 ? corrupt(await read()) : read(),
    );
    let bytes = 0;

    const error = await downloadFile(
      await sourceOf(memory, 'big.bin'),
      options(store, { onBytes: (d) => (bytes += d) }),
    ).then(
      () => undefined,
      (e: unknown) => e as WharfError,
    );

    expect(error).toMatchObject({ code: 'IO', retryable: true });
    expect(error?.message).toContain('big.bin');
    expect(await exists(finalPath)).toBe(false);
    expect(await readdir(tempDir)).toEqual([]);
    // The damaged partial is not kept for resuming.
    expect(await readdir(partialDir)).toEqual([]);
    expect(bytes).toBe(0);

    // The next run downloads everything again and gets it right.
    const { store: clean, calls } = counting(memory);
    const result = await downloadFile(await sourceOf(memory, 'big.bin'), options(clean));
    expect(calls).toHaveLength(RANGES);
    expect(result.resumedBytes).toBe(0);
    await expectFileBytes(data);
  });

  it('retries a range that fails with a retryable error', async () => {
    const memory = new MemoryDriver();
    const data = randomBytes(BIG);
    await memory.write('big.bin', data);
    const { store, calls } = interceptReads(memory, async (read, _call, n) => {
      if (n === 4) {
        // A body that ends early, as a dropped connection would.
        const body = await collect(await read());
        return Readable.from([body.subarray(0, 100)]);
      }
      return read();
    });
    const retries: WharfError[] = [];

    const result = await downloadFile(
      await sourceOf(memory, 'big.bin'),
      options(store, { onRetry: (e) => retries.push(e) }),
    );

    expect(retries.map((e) => e.code)).toEqual(['NETWORK']);
    expect(calls).toHaveLength(RANGES + 1);
    await expectFileBytes(data);
    expect(result.verified).toEqual(['size', 'md5']);
  });
});

describe('downloadFile, request caps', () => {
  it('keeps streamed requests (ranges, bodies above 256 KiB) within streamLimiter while small GETs use the whole limiter', async () => {
    const store = new MemoryDriver('mem');
    const objects = [
      ...Array.from({ length: 8 }, (_, i) => ({ key: `small-${i}`, size: 2 * KiB })),
      ...Array.from({ length: 3 }, (_, i) => ({ key: `medium-${i}`, size: 300 * KiB })),
      ...Array.from({ length: 2 }, (_, i) => ({ key: `big-${i}`, size: BIG })),
    ];
    for (const o of objects) await store.write(o.key, randomBytes(o.size));
    const active = { small: 0, streamed: 0 };
    const peak = { small: 0, streamed: 0, all: 0 };
    const { store: watched } = interceptReads(store, async (read, call) => {
      const kind = call.key.startsWith('small') ? 'small' : 'streamed';
      active[kind] += 1;
      peak[kind] = Math.max(peak[kind], active[kind]);
      peak.all = Math.max(peak.all, active.small + active.streamed);
      // Slow requests, so that everything the caps allow is in flight at once.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const body = await read();
      body.once('close', () => (active[kind] -= 1));
      return body;
    });
    const limiter = new RequestLimiter(6);
    const streamLimiter = new RequestLimiter(2);
    await Promise.all(
      objects.map(async (o) =>
        downloadFile(
          await sourceOf(store, o.key),
          options(watched, { finalPath: join(base, 'out', o.key), limiter, streamLimiter }),
        ),
      ),
    );
    expect(peak.streamed).toBe(2);
    expect(peak.all).toBeLessThanOrEqual(6);
    expect(peak.small).toBeGreaterThan(2);
    for (const o of objects) expect((await stat(join(base, 'out', o.key))).size).toBe(o.size);
  });
});

describe('downloadListed', () => {
  it('takes the version there now, once, when the object changed since it was listed (whole and ranged)', async () => {
    for (const size of [5 * KiB, BIG]) {
      const store = new MemoryDriver('mem');
      await store.write('data/file.bin', randomBytes(size));
      const listed = await store.stat('data/file.bin');
      const now = randomBytes(size + 7);
      await store.write('data/file.bin', now);
      const { store: counted, calls } = counting(store);
      const result = await downloadListed(listed!, options(counted));
      expect(await readFile(finalPath)).toEqual(now);
      expect(result.etag).toBe((await store.stat('data/file.bin'))?.etag);
      expect(calls.length).toBeGreaterThan(0);
      await rm(finalPath);
    }
  });

  it('fails NOT_FOUND naming an object deleted after the listing, leaving nothing at the final path', async () => {
    const store = new MemoryDriver('mem');
    await store.write('data/gone.bin', randomBytes(3 * KiB));
    const listed = await store.stat('data/gone.bin');
    await store.delete(['data/gone.bin']);
    await expect(downloadListed(listed!, options(store))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('gone.bin'),
    });
    expect(await exists(finalPath)).toBe(false);
  });
});
