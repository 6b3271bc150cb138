import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, wharf } from '../support/run-cli.js';
import { s3TestEnv } from '../support/test-services.js';
import { startServeProcess, stopServeProcess, type ServeProcess } from '../support/serve-process.js';

/**
 * `wharf serve` as users run it: the built CLI on the embedded defaults (local-folder store and embedded
 * PostgreSQL under --data-dir), first start printing the admin token, a restart keeping the data, and
 * WHARF_ADMIN_TOKEN fixing the token.
 */

type Served = ServeProcess;

/** `wharf serve` as a user starts it: no WHARF_ADMIN_TOKEN unless the test sets one. */
const serve = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> =>
  startServeProcess(args, { WHARF_ADMIN_TOKEN: '', ...env }, 60_000);

let dir: string;
let running: Served | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-serve-'));
  // As root the embedded PostgreSQL runs as "postgres", which must be able to enter the data folder's parents.
  await chmod(dir, 0o755);
});

afterAll(async () => {
  if (running && running.child.exitCode === null) await stopServeProcess(running);
  await rm(dir, { recursive: true, force: true });
});

const check = () => ({ relevant: false, obtained: false });

describe('wharf serve', () => {
  it('serve --help lists the options without loading the server', async () => {
    const r = await wharf(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--data-dir', '--store', '--database', '--port', '--host', '--id-prefix']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('rejects a bad --database or --id-prefix with one line', async () => {
    const r = await wharf(['serve', '--database', 'mysql://x', '--data-dir', join(dir, 'unused')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/invalid --database/);
    const p = await wharf(['serve', '--id-prefix', 'a/b', '--data-dir', join(dir, 'unused')]);
    expect(p.stderr).toMatch(/invalid --id-prefix/);
    for (const [flag, value, message] of [
      ['--port', '99999', '--port must be 0-65535, got "99999"'],
      ['--response-cache-mb', '-1', '--response-cache-mb must be 0-65536, got "-1"'],
    ] as const) {
      const bad = await wharf(['serve', flag, value, '--data-dir', join(dir, 'unused')]);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim()).toBe(`wharf: error: ${message}`);
    }
  });

  it('a mistyped --store (s3:/x, gs://x) is a usage error, not a folder created under the working directory', async () => {
    const cwd = join(dir, 'store-typo');
    await mkdir(cwd, { recursive: true });
    for (const [store, message] of [
      ['s3:/x', /^wharf: error: malformed location "s3:\/x": expected s3:\/\/BUCKET/],
      ['gs://x/y', /^wharf: error: unsupported location "gs:\/\/x\/y"/],
    ] as const) {
      // A catalog nobody listens on: without the check the server would fail there instead of starting.
      const database = 'postgres://wharf:wharf@127.0.0.1:1/none';
      const r = await wharf(['serve', '--store', store, '--database', database, '--port', '0'], { cwd });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
    }
    expect(await readdir(cwd)).toEqual([]);
  });

  it('a --store bucket that does not exist: exit 3 naming it, before the catalog starts or a token is printed', async () => {
    s3TestEnv();
    const dataDir = join(dir, 'missing-bucket');
    const r = await wharf([
      'serve',
      '--store',
      's3://wharf-no-such-bucket-9f3a',
      '--data-dir',
      dataDir,
      '--port',
      '0',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^wharf: error: bucket wharf-no-such-bucket-9f3a does not exist at endpoint /),
    ]);
    expect(r.stdout).not.toMatch(/TOKEN/);
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
  });

  it('embedded defaults: health, OpenAPI, docs, mint with the printed admin token; restart keeps the data; wharf token create|list|revoke', async () => {
    const dataDir = join(dir, 'data');
    running = await serve(['--data-dir', dataDir]);
    const token = /ADMIN API TOKEN[\s\S]*?(wharf_[0-9a-f]{12}_[A-Za-z0-9_-]{43})/.exec(running.stderr())?.[1];
    expect(token, running.stderr()).toBeDefined();
    const auth = { authorization: `Bearer ${token!}`, 'content-type': 'application/json' };

    const health = await fetch(`${running.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', database: 'ok', store: 'ok' });
    const openapi = (await (await fetch(`${running.url}/openapi.json`)).json()) as { paths: object };
    expect(Object.keys(openapi.paths)).toContain('/datasets');
    const docs = await fetch(`${running.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger-ui-bundle.js');

    const org = await fetch(`${running.url}/organisations`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'CSIRO' }),
    });
    const orgId = ((await org.json()) as { id: string }).id;
    const minted = await fetch(`${running.url}/datasets`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        associations: { organisationId: orgId },
        approvals: {
          ethicsRegistration: check(),
          ethicsAccess: check(),
          indigenousKnowledge: check(),
          exportControls: check(),
        },
        datasetInfo: {
          name: 'First dataset',
          description: 'minted by the e2e test',
          accessInfo: { reposited: true },
          publisherId: orgId,
          createdDate: { relevant: false },
          publishedDate: { relevant: false },
          license: 'https://creativecommons.org/licenses/by/4.0/',
        },
      }),
    });
    expect(minted.status).toBe(201);
    const id = ((await minted.json()) as { id: string }).id;
    expect(id).toMatch(/^10378\.1\/\d+$/);
    expect(await stopServeProcess(running)).toBe(0);

    // Second start on the same data folder: no new token is printed, the old one and the data are still there.
    running = await serve(['--data-dir', dataDir]);
    expect(running.stderr()).not.toContain('ADMIN API TOKEN');
    const again = await fetch(`${running.url}/datasets/${id}`, { headers: auth });
    expect(again.status).toBe(200);
    expect(await stopServeProcess(running)).toBe(0);

    // WHARF_ADMIN_TOKEN fixes the admin token (scripted setups).
    const fixed = 'fixed-admin-token-for-scripts-0001';
    running = await serve(['--data-dir', dataDir], { WHARF_ADMIN_TOKEN: fixed });
    const me = await fetch(`${running.url}/me`, { headers: { authorization: `Bearer ${fixed}` } });
    expect(((await me.json()) as { username: string; systemRoles: string[] }).systemRoles).toEqual([
      'sys-admin',
    ]);
    // wharf token create | list | revoke against the running service.
    const server = ['--server', running.url];
    const created = await wharf(['token', 'create', 'ci', '--user', 'bob', ...server, '--token', fixed]);
    expect(created.code, created.stderr).toBe(0);
    const bobToken = created.stdout.trim();
    expect(bobToken).toMatch(/^wharf_[0-9a-f]{12}_/);
    const tokenId = bobToken.split('_')[1]!;
    const listed = await wharf(['--json', 'token', 'list', ...server], { env: { WHARF_TOKEN: bobToken } });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout.trim())).toMatchObject({ tokenId, username: 'bob', name: 'ci' });
    const denied = await wharf(['token', 'create', 'x', '--user', 'carol', ...server, '--token', bobToken]);
    expect(denied.code).toBe(4);
    expect(denied.stderr).toMatch(/^wharf: error: creating a token for carol needs the sys-admin role/);
    expect((await wharf(['token', 'revoke', tokenId, ...server, '--token', bobToken])).code).toBe(0);
    const revoked = await wharf(['token', 'list', ...server, '--token', bobToken]);
    expect(revoked.code).toBe(4);
    expect(revoked.stderr.trim().split('\n')).toHaveLength(1);
    expect(await stopServeProcess(running)).toBe(0);
  }, 120_000);

  it('--exit-with-parent (npm start): when its starter is killed, it shuts down cleanly, database included', async () => {
    const data = join(dir, 'orphan');
    // The starter stands for npm, which exits on SIGTERM without passing it on: a shell that prints the pid of
    // the `wharf serve` it started, then waits.
    const starter = spawn(
      'sh',
      [
        '-c',
        `"$0" "$1" serve --exit-with-parent --port 0 --data-dir "$2" & echo "pid $!"; wait`,
        process.execPath,
        CLI,
        data,
      ],
      {
        env: { ...process.env, WHARF_ADMIN_TOKEN: 'orphan-admin-token-0123456789' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    starter.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    starter.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const url = await until(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], 60_000);
    const pid = Number(/pid (\d+)/.exec(out)?.[1]);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(existsSync(join(data, 'postgres', 'postmaster.pid'))).toBe(true);

    starter.kill('SIGKILL');
    try {
      await until(() => (isRunning(pid) ? undefined : true), 30_000);
    } finally {
      if (isRunning(pid)) process.kill(pid, 'SIGTERM'); // never leave a server (and its database) behind
    }
    expect(err).toMatch(/the process that started this one \(pid \d+\) has exited/);
    expect(err).toContain('wharf: shutting down');
    // The embedded PostgreSQL was stopped by the shutdown, not left running without its owner.
    expect(existsSync(join(data, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 120_000);
});

/** Polls `probe` every 100 ms until it gives a value; throws after `timeoutMs`. */
async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
