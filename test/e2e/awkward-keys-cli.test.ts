import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures.js';
import { jsonLines, wharf } from '../support/run-cli.js';
import { adminClient, createTestBucket, deleteTestBucket, putRaw } from '../support/s3-buckets.js';
import { s3TestEnv } from '../support/test-services.js';

// Keys that real buckets hold and local folders cannot (or can only just) represent, through the built CLI
// against the real server: doubled and leading slashes, folder markers, a key that is a file and a folder.

let bucket: string;
let other: string;
let work: string;

beforeAll(async () => {
  s3TestEnv();
  bucket = await createTestBucket('keys');
  other = await createTestBucket('keys2');
  work = await tempDir('keys');
});

afterAll(async () => {
  if (bucket) await deleteTestBucket(bucket);
  if (other) await deleteTestBucket(other);
  if (work) await rm(work, { recursive: true, force: true });
});

async function body(inBucket: string, key: string): Promise<string> {
  const answer = await adminClient().send(new GetObjectCommand({ Bucket: inBucket, Key: key }));
  return answer.Body!.transformToString();
}

async function keysOf(url: string): Promise<string[]> {
  const listed = await wharf(['ls', '-r', '--json', url]);
  expect(listed.code, listed.stderr).toBe(0);
  return jsonLines(listed.stdout).map((o) => o.key as string);
}

describe('wharf cp -r between S3 prefixes', () => {
  it('keeps doubled and leading slashes of the relative keys: no key is changed, none overwrites another', async () => {
    await putRaw(bucket, 'slashes//lead.txt', 'doubled');
    await putRaw(bucket, 'slashes/lead.txt', 'single');
    await putRaw(bucket, 'slashes/p//q.txt', 'inner');
    for (const dest of [`s3://${other}/copy/`, `s3://${bucket}/copy/`]) {
      const copied = await wharf(['cp', '-r', `s3://${bucket}/slashes/`, dest]);
      expect(copied.code, copied.stderr).toBe(0);
      expect(copied.stderr).toContain('copied 3 objects');
      expect((await keysOf(dest)).sort()).toEqual(['/lead.txt', 'lead.txt', 'p//q.txt']);
    }
    for (const inBucket of [other, bucket]) {
      expect(await body(inBucket, 'copy//lead.txt')).toBe('doubled');
      expect(await body(inBucket, 'copy/lead.txt')).toBe('single');
      expect(await body(inBucket, 'copy/p//q.txt')).toBe('inner');
    }
    // A destination typed with a doubled slash is kept as typed, for one object as for -r (as aws-cli does).
    const one = await wharf(['cp', `s3://${bucket}/slashes/lead.txt`, `s3://${other}/typed//`]);
    expect(one.code, one.stderr).toBe(0);
    const tree = await wharf(['cp', '-r', `s3://${bucket}/slashes/p/`, `s3://${other}/typed//`]);
    expect(tree.code, tree.stderr).toBe(0);
    expect((await keysOf(`s3://${other}/typed/`)).sort()).toEqual(['//q.txt', '/lead.txt']);
  });
});

