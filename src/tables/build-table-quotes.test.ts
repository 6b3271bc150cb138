import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFrom, rowsOf, type TableSource } from '../../test/support/table-sources.js';
import type { BuildTableOptions } from './build-table.js';

// CSV quoting DuckDB would read leniently.

let work: string;

const build = (label: string, files: Record<string, TableSource>, o: Partial<BuildTableOptions> = {}) =>
  buildFrom(work, label, files, o);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wharf-tables-quotes-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('buildTable: CSV quotes DuckDB would read leniently', () => {
  it('a quote that opens a value and never closes is a bad file naming its line, not a value "5 or quoted values kept with their quotes', async () => {
    const files = {
      'a.csv': 'a,b\n1,x\n',
      'b.csv': 'a,b\n1,"5\n2,6\n',
      'c.csv.gz': gzipSync('a,b\n"p",1\n"q, r",2\n3,"5\n4,6\n'),
      'd.csv': 'a;b\n"p";1\n2;"6\n',
    };
    await expect(build('unterminated', files)).rejects.toThrow(
      /^cannot parse (b\.csv|c\.csv\.gz|d\.csv): CSV Error on Line: \d: Value with unterminated quote found\./,
    );
    const result = await build('unterminated', {}, { skipBad: true });
    expect(result.badFiles.map((f) => [f.source, f.reason]).sort()).toEqual([
      [
        'b.csv',
        expect.stringMatching(/^CSV Error on Line: 2: Value with unterminated quote found\. \(a quote opens/),
      ],
      ['c.csv.gz', expect.stringMatching(/^CSV Error on Line: 4: Value with unterminated quote found\./)],
      ['d.csv', expect.stringMatching(/^CSV Error on Line: 3: Value with unterminated quote found\./)],
    ]);
    expect(await rowsOf(result.path, 'SELECT * FROM t')).toEqual([{ a: 1, b: 'x', _source_file: 'a.csv' }]);
  });

  it('reads valid quoting as before: line breaks and delimiters in quotes, doubled quotes, a quote inside a value, other quote characters', async () => {
    const result = await build('valid-quotes', {
      'a.csv': 'id,text\n1,"two\nlines, and a comma"\n2,"say ""hi"""\n3,"""quoted"""\n',
      'b.csv': 'id,text\n4,5" tall\n5,ab"c\n',
      'c.csv': "id,text\n6,'single, quoted'\n7,\"starts with a double quote\n",
      'd.csv': 'id,text\n8,"back\\"slash"\n9,"\\"x\\""\n',
    });
    expect(result.badFiles).toEqual([]);
    expect(await rowsOf(result.path, 'SELECT id, text FROM t ORDER BY id')).toEqual([
      { id: 1, text: 'two\nlines, and a comma' },
      { id: 2, text: 'say "hi"' },
      { id: 3, text: '"quoted"' },
      { id: 4, text: '5" tall' },
      { id: 5, text: 'ab"c' },
      { id: 6, text: 'single, quoted' },
      { id: 7, text: '"starts with a double quote' },
      { id: 8, text: 'back"slash' },
      { id: 9, text: '"x"' },
    ]);
  });
});
