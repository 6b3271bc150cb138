import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import { startDatastore, type RunningDatastore } from '../../src/server/start-datastore.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { CLI, jsonLines, wharf, type CliResult } from '../support/run-cli.js';
import { testPgUrl } from '../support/test-services.js';

/**
 * The built CLI's datastore commands (`npm run build` first) against a running datastore: login (stored with
 * mode 0600, token from stdin), mint from a file and stdin, validate with every failing field and exit 2,
 * show/list/search --json, update with a stale revision (exit 5), history and revert, upload and download
 * (the three path forms), presign, credentials --env, review request/queue/approve, reviewer add/list/rm.
 */

const ADMIN = 'test-admin-token-dataset-cli-0123456789';

/** The CLI with `input` on stdin. */
function wharfWithStdin(args: string[], input: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('wharf dataset / review / reviewer / login (built CLI)', () => {
  let db: ScratchDatabase;
  let server: RunningDatastore;
  let dir: string;
  let aliceToken: string;
  let ritaToken: string;
  let org: string;
  // Each user has their own config folder (the stored login); no WHARF_* variables leak in from outside.
  const envFor = (who: string): NodeJS.ProcessEnv => ({
    XDG_CONFIG_HOME: join(dir, `config-${who}`),
    HOME: join(dir, `home-${who}`),
    WHARF_SERVER: '',
    WHARF_TOKEN: '',
  });
  const alice = (args: string[]) => wharf(args, { env: envFor('alice'), cwd: dir });
  const rita = (args: string[]) => wharf(args, { env: envFor('rita'), cwd: dir });
  const admin = (args: string[]) => wharf([...args, '--server', server.url, '--token', ADMIN], { cwd: dir });

  beforeAll(async () => {
    db = await createScratchDatabase(testPgUrl(), 'dataset_cli');
    dir = await mkdtemp(join(tmpdir(), 'wharf-dataset-cli-'));
    server = await startDatastore(
      { database: db.url, store: join(dir, 'store'), port: 0, adminToken: ADMIN },
      {},
    );
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status, path).toBe(201);
      return (await r.json()) as Record<string, string>;
    };
    aliceToken = (await post('/tokens', { name: 'cli', username: 'alice' })).token!;
    ritaToken = (await post('/tokens', { name: 'cli', username: 'rita' })).token!;
    org = (await post('/organisations', { name: 'CSIRO' })).id!;
    await writeFile(
      join(dir, 'meta.json'),
      JSON.stringify(sampleMetadata('Kelp forest survey', { organisationId: org, keywords: ['kelp'] })),
    );
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('login verifies the token, stores it with mode 0600 and later commands use it', async () => {
    const bad = await alice(['login', server.url, '--token', 'wharf_nope_nope']);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/wharf: error: /);

    const r = await alice(['login', `${server.url}/`, '--token', aliceToken]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('as alice');
    const file = join(dir, 'config-alice', 'wharf', 'credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ server: server.url, token: aliceToken });

    const viaStdin = await wharfWithStdin(
      ['login', server.url, '--token', '-', '--json'],
      `${ritaToken}\n`,
      envFor('rita'),
    );
    expect(viaStdin.code, viaStdin.stderr).toBe(0);
    expect(jsonLines(viaStdin.stdout)[0]).toMatchObject({ server: server.url, username: 'rita' });

    // `wharf token` resolves the server and token the same way.
    const tokens = await alice(['token', 'list', '--json']);
    expect(tokens.code, tokens.stderr).toBe(0);
    expect(jsonLines(tokens.stdout).every((t) => t.username === 'alice')).toBe(true);
    // The stored token is never sent to another server.
    const elsewhere = await alice(['dataset', 'list', '--server', 'http://127.0.0.1:1']);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('cannot reach the datastore at http://127.0.0.1:1');
  });

  it("errors in the CLI's words: no token, an unknown id, a stale page key", async () => {
    const anonymous = await wharf(['token', 'create', 'mine', '--server', server.url], {
      env: envFor('nobody'),
      cwd: dir,
    });
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(
      /^wharf: error: this call needs an API token \(log in with `wharf login URL --token TOKEN`.*or set WHARF_TOKEN\)\n$/,
    );
    const aliceAt = (args: string[]) => alice([...args, '--server', server.url, '--token', aliceToken]);
    const missing = await aliceAt(['dataset', 'show', '10378.1/999999']);
    expect(missing.stderr).toContain('`wharf dataset list` or `wharf dataset search`');
    expect(missing.stderr).not.toContain('GET /datasets');
    await aliceAt(['dataset', 'mint', 'meta.json']);
    await aliceAt(['dataset', 'mint', 'meta.json']);
    const first = jsonLines((await aliceAt(['dataset', 'list', '--page-size', '1', '--json'])).stdout);
    const key = first.at(-1)!.paginationKey as string;
    // No token for a dataset route: the instruction to log in once, in the hint.
    for (const token of [[], ['--token', '']]) {
      const noToken = await wharf(
        ['dataset', 'show', first[0]!.id as string, '--server', server.url, ...token],
        { env: envFor('nobody'), cwd: dir },
      );
      expect(noToken.code).toBe(4);
      expect(noToken.stderr).toMatch(
        /^wharf: error: dataset 10378\.1\/\d+ needs the metadata-read role; no API token was given \(log in with `wharf login URL --token TOKEN`.*or set WHARF_TOKEN\)\n$/,
      );
    }
    const stale = await aliceAt(['dataset', 'list', '--page-key', key, '--sort', 'name']);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain('--page-key belongs to a listing with another sort order');
    expect(stale.stderr).toContain('pass the same --sort, --asc');
    expect(stale.stderr).not.toMatch(/paginationKey|sortBy/);
  });

  it('control characters in names reach the terminal only made visible; --json stays exact', async () => {
    const aliceAt = (args: string[]) => alice([...args, '--server', server.url, '--token', aliceToken]);
    const evil = 'Evil\u001b[2J\u001b[31mRED\u009b';
    await writeFile(join(dir, 'evil.json'), JSON.stringify(sampleMetadata(evil, { organisationId: org })));
    const id = (await aliceAt(['dataset', 'mint', 'evil.json'])).stdout.trim();
    // eslint-disable-next-line no-control-regex
    const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
    for (const args of [
      ['dataset', 'list'],
      ['dataset', 'show', id],
      ['dataset', 'search', 'Evil'],
    ]) {
      const r = await aliceAt(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, args.join(' ')).not.toMatch(CONTROL);
      expect(r.stdout, args.join(' ')).toContain('Evil\\x1b[2J\\x1b[31mRED\\x9b');
    }
    const json = await aliceAt(['dataset', 'show', id, '--json']);
    expect((jsonLines(json.stdout)[0]!.metadata as { datasetInfo: { name: string } }).datasetInfo.name).toBe(
      evil,
    );
  });

  it('a URL that is not a Wharf datastore: one line saying so, exit 1', async () => {
    const site = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><body>Not Found</body></html>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    try {
      const r = await wharf(['login', url, '--token', 'wharf_nope_nope'], {
        env: envFor('nobody'),
        cwd: dir,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `wharf: error: ${url} does not answer like a Wharf datastore (HTTP 404, text/html) (check the URL: the one \`wharf serve\` prints (wharf login, --server or WHARF_SERVER))\n`,
      );
    } finally {
      await new Promise((resolve) => site.close(resolve));
    }
  });

  it('validate prints every failing field path and exits 2; mint from a file and from stdin', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const bad = sampleMetadata('Bad', { organisationId: org }) as Record<string, any>;
    bad.datasetInfo.createdDate = { relevant: true };
    bad.datasetInfo.license = 'not a url';
    bad.associations.nickname = 'x';
    bad.datasetInfo.keywords = ['ok', ''];
    await writeFile(join(dir, 'bad.json'), JSON.stringify(bad));
    const v = await alice(['dataset', 'validate', 'bad.json']);
    expect(v.code).toBe(2);
    for (const path of [
      'associations.nickname',
      'datasetInfo.createdDate.value',
      'datasetInfo.keywords[1]',
      'datasetInfo.license',
    ]) {
      expect(v.stdout).toContain(`${path}: `);
    }
    expect(v.stderr).toMatch(/bad\.json is invalid \(4 problems\)/);
    const vj = await alice(['dataset', 'validate', 'bad.json', '--json']);
    expect(vj.code).toBe(2);
    expect((jsonLines(vj.stdout)[0]!.issues as unknown[]).length).toBe(4);
    const good = await alice(['dataset', 'validate', 'meta.json']);
    expect(good.code).toBe(0);
    expect(good.stdout.trim()).toBe('valid');

    const refused = await alice(['dataset', 'mint', 'bad.json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('datasetInfo.license');
    // --json errors carry every failing field, named as in the file, for mint and update alike.
    const refusedJson = JSON.parse((await alice(['dataset', 'mint', 'bad.json', '--json'])).stderr);
    expect(refusedJson.error.issues.map((i: { path: string }) => i.path)).toContain('datasetInfo.license');
    const notJson = await alice(['dataset', 'mint', 'missing.json']);
    expect(notJson.code).toBe(2);
    // A bad option value is a usage error too: one line naming it, exit 2, before anything is sent.
    const badPage = await alice(['dataset', 'list', '--page-size', '0']);
    expect(badPage.code).toBe(2);
    expect(badPage.stderr.trim()).toBe('wharf: error: --page-size must be a positive integer, got "0"');

    const minted = await alice(['dataset', 'mint', 'meta.json']);
    expect(minted.code, minted.stderr).toBe(0);
    expect(minted.stdout.trim()).toMatch(/^10378\.1\/\d+$/);
    const badUpdate = await alice([
      'dataset',
      'update',
      minted.stdout.trim(),
      'bad.json',
      '--reason',
      'x',
      '--json',
    ]);
    expect(badUpdate.code).toBe(2);
    const updateIssues = JSON.parse(badUpdate.stderr).error.issues.map((i: { path: string }) => i.path);
    expect(updateIssues).toContain('datasetInfo.license');
    expect(updateIssues.some((p: string) => p.startsWith('metadata.'))).toBe(false);
    const fromStdin = await wharfWithStdin(
      ['dataset', 'mint', '-', '--json'],
      JSON.stringify(sampleMetadata('Seagrass meadows', { organisationId: org })),
      envFor('alice'),
    );
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(jsonLines(fromStdin.stdout)[0]).toMatchObject({ owner: 'alice', revision: 1 });
  });

  it('show, list, search (--json and tables); update with a stale revision exits 5; history and revert', async () => {
    const id = (await alice(['dataset', 'mint', 'meta.json'])).stdout.trim();
    const show = await alice(['dataset', 'show', id, '--json']);
    expect(show.code).toBe(0);
    expect(jsonLines(show.stdout)[0]).toMatchObject({ id, owner: 'alice' });
    const human = await alice(['dataset', 'show', id]);
    expect(human.stdout).toMatch(/name:\s+Kelp forest survey/);
    expect(human.stdout).toMatch(/release:\s+NOT_RELEASED/);

    const list = await alice(['dataset', 'list', '--json', '--page-size', '1']);
    const lines = jsonLines(list.stdout);
    expect(lines[0]).toHaveProperty('id');
    expect(lines[lines.length - 1]).toHaveProperty('paginationKey');
    const all = jsonLines((await alice(['dataset', 'list', '--all', '--json', '--page-size', '1'])).stdout);
    expect(all.map((r) => r.id)).toContain(id);
    expect(all.some((r) => 'paginationKey' in r)).toBe(false);
    const table = await alice(['dataset', 'list', '--sort', 'name', '--asc']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+VERSION\s+STATUS\s+OWNER\s+UPDATED\s+NAME$/);
    expect(table.stdout).toContain('Kelp forest survey');
    expect((await alice(['dataset', 'list', '--sort', 'bogus'])).code).toBe(2);
    // The next-page command it prints works as printed: it repeats the order and filters.
    const first = await alice(['dataset', 'list', '--sort', 'name', '--asc', '--page-size', '1']);
    const more = /more: wharf (dataset list .*--page-key \S+) \(or --all\)/.exec(first.stderr);
    expect(more?.[1]).toMatch(/^dataset list --sort name --asc --page-size 1 --page-key /);
    const next = await alice((more?.[1] ?? '').split(' '));
    expect(next.code).toBe(0);
    expect(next.stdout).not.toBe(first.stdout);

    const search = await alice(['dataset', 'search', 'seagrass', '--json']);
    expect(search.code).toBe(0);
    expect(
      (jsonLines(search.stdout)[0]!.dataset as { metadata: { datasetInfo: { name: string } } }).metadata
        .datasetInfo.name,
    ).toBe('Seagrass meadows');

    await writeFile(
      join(dir, 'renamed.json'),
      JSON.stringify(sampleMetadata('Kelp forest survey 2024', { organisationId: org })),
    );
    const upd = await alice([
      'dataset',
      'update',
      id,
      'renamed.json',
      '--reason',
      'rename',
      '--expected-revision',
      '1',
    ]);
    expect(upd.code, upd.stderr).toBe(0);
    const stale = await alice([
      'dataset',
      'update',
      id,
      'meta.json',
      '--reason',
      'stale',
      '--expected-revision',
      '1',
    ]);
    expect(stale.code).toBe(5);
    expect(stale.stderr).toMatch(/wharf: error: .*revision/);
    const history = await alice(['dataset', 'history', id]);
    expect(history.stdout).toMatch(/^ID\s+TIME\s+USER\s+REASON/);
    expect(history.stdout).toContain('rename');
    const rev = await alice(['dataset', 'revert', id, '1', '--reason', 'undo', '--json']);
    expect(rev.code, rev.stderr).toBe(0);
    expect(jsonLines(rev.stdout)[0]).toMatchObject({ revision: 3 });
    expect(jsonLines((await alice(['dataset', 'history', id, '--json'])).stdout)).toHaveLength(3);
    expect((await alice(['dataset', 'show', '10378.1/999999'])).code).toBe(3);
  });

  it('upload and download (the three path forms), presign, credentials --env; review and reviewers', async () => {
    const id = (await alice(['dataset', 'mint', 'meta.json'])).stdout.trim();
    const src = join(dir, 'src');
    const big = randomBytes(300_000);
    await mkdir(join(src, 'raw', 'deep'), { recursive: true });
    await writeFile(join(src, 'readme.txt'), 'hello\n');
    await writeFile(join(src, 'raw', 'obs.csv'), 'x,y\n1,2\n');
    await writeFile(join(src, 'raw', 'deep', 'big.bin'), big);
    const up = await alice(['dataset', 'upload', id, 'src', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const upLines = jsonLines(up.stdout);
    expect(
      upLines
        .filter((l) => l.action === 'upload')
        .map((l) => l.path)
        .sort(),
    ).toEqual(['raw/deep/big.bin', 'raw/obs.csv', 'readme.txt']);
    expect(upLines[upLines.length - 1]).toMatchObject({ summary: { uploaded: 3 } });

    const all = await alice(['dataset', 'download', id, '/', 'everything']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toMatch(/downloaded 3 files/);
    expect(Buffer.compare(await readFile(join(dir, 'everything', 'raw', 'deep', 'big.bin')), big)).toBe(0);
    const defaultDest = await alice(['dataset', 'download', id]);
    expect(defaultDest.code, defaultDest.stderr).toBe(0);
    expect(await readFile(join(dir, id.replace('/', '-'), 'readme.txt'), 'utf8')).toBe('hello\n');
    await alice(['dataset', 'download', id, 'raw/obs.csv', 'one']);
    expect(await readFile(join(dir, 'one', 'obs.csv'), 'utf8')).toBe('x,y\n1,2\n');
    await alice(['dataset', 'download', id, 'raw', 'folder']);
    expect(await readFile(join(dir, 'folder', 'raw', 'obs.csv'), 'utf8')).toBe('x,y\n1,2\n');
    await alice(['dataset', 'download', id, 'raw/', 'contents']);
    expect(await readFile(join(dir, 'contents', 'deep', 'big.bin'))).toEqual(big);
    const escape = await alice(['dataset', 'download', id, '../x', 'nope']);
    expect(escape.code).toBe(1);
    expect(escape.stderr).toContain("'..'");
    const missing = await alice(['dataset', 'download', id, 'missing/', 'nope']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('(list them with `wharf dataset files ID`)');
    // What is there: a table of every file, or one record per file with --json; a prefix narrows it.
    const listing = await alice(['dataset', 'files', id]);
    expect(listing.code, listing.stderr).toBe(0);
    const rows = listing.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^PATH\s+SIZE\s+MODIFIED$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual([
      'raw/deep/big.bin',
      'raw/obs.csv',
      'readme.txt',
    ]);
    expect(rows[1]).toContain('293 KiB');
    const under = await alice(['dataset', 'files', id, 'raw/', '--json']);
    expect(under.code, under.stderr).toBe(0);
    expect(jsonLines(under.stdout).map((f) => [f.path, f.size])).toEqual([
      ['raw/deep/big.bin', 300_000],
      ['raw/obs.csv', 8],
    ]);
    const none = await alice(['dataset', 'files', id, 'nothing/']);
    expect([none.code, none.stdout, none.stderr.trim()]).toEqual([0, '', `no files under nothing/ in ${id}`]);
    expect((await alice(['dataset', 'files', id, '../x'])).code).toBe(1);

    const presigned = await alice(['dataset', 'presign', id, 'raw/obs.csv', '--expires-in', '10m']);
    expect(presigned.code, presigned.stderr).toBe(0);
    expect(await (await fetch(presigned.stdout.trim())).text()).toBe('x,y\n1,2\n');
    const badPath = await alice(['dataset', 'presign', id, '../x']);
    expect(badPath.code).toBe(1);
    expect(badPath.stderr).toMatch(
      /^wharf: error: refusing object key "\.\.\/x": it contains a '\.\.' segment/,
    );
    expect(badPath.stderr).not.toContain('POST');
    const creds = await alice(['dataset', 'credentials', id, '--env']);
    expect(creds.code, creds.stderr).toBe(0);
    expect(creds.stdout).toMatch(/^export WHARF_DATASET_TOKEN=wds_/m);
    const credsJson = jsonLines(
      (await alice(['dataset', 'credentials', id, '--write', '--duration', '15m', '--json'])).stdout,
    )[0]!;
    expect(credsJson).toMatchObject({ kind: 'wharf', access: 'write', datasetId: id });

    // Reviewers (sys-admin), then the release workflow.
    expect((await alice(['reviewer', 'add', 'rita'])).code).toBe(4);
    expect((await admin(['reviewer', 'add', 'rita'])).code).toBe(0);
    expect((await alice(['reviewer', 'list'])).stdout.split('\n')).toContain('rita');
    expect(jsonLines((await alice(['reviewer', 'list', '--json'])).stdout)).toContainEqual({
      username: 'rita',
    });

    const req = await alice(['review', 'request', id, '--approver', 'rita', '--notes', 'ready']);
    expect(req.code, req.stderr).toBe(0);
    expect(req.stdout).toContain(`${id}\tPENDING`);
    const frozen = await alice(['dataset', 'upload', id, 'src']);
    expect(frozen.code).toBe(5);
    expect(frozen.stderr).toMatch(/version/);
    expect((await alice(['review', 'approve', id])).code).toBe(4);
    const ok = await rita(['review', 'approve', id, '--notes', 'checked', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(jsonLines(ok.stdout)[0]).toMatchObject({ id, release: { status: 'RELEASED', approver: 'rita' } });
    const v2 = await alice(['dataset', 'version', id, '--reason', 'next']);
    expect(v2.code, v2.stderr).toBe(0);
    expect(v2.stdout.trim()).toMatch(/^10378\.1\/\d+$/);

    expect((await admin(['reviewer', 'rm', 'rita'])).code).toBe(0);
    expect((await admin(['reviewer', 'rm', 'rita'])).code).toBe(3);
  }, 120_000);

  it('review queue: the requests waiting for a reviewer, oldest first, a page at a time or --all; --json as dataset list', async () => {
    // Server and token given, so that this test also runs alone.
    const aliceAt = (args: string[]) => alice([...args, '--server', server.url, '--token', aliceToken]);
    const created = await fetch(`${server.url}/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cli', username: 'quincy' }),
    });
    const quincyToken = ((await created.json()) as { token: string }).token;
    const quincy = (args: string[]) =>
      wharf([...args, '--server', server.url, '--token', quincyToken], { env: envFor('quincy'), cwd: dir });
    expect((await admin(['reviewer', 'add', 'quincy'])).code).toBe(0);
    const empty = await quincy(['review', 'queue']);
    expect([empty.code, empty.stdout, empty.stderr]).toEqual([0, '', 'nothing waits for your review\n']);

    const longNotes = `first line\nsecond line ${'and more '.repeat(20)}END`;
    const notes = [longNotes, '', 'short one'];
    const ids: string[] = [];
    for (const note of notes) {
      const id = (await aliceAt(['dataset', 'mint', 'meta.json'])).stdout.trim();
      const req = await aliceAt(['review', 'request', id, '--approver', 'quincy', '--notes', note]);
      expect(req.code, req.stderr).toBe(0);
      ids.push(id);
    }

    // The table: one line per request, oldest first; the notes on one line, shortened.
    const table = await quincy(['review', 'queue']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+REQUESTED\s+REQUESTER\s+NAME\s+NOTES$/);
    const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
    expect(rows.map((r) => r[0])).toEqual(ids);
    for (const r of rows) {
      expect(r[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
      expect(r.slice(2, 4)).toEqual(['alice', 'Kelp forest survey']);
    }
    expect(rows.map((r) => r[4])).toEqual([
      expect.stringMatching(/^first line second line and more .*…$/),
      '-',
      'short one',
    ]);
    expect(rows[0]![4]).toHaveLength(60);
    expect(table.stderr).toBe('');

    // One page: the command for the next is printed, and works as printed.
    const first = await quincy(['review', 'queue', '--page-size', '2']);
    expect(
      first.stdout
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(ids.slice(0, 2));
    const more = /^more: wharf (review queue --page-size 2 --page-key \S+) \(or --all\)$/m.exec(first.stderr);
    expect(more, first.stderr).not.toBeNull();
    const next = await quincy(more![1]!.split(' '));
    expect(next.code, next.stderr).toBe(0);
    expect(
      next.stdout
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual([ids[2]]);
    expect(next.stderr).toBe('');

    // --json: one {dataset, request} per line, the key last while there are more; --all: every page, no key.
    const page = jsonLines((await quincy(['review', 'queue', '--page-size', '2', '--json'])).stdout);
    expect(page).toHaveLength(3);
    expect(page.slice(0, 2).map((l) => (l.dataset as { id: string }).id)).toEqual(ids.slice(0, 2));
    expect(Object.keys(page[2]!)).toEqual(['paginationKey']);
    const key = page[2]!.paginationKey as string;
    const all = jsonLines((await quincy(['review', 'queue', '--page-size', '1', '--all', '--json'])).stdout);
    expect(all.map((l) => (l.dataset as { id: string }).id)).toEqual(ids);
    expect(all.map((l) => l.request)).toEqual(
      notes.map((n) =>
        expect.objectContaining({ action: 'REQUEST', actor: 'alice', approver: 'quincy', notes: n }),
      ),
    );

    // Another reviewer's queue (of datasets the caller may read); the caller's own is empty.
    const theirs = jsonLines(
      (await aliceAt(['review', 'queue', '--approver', 'quincy', '--all', '--json'])).stdout,
    );
    expect(theirs.map((l) => (l.dataset as { id: string }).id)).toEqual(ids);
    const mine = await aliceAt(['review', 'queue', '--all']);
    expect([mine.code, mine.stdout, mine.stderr]).toEqual([0, '', 'nothing waits for your review\n']);
    // quincy's key is not alice's queue: said in this command's options (it has no --sort or --release-status).
    const stale = await aliceAt(['review', 'queue', '--page-key', key]);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toBe(
      "wharf: error: the --page-key belongs to another approver's review queue or to another listing " +
        '(pass the same --approver as for the first page (none for your own queue), or start again without --page-key)\n',
    );

    // A decision takes the request off the queue.
    expect((await quincy(['review', 'approve', ids[0]!])).code).toBe(0);
    const after = jsonLines((await quincy(['review', 'queue', '--json'])).stdout);
    expect(after.map((l) => (l.dataset as { id: string }).id)).toEqual(ids.slice(1));
    expect((await admin(['reviewer', 'rm', 'quincy'])).code).toBe(0);
  }, 120_000);

  it('upload and download with failed files: --json prints every file and the summary, then the error', async () => {
    // Server and token given, so that this test also runs alone.
    const aliceAt = (args: string[]) => alice([...args, '--server', server.url, '--token', aliceToken]);
    const id = (await aliceAt(['dataset', 'mint', 'meta.json'])).stdout.trim();
    const src = join(dir, 'src-partial');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'good.txt'), 'good\n');
    // A path longer than the server takes (1024 characters): refused for this file only.
    const long = [...Array<string>(5).fill('d'.repeat(240)), 'long.txt'].join('/');
    await mkdir(join(src, long, '..'), { recursive: true });
    await writeFile(join(src, long), 'refused by the server\n');
    await mkdir(join(src, '.wharf'), { recursive: true });
    await writeFile(join(src, '.wharf', 'index.json'), '{}');
    const up = await aliceAt(['dataset', 'upload', id, src, '--json']);
    expect(up.code, up.stderr).not.toBe(0);
    const upLines = jsonLines(up.stdout);
    expect(upLines).toContainEqual(
      expect.objectContaining({ action: 'upload', status: 'uploaded', path: 'good.txt' }),
    );
    expect(upLines).toContainEqual(
      expect.objectContaining({ action: 'skip', status: 'skipped', path: '.wharf/index.json' }),
    );
    expect(upLines).toContainEqual(
      expect.objectContaining({
        action: 'upload',
        status: 'failed',
        path: long,
        error: expect.objectContaining({ message: expect.any(String) }),
      }),
    );
    expect(upLines.at(-1)).toEqual({
      summary: expect.objectContaining({ uploaded: 1, skipped: 1, failed: 1 }),
    });
    expect(jsonLines(up.stderr).at(-1)).toMatchObject({
      error: { message: expect.stringMatching(/1 file failed/) },
    });
    const upText = await aliceAt(['dataset', 'upload', id, src]);
    expect(upText.code).toBe(up.code);
    expect(upText.stderr).toMatch(/uploaded 1 file .*; 1 file failed\n/);
    expect(upText.stderr).toContain(`wharf: error: ${long}: `);

    // A key every download refuses (an object named .wharf, where the download's state folder goes), put
    // straight into the store's folder.
    const folder = jsonLines((await aliceAt(['dataset', 'show', id, '--json'])).stdout)[0]!.folder as string;
    await writeFile(join(dir, 'store', folder, '.wharf'), '{}');
    const down = await aliceAt(['dataset', 'download', id, '/', 'partial', '--json']);
    expect(down.code, down.stderr).toBe(1);
    const downLines = jsonLines(down.stdout);
    expect(downLines).toContainEqual(
      expect.objectContaining({ action: 'download', status: 'downloaded', path: 'good.txt' }),
    );
    expect(downLines).toContainEqual(
      expect.objectContaining({ action: 'download', status: 'failed', path: '.wharf' }),
    );
    expect(downLines.at(-1)).toEqual({ summary: expect.objectContaining({ downloaded: 1, failed: 1 }) });
    const downText = await aliceAt(['dataset', 'download', id, '/', 'partial']);
    expect(downText.code).toBe(1);
    expect(downText.stderr).toMatch(/downloaded 0 files .*; 1 already up to date; 1 file failed\n/);
  }, 120_000);
});