describe("a key that starts with '/' (s3://BUCKET//KEY), which other tools create", () => {
  it('every URL ls prints for it is usable: ls, cat, presign, cp and rm take s3://BUCKET//KEY as the key /KEY', async () => {
    await putRaw(bucket, '/lead-urls/a.txt', 'leading slash');
    const top = await wharf(['ls', '--json', `s3://${bucket}/`]);
    expect(top.code, top.stderr).toBe(0);
    expect(jsonLines(top.stdout)).toContainEqual(
      expect.objectContaining({ key: '/', url: `s3://${bucket}//`, isPrefix: true }),
    );
    const listed = await wharf(['ls', '-r', '--json', `s3://${bucket}//`]);
    expect(listed.code, listed.stderr).toBe(0);
    const url = `s3://${bucket}//lead-urls/a.txt`;
    expect(jsonLines(listed.stdout)).toEqual([expect.objectContaining({ key: 'lead-urls/a.txt', url })]);

    const cat = await wharf(['cat', url]);
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdout).toBe('leading slash');
    const presigned = await wharf(['presign', url]);
    expect(presigned.code, presigned.stderr).toBe(0);
    expect(await (await fetch(presigned.stdout.trim())).text()).toBe('leading slash');
    const down = join(work, 'lead-down.txt');
    expect((await wharf(['cp', url, down])).code).toBe(0);
    expect(await readFile(down, 'utf8')).toBe('leading slash');
    const copied = await wharf(['cp', url, `s3://${bucket}//lead-urls/b.txt`]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(await body(bucket, '/lead-urls/b.txt')).toBe('leading slash');
    const tree = await wharf(['cp', '-r', `s3://${bucket}//lead-urls/`, join(work, 'lead-tree')]);
    expect(tree.code, tree.stderr).toBe(0);
    expect((await readdir(join(work, 'lead-tree'))).sort()).toEqual(['a.txt', 'b.txt']);

    const removed = await wharf(['rm', url]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await keysOf(`s3://${bucket}//lead-urls/`)).toEqual(['b.txt']);
    expect((await wharf(['rm', '-r', `s3://${bucket}//`])).code).toBe(0);
    expect(await keysOf(`s3://${bucket}//`)).toEqual([]);
  });
});

describe('wharf fetch --include/--exclude on names with glob-like characters', () => {
  it("takes '(', ')', '|' and a leading '!' as themselves, as the documented pattern rules say", async () => {
    for (const key of ['report (1).csv', 'report 1.csv', 'report.csv', 'a|b.csv', 'ab.csv', '!notes.csv'])
      await putRaw(bucket, `globs/${key}`, key);
    const fetched = async (...patterns: string[]): Promise<string[]> => {
      const run = await wharf(['fetch', '--json', '--dry-run', `s3://${bucket}/globs/`, work, ...patterns]);
      expect(run.code, run.stderr).toBe(0);
      const plan = jsonLines(run.stdout).at(-1) as { files: { key: string }[] };
      return plan.files.map((f) => f.key.slice('globs/'.length)).sort();
    };
    // A browser's "report (1).csv" copies: excluded, and nothing else with them.
    expect(await fetched('--exclude', '* (1).csv')).toEqual([
      '!notes.csv',
      'ab.csv',
      'a|b.csv',
      'report 1.csv',
      'report.csv',
    ]);
    expect(await fetched('--include', '**/report (1).csv')).toEqual(['report (1).csv']);
    expect(await fetched('--include', '*(1).csv')).toEqual(['report (1).csv']);
    expect(await fetched('--include', 'a|b.csv')).toEqual(['a|b.csv']);
    expect(await fetched('--include', '!notes.csv')).toEqual(['!notes.csv']);
  });
});

