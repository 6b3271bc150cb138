import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPool } from '../../core/pool.js';
import { compareKeys } from '../../core/keys.js';
import { sameEtag } from '../etag.js';
import type { ByteRange, DriverCapabilities, ObjectInfo, ReadInfo, StorageDriver } from '../types.js';
import { AWKWARD_KEYS, patternStream, readAll, sha256Of } from './test-bodies.js';

export interface ConformanceHarness {
  /** A driver on an existing, writable store. Tests use unique prefixes, so the store may be shared. */
  driver: StorageDriver;
  /** A driver on a store that does not exist (a missing bucket or folder). */
  missingStore?: () => Promise<StorageDriver>;
  /** A driver whose credentials the store rejects. */
  deniedStore?: () => Promise<StorageDriver>;
  cleanup?: () => Promise<void>;
}

export interface ConformanceOptions {
  /** Keys written for the pagination test (default 5,050: more than five S3 pages). */
  manyKeys?: number;
  /** Size of the large-object test body (default 64 MiB + 1 byte, so multipart is exercised with a ragged tail). */
  largeObjectBytes?: number;
  /** Per-test timeout in ms (default 120 s). */
  timeout?: number;
  /** Driver-specific tests, run inside the suite with the same harness. */
  extraTests?: (get: () => ConformanceHarness) => void;
}

/**
 * The one suite every StorageDriver passes. Tests skip only by declared capability
 * (`capabilities` after `detectCapabilities()`), never by driver name.
 */
