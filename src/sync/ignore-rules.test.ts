import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WharfError } from '../core/errors.js';
import { BUILT_IN_IGNORES, IgnoreRules } from './ignore-rules.js';

describe('IgnoreRules.fromText', () => {
  it('skips comments and blank lines', () => {
    const rules = IgnoreRules.fromText('# a comment\n\n   \n*.log\r\n\\#literal\n');
    expect(rules.ignores('a.log')).toBe(true);
    expect(rules.ignores('# a comment')).toBe(false);
    expect(rules.ignores('#literal')).toBe(true);
    expect(rules.ignores('a.txt')).toBe(false);
  });

  it('re-includes a file with a negated rule', () => {
    const rules = IgnoreRules.fromText('*.csv\n!keep.csv\n');
    expect(rules.ignores('data.csv')).toBe(true);
    expect(rules.ignores('keep.csv')).toBe(false);
    expect(rules.ignores('sub/keep.csv')).toBe(false);
  });

  it('cannot re-include a file inside an ignored folder', () => {
    const rules = IgnoreRules.fromText('out/\n!out/keep.csv\n');
    expect(rules.ignores('out/keep.csv')).toBe(true);
  });

  it('matches any depth with **/', () => {
    const rules = IgnoreRules.fromText('**/logs/*.log\n');
    expect(rules.ignores('logs/a.log')).toBe(true);
    expect(rules.ignores('x/y/logs/a.log')).toBe(true);
    expect(rules.ignores('x/logs/a.txt')).toBe(false);
  });

  it('anchors a pattern with a leading slash to the folder root', () => {
    const rules = IgnoreRules.fromText('/top.txt\n');
    expect(rules.ignores('top.txt')).toBe(true);
    expect(rules.ignores('sub/top.txt')).toBe(false);
  });

  it('matches folders only with a trailing slash', () => {
    const rules = IgnoreRules.fromText('build/\n');
    expect(rules.ignoresDir('build')).toBe(true);
    expect(rules.ignoresDir('a/build')).toBe(true);
    expect(rules.ignores('build/out.bin')).toBe(true);
    expect(rules.ignores('build')).toBe(false); // a file named build
  });

  it('matches case-sensitively, like git', () => {
    const rules = IgnoreRules.fromText('*.csv\n');
    expect(rules.ignores('a.CSV')).toBe(false);
  });

  it('handles unicode and spaces in names', () => {
    const rules = IgnoreRules.fromText('Entwürfe/\nmy notes.txt\n数据 *.csv\n');
    expect(rules.ignoresDir('Entwürfe')).toBe(true);
    expect(rules.ignores('Entwürfe/plan.md')).toBe(true);
    expect(rules.ignores('a/my notes.txt')).toBe(true);
    expect(rules.ignores('数据 2024.csv')).toBe(true);
    expect(rules.ignores('数据.csv')).toBe(false);
  });
});

describe('built-in rules', () => {
  const none = IgnoreRules.fromText('');

  it('are always on', () => {
    expect(none.ignoresDir('.wharf')).toBe(true);
    expect(none.ignores('.wharf/state.json')).toBe(true);
    expect(none.ignores('.DS_Store')).toBe(true);
    expect(none.ignores('photos/.DS_Store')).toBe(true);
    expect(none.ignores('Thumbs.db')).toBe(true);
    expect(none.ignores('sub/desktop.ini')).toBe(true);
    expect(none.ignores('Desktop.ini')).toBe(true);
    expect(none.ignores('._report.pdf')).toBe(true);
    expect(none.ignores('~$budget.xlsx')).toBe(true);
    expect(none.ignoresDir('.Trashes')).toBe(true);
    expect(none.ignoresDir('.Spotlight-V100')).toBe(true);
    expect(none.ignoresDir('.fseventsd')).toBe(true);
  });

  it('leave ordinary files and the .wharfignore itself alone', () => {
    expect(none.ignores('.wharfignore')).toBe(false);
    expect(none.ignores('report.tmp')).toBe(false);
    expect(none.ignores('.wharf')).toBe(false); // only the folder is Wharf's
    expect(none.ignoresDir('data')).toBe(false);
  });

  it('cannot be un-ignored by a negated rule', () => {
    const rules = IgnoreRules.fromText('!.wharf/\n!.wharf/**\n!.wharf/index.json\n!.DS_Store\n');
    expect(rules.ignoresDir('.wharf')).toBe(true);
    expect(rules.ignores('.wharf/index.json')).toBe(true);
    expect(rules.ignores('.DS_Store')).toBe(true);
  });

  it('are listed as gitignore patterns', () => {
    expect(BUILT_IN_IGNORES).toContain('.wharf/');
    expect(BUILT_IN_IGNORES).not.toContain('.wharfignore');
  });
});

describe('IgnoreRules.load', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-ignore-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the folder .wharfignore', async () => {
    await writeFile(join(dir, '.wharfignore'), '*.bak\n');
    const rules = await IgnoreRules.load(dir);
    expect(rules.ignores('x.bak')).toBe(true);
    expect(rules.ignores('.DS_Store')).toBe(true);
    expect(rules.source).toBe(join(dir, '.wharfignore'));
  });

  it('uses the built-ins alone when there is no .wharfignore', async () => {
    const rules = await IgnoreRules.load(dir);
    expect(rules.ignores('x.bak')).toBe(false);
    expect(rules.ignoresDir('.wharf')).toBe(true);
    expect(rules.source).toMatch(/built-in/);
  });

  it('fails when the .wharfignore cannot be read', async () => {
    await mkdir(join(dir, '.wharfignore'));
    await expect(IgnoreRules.load(dir)).rejects.toBeInstanceOf(WharfError);
  });
});
