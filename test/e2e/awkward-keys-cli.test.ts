import { rm } from 'node:fs/promises';
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
