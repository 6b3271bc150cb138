import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { adminClient, createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';
import { openSmallDisk, type SmallDisk } from '../support/small-disk.js';

/**
 * A full disk, for real: each test runs the CLI against a small tmpfs (see openSmallDisk). What must hold:
 * one clear line naming the disk as the problem, exit 1, no temporary file left behind, nothing incomplete at a
 * final path, and a rerun after space is freed finishing the job.
 */

let bucket: string;
let work: string;
let disk: SmallDisk | undefined;
let proxy: FaultProxy;
const small = new Map<string, Buffer>();
const blob = randomBytes(2 * 1024 * 1024 + 5);
/**
 * Fetched by cp in 8 MiB ranges, 8 at a time, into a partial file: 12 ranges. With 80 MiB free, at most 64 MiB
 * belong to ranges still in flight when the disk fills, so at least two ranges are finished and kept.
 */
const big = randomBytes(90 * 1024 * 1024 + 3);
const FILES = 120;
/** Two objects of 1 MiB, for copies over an earlier copy of themselves. */
const pair = [randomBytes(1024 * 1024), randomBytes(1024 * 1024)];

beforeAll(async () => {
  bucket = await createTestBucket('fulldisk');
  work = await mkdtemp(join(tmpdir(), 'wharf-full-disk-'));
  const client = adminClient();
  for (let i = 0; i < FILES; i++) {
    const key = `many/f${String(i).padStart(3, '0')}.json`;
    const body = Buffer.from(JSON.stringify({ id: i, name: `row ${i}`, value: i * 1.5 }));
    small.set(key, body);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'blob/blob.bin', Body: blob }));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'big/big.bin', Body: big }));
  for (const [i, body] of pair.entries())
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `pair/p${i}.bin`, Body: body }));
  proxy = await startFaultProxy(process.env.WHARF_TEST_S3_ENDPOINT ?? '');
});

afterEach(async () => {
  proxy.setFaults({});
  await disk?.close();
  disk = undefined;
});