export function describeDriverConformance(
  name: string,
  open: () => Promise<ConformanceHarness>,
  options: ConformanceOptions = {},
): void {
  const manyKeys = options.manyKeys ?? 5050;
  const largeBytes = options.largeObjectBytes ?? 64 * 1024 * 1024 + 1;
  const timeout = options.timeout ?? 120_000;

  describe(`storage driver conformance: ${name}`, () => {
    let harness: ConformanceHarness;
    let driver: StorageDriver;
    let caps: DriverCapabilities;
    const run = randomBytes(4).toString('hex');
    let counter = 0;
    const fresh = (label: string): string => `conformance-${run}/${label}-${counter++}/`;

    beforeAll(async () => {
      harness = await open();
      driver = harness.driver;
      caps = (await driver.detectCapabilities?.()) ?? driver.capabilities;
    }, timeout);

    afterAll(async () => {
      await harness?.cleanup?.();
      await driver?.close?.();
    }, timeout);

    const text = async (key: string, range?: Parameters<StorageDriver['read']>[1]): Promise<string> =>
      (await readAll(await driver.read(key, range))).toString('utf8');
    const listAll = async (
      prefix: string,
      o?: Parameters<StorageDriver['list']>[1],
    ): Promise<ObjectInfo[]> => {
      const out: ObjectInfo[] = [];
      for await (const info of driver.list(prefix, o)) out.push(info);
      return out;
    };

    it('stat of an absent key is undefined; read of it is NotFound', async () => {
      const p = fresh('absent');
      expect(await driver.stat(`${p}nothing-here`)).toBeUndefined();
      await expect(driver.read(`${p}nothing-here`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('write, stat and read round-trip bytes, size and ETag', async () => {
      const key = `${fresh('roundtrip')}hello.txt`;
      const written = await driver.write(key, Buffer.from('hello, wharf\n'));
      expect(written.key).toBe(key);
      expect(written.size).toBe(13);
      expect(written.etag).toBeTruthy();
      const info = await driver.stat(key);
      expect(info).toMatchObject({ key, size: 13 });
      expect(sameEtag(info?.etag, written.etag)).toBe(true);
      expect(info?.lastModified).toBeInstanceOf(Date);
      expect(Math.abs((info?.lastModified?.getTime() ?? 0) - Date.now())).toBeLessThan(5 * 60_000);
      expect(await text(key)).toBe('hello, wharf\n');
    });

    it('accepts a stream body of unknown length', async () => {
      const key = `${fresh('stream')}s.bin`;
      const body = Readable.from([Buffer.from('abc'), Buffer.from('def'), Buffer.from('')]);
      const info = await driver.write(key, body);
      expect(info.size).toBe(6);
      expect(await text(key)).toBe('abcdef');
    });

    it('stores zero-byte objects', async () => {
      const p = fresh('empty');
      await driver.write(`${p}empty.bin`, new Uint8Array(0));
      await driver.write(`${p}empty-stream.bin`, Readable.from([]));
      expect(await driver.stat(`${p}empty.bin`)).toMatchObject({ size: 0 });
      expect(await driver.stat(`${p}empty-stream.bin`)).toMatchObject({ size: 0 });
      expect((await readAll(await driver.read(`${p}empty.bin`))).length).toBe(0);
      expect((await listAll(p)).map((o) => [o.key, o.size])).toEqual([
        [`${p}empty-stream.bin`, 0],
        [`${p}empty.bin`, 0],
      ]);
    });

    it(
      'round-trips awkward keys exactly (spaces, unicode, + % = & ? #, deep paths) in byte order',
      async () => {
        const p = fresh('awkward');
        await runPool(AWKWARD_KEYS, 8, async (k) => {
          await driver.write(p + k, Buffer.from(`body of ${k}`));
        });
        const listed = await listAll(p);
        const expected = AWKWARD_KEYS.map((k) => p + k).sort(compareKeys);
        expect(listed.map((o) => o.key)).toEqual(expected);
        for (const k of AWKWARD_KEYS) {
          expect(await text(p + k)).toBe(`body of ${k}`);
          expect(await driver.stat(p + k)).toMatchObject({
            key: p + k,
            size: Buffer.byteLength(`body of ${k}`),
          });
        }
      },
      timeout,
    );

    it(
      `lists every key across pages (${manyKeys} keys), then deletes them in batches`,
      async () => {
        const p = fresh('many');
        const keys = Array.from({ length: manyKeys }, (_, i) => `${p}k${String(i).padStart(5, '0')}`);
        await runPool(keys, 32, async (k) => {
          await driver.write(k, Buffer.from(k.slice(-5)));
        });
        const listed = await listAll(p);
        expect(listed.length).toBe(manyKeys);
        expect(listed.map((o) => o.key)).toEqual(keys);
        expect(new Set(listed.map((o) => o.key)).size).toBe(manyKeys);
        expect(listed.every((o) => o.size === 5 && !o.isPrefix)).toBe(true);

        const resumed = await listAll(p, { startAfter: keys[manyKeys - 11] });
        expect(resumed.map((o) => o.key)).toEqual(keys.slice(manyKeys - 10));

        await driver.delete(keys);
        expect(await listAll(p)).toEqual([]);
      },
      Math.max(timeout, 600_000),
    );

    it('lists one level with a delimiter: folders roll up into prefix entries', async () => {
      const p = fresh('delim');
      for (const k of ['a.txt', 'sub/one.txt', 'sub/deeper/two.txt', 'sub2/three.txt', 'z.txt']) {
        await driver.write(p + k, Buffer.from(k));
      }
      const top = await listAll(p, { delimiter: '/' });
      expect(top.map((o) => [o.key, Boolean(o.isPrefix)])).toEqual([
        [`${p}a.txt`, false],
        [`${p}sub/`, true],
        [`${p}sub2/`, true],
        [`${p}z.txt`, false],
      ]);
      const sub = await listAll(`${p}sub/`, { delimiter: '/' });
      expect(sub.map((o) => o.key)).toEqual([`${p}sub/deeper/`, `${p}sub/one.txt`]);
      // A prefix that is not a folder boundary matches by string prefix, as in S3.
      const partial = await listAll(`${p}su`);
      expect(partial.map((o) => o.key)).toEqual([
        `${p}sub/deeper/two.txt`,
        `${p}sub/one.txt`,
        `${p}sub2/three.txt`,
      ]);
    });

    it('reads byte ranges, including open-ended and suffix ranges', async () => {
      const key = `${fresh('range')}digits.txt`;
      await driver.write(key, Buffer.from('0123456789'));
      expect(await text(key, { range: { start: 2, end: 5 } })).toBe('2345');
      expect(await text(key, { range: { start: 7 } })).toBe('789');
      expect(await text(key, { range: { start: 8, end: 100 } })).toBe('89');
      expect(await text(key, { range: { suffix: 3 } })).toBe('789');
      expect(await text(key, { range: { suffix: 50 } })).toBe('0123456789');
      expect(await text(key, { range: { start: 0, end: 0 } })).toBe('0');
      await expect(driver.read(key, { range: { start: 10 } })).rejects.toBeInstanceOf(Error);
    });

    it('readInto hands the same bytes as read to a sink, info first (if the driver has readInto)', async (ctx) => {
      const readInto = driver.readInto?.bind(driver);
      if (!readInto) return ctx.skip();
      const key = `${fresh('read-into')}body.bin`;
      const body = randomBytes(3 * 1024 * 1024 + 17);
      const written = await driver.write(key, body);
      const collect = async (o: Parameters<StorageDriver['read']>[1] = {}): Promise<Buffer> => {
        const copies: Buffer[] = [];
        let infoFirst: boolean | undefined;
        let slow = false;
        await readInto(key, { ...o, onInfo: () => (infoFirst ??= copies.length === 0) }, (bytes) => {
          infoFirst ??= false;
          copies.push(Buffer.from(bytes)); // borrowed: copy before returning
          // Every other chunk answers later, as a sink waiting for a disk does.
          slow = !slow;
          return slow ? new Promise((resolve) => setTimeout(resolve, 1)) : undefined;
        });
        expect(infoFirst).toBe(true);
        return Buffer.concat(copies);
      };
      expect((await collect()).equals(body)).toBe(true);
      const ranged = await collect({ range: { start: 1000, end: 2 * 1024 * 1024 }, ifMatch: written.etag });
      expect(ranged.equals(body.subarray(1000, 2 * 1024 * 1024 + 1))).toBe(true);
      await expect(readInto(`${key}-absent`, {}, () => undefined)).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await expect(
        readInto(key, { ifMatch: '"0123456789abcdef0123456789abcdef"' }, () => undefined),
      ).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      });
      const disk = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      await expect(
        readInto(key, {}, () => {
          throw disk;
        }),
      ).rejects.toBe(disk);
    });

    it('reports what the store said about the object through onInfo, whole and ranged', async () => {
      const p = fresh('oninfo');
      const key = `${p}info.json`;
      await driver.write(
        key,
        Buffer.from('0123456789'),
        caps.metadata
          ? { contentType: 'application/json', metadata: { 'wharf-sha256': 'abc123', Owner: 'Team A' } }
          : {},
      );
      const stat = await driver.stat(key);
      const readWithInfo = async (range?: ByteRange): Promise<{ info: ReadInfo[]; body: string }> => {
        const info: ReadInfo[] = [];
        const stream = await driver.read(key, { ...(range ? { range } : {}), onInfo: (i) => info.push(i) });
        // Called before read() resolved, and only once.
        expect(info.length).toBe(1);
        const body = (await readAll(stream)).toString('utf8');
        expect(info.length).toBe(1);
        return { info, body };
      };
      const whole = await readWithInfo();
      expect(whole.body).toBe('0123456789');
      const [info] = whole.info;
      expect(info).toMatchObject({ key, size: 10 });
      expect(info?.etag).toBe(stat?.etag);
      expect(info?.lastModified?.getTime()).toBe(stat?.lastModified?.getTime());
      expect(info?.checksums).toEqual(stat?.checksums);
      if (caps.metadata) {
        expect(info?.metadata).toEqual(stat?.metadata);
        expect(info?.metadata).toMatchObject({ 'wharf-sha256': 'abc123', owner: 'Team A' });
        expect(info?.contentType).toBe('application/json');
      }
      const ranges: [ByteRange, string][] = [
        [{ start: 2, end: 5 }, '2345'],
        [{ start: 7 }, '789'],
        [{ suffix: 3 }, '789'],
        [{ start: 0, end: 100 }, '0123456789'],
      ];
      for (const [range, expected] of ranges) {
        const ranged = await readWithInfo(range);
        expect(ranged.body).toBe(expected);
        const [r] = ranged.info;
        // The whole object's size, not the length of the range.
        expect(r).toMatchObject({ key, size: 10 });
        expect(r?.etag).toBe(stat?.etag);
        expect(r?.checksums).toBeUndefined();
        if (caps.metadata) expect(r?.metadata).toEqual(stat?.metadata);
      }
      // An empty object reports size 0; a failed read never calls onInfo.
      await driver.write(`${p}empty`, new Uint8Array(0));
      const empty: ReadInfo[] = [];
      expect((await readAll(await driver.read(`${p}empty`, { onInfo: (i) => empty.push(i) }))).length).toBe(
        0,
      );
      expect(empty).toMatchObject([{ key: `${p}empty`, size: 0 }]);
      let calls = 0;
      const onInfo = () => void calls++;
      await expect(driver.read(`${p}absent`, { onInfo })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(driver.read(key, { range: { start: 10 }, onInfo })).rejects.toBeInstanceOf(Error);
      await expect(
        driver.read(key, { ifMatch: '"00000000000000000000000000000000"', onInfo }),
      ).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      });
      expect(calls).toBe(0);
    });

    it(
      'reports the part size and count of a multipart object (if the store has multipartLayout)',
      async (ctx) => {
        if (!driver.multipartLayout) return ctx.skip();
        const layoutOf = driver.multipartLayout.bind(driver);
        const MiB = 1024 * 1024;
        const p = fresh('layout');
        // A stream of unknown length goes up in parts of `partSize`: 5 + 5 + 1 MiB.
        const multi = await driver.write(`${p}multi.bin`, patternStream(11 * MiB, 7).stream, {
          partSize: 5 * MiB,
        });
        const single = await driver.write(`${p}single.txt`, Buffer.from('one piece'));
        expect(await layoutOf(`${p}single.txt`)).toBeUndefined();
        expect(await layoutOf(`${p}single.txt`, { ifMatch: single.etag ?? '' })).toBeUndefined();
        const wrong = '"00000000000000000000000000000000-3"';
        for (const k of [`${p}multi.bin`, `${p}single.txt`]) {
          await expect(layoutOf(k, { ifMatch: wrong })).rejects.toMatchObject({
            code: 'PRECONDITION_FAILED',
          });
        }
        await expect(layoutOf(`${p}absent.bin`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        // A store may be unable to tell the part size (Ceph RGW 16 ignores partNumber): UNSUPPORTED, never a guess.
        const expected = { partSize: 5 * MiB, partsCount: 3 };
        const answer = await layoutOf(`${p}multi.bin`).catch((error: unknown) => error);
        if ((answer as { code?: unknown }).code === 'UNSUPPORTED') {
          await expect(layoutOf(`${p}multi.bin`, { ifMatch: multi.etag ?? '' })).rejects.toMatchObject({
            code: 'UNSUPPORTED',
          });
        } else {
          expect(answer).toEqual(expected);
          expect(await layoutOf(`${p}multi.bin`, { ifMatch: multi.etag ?? '' })).toEqual(expected);
        }
        await driver.delete([`${p}multi.bin`, `${p}single.txt`]);
      },
      timeout,
    );

    it('overwrites an object and changes its ETag', async () => {
      const key = `${fresh('overwrite')}o.txt`;
      const first = await driver.write(key, Buffer.from('first version'));
      const second = await driver.write(key, Buffer.from('second, longer version'));
      expect(sameEtag(first.etag, second.etag)).toBe(false);
      expect(await text(key)).toBe('second, longer version');
      expect(await driver.stat(key)).toMatchObject({ size: 22 });
      expect((await listAll(key)).length).toBe(1);
    });

    it('deletes idempotently: absent keys are not an error', async () => {
      const p = fresh('delete');
      await driver.write(`${p}x`, Buffer.from('x'));
      await driver.delete([`${p}x`, `${p}never-existed`, `${p}deep/never/existed`]);
      expect(await driver.stat(`${p}x`)).toBeUndefined();
      await driver.delete([`${p}x`]);
      await driver.delete([]);
    });

    it(
      `round-trips a large streamed body (${largeBytes} bytes) byte-exact`,
      async () => {
        const key = `${fresh('large')}big.bin`;
        const { stream, sha256 } = patternStream(largeBytes, 42);
        let progress = 0;
        const info = await driver.write(key, stream, { onProgress: (n) => (progress = n) });
        const expected = await sha256;
        expect(info.size).toBe(largeBytes);
        expect(progress).toBe(largeBytes);
        expect(info.etag).toBeTruthy();
        const stat = await driver.stat(key);
        expect(stat?.size).toBe(largeBytes);
        expect(sameEtag(stat?.etag, info.etag)).toBe(true);
        expect(await sha256Of(await driver.read(key))).toEqual({ sha256: expected, size: largeBytes });
        // A range across the middle matches the same bytes of the generated body.
        const whole = patternStream(largeBytes, 42).stream;
        const all = await readAll(whole);
        const mid = Math.floor(largeBytes / 2);
        const slice = await readAll(await driver.read(key, { range: { start: mid - 1000, end: mid + 999 } }));
        expect(slice.equals(all.subarray(mid - 1000, mid + 1000))).toBe(true);
        await driver.delete([key]);
      },
      Math.max(timeout, 300_000),
    );

    it('round-trips user metadata and content type (if the store keeps metadata)', async (ctx) => {
      if (!caps.metadata) return ctx.skip();
      const key = `${fresh('meta')}m.json`;
      await driver.write(key, Buffer.from('{}'), {
        contentType: 'application/json',
        metadata: { 'wharf-sha256': 'abc123', Owner: 'Team A' },
      });
      const info = await driver.stat(key);
      expect(info?.contentType).toBe('application/json');
      expect(info?.metadata).toMatchObject({ 'wharf-sha256': 'abc123', owner: 'Team A' });
    });

    it('honours conditional writes: If-None-Match * and If-Match (if supported)', async (ctx) => {
      if (caps.conditionalWrite !== true) return ctx.skip();
      const key = `${fresh('cas')}index.json`;
      await expect(driver.write(key, Buffer.from('v0'), { ifMatch: '"0000"' })).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      });
      const v1 = await driver.write(key, Buffer.from('v1'), { ifNoneMatch: '*' });
      await expect(driver.write(key, Buffer.from('v1b'), { ifNoneMatch: '*' })).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      });
      expect(await text(key)).toBe('v1');
      const v2 = await driver.write(key, Buffer.from('v2'), { ifMatch: v1.etag ?? '' });
      await expect(driver.write(key, Buffer.from('v3'), { ifMatch: v1.etag ?? '' })).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      });
      expect(await text(key)).toBe('v2');
      await expect(driver.read(key, { ifMatch: v1.etag ?? '' })).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      });
      expect(await text(key, { ifMatch: v2.etag ?? '' })).toBe('v2');
    });

    it('lets exactly one of many racing If-None-Match writers win (if supported)', async (ctx) => {
      if (caps.conditionalWrite !== true) return ctx.skip();
      const key = `${fresh('race')}lock`;
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          driver.write(key, Buffer.from(`writer ${i}`), { ifNoneMatch: '*' }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won.length).toBe(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'PRECONDITION_FAILED' });
      }
    });

    it('copies server-side (if supported), keeping bytes and leaving the source', async (ctx) => {
      if (!caps.serverSideCopy || !driver.copy) return ctx.skip();
      const p = fresh('copy');
      await driver.write(`${p}src file+1.txt`, Buffer.from('copy me'));
      const info = await driver.copy(`${p}src file+1.txt`, `${p}dst/ü copy=1.txt`);
      expect(info.size).toBe(7);
      expect(await text(`${p}dst/ü copy=1.txt`)).toBe('copy me');
      expect(await text(`${p}src file+1.txt`)).toBe('copy me');
      await expect(driver.copy(`${p}absent`, `${p}x`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('presigns GET and PUT URLs that work without credentials (if supported)', async (ctx) => {
      if (!caps.presign || !driver.presign) return ctx.skip();
      const p = fresh('presign');
      await driver.write(`${p}get me.txt`, Buffer.from('presigned body'));
      const getUrl = await driver.presign(`${p}get me.txt`, { method: 'GET', expiresIn: 300 });
      const got = await fetch(getUrl);
      expect(got.status).toBe(200);
      expect(await got.text()).toBe('presigned body');
      const putUrl = await driver.presign(`${p}put+me.txt`, { method: 'PUT', expiresIn: 300 });
      const put = await fetch(putUrl, { method: 'PUT', body: 'uploaded' });
      expect(put.status).toBe(200);
      expect(await text(`${p}put+me.txt`)).toBe('uploaded');
      await expect(driver.presign(`${p}x`, { method: 'GET', expiresIn: 0 })).rejects.toMatchObject({
        code: 'VALIDATION',
      });
    });

    it('refuses keys that would escape a folder (if keys are paths), writing nothing', async (ctx) => {
      if (!caps.pathKeys) return ctx.skip();
      const p = fresh('escape');
      for (const bad of [
        '../outside.txt',
        `${p}../../../outside.txt`,
        '/etc/passwd-copy',
        `${p}a//b`,
        `${p}nul\0byte`,
        `${p}x/./y`,
      ]) {
        await expect(driver.write(bad, Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY' });
      }
      await expect(driver.read('../outside.txt')).rejects.toMatchObject({ code: 'INVALID_KEY' });
    });

    it("refuses to create keys with a '.' or '..' segment, on every driver, writing nothing", async () => {
      const p = fresh('dots');
      for (const bad of [`${p}../x.txt`, `${p}a/./b.txt`, `${p}..`]) {
        await expect(driver.write(bad, Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY' });
        await expect(driver.write(bad, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
          code: 'INVALID_KEY',
        });
      }
      await driver.write(`${p}ok.txt`, Buffer.from('ok'));
      if (caps.serverSideCopy && driver.copy) {
        await expect(driver.copy(`${p}ok.txt`, `${p}../copy.txt`)).rejects.toMatchObject({
          code: 'INVALID_KEY',
        });
      }
      if (caps.presign && driver.presign) {
        await expect(
          driver.presign(`${p}../put.txt`, { method: 'PUT', expiresIn: 60 }),
        ).rejects.toMatchObject({
          code: 'INVALID_KEY',
        });
      }
      expect((await listAll(p)).map((info) => info.key)).toEqual([`${p}ok.txt`]);
    });

    it('raises typed errors: NotFound for a missing store, AccessDenied for rejected credentials', async () => {
      if (harness.missingStore) {
        const missing = await harness.missingStore();
        await expect(
          (async () => {
            for await (const _ of missing.list('')) void _;
          })(),
        ).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(missing.read('anything')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await missing.close?.();
      }
      if (harness.deniedStore) {
        const denied = await harness.deniedStore();
        await expect(denied.read('anything')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
        await expect(denied.write('anything', Buffer.from('x'))).rejects.toMatchObject({
          code: 'ACCESS_DENIED',
        });
        await denied.close?.();
      }
    });

    it(
      'aborts via AbortSignal without leaving a partial object',
      async () => {
        const p = fresh('abort');
        const done = new AbortController();
        done.abort();
        await expect(driver.stat(`${p}x`, { signal: done.signal })).rejects.toMatchObject({
          code: 'ABORTED',
        });
        await expect(driver.write(`${p}x`, Buffer.from('x'), { signal: done.signal })).rejects.toMatchObject({
          code: 'ABORTED',
        });
        await expect(
          (async () => {
            for await (const _ of driver.list(p, { signal: done.signal })) void _;
          })(),
        ).rejects.toMatchObject({ code: 'ABORTED' });

        // Abort in the middle of a streamed upload: the key must stay absent.
        const controller = new AbortController();
        let sent = 0;
        const slow = new Readable({
          read() {
            sent += 1;
            if (sent === 3) controller.abort();
            setTimeout(() => this.push(Buffer.alloc(1 << 20, sent)), 5);
          },
        });
        await expect(
          driver.write(`${p}partial.bin`, slow, { signal: controller.signal }),
        ).rejects.toMatchObject({
          code: 'ABORTED',
        });
        expect(await driver.stat(`${p}partial.bin`)).toBeUndefined();
        expect(await listAll(p)).toEqual([]);
      },
      timeout,
    );

    it('never shows a half-written object to readers', async () => {
      const key = `${fresh('atomic')}slow.bin`;
      await driver.write(key, Buffer.from('old'));
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      let pushed = 0;
      const body = new Readable({
        read() {
          pushed += 1;
          if (pushed === 1) this.push(Buffer.alloc(1024, 1));
          else if (pushed === 2) void gate.then(() => this.push(Buffer.alloc(1024, 2)));
          else this.push(null);
        },
      });
      const writing = driver.write(key, body, { size: 2048 });
      await new Promise((r) => setTimeout(r, 200));
      expect(await text(key)).toBe('old');
      release();
      await writing;
      const after = await readAll(await driver.read(key));
      expect(after.length).toBe(2048);
    });

    options.extraTests?.(() => harness);
  });
}
