import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeSync, existsSync, openSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  adminClient,
  createTestBucket,
  deleteTestBucket,
  putMultipart,
  putObject,
  putRaw,
} from '../support/s3-buckets.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { readTree, tempDir, writeAwkwardTree } from '../support/fixtures.js';
import { CLI, jsonLines, wharf, wharfWithStdout } from '../support/run-cli.js';
import { s3TestEnv } from '../support/test-services.js';
import { runFolderName } from '../../src/transfer/copy-staging.js';

let bucket: string;
let work: string;

beforeAll(async () => {
  s3TestEnv();
  bucket = await createTestBucket('cli');
  work = await tempDir('cli');
});

afterAll(async () => {
  if (bucket) await deleteTestBucket(bucket);
  if (work) await rm(work, { recursive: true, force: true });
});

describe('wharf --help', () => {
  it('lists the commands, the location forms and the exit codes, and exits 0', async () => {
    const r = await wharf(['--help']);
    expect(r.code).toBe(0);
    for (const word of [
      'ls',
      'cp',
      'rm',
      'cat',
      'presign',
      's3://BUCKET',
      'Exit codes',
      '3  not found',
      '4  access denied',
    ]) {
      expect(r.stdout).toContain(word);
    }
  });

  it('shows examples for each command', async () => {
    for (const command of ['ls', 'cp', 'rm', 'cat', 'presign']) {
      const r = await wharf([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
    }
  });

  it('treats an unknown command as a usage error (exit 2)', async () => {
    const r = await wharf(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});

describe.each([
  ['an S3 bucket', () => `s3://${bucket}/roundtrip/awkward`],
  ['a file:// store', () => `${pathToFileURL(join(work, 'file-store')).href}/roundtrip/awkward`],
])('wharf cp -r ./dir %s && wharf ls -r --json', (_label, remote) => {
  it('round-trips names and bytes exactly for the awkward-key fixture set', async () => {
    const source = join(work, `src-${Math.random().toString(36).slice(2)}`);
    const files = await writeAwkwardTree(source);

    const up = await wharf(['cp', '-r', source, remote()]);
    expect(up.stderr).toContain(`copied ${files.size} objects`);
    expect(up.code).toBe(0);

    const ls = await wharf(['ls', '-r', '--json', remote()]);
    expect(ls.code).toBe(0);
    const listed = jsonLines(ls.stdout);
    expect(listed.map((o) => o.key).sort()).toEqual([...files.keys()].sort());
    for (const entry of listed) expect(entry.size).toBe(files.get(entry.key as string)?.length);

    const back = join(work, `back-${Math.random().toString(36).slice(2)}`);
    const down = await wharf(['cp', '-r', '--quiet', remote(), back]);
    expect(down.code).toBe(0);
    const returned = await readTree(back);
    expect([...returned.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [key, body] of files) expect(returned.get(key)?.equals(body)).toBe(true);
  });
});

describe('wharf ls', () => {
  it('a key with control characters reaches a terminal escaped, a pipe as it is', async (ctx) => {
    const key = 'ctl/red\u001b[31m.txt';
    await putRaw(bucket, key, 'x');
    try {
      const args = ['ls', '-r', `s3://${bucket}/ctl/`];
      const piped = await wharf(args);
      expect(piped.stdout).toContain('red\u001b[31m.txt');
      // `script` runs the CLI with its stdout on a pseudo-terminal.
      const tty = spawnSync('script', ['-qec', [process.execPath, CLI, ...args].join(' '), '/dev/null'], {
        encoding: 'utf8',
      });
      if (tty.error) ctx.skip(`no script(1) for a pseudo-terminal: ${tty.error.message}`);
      expect(tty.status).toBe(0);
      expect(tty.stdout).toContain('red\\x1b[31m.txt');
      expect(tty.stdout).not.toContain('\u001b');
    } finally {
      // The test bucket's cleanup deletes in batches, whose XML cannot carry ESC.
      await wharf(['rm', `s3://${bucket}/${key}`]);
    }
  });

  it('s3:// without a bucket is a usage error naming the expected form (exit 2)', async () => {
    const r = await wharf(['ls', 's3://']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('s3://BUCKET[/PREFIX]');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a malformed bucket name is a usage error (exit 2)', async () => {
    const r = await wharf(['ls', 's3://Bad_Bucket!/x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid bucket name "Bad_Bucket!"/);
  });

  it('a bucket that does not exist says so, naming the endpoint (exit 3)', async () => {
    const r = await wharf(['ls', 's3://wharf-missing-bucket-42/']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `bucket wharf-missing-bucket-42 does not exist at endpoint ${s3TestEnv().endpoint}`,
    );
  });

  it('wrong credentials name the credential source used and how to change it (exit 4)', async () => {
    const r = await wharf(['ls', `s3://${bucket}/`], { env: { AWS_SECRET_ACCESS_KEY: 'wrong-secret' } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('environment variables AWS_ACCESS_KEY_ID');
    expect(r.stderr).toMatch(/--profile|AWS_PROFILE/);
  });

  it('an upload of one file with rejected credentials is one line naming the file (exit 4), no "copied 0 objects"', async () => {
    const dir = await mkdtemp(join(work, 'one-up-'));
    await writeFile(join(dir, 'one.txt'), 'one');
    const r = await wharf(['cp', join(dir, 'one.txt'), `s3://${bucket}/one-up/one.txt`], {
      env: { AWS_SECRET_ACCESS_KEY: 'wrong-secret' },
    });
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(`^wharf: error: ${join(dir, 'one.txt')}: access denied for write s3://`),
      ),
    ]);
  });

  it('an upload of many files with rejected credentials or no server says so once, not once per file', async () => {
    const dir = await mkdtemp(join(work, 'many-up-'));
    for (let i = 0; i < 30; i++) await writeFile(join(dir, `f${i}.txt`), `${i}`);
    const denied = await wharf(['cp', '-r', dir, `s3://${bucket}/many-up/`], {
      env: { AWS_SECRET_ACCESS_KEY: 'wrong-secret' },
    });
    expect(denied.code).toBe(4);
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);
    expect(denied.stderr).toMatch(/access denied|secret key does not match/);
    const unreachable = await wharf([
      '--endpoint-url',
      'http://127.0.0.1:9',
      'cp',
      '-r',
      dir,
      `s3://${bucket}/many-up/`,
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
    expect(unreachable.stderr).toMatch(/cannot reach endpoint http:\/\/127\.0\.0\.1:9/);
  });

  it('the access key pair in the environment wins over AWS_PROFILE, as in aws-cli; --profile wins over both', async () => {
    const dir = await mkdtemp(join(work, 'profile-vs-env-'));
    const credentials = join(dir, 'credentials');
    await writeFile(
      credentials,
      `[stale]\naws_access_key_id = ${s3TestEnv().accessKeyId}\naws_secret_access_key = wrong-secret\n`,
    );
    const env = {
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_PROFILE: 'stale',
    };
    const viaEnvKeys = await wharf(['ls', `s3://${bucket}/`], { env });
    expect(viaEnvKeys.stderr).toBe('');
    expect(viaEnvKeys.code).toBe(0);
    const viaFlag = await wharf(['--profile', 'stale', 'ls', `s3://${bucket}/`], { env });
    expect(viaFlag.code).toBe(4);
    expect(viaFlag.stderr).toContain('profile "stale" (from --profile)');
  });

  it('a profile that does not exist is a credentials error naming the profile (exit 4)', async () => {
    const r = await wharf(['--profile', 'no-such-profile', 'ls', `s3://${bucket}/`], {
      env: {
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('no-such-profile');
  });

  it('an unreachable endpoint names the endpoint and the network error', async () => {
    const r = await wharf(['--endpoint-url', 'http://127.0.0.1:9', 'ls', `s3://${bucket}/`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('http://127.0.0.1:9');
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(r.stderr).toContain('(check --endpoint-url / AWS_ENDPOINT_URL and that the server is running');
    const json = await wharf(['--json', '--endpoint-url', 'http://127.0.0.1:9', 'ls', `s3://${bucket}/`]);
    expect(jsonLines(json.stderr)).toEqual([
      {
        error: expect.objectContaining({ code: 'NETWORK', hint: expect.stringContaining('--endpoint-url') }),
      },
    ]);
  });

  it('an endpoint that is a web server answering every path with a page: cat, cp and rm say so, write nothing, exit 1', async () => {
    // A web server's 200 carries no ETag; HeadObject, GetObject and PutObject read it as success.
    const page = '<html><body><h1>Welcome</h1></body></html>';
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
      res.end(req.method === 'HEAD' ? undefined : page);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out = join(work, `web-page-${Math.random().toString(36).slice(2)}`);
    await mkdir(out);
    await writeFile(join(out, 'up.txt'), 'data');
    const big = join(out, 'big.bin');
    await writeFile(big, randomBytes(17 * 1024 * 1024));
    try {
      for (const args of [
        ['cat', `s3://${bucket}/any.txt`],
        ['cp', `s3://${bucket}/any.txt`, join(out, 'got.txt')],
        ['rm', `s3://${bucket}/any.txt`],
        ['cp', join(out, 'up.txt'), `s3://${bucket}/up.txt`],
        ['cp', big, `s3://${bucket}/big.bin`],
      ]) {
        const r = await wharf(['--endpoint-url', endpoint, ...args]);
        expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: '' });
        expect(r.stderr.trim().split('\n')).toEqual([
          `wharf: error: ${endpoint} did not answer like an S3 server (HTTP 200, an HTML page) (check --endpoint-url / AWS_ENDPOINT_URL: its host and port must be the S3 service, not a web page)`,
        ]);
      }
      expect((await readdir(out)).sort()).toEqual(['big.bin', 'up.txt']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('an object served as text/html by the real server still reads (the check costs one listing)', async () => {
    await adminClient().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'page/index.html',
        Body: '<html>hi</html>',
        ContentType: 'text/html',
      }),
    );
    const r = await wharf(['cat', `s3://${bucket}/page/index.html`]);
    expect(r).toEqual({ code: 0, stdout: '<html>hi</html>', stderr: '' });
  });

  it('a malformed --endpoint-url is a usage error (exit 2)', async () => {
    const r = await wharf(['--endpoint-url', 'not a url', 'ls', `s3://${bucket}/`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid --endpoint-url');
  });

  it('lists one level with folders as PRE entries, and a missing local folder is exit 3', async () => {
    const dir = join(work, 'ls-local');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'a.txt'), 'aaa');
    await writeFile(join(dir, 'sub', 'b.txt'), 'b');
    const r = await wharf(['ls', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\s3 a\.txt\n/);
    expect(r.stdout).toMatch(/PRE sub\/\n/);
    expect(r.stdout).not.toContain('b.txt');
    const missing = await wharf(['ls', join(work, 'not-there')]);
    expect(missing.code).toBe(3);
  });

  it('a key that is also a folder (a and a/b): ls shows both, -r the folder alone and warns of the object', async () => {
    for (const key of ['both/a', 'both/a/b', 'both/a/c/d', 'both/a.csv']) await putObject(bucket, key, key);
    const one = await wharf(['ls', `s3://${bucket}/both/a`]);
    expect(one.code).toBe(0);
    expect(one.stdout.split('\n').map((l) => l.trim().split(/\s+/).pop())).toEqual(['a', 'a/', '']);
    expect(one.stdout).toMatch(/PRE a\/\n/);
    // -r names the folder (what rm -r deletes and cp -r copies), relative to it, as for s3://…/both/a/.
    const all = await wharf(['ls', '-r', `s3://${bucket}/both/a`]);
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n').map((l) => l.trim().split(/\s+/).pop())).toEqual(['b', 'c/d', '']);
    expect(all.stdout).toBe((await wharf(['ls', '-r', `s3://${bucket}/both/a/`])).stdout);
    expect(all.stderr).toMatch(
      /^wharf: warning: s3:\/\/\S+\/both\/a is also an object, not listed: -r takes the folder s3:\/\/\S+\/both\/a\/ \(wharf ls s3:\/\/\S+\/both\/a shows it\)\n$/,
    );
    const json = await wharf(['ls', '-r', '--json', `s3://${bucket}/both/a`]);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { url: string }).url),
    ).toEqual([`s3://${bucket}/both/a/b`, `s3://${bucket}/both/a/c/d`]);
  });

  it('--json: a bad option value or an unknown option is a JSON error too (exit 2)', async () => {
    for (const args of [
      ['--json', 'fetch', 's3://b/p', '--part-size', 'abc'],
      ['--json', 'fetch', 's3://b/p', '--bogus'],
    ]) {
      const run = await wharf(args);
      expect(run.code).toBe(2);
      expect(JSON.parse(run.stderr)).toMatchObject({ error: { code: 'USAGE' } });
    }
  });

  it('--json errors are JSON on stderr', async () => {
    const r = await wharf(['--json', 'ls', 's3://wharf-missing-bucket-42/']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});

describe('wharf cp', () => {
  it('refuses a key that would escape the destination folder and writes nothing', async () => {
    await putRaw(bucket, 'escape/ok.txt', 'fine');
    await putRaw(bucket, 'escape/../../evil.txt', 'evil');
    const dest = join(work, 'escape-dest', 'inner');
    const r = await wharf(['cp', '-r', `s3://${bucket}/escape/`, dest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'..' segment");
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dest, 'ok.txt'))).toBe(false);
    expect(existsSync(join(work, 'evil.txt'))).toBe(false);
    expect(existsSync(join(work, 'escape-dest', 'evil.txt'))).toBe(false);
  });

  it("refuses to create an S3 key with a '..' or '.' segment (exit 1); an existing one can still be removed", async () => {
    const file = join(work, 'dots.txt');
    await writeFile(file, 'dots');
    for (const key of ['dots/../up.txt', 'dots/./here.txt']) {
      const r = await wharf(['cp', file, `s3://${bucket}/${key}`]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/refusing object key .*choose a key/),
      ]);
    }
    await putRaw(bucket, 'dots/src/a.txt', 'a');
    await putRaw(bucket, 'dots/src/../b.txt', 'b');
    const tree = await wharf(['cp', '-r', `s3://${bucket}/dots/src/`, `s3://${bucket}/dots/copy/`]);
    expect(tree.code).toBe(1);
    expect(tree.stderr).toContain("'..' segment");
    const listed = jsonLines((await wharf(['--json', 'ls', '-r', `s3://${bucket}/dots/`])).stdout);
    expect(listed.map((o) => o.key).sort()).toEqual(['src/../b.txt', 'src/a.txt']);
    expect((await wharf(['rm', `s3://${bucket}/dots/src/../b.txt`])).code).toBe(0);
    const after = jsonLines((await wharf(['--json', 'ls', '-r', `s3://${bucket}/dots/`])).stdout);
    expect(after.map((o) => o.key)).toEqual(['src/a.txt']);
  });

  it('copies one file into a folder-like destination keeping its name, and back', async () => {
    const file = join(work, 'single.csv');
    await writeFile(file, 'a,b\n1,2\n');
    const up = await wharf(['cp', file, `s3://${bucket}/single/`]);
    expect(up.code).toBe(0);
    const cat = await wharf(['cat', `s3://${bucket}/single/single.csv`]);
    expect(cat.stdout).toBe('a,b\n1,2\n');
    const down = await wharf(['cp', `s3://${bucket}/single/single.csv`, join(work, 'single-back.csv')]);
    expect(down.code).toBe(0);
    expect(await readFile(join(work, 'single-back.csv'), 'utf8')).toBe('a,b\n1,2\n');
  });

  it('into a folder: verified against the ETag, damaged bytes fetched again, never left at the final path', async () => {
    const proxy = await startFaultProxy(s3TestEnv().endpoint);
    try {
      const body = randomBytes(300 * 1024 + 11);
      await putObject(bucket, 'verify/one.bin', body);
      const viaProxy = ['--endpoint-url', proxy.url];
      // The first GET arrives damaged (one byte flipped, length intact): the MD5 check catches it, the retry heals.
      let damaged = 0;
      proxy.setFaults({ corrupt: (r) => r.isObjectGet && r.key === 'verify/one.bin' && damaged++ === 0 });
      const healed = await wharf([
        ...viaProxy,
        'cp',
        `s3://${bucket}/verify/one.bin`,
        join(work, 'verify', 'one.bin'),
      ]);
      expect(healed.code, healed.stderr).toBe(0);
      expect((await readFile(join(work, 'verify', 'one.bin'))).equals(body)).toBe(true);
      expect(proxy.requests.filter((r) => r.isObjectGet).map((r) => r.fault ?? 'ok')).toEqual([
        'corrupted',
        'ok',
      ]);

      // Every GET damaged: one line naming the ETag check, exit 1, nothing at the final path or in staging.
      proxy.setFaults({ corrupt: (r) => r.isObjectGet });
      const target = join(work, 'verify-bad', 'one.bin');
      const bad = await wharf([...viaProxy, 'cp', `s3://${bucket}/verify/one.bin`, target]);
      expect(bad.code).toBe(1);
      expect(bad.stderr.trim().split('\n')[0]).toMatch(
        /^wharf: error: .*one\.bin: downloaded content does not match the object's ETag/,
      );
      expect(existsSync(target)).toBe(false);
      expect(await readdir(join(work, 'verify-bad'), { recursive: true })).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('into a folder: a big multipart object comes in parallel ranges, byte-exact, with its LastModified', async () => {
    const body = randomBytes(20 * 1024 * 1024 + 5);
    await putMultipart(bucket, 'ranged/big.bin', body, 8 * 1024 * 1024);
    const target = join(work, 'ranged', 'big.bin');
    const r = await wharf(['cp', `s3://${bucket}/ranged/big.bin`, target]);
    expect(r.code, r.stderr).toBe(0);
    expect(
      createHash('sha256')
        .update(await readFile(target))
        .digest('hex'),
    ).toBe(createHash('sha256').update(body).digest('hex'));
    const listed = jsonLines((await wharf(['--json', 'ls', `s3://${bucket}/ranged/`])).stdout);
    expect((await stat(target)).mtime.toISOString()).toBe(listed[0]?.lastModified);
    expect((await readdir(join(work, 'ranged'))).sort()).toEqual(['big.bin']);
  });

  it('copies within one bucket (server side) and reports a missing source as exit 3', async () => {
    await putRaw(bucket, 'same/src.txt', 'same-bucket');
    const r = await wharf(['cp', `s3://${bucket}/same/src.txt`, `s3://${bucket}/same/dst.txt`]);
    expect(r.code).toBe(0);
    expect((await wharf(['cat', `s3://${bucket}/same/dst.txt`])).stdout).toBe('same-bucket');
    const missing = await wharf(['cp', `s3://${bucket}/same/absent.txt`, join(work, 'x.txt')]);
    expect(missing.code).toBe(3);
    expect(existsSync(join(work, 'x.txt'))).toBe(false);
  });

  it('asks for --recursive when the source is a folder (exit 2)', async () => {
    const r = await wharf(['cp', work, `s3://${bucket}/nope/`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--recursive');
  });

  it('cp -r of one object (no trailing /) copies it; cp of a prefix without -r asks for --recursive (exit 2)', async () => {
    await putRaw(bucket, 'lone/m1', 'one object');
    const into = join(work, 'lone-copy');
    const r = await wharf(['cp', '-r', `s3://${bucket}/lone/m1`, `${into}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('copied 1 object');
    expect(await readFile(join(into, 'm1'), 'utf8')).toBe('one object');

    const prefix = await wharf(['cp', `s3://${bucket}/lone`, join(work, 'lone-prefix/')]);
    expect(prefix.code).toBe(2);
    expect(prefix.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/lone is a prefix, not one object: add --recursive/),
    ]);
  });

  it('--dry-run copies nothing', async () => {
    const dir = join(work, 'dry');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'f.txt'), 'f');
    const r = await wharf(['cp', '-r', '--dry-run', dir, `s3://${bucket}/dry/`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('would copy');
    expect((await wharf(['ls', '-r', `s3://${bucket}/dry/`])).stdout).toBe('');
  });

  it('-v names each object copied on stderr: up, down and S3 to S3', async () => {
    for (const name of ['a.txt', 'sub/b.txt']) await putRaw(bucket, `verbose/${name}`, name);
    const down = join(work, 'verbose');
    const copies: [string, string][] = [
      [`s3://${bucket}/verbose/`, `${down}/`],
      [`${down}/`, `s3://${bucket}/verbose-up/`],
      [`s3://${bucket}/verbose/`, `s3://${bucket}/verbose-copy/`],
    ];
    for (const [from, to] of copies) {
      const r = await wharf(['-v', 'cp', '-r', from, to]);
      expect(r.code).toBe(0);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('copied ') && l.includes(' -> '));
      expect(lines.sort()).toEqual([
        `copied ${from}a.txt -> ${to}a.txt`,
        `copied ${from}sub/b.txt -> ${to}sub/b.txt`,
      ]);
    }
  });

  it('--json: a record per object with source and dest, as in --dry-run; a failed object is a record with its error', async () => {
    for (const name of ['a.txt', 'b.txt']) await putRaw(bucket, `jsoncp/${name}`, name);
    const dest = join(work, 'jsoncp');
    await mkdir(join(dest, 'b.txt', 'in-the-way'), { recursive: true });
    const src = `s3://${bucket}/jsoncp/`;
    const dry = jsonLines((await wharf(['cp', '-r', '--json', '--dry-run', src, dest])).stdout);
    const r = await wharf(['cp', '-r', '--json', src, dest]);
    expect(r.code).toBe(1);
    const records = jsonLines(r.stdout);
    expect(records.filter((x) => x.action === 'copy')).toEqual([
      { action: 'copy', source: `${src}a.txt`, dest: join(dest, 'a.txt'), size: 5 },
    ]);
    expect(Object.keys(dry[0] ?? {}).filter((k) => k !== 'dryRun')).toEqual([
      'action',
      'source',
      'dest',
      'size',
    ]);
    expect(records.filter((x) => x.action === 'failed')).toEqual([
      {
        action: 'failed',
        source: `${src}b.txt`,
        dest: join(dest, 'b.txt'),
        error: {
          code: 'IO',
          message: `writing ${join(dest, 'b.txt')}: it is a folder`,
          hint: 'move the folder out of the way or choose another path',
        },
      },
    ]);
    expect(records.at(-1)).toMatchObject({ summary: { copied: 1, failed: 1 } });
  });
});

describe('wharf rm', () => {
  it('--dry-run deletes nothing; -r deletes every object under the prefix', async () => {
    for (const k of ['rm/a', 'rm/b/c', 'rm/b/d', 'rmx/keep']) await putRaw(bucket, k, k);
    const dry = await wharf(['rm', '-r', '--dry-run', `s3://${bucket}/rm/`]);
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim().split('\n')).toHaveLength(3);
    expect(jsonLines((await wharf(['ls', '-r', '--json', `s3://${bucket}/rm/`])).stdout)).toHaveLength(3);
    const real = await wharf(['rm', '-r', `s3://${bucket}/rm`]);
    expect(real.code).toBe(0);
    expect(real.stderr).toContain('deleted 3 objects');
    expect((await wharf(['ls', '-r', `s3://${bucket}/rm/`])).stdout).toBe('');
    expect((await wharf(['cat', `s3://${bucket}/rmx/keep`])).stdout).toBe('rmx/keep');
  });

  it('neither rm -r of a local folder nor cp -r into one goes through a symlinked subfolder', async () => {
    const outside = join(work, 'outside-of-store');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'precious.txt'), 'keep');
    const store = join(work, 'linked-store');
    await mkdir(store, { recursive: true });
    await writeFile(join(store, 'a.txt'), 'a');
    await symlink(outside, join(store, 'linkdir'));
    const removed = await wharf(['rm', '-r', store]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stderr).toContain('deleted 1 object');
    expect(await readdir(outside)).toEqual(['precious.txt']);

    await putRaw(bucket, 'via-link/linkdir/precious.txt', 'from the bucket');
    await putRaw(bucket, 'via-link/b.txt', 'b');
    const copied = await wharf(['cp', '-r', `s3://${bucket}/via-link/`, store]);
    expect(copied.code).toBe(1);
    expect(copied.stderr).toMatch(/symbolic link that leads outside/);
    expect(await readFile(join(outside, 'precious.txt'), 'utf8')).toBe('keep');
    expect(await readFile(join(store, 'b.txt'), 'utf8')).toBe('b');
  });

  it("cp -r into a folder removes what a killed copy left at once, never a live copy's files, and an empty staging folder", async () => {
    await putRaw(bucket, 'sweep/a.txt', 'a');
    const into = join(work, 'sweep-copy');
    const staging = join(into, '.wharf-tmp-partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
    const runFolder = async (pid: number): Promise<string> => {
      const folder = join(staging, runFolderName(pid));
      await mkdir(folder, { recursive: true });
      // Temporary files carry the object's LastModified as mtime: an old mtime says nothing about liveness.
      await writeFile(join(folder, 'x.tmp'), 'temp');
      await utimes(join(folder, 'x.tmp'), twoHoursAgo, twoHoursAgo);
      return folder;
    };
    const killed = await runFolder(spawnSync(process.execPath, ['-e', '']).pid ?? 0);
    const live = await runFolder(process.pid);
    const copied = await wharf(['cp', '-r', `s3://${bucket}/sweep/`, into]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(existsSync(killed)).toBe(false);
    expect(await readdir(live)).toEqual(['x.tmp']);
    expect(await readFile(join(into, 'a.txt'), 'utf8')).toBe('a');

    await rm(live, { recursive: true });
    const again = await wharf(['cp', '-r', `s3://${bucket}/sweep/`, into]);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(staging)).toBe(false);
  });

  it('cp -r into a folder skips folder markers (keys ending in /) instead of refusing the copy', async () => {
    await putRaw(bucket, 'marked/reports/', '');
    await putRaw(bucket, 'marked/reports/q1.csv', 'q1');
    const into = join(work, 'marked-copy');
    const copied = await wharf(['cp', '-r', `s3://${bucket}/marked/`, into]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(await readFile(join(into, 'reports', 'q1.csv'), 'utf8')).toBe('q1');
  });

  it('a file where a folder is expected is said once, in one line: fetch DEST, fetch SOURCE, cp -r DEST', async () => {
    const file = join(work, 'plain-file.csv');
    await writeFile(file, 'x');
    await putRaw(bucket, 'one/report.csv', 'r');
    const intoFile = await wharf(['fetch', `s3://${bucket}/one/`, file]);
    expect(intoFile.code).toBe(2);
    expect(intoFile.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^wharf: error: the destination .*plain-file\.csv is a file/),
    ]);
    const fromFile = await wharf(['fetch', file, join(work, 'from-file')]);
    expect(fromFile.code).toBe(3);
    expect(fromFile.stderr).toMatch(/plain-file\.csv is a file, not a folder of files .*wharf cp/);
    const fromObject = await wharf(['fetch', `s3://${bucket}/one/report.csv`, join(work, 'from-object')]);
    expect(fromObject.code).toBe(3);
    expect(fromObject.stderr).toMatch(/one\/report\.csv is one object, not a folder .*wharf cp/);
    const cpOnto = await wharf(['cp', '-r', `s3://${bucket}/one/`, file]);
    expect(cpOnto.code).toBe(2);
    expect(cpOnto.stderr.trim().split('\n')).toHaveLength(1);
    expect(cpOnto.stderr).toMatch(/is a file, not a folder; nothing was copied/);
    expect(await readFile(file, 'utf8')).toBe('x');
  });

  it('fetch refuses a local source folder that holds the destination (exit 2), copying nothing', async () => {
    const project = join(work, 'self-fetch');
    await mkdir(project, { recursive: true });
    await writeFile(join(project, 'a.txt'), 'a');
    const run = await wharf(['fetch', '.'], { cwd: project });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is inside the source folder .*choose a DEST outside the source folder/);
    expect(existsSync(join(project, 'data'))).toBe(false);
  });

  it('a single missing object is exit 3; a prefix needs --recursive (exit 2)', async () => {
    expect((await wharf(['rm', `s3://${bucket}/rm/absent`])).code).toBe(3);
    expect((await wharf(['rm', `s3://${bucket}/rmx/`])).code).toBe(2);
  });
});

describe('wharf cat', () => {
  it('writes the exact bytes to stdout; a missing key is exit 3', async () => {
    await putRaw(bucket, 'cat/hello.txt', 'hello\nworld\n');
    const r = await wharf(['cat', `s3://${bucket}/cat/hello.txt`]);
    expect(r).toMatchObject({ code: 0, stdout: 'hello\nworld\n' });
    const missing = await wharf(['cat', `s3://${bucket}/cat/nope.txt`]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`s3://${bucket}/cat/nope.txt`);
  });

  it('a prefix named without its trailing / is a folder, as with one (exit 2), not a missing object', async () => {
    await putRaw(bucket, 'cat/folder/inside.txt', 'x');
    for (const url of [`s3://${bucket}/cat/folder/`, `s3://${bucket}/cat/folder`]) {
      const r = await wharf(['cat', url]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(
        `wharf: error: ${url} is a folder or prefix, not an object: use 'wharf ls' to see what is in it`,
      );
    }
  });
});

describe('wharf presign', () => {
  it('prints a GET URL that returns the object, and a PUT URL that stores one', async () => {
    await putRaw(bucket, 'presign/doc.txt', 'presigned');
    const get = await wharf(['presign', `s3://${bucket}/presign/doc.txt`, '--expires', '5m']);
    expect(get.code).toBe(0);
    const response = await fetch(get.stdout.trim());
    expect(await response.text()).toBe('presigned');

    const put = await wharf(['presign', '--put', '--json', `s3://${bucket}/presign/up.txt`]);
    const { url, method } = JSON.parse(put.stdout) as { url: string; method: string };
    expect(method).toBe('PUT');
    expect((await fetch(url, { method: 'PUT', body: 'uploaded' })).status).toBe(200);
    expect((await wharf(['cat', `s3://${bucket}/presign/up.txt`])).stdout).toBe('uploaded');
  });

  it('rejects a bad --expires (exit 2) and a local store (exit 1)', async () => {
    expect((await wharf(['presign', `s3://${bucket}/presign/doc.txt`, '--expires', 'soon'])).code).toBe(2);
    expect((await wharf(['presign', `s3://${bucket}/presign/doc.txt`, '--expires', '30d'])).code).toBe(2);
    await writeFile(join(work, 'local.txt'), 'x');
    const local = await wharf(['presign', join(work, 'local.txt')]);
    expect(local.code).toBe(1);
    expect(local.stderr).toContain('presigned URLs need an S3 store');
  });
});

describe('local store writes', () => {
  it('leave no temporary files behind after a recursive copy', async () => {
    const dest = join(work, 'tidy');
    const r = await wharf(['cp', '-r', `s3://${bucket}/roundtrip/`, dest]);
    expect(r.code).toBe(0);
    const names = await readdir(dest, { recursive: true });
    expect(names.some((n) => String(n).includes('.wharf-tmp-'))).toBe(false);
  });
});

describe('standard output that cannot be written', () => {
  const commands: [string, () => string[]][] = [
    ['ls -r', () => ['ls', '-r', `s3://${bucket}/stdout/`]],
    ['--json ls -r', () => ['--json', 'ls', '-r', `s3://${bucket}/stdout/`]],
    ['presign', () => ['presign', `s3://${bucket}/stdout/a.txt`]],
    ['--json fetch', () => ['--json', 'fetch', `s3://${bucket}/stdout/`, join(work, 'stdout-fetch')]],
    ['cp -r --json', () => ['cp', '-r', '--json', `s3://${bucket}/stdout/`, join(work, 'stdout-cp')]],
    ['cat', () => ['cat', `s3://${bucket}/stdout/a.txt`]],
  ];

  beforeAll(async () => {
    for (const name of ['a.txt', 'b.txt', 'c/d.txt'])
      await putRaw(bucket, `stdout/${name}`, `data ${name}\n`);
  });

  it.each(commands)('%s > /dev/full: exit 1 and one line naming standard output', async (_label, args) => {
    if (!existsSync('/dev/full')) return;
    const full = openSync('/dev/full', 'w');
    try {
      const r = await wharfWithStdout(args(), full);
      expect(r.code).toBe(1);
      const errors = r.stderr.trim().split('\n');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(
        /^(wharf: error: cannot write to standard output: no space left on device \(the output is incomplete|\{"error":\{"code":"IO","message":"cannot write to standard output: no space left on device")/,
      );
    } finally {
      closeSync(full);
    }
  });

  it.each(commands)('%s | a reader that has gone: exit 0, nothing on stderr', async (_label, args) => {
    const r = await wharfWithStdout(args(), 'closed-pipe');
    expect(r).toEqual({ code: 0, stderr: '' });
  });
});