afterAll(async () => {
  await proxy?.close();
  if (bucket) await deleteTestBucket(bucket);
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every file under `dir`, relative, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** A small disk for this test, or a skip naming why the machine cannot make one. */
async function smallDisk(
  kib: number,
  skip: (note: string) => void,
  options: { readOnly?: boolean } = {},
): Promise<SmallDisk> {
  const opened = await openSmallDisk(kib, options);
  if (typeof opened === 'string') {
    skip(`no private tmpfs on this machine: ${opened}`);
    throw new Error('unreachable');
  }
  disk = opened;
  return opened;
}

/** Writes 4 KiB pages to `path` until the disk is full. */
async function fillUp(path: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (;;) await handle.write(Buffer.alloc(4096));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}

const oneLine = (stderr: string): string[] => stderr.trim().split('\n');

/**
 * `wharf cp` through the fault proxy, with `fill` run once when its first object GET arrives and before any byte
 * of it is answered: the disk fills after cp's free-space check has passed, as another writer would fill it.
 */
function cpFillingDisk(d: SmallDisk, args: string[], fill: () => Promise<void>) {
  let filled: Promise<void> | undefined;
  proxy.setFaults({ beforeForward: (r) => (r.isObjectGet ? (filled ??= fill()) : undefined) });
  return d.wharf(['--endpoint-url', proxy.url, 'cp', ...args]);
}

describe('a full disk', () => {
  it('wharf fetch: what landed is complete, nothing half-written remains, a rerun after freeing space finishes', async (ctx) => {
    // 120 files of ~50 bytes pass the free-space check (bytes), but each takes a 4 KiB page of the tmpfs.
    const d = await smallDisk(640, (note) => ctx.skip(note));
    const filler = join(d.hostPath, 'filler');
    await writeFile(filler, Buffer.alloc(320 * 1024));
    const dest = join(d.path, 'data');
    const first = await d.wharf(['fetch', `s3://${bucket}/many/`, dest, '--dataset-id', 'many']);
    expect(first.code).toBe(1);
    expect(oneLine(first.stderr).filter((l) => l.startsWith('wharf: error:'))).toHaveLength(1);
    expect(first.stderr).toMatch(/no space left on device.*free some disk space/);
    expect(first.stderr).not.toMatch(/ENOSPC|at .*\.js:\d+/);

    const dataset = join(d.hostPath, 'data', 'many');
    const landed = (await filesUnder(dataset)).filter((f) => !f.startsWith('.wharf/'));
    expect(landed.length).toBeGreaterThan(0);
    expect(landed.length).toBeLessThan(FILES);
    for (const file of landed) expect(await readFile(join(dataset, file))).toEqual(small.get(`many/${file}`));
    expect((await filesUnder(dataset)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    await rm(filler);
    const rerun = await d.wharf(['fetch', '--json', `s3://${bucket}/many/`, dest, '--dataset-id', 'many']);
    expect(rerun.code).toBe(0);
    const result = JSON.parse(rerun.stdout) as { files: { key: string; status: string }[] };
    expect(result.files).toHaveLength(FILES);
    for (const f of result.files) {
      const name = f.key.slice('many/'.length);
      expect([name, f.status]).toEqual([name, landed.includes(name) ? 'skipped' : 'downloaded']);
      expect(await readFile(join(dataset, name))).toEqual(small.get(f.key));
    }
    expect((await filesUnder(dataset)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('wharf cp of an object larger than the free space: refused up front, exit 1, one line, nothing written', async (ctx) => {
    const d = await smallDisk(1024, (note) => ctx.skip(note));
    const r = await d.wharf(['cp', `s3://${bucket}/blob/blob.bin`, join(d.path, 'copy', 'blob.bin')]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([
      `wharf: error: not enough disk space in ${join(d.path, 'copy')}: the copy needs 2.0 MiB, 1.0 MiB are free; nothing was copied (free some space or copy to a folder on another disk)`,
    ]);
    expect(await readdir(d.hostPath)).toEqual([]);
  });

  it('wharf cp -r of more than the disk holds: refused before the first object, not when the disk fills', async (ctx) => {
    const d = await smallDisk(4096, (note) => ctx.skip(note));
    const r = await d.wharf(['cp', '-r', `s3://${bucket}/`, join(d.path, 'copy')]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([
      expect.stringMatching(
        /^wharf: error: not enough disk space in .*\/copy: the copy needs 9\d\.\d MiB, 4\.0 MiB are free; nothing was copied \(free some space or copy to a folder on another disk, or copy a narrower prefix\)$/,
      ),
    ]);
    expect(await readdir(d.hostPath)).toEqual([]);
  });

  it('wharf cp -r over its own earlier copy counts what it adds: the files in flight, not the whole copy again', async (ctx) => {
    // 3.25 MiB: after the first copy about 1.2 MiB are free, less than the two files, more than one.
    const d = await smallDisk(3328, (note) => ctx.skip(note));
    const target = join(d.path, 'copy');
    expect((await d.wharf(['cp', '-r', `s3://${bucket}/pair/`, target])).code).toBe(0);
    // Both at once: each new file lands while the one it replaces still takes its space.
    const both = await d.wharf(['cp', '-r', `s3://${bucket}/pair/`, target]);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/not enough disk space in .*: the copy needs 2\.0 MiB, 1\.\d MiB are free/);
    // One at a time, it fits.
    const one = await d.wharf(['cp', '-r', '--concurrency', '1', `s3://${bucket}/pair/`, target]);
    expect(one.stderr).not.toMatch(/error/);
    expect(one.code).toBe(0);
    const kept = await d.wharf(['cp', '-r', '--no-clobber', `s3://${bucket}/pair/`, target]);
    expect(kept.code).toBe(0);
    expect(kept.stderr).toMatch(/copied 0 objects .*skipped 2 that exist/);
    for (const [i, body] of pair.entries())
      expect((await readFile(join(d.hostPath, 'copy', `p${i}.bin`))).equals(body)).toBe(true);
    expect(await filesUnder(d.hostPath)).toEqual(['copy/p0.bin', 'copy/p1.bin']);
  });

  it('wharf fetch of a dataset whose files all changed counts the downloads in flight, not the whole dataset again', async (ctx) => {
    // 3.25 MiB: after the first fetch of four 512 KiB files about 1.2 MiB are free, less than the dataset.
    const d = await smallDisk(3328, (note) => ctx.skip(note));
    const client = adminClient();
    const put = async (version: Buffer[]): Promise<void> => {
      for (const [i, body] of version.entries())
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: `refetch/r${i}.bin`, Body: body }));
    };
    const v1 = Array.from({ length: 4 }, () => randomBytes(512 * 1024));
    const v2 = Array.from({ length: 4 }, () => randomBytes(512 * 1024));
    const dest = join(d.path, 'data');
    const fetch = (...flags: string[]) =>
      d.wharf(['fetch', ...flags, `s3://${bucket}/refetch/`, dest, '--dataset-id', 'refetch']);
    await put(v1);
    expect((await fetch()).code).toBe(0);

    await put(v2);
    // All four at once: each new file lands while the one it replaces still takes its space.
    const all = await fetch();
    expect(all.code).toBe(1);
    expect(oneLine(all.stderr).filter((l) => l.startsWith('wharf: error:'))).toEqual([
      expect.stringMatching(
        /^wharf: error: not enough disk space in .*\/data\/refetch: the download needs 2\.0 MiB, 1\.\d MiB are free \(free some space, fetch to another DEST folder, or narrow the selection with --include\)$/,
      ),
    ]);
    // Two at a time, two old files at most are held beside their new versions: 1 MiB, which fits.
    const two = await fetch('--concurrency', '2');
    expect(two.stderr).not.toMatch(/error/);
    expect(two.code).toBe(0);
    const dataset = join(d.hostPath, 'data', 'refetch');
    for (const [i, body] of v2.entries())
      expect((await readFile(join(dataset, `r${i}.bin`))).equals(body)).toBe(true);
    expect((await filesUnder(dataset)).filter((f) => !f.startsWith('.wharf/'))).toEqual([
      'r0.bin',
      'r1.bin',
      'r2.bin',
      'r3.bin',
    ]);
    expect((await filesUnder(dataset)).filter((f) => f.endsWith('.tmp') || f.endsWith('.part'))).toEqual([]);
  });

  it('wharf fetch onto a disk full to the last page: one line naming the lock file; no lock left to block the rerun', async (ctx) => {
    const d = await smallDisk(1024, (note) => ctx.skip(note));
    const filler = join(d.hostPath, 'filler');
    await fillUp(filler);
    const dest = join(d.path, 'data');
    const first = await d.wharf(['fetch', `s3://${bucket}/many/`, dest, '--dataset-id', 'many']);
    expect(first.code).toBe(1);
    expect(oneLine(first.stderr).filter((l) => l.startsWith('wharf: error:'))).toEqual([
      expect.stringMatching(
        /^wharf: error: writing the lock file .*\/many\/\.wharf\/lock: no space left on device \(/,
      ),
    ]);

    await rm(filler);
    const rerun = await d.wharf(['fetch', '--json', `s3://${bucket}/many/`, dest, '--dataset-id', 'many']);
    expect(rerun.stderr).not.toMatch(/error/);
    expect(rerun.code).toBe(0);
    expect((JSON.parse(rerun.stdout) as { files: unknown[] }).files).toHaveLength(FILES);
  });

  it('wharf cp of a big object onto a disk that fills before any range is done: no partial file holds the space', async (ctx) => {
    const d = await smallDisk(96 * 1024, (note) => ctx.skip(note));
    const filler = join(d.hostPath, 'filler');
    const r = await cpFillingDisk(d, [`s3://${bucket}/big/big.bin`, join(d.path, 'copy', 'big.bin')], () =>
      fillUp(filler),
    );
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr).filter((l) => l.startsWith('wharf: error:'))).toEqual([
      expect.stringMatching(/writing .*big\.bin: no space left on device \(free some disk space/),
    ]);
    expect(await filesUnder(d.hostPath)).toEqual(['filler']);
  });

  it('wharf cp of a big object onto a disk that fills: names the file and the kept ranges; the rerun completes', async (ctx) => {
    const d = await smallDisk(96 * 1024, (note) => ctx.skip(note));
    const filler = join(d.hostPath, 'filler');
    const target = join(d.path, 'copy', 'big.bin');
    // 80 MiB stay free once the download has started: at least two of its 8 MiB ranges land before the disk is full.
    const first = await cpFillingDisk(d, [`s3://${bucket}/big/big.bin`, target], () =>
      writeFile(filler, Buffer.alloc(16 * 1024 * 1024)),
    );
    expect(first.code).toBe(1);
    const errors = oneLine(first.stderr).filter((l) => l.startsWith('wharf: error:'));
    expect(errors).toEqual([
      expect.stringMatching(
        /^wharf: error: writing .*\/copy\/big\.bin: no space left on device \(free some disk space/,
      ),
    ]);
    expect(errors[0]).toMatch(
      /already downloaded are kept in .*\.wharf-tmp-partial and the next run resumes from them/,
    );
    expect(await filesUnder(join(d.hostPath, 'copy'))).not.toContain('big.bin');

    // Less than the object is free now, but the kept ranges count toward it.
    await rm(filler);
    const rerun = await d.wharf(['cp', `s3://${bucket}/big/big.bin`, target]);
    expect(rerun.stderr).not.toMatch(/error/);
    expect(rerun.code).toBe(0);
    expect((await readFile(join(d.hostPath, 'copy', 'big.bin'))).equals(big)).toBe(true);
    expect(await filesUnder(join(d.hostPath, 'copy'))).toEqual(['big.bin']);
  });

  it('wharf cp -r onto a disk that fills up: exit 1, one line, not one per object; only complete files landed', async (ctx) => {
    const d = await smallDisk(640, (note) => ctx.skip(note));
    await writeFile(join(d.hostPath, 'filler'), Buffer.alloc(320 * 1024));
    const r = await d.wharf(['cp', '-r', `s3://${bucket}/many/`, join(d.path, 'copy')]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr).filter((l) => l.startsWith('wharf: error:'))).toEqual([
      expect.stringMatching(/writing .*\.json: no space left on device \(free some disk space/),
    ]);
    const landed = await filesUnder(join(d.hostPath, 'copy'));
    expect(landed.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const file of landed)
      expect(await readFile(join(d.hostPath, 'copy', file))).toEqual(small.get(`many/${file}`));
  });

  it('wharf cat > FILE on a disk too small: exit 1, one line naming standard output, not "nothing was written"', async (ctx) => {
    const d = await smallDisk(1024, (note) => ctx.skip(note));
    const r = await d.wharfTo(join(d.path, 'out.bin'), ['cat', `s3://${bucket}/blob/blob.bin`]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([
      'wharf: error: cannot write to standard output: no space left on device (the output is incomplete; free some disk space and run the command again)',
    ]);
    expect((await readFile(join(d.hostPath, 'out.bin'))).length).toBeGreaterThan(0);
  });

  it('wharf ls -r > FILE on a full disk: exit 1 and one line, not a silent empty file', async (ctx) => {
    const d = await smallDisk(32, (note) => ctx.skip(note));
    await fillUp(join(d.hostPath, 'filler'));
    const r = await d.wharfTo(join(d.path, 'list.txt'), ['ls', '-r', `s3://${bucket}/many/`]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([
      expect.stringMatching(/^wharf: error: cannot write to standard output: no space left on device \(/),
    ]);
  });

  it('wharf table build with the output on a full disk: exit 1, names the table file, leaves nothing', async (ctx) => {
    const d = await smallDisk(32, (note) => ctx.skip(note));
    await fillUp(join(d.hostPath, 'filler'));
    const out = join(d.path, 'rows.parquet');
    const r = await buildTableTo(d, out);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr).filter((l) => l.startsWith('wharf: error:'))).toEqual([
      `wharf: error: writing the table ${out}: no space left on device (free some disk space (or write elsewhere with --to) and build again; nothing was written)`,
    ]);
    expect(await filesUnder(d.hostPath)).toEqual(['filler']);
  });
});

/** `wharf table build` of the many small files into `out`, run on the small disk `d`. */
function buildTableTo(d: Awaited<ReturnType<typeof smallDisk>>, out: string) {
  return d.wharf([
    'table',
    'build',
    `s3://${bucket}/many/`,
    '--cache',
    join(work, 'table-cache'),
    '--to',
    out,
  ]);
}

describe('a read-only disk', () => {
  it('wharf table build with the output on it: exit 4, one line naming the table file, not DuckDB on a temporary file', async (ctx) => {
    const d = await smallDisk(32, (note) => ctx.skip(note), { readOnly: true });
    const out = join(d.path, 'rows.parquet');
    const r = await buildTableTo(d, out);
    expect(r.code).toBe(4);
    expect(oneLine(r.stderr).filter((l) => l.startsWith('wharf: error:'))).toEqual([
      `wharf: error: writing the table ${out}: the file system is read-only (choose a path on a writable disk)`,
    ]);
    expect(await filesUnder(d.hostPath)).toEqual([]);
  });
});
