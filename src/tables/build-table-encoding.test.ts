import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFrom, rowsOf, type TableSource } from '../../test/support/table-sources.js';
import type { BuildTableOptions } from './build-table.js';

// CSV text in other encodings (the encoding option, --encoding).

let work: string;

const build = (label: string, files: Record<string, TableSource>, o: Partial<BuildTableOptions> = {}) =>
  buildFrom(work, label, files, o);

const cp1252 = (bytes: number[]): Buffer => Buffer.from(bytes);
/** `text` in Windows-1252 (every character here is one byte there). */
function windows1252(text: string): Buffer {
  const special: Record<string, number> = {
    '€': 0x80,
    '“': 0x93,
    '”': 0x94,
    '„': 0x84,
    '‘': 0x91,
    '’': 0x92,
  };
  return cp1252([...text].map((c) => special[c] ?? c.charCodeAt(0)));
}
const utf16be = (text: string): Buffer => Buffer.from(text, 'utf16le').swap16();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wharf-tables-encoding-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('buildTable: CSV files in other encodings (encoding)', () => {
  it('windows-1252: é, ü, €, curly quotes are read exactly; UTF-8 CSV and JSON files beside them stay UTF-8', async () => {
    const files = {
      'a.csv': windows1252('id;name\r\n1;café\r\n2;Müller “Straße” 5 €\r\n3;„x‘y’\r\n'),
      'b.csv.gz': gzipSync(windows1252('id;name\n4;naïve €\n')),
      'c.csv': 'id,name\n5,UTF-8 € “ok”\n',
      'd.ndjson': '{"id":6,"name":"JSON é"}\n',
      'e.csv': windows1252('sep=;\nid;name\n7;Excel é\n'),
    };
    await expect(build('cp1252-default', files)).rejects.toThrow(
      /cannot parse (a\.csv|b\.csv\.gz|e\.csv): .*pass --encoding windows-1252/,
    );
    const result = await build('cp1252', files, { encoding: 'windows-1252' });
    expect(result.badFiles).toEqual([]);
    expect(await rowsOf(result.path, 'SELECT id, name, _source_file FROM t ORDER BY id')).toEqual([
      { id: 1, name: 'café', _source_file: 'a.csv' },
      { id: 2, name: 'Müller “Straße” 5 €', _source_file: 'a.csv' },
      { id: 3, name: '„x‘y’', _source_file: 'a.csv' },
      { id: 4, name: 'naïve €', _source_file: 'b.csv.gz' },
      { id: 5, name: 'UTF-8 € “ok”', _source_file: 'c.csv' },
      { id: 6, name: 'JSON é', _source_file: 'd.ndjson' },
      { id: 7, name: 'Excel é', _source_file: 'e.csv' },
    ]);
    // Its aliases, in any case, name the same encoding.
    const alias = await build('cp1252', {}, { encoding: 'CP1252' as BuildTableOptions['encoding'] });
    expect(alias.rows).toBe(7);
  });

  it('latin-1: every byte is its character; a byte Latin-1 has only as a control code (€ in Windows-1252) is a bad file', async () => {
    const result = await build(
      'latin1',
      {
        'a.csv': Buffer.from('id,name\n1,naïve ÿ ×\n', 'latin1'),
        'b.csv': windows1252('id,name\n2,ok\n3,5 €\n'),
        'c.csv': 'id,name\n4,utf-8 ï\n',
      },
      { encoding: 'latin-1', skipBad: true },
    );
    expect(await rowsOf(result.path, 'SELECT id, name FROM t ORDER BY id')).toEqual([
      { id: 1, name: 'naïve ÿ ×' },
      { id: 4, name: 'utf-8 ï' },
    ]);
    expect(result.badFiles).toEqual([
      {
        source: 'b.csv',
        reason: expect.stringMatching(
          /^not Latin-1 text: line 3 holds byte 0x80, a control code in Latin-1 .*pass --encoding windows-1252$/,
        ),
      },
    ]);
  });

  it('utf-16 without a byte-order mark, little- or big-endian; with a mark, or UTF-8, as before', async () => {
    const result = await build(
      'utf16',
      {
        'a.csv': Buffer.from('id,name\r\n1,café\r\n2,日本\r\n', 'utf16le'),
        'b.csv.gz': gzipSync(utf16be('id,name\n3,naïve\n')),
        'c.csv': Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be('id,name\n4,marked\n')]),
        'd.csv': 'id,name\n5,utf-8 ü\n',
        'e.csv': Buffer.from('id,name\n6,odd', 'utf16le').subarray(0, 25),
      },
      { encoding: 'utf-16', skipBad: true },
    );
    expect(await rowsOf(result.path, 'SELECT id, name, _source_file FROM t ORDER BY id')).toEqual([
      { id: 1, name: 'café', _source_file: 'a.csv' },
      { id: 2, name: '日本', _source_file: 'a.csv' },
      { id: 3, name: 'naïve', _source_file: 'b.csv.gz' },
      { id: 4, name: 'marked', _source_file: 'c.csv' },
      { id: 5, name: 'utf-8 ü', _source_file: 'd.csv' },
    ]);
    expect(result.badFiles).toEqual([
      { source: 'e.csv', reason: expect.stringMatching(/^not valid UTF-16LE text/) },
    ]);
  });

  it('a UTF-16 file without a mark read as windows-1252 is a bad file naming --encoding utf-16', async () => {
    await expect(
      build(
        'utf16-as-cp1252',
        { 'a.csv': Buffer.from('id,name\n1,x\n', 'utf16le') },
        { encoding: 'windows-1252' },
      ),
    ).rejects.toThrow(
      /^cannot parse a\.csv: not Windows-1252 text: line 1 holds a zero byte.*--encoding utf-16$/,
    );
  });

  it('refuses an encoding it does not know, naming the ones it does', async () => {
    await expect(
      build('ebcdic', { 'a.csv': 'a\n1\n' }, { encoding: 'ebcdic' as BuildTableOptions['encoding'] }),
    ).rejects.toMatchObject({
      code: 'USAGE',
      message:
        'encoding must be one of utf-8, utf-16, latin-1, windows-1252 (or utf8, utf16, latin1, iso-8859-1, cp1252), got "ebcdic"',
    });
  });
});