describe('a key that is both a file and a folder (data/x and data/x/y), and folder markers that hold bytes', () => {
  beforeAll(async () => {
    await putRaw(bucket, 'clash/data/x', 'file x');
    await putRaw(bucket, 'clash/data/x/y', 'file y');
    await putRaw(bucket, 'clash/data/x/z', 'file z');
    await putRaw(bucket, 'clash/empty-marker/', '');
    await putRaw(bucket, 'clash/full-marker/', 'bytes in a marker');
    await putRaw(bucket, 'clash/full-marker/b.txt', 'b');
  });

  it('fetch keeps the folder every run, refuses the file naming the clash, and the marker holding bytes', async () => {
    for (const run of [1, 2, 3]) {
      const dest = join(work, `clash-fetch-${run}`);
      for (const attempt of [1, 2]) {
        const r = await wharf(['fetch', `s3://${bucket}/clash/`, dest, '--dataset-id', 'c']);
        expect(r.code, `${run}.${attempt}: ${r.stderr}`).toBe(1);
        expect(await readFile(join(dest, 'c', 'data', 'x', 'y'), 'utf8')).toBe('file y');
        expect(await readFile(join(dest, 'c', 'data', 'x', 'z'), 'utf8')).toBe('file z');
        expect(await readFile(join(dest, 'c', 'full-marker', 'b.txt'), 'utf8')).toBe('b');
        const errors = r.stderr.split('\n').filter((line) => line.startsWith('wharf: error:'));
        expect(errors).toHaveLength(2);
        expect(errors).toEqual(
          expect.arrayContaining([
            expect.stringMatching(
              /clash\/data\/x": a folder of the same name holds other objects \(data\/x\/y\).*--exclude 'data\/x'/,
            ),
            expect.stringMatching(/clash\/full-marker\/": its name ends in '\/'.* holds 17 bytes/),
          ]),
        );
        expect(r.stderr).not.toMatch(/empty-marker/);
      }
    }
  });

  it('fetch --exclude of the file as the hint says leaves only the marker holding bytes to report', async () => {
    const dest = join(work, 'clash-fetch-excluded');
    const r = await wharf(['fetch', `s3://${bucket}/clash/`, dest, '--exclude', 'data/x']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/data\/x"/);
    expect(r.stderr).toMatch(/full-marker\/"/);
    expect(r.stderr).toMatch(/3 downloaded .* 1 failed/);
  });

  it('cp -r into a folder copies the folder every run and fails the file naming the clash', async () => {
    for (const run of [1, 2, 3]) {
      const dest = join(work, `clash-cp-${run}`);
      const r = await wharf(['cp', '-r', `s3://${bucket}/clash/data/`, dest]);
      expect(r.code, r.stderr).toBe(1);
      expect(await readFile(join(dest, 'x', 'y'), 'utf8')).toBe('file y');
      expect(await readFile(join(dest, 'x', 'z'), 'utf8')).toBe('file z');
      expect(r.stderr).toMatch(
        /clash\/data\/x: a folder of the same name holds other objects \(clash\/data\/x\/y\)/,
      );
      expect(r.stderr).toContain('copied 2 objects');
    }
  });
});

describe('ls -r, rm -r and cp -r of one URL take the same objects (a key both a file and a folder, a plain object)', () => {
  const layout = ['data/x', 'data/x/y', 'data/x/z/w', 'data/xx', 'data/x.csv', 'solo'];

  async function allKeys(): Promise<string[]> {
    return (await keysOf(`s3://${bucket}/agree/`)).sort();
  }

  it('what ls -r URL shows, with its names, is what rm -r deletes and cp -r copies, for every kind of URL', async () => {
    for (const key of layout) await putRaw(bucket, `agree/${key}`, key);
    const cases: [string, string[]][] = [
      // The folder wins over the object of its name, never a plain key prefix (data/xx, data/x.csv stay out).
      ['data/x', ['y', 'z/w']],
      ['data/x/', ['y', 'z/w']],
      ['data/xx', ['xx']], // one object and no folder: that object
      ['solo', ['solo']],
      ['data', ['x', 'x.csv', 'x/y', 'x/z/w', 'xx']],
      ['missing', []],
    ];
    for (const [path, names] of cases) {
      const url = `s3://${bucket}/agree/${path}`;
      const listed = await wharf(['ls', '-r', '--json', url]);
      expect(listed.code, listed.stderr).toBe(0);
      const shown = jsonLines(listed.stdout);
      expect(shown.map((o) => o.key).sort(), path).toEqual(names);
      const shownUrls = shown.map((o) => o.url as string).sort();
      const removal = await wharf(['rm', '-r', '--dry-run', '--json', url]);
      expect(removal.code, removal.stderr).toBe(0);
      expect(
        jsonLines(removal.stdout)
          .map((o) => o.url as string)
          .sort(),
        path,
      ).toEqual(shownUrls);
      const dest = `s3://${other}/agree-dry/`;
      const copy = await wharf(['cp', '-r', '--dry-run', '--json', url, dest]);
      expect(copy.code, copy.stderr).toBe(0);
      const copies = jsonLines(copy.stdout).filter((o) => o.action === 'copy');
      expect(copies.map((o) => o.source as string).sort(), path).toEqual(shownUrls);
      // Each object lands under DEST at the very name ls -r shows for it.
      expect(copies.map((o) => (o.dest as string).slice(dest.length)).sort(), path).toEqual(names);
    }
    expect(await allKeys()).toEqual(layout.slice().sort());
  });

  it('the real cp -r and rm -r of data/x take the folder and keep the object data/x, saying so', async () => {
    for (const key of layout) await putRaw(bucket, `agree/${key}`, key);
    const url = `s3://${bucket}/agree/data/x`;
    const copy = await wharf(['cp', '-r', url, `s3://${other}/agree-copy/`]);
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stderr).toMatch(
      /agree\/data\/x is also an object, not copied: -r takes the folder .*agree\/data\/x\//,
    );
    expect((await keysOf(`s3://${other}/agree-copy/`)).sort()).toEqual(['y', 'z/w']);
    const removal = await wharf(['rm', '-r', url]);
    expect(removal.code, removal.stderr).toBe(0);
    expect(removal.stderr).toMatch(
      /agree\/data\/x is also an object, kept: .*\(wharf rm \S+\/agree\/data\/x deletes it\)/,
    );
    expect(removal.stderr).toContain('deleted 2 objects');
    expect(await allKeys()).toEqual(['data/x', 'data/x.csv', 'data/xx', 'solo']);
    // Now data/x is one object and no folder: ls -r shows it, and rm -r deletes it (and nothing else).
    expect(await keysOf(url)).toEqual(['x']);
    const again = await wharf(['rm', '-r', url]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('deleted 1 object');
    expect(await allKeys()).toEqual(['data/x.csv', 'data/xx', 'solo']);
  });
});

describe('ls -r, rm -r and cp -r of a local file', () => {
  it('take that one file, as of one S3 object (they were refused as "not a folder")', async () => {
    const dir = join(work, 'one-file');
    await mkdir(dir);
    const file = join(dir, 'only.txt');
    await writeFile(file, 'only');
    const listed = await wharf(['ls', '-r', '--json', file]);
    expect(jsonLines(listed.stdout).map((o) => o.key)).toEqual(['only.txt']);
    const copy = await wharf(['cp', '-r', file, `s3://${other}/one-file/`]);
    expect(copy.code, copy.stderr).toBe(0);
    expect(await body(other, 'one-file/only.txt')).toBe('only');
    const removal = await wharf(['rm', '-r', file]);
    expect(removal.code, removal.stderr).toBe(0);
    expect(removal.stderr).toContain('deleted 1 object');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('a folder marker that holds bytes, named with its trailing /', () => {
  it('cp -r into a folder fails that object alone and copies the rest; cat and presign read it; an empty marker stays a folder', async () => {
    await putRaw(bucket, 'markers/full/', 'marker bytes');
    await putRaw(bucket, 'markers/full/inside.txt', 'inside');
    await putRaw(bucket, 'markers/empty/', '');
    const dest = join(work, 'markers-cp');
    const r = await wharf(['cp', '-r', `s3://${bucket}/markers/`, dest]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/markers\/full\/: its name ends in '\/'.* holds 12 bytes/);
    expect(r.stderr).toContain('copied 1 object');
    expect(await readFile(join(dest, 'full', 'inside.txt'), 'utf8')).toBe('inside');
    const cat = await wharf(['cat', `s3://${bucket}/markers/full/`]);
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdout).toBe('marker bytes');
    const empty = await wharf(['cat', `s3://${bucket}/markers/empty/`]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/is a folder or prefix/);
    const url = await wharf(['presign', `s3://${bucket}/markers/full/`]);
    expect(url.code, url.stderr).toBe(0);
    expect(await (await fetch(url.stdout.trim())).text()).toBe('marker bytes');
    expect((await wharf(['presign', `s3://${bucket}/markers/empty/`])).code).toBe(2);
  });
});

describe('wharf sync adopt of a key that is both a file and a folder', () => {
  it('adopts the folder, leaves the file alone with a warning, and the syncs that follow succeed', async () => {
    await putRaw(bucket, 'team/data/x', 'file x');
    await putRaw(bucket, 'team/data/x/y', 'file y');
    await putRaw(bucket, 'team/plain.txt', 'plain');
    const dir = join(work, 'team');
    const init = await wharf(['sync', 'init', dir, `s3://${bucket}/team`, '--member', 'alice']);
    expect(init.code, init.stderr).toBe(0);
    const adopt = await wharf(['sync', 'adopt', dir, '--yes']);
    expect(adopt.code, adopt.stderr).toBe(0);
    expect(adopt.stderr).toMatch(
      /warning: left alone: data\/x: a folder of the same name holds other objects \(data\/x\/y\)/,
    );
    expect(adopt.stderr).toMatch(/adopted 2 objects/);
    for (const attempt of [1, 2]) {
      const sync = await wharf(['sync', dir, '--yes']);
      expect(sync.code, `${attempt}: ${sync.stderr}`).toBe(0);
    }
    expect(await readFile(join(dir, 'data', 'x', 'y'), 'utf8')).toBe('file y');
    expect(await readFile(join(dir, 'plain.txt'), 'utf8')).toBe('plain');
  });
});

describe('names at the file-system limit of 255 bytes', () => {
  it('cp -r between local folders, and to and from S3, copies them (the temporary name beside one must fit too)', async () => {
    const long = `${'M'.repeat(251)}.txt`;
    const accents = 'é'.repeat(127); // 254 bytes in UTF-8
    const source = join(work, 'long-source');
    await mkdir(join(source, 'd'), { recursive: true });
    await writeFile(join(source, long), 'long ascii');
    await writeFile(join(source, 'd', accents), 'long accents');
    const copy = join(work, 'long-copy');
    const local = await wharf(['cp', '-r', source, copy]);
    expect(local.code, local.stderr).toBe(0);
    expect(await readFile(join(copy, long), 'utf8')).toBe('long ascii');
    expect(await readFile(join(copy, 'd', accents), 'utf8')).toBe('long accents');
    expect(await readdir(copy)).toEqual(expect.arrayContaining([long, 'd']));
    expect(await readdir(copy)).toHaveLength(2);
    const up = await wharf(['cp', '-r', copy, `s3://${bucket}/long/`]);
    expect(up.code, up.stderr).toBe(0);
    const down = await wharf(['cp', '-r', `s3://${bucket}/long/`, join(work, 'long-down')]);
    expect(down.code, down.stderr).toBe(0);
    expect(await readFile(join(work, 'long-down', 'd', accents), 'utf8')).toBe('long accents');
  });
});

describe('wharf cp -r of a prefix holding a key no copy may create', () => {
  it('refuses before any byte moves and says that nothing was copied and what to do', async () => {
    await putRaw(bucket, 'hostile/ok.txt', 'ok');
    await putRaw(bucket, 'hostile//abs.txt', 'abs');
    const dest = join(work, 'hostile-copy');
    const down = await wharf(['cp', '-r', `s3://${bucket}/hostile/`, dest]);
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /refusing object key "hostile\/\/abs\.txt": .*absolute path \(nothing was copied.*wharf fetch/,
      ),
    ]);
    await putRaw(bucket, 'reserved/.a.wharf-lock', "named like the local store's lock files");
    await putRaw(bucket, 'reserved/ok.txt', 'ok');
    const reserved = await wharf(['cp', '-r', `s3://${bucket}/reserved/`, join(work, 'reserved-copy')]);
    expect(reserved.code).toBe(1);
    expect(reserved.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/"reserved\/\.a\.wharf-lock": .*reserved for Wharf \(nothing was copied/),
    ]);
    await putRaw(bucket, 'dotted/a/../b.txt', 'b');
    const across = await wharf(['cp', '-r', `s3://${bucket}/dotted/`, `s3://${other}/dotted/`]);
    expect(across.code).toBe(1);
    expect(across.stderr).toMatch(/refusing object key "dotted\/a\/\.\.\/b\.txt": .*\(nothing was copied/);
  });
});
