import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, wharf } from '../support/run-cli.js';
import { createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';

const SERVER_URL = process.env.WHARF_TEST_PG_URL ?? '';
// Its own database: the window guard sees only this database's open transactions (not other test files').
const DATABASE = `wharf_ingest_cli_${randomBytes(4).toString('hex')}`;
const PG_URL = SERVER_URL && Object.assign(new URL(SERVER_URL), { pathname: `/${DATABASE}` }).toString();
const SCHEMA = `wharf_ingest_cli_${randomBytes(4).toString('hex')}`;
let bucket: string;
let db: pg.Client;

beforeAll(async () => {
  if (!PG_URL) throw new Error('WHARF_TEST_PG_URL is not set: source /tmp/svc-env.sh or run npm test');
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(DATABASE)}`);
  await admin.end();
  bucket = await createTestBucket('ingestcli');
  db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  await db.query(`CREATE SCHEMA ${pg.escapeIdentifier(SCHEMA)}`);
  await db.query(
    `CREATE TABLE ${pg.escapeIdentifier(SCHEMA)}.orders (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
  );
  await db.query(`INSERT INTO ${pg.escapeIdentifier(SCHEMA)}.orders (id) SELECT generate_series(1, 25)`);
});

afterAll(async () => {
  await db?.end();
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  // An autovacuum worker may still be on the fresh database for a moment (WITH (FORCE) cannot end it).
  for (let attempt = 1; attempt <= 5; attempt++) {
    const dropped = await admin
      .query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(DATABASE)} WITH (FORCE)`)
      .then(
        () => true,
        () => false,
      );
    if (dropped) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await admin.end();
  if (bucket) await deleteTestBucket(bucket);
});

const base = (): string[] => ['--dest', `s3://${bucket}/raw`, '--schema', SCHEMA, '--lag', '0s'];

describe('wharf ingest', () => {
  it('loads pg and DuckDB only when it runs (the command module imports neither)', async () => {
    const text = await readFile(
      fileURLToPath(new URL('../../dist/cli/commands/ingest.js', import.meta.url)),
      'utf8',
    );
    expect(text).not.toMatch(/^import .*['"](pg|pg-copy-streams|@duckdb\/node-api)['"]/m);
    const help = await wharf(['ingest', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--source-secret');
  });

  it('--dry-run shows the window and the would-be key, writes nothing', async () => {
    const r = await wharf(['ingest', '--source', PG_URL, ...base(), '--tables', 'orders', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^would ingest orders \[-infinity, \d{4}-.*Z\): 25 row\(s\) -> s3:\/\/.*\/raw\/orders\/\d{4}\/\d{2}\/\d{2}\/\d{12}\.parquet/m,
    );
    const ls = await wharf(['ls', '-r', `s3://${bucket}/raw/`]);
    expect(ls.stdout.trim()).toBe('');
  });

  it('--json: one record per table, JSON logs on stderr, other tables still run, exit 3 for an unknown table', async () => {
    const r = await wharf(['--json', 'ingest', '--source', PG_URL, ...base(), '--tables', 'nope,orders']);
    expect(r.code).toBe(3);
    const records = jsonLines(r.stdout);
    expect(records.map((x) => [x.table, x.status])).toEqual([
      ['nope', 'failed'],
      ['orders', 'written'],
    ]);
    expect(records[1]?.rows).toBe(25);
    expect(String(records[1]?.key)).toMatch(/^orders\/\d{4}\/\d{2}\/\d{2}\/\d{12}\.parquet$/);
    const logs = jsonLines(r.stderr);
    expect(logs.some((l) => l.severity === 'CRITICAL' && l.table === 'nope')).toBe(true);
    expect(
      logs.some((l) => l.severity === 'INFO' && l.msg === 'committed state' && l.table === 'orders'),
    ).toBe(true);
    expect(logs.some((l) => (l as { error?: { code?: string } }).error?.code === 'NOT_FOUND')).toBe(true);
    const again = await wharf(['ingest', '--source', PG_URL, ...base(), '--tables', 'orders']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^orders: no new rows/m);
  });

  it('a table name with a quote is one line naming it once, exit 3', async () => {
    const r = await wharf(['ingest', '--source', PG_URL, ...base(), '--tables', 'x"y']);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^wharf: error: table "[^"]*\.x\\"y" not found in postgres:\/\/[^ ]+ \(names are case-sensitive/,
      ),
    ]);
  });

  it('a comma inside a quoted table name is part of the name', async () => {
    await db.query(
      `CREATE TABLE ${pg.escapeIdentifier(SCHEMA)}."a,b" (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${pg.escapeIdentifier(SCHEMA)}."a,b" (id) VALUES (1)`);
    const r = await wharf(['ingest', '--source', PG_URL, ...base(), '--tables', '"a,b",orders', '--dry-run']);
    expect(r.stderr.trim()).toBe('dry run: 2 table(s) planned; nothing written');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^would ingest "a,b" \[-infinity, .*\): 1 row\(s\) -> .*\/raw\/a%2Cb\//m);
    expect(r.stdout).toMatch(/^would ingest orders /m);
  });

  it('a wrong password is one clear line and exit 4; the password never shows', async () => {
    const url = new URL(PG_URL);
    url.password = 'wrong-pass-123';
    const r = await wharf(['ingest', '--source', url.toString(), ...base(), '--tables', 'orders']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^wharf: error: orders: PostgreSQL refused the login/);
    expect(r.stderr + r.stdout).not.toContain('wrong-pass-123');
  });

  it('a URL without a password, none in PGPASSWORD or ~/.pgpass: one line saying so, exit 4', async () => {
    const url = new URL(PG_URL);
    url.password = '';
    const r = await wharf(['ingest', '--source', url.toString(), ...base(), '--tables', 'orders'], {
      env: { PGPASSWORD: '', PGPASSFILE: '/nonexistent/wharf-test-pgpass' },
    });
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^wharf: error: orders: PostgreSQL at postgres:\/\/\S+ asks for a password and none was given \(set PGPASSWORD/,
      ),
    ]);
    expect(r.code).toBe(4);
  });

  it('without --json the warnings of the log show too: no primary key, columns renamed for case', async () => {
    await db.query(
      `CREATE TABLE ${pg.escapeIdentifier(SCHEMA)}.loose ("ID" int, id int, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${pg.escapeIdentifier(SCHEMA)}.loose VALUES (1, 2)`);
    const r = await wharf(['ingest', '--source', PG_URL, ...base(), '--tables', 'loose']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^loose: 1 row\(s\), 1 object\(s\)/);
    expect(r.stderr.trim().split('\n')).toEqual([
      'wharf: warning: loose: no primary key, so its rows cannot be deduplicated by key on read',
      'wharf: warning: loose: columns whose names differ only by case are renamed in the Parquet: "id" -> "id_1" (rename one of them in PostgreSQL to keep both names)',
    ]);
  });

  it('a --source-file that does not exist is one line in words, exit 3', async () => {
    const file = `/nonexistent-${randomBytes(4).toString('hex')}/pg-url`;
    const r = await wharf(['ingest', '--source-file', file, ...base(), '--tables', 'orders']);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      `wharf: error: orders: cannot read the source file ${file}: no such file or folder (check the path; its parent folder must exist and hold files)`,
    ]);
  });

  it('a missing destination or table list is a usage error (exit 2)', async () => {
    expect((await wharf(['ingest', '--source', PG_URL, '--tables', 'orders'])).code).toBe(2);
    const r = await wharf(['ingest', '--source', PG_URL, '--dest', `s3://${bucket}/raw`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tables');
  });
});
