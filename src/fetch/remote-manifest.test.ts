import { describe, expect, it } from 'vitest';
import { decodeManifest, parseManifest } from './remote-manifest.js';

const ctx = { manifestKey: 's3://bkt/exports/run1/manifest', bucket: 'bkt', prefix: 'exports/run1/' };

function unload(entries: unknown[]): string {
  return JSON.stringify({ entries, schema: { elements: [] }, meta: { content_length: 0, record_count: 0 } });
}

describe('parseManifest: Redshift UNLOAD JSON', () => {
  it('reads urls below the prefix with their content_length, in manifest order', () => {
    const text = unload([
      { url: 's3://bkt/exports/run1/0001_part_00', meta: { content_length: 5987, record_count: 10 } },
      { url: 's3://bkt/exports/run1/sub/0000_part_00', mandatory: true },
      { url: 's3://bkt/exports/run1/0000_part_00', meta: { content_length: 0 } },
    ]);
    expect(parseManifest(`\n  ${text}\n`, ctx)).toEqual([
      { relativeKey: '0001_part_00', size: 5987 },
      { relativeKey: 'sub/0000_part_00' },
      { relativeKey: '0000_part_00', size: 0 },
    ]);
  });

  it('accepts any bucket when none is given, and an empty prefix', () => {
    const text = unload([{ url: 's3://other/a/b.csv' }]);
    expect(parseManifest(text, { manifestKey: 'm', prefix: '' })).toEqual([{ relativeKey: 'a/b.csv' }]);
    expect(parseManifest(text, { manifestKey: 'm', prefix: 'a/' })).toEqual([{ relativeKey: 'b.csv' }]);
  });

  it('refuses entries in another bucket or outside the prefix, naming entry and expected location', () => {
    for (const url of [
      's3://elsewhere/exports/run1/x',
      's3://bkt/exports/run10/x',
      's3://bkt/exports/x',
      'https://bkt.s3.amazonaws.com/exports/run1/x',
      's3://bkt',
    ]) {
      const text = unload([{ url: 's3://bkt/exports/run1/ok' }, { url }]);
      expect(() => parseManifest(text, ctx)).toThrow(
        expect.objectContaining({
          code: 'VALIDATION',
          message: `manifest s3://bkt/exports/run1/manifest: entry 2 (${url}) is not below the dataset location s3://bkt/exports/run1/`,
        }),
      );
    }
  });

  it('refuses malformed JSON naming the manifest and the parse error', () => {
    expect(() => parseManifest('{"entries": [', ctx)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION',
        message: expect.stringMatching(/^manifest s3:\/\/bkt\/exports\/run1\/manifest is not valid JSON: \S/),
      }),
    );
    expect(() => parseManifest('{"files": []}', ctx)).toThrow(
      expect.objectContaining({ code: 'VALIDATION', message: expect.stringContaining('no "entries" array') }),
    );
    expect(() => parseManifest(unload([{ uri: 'x' }]), ctx)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION',
        message: expect.stringContaining('entry 1 has no "url"'),
      }),
    );
    expect(() =>
      parseManifest(unload([{ url: 's3://bkt/exports/run1/a', meta: { content_length: '12' } }]), ctx),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION', message: expect.stringContaining('"12"') }));
  });

  it('refuses unsafe relative keys naming the entry', () => {
    for (const url of [
      's3://bkt/exports/run1/../../etc/x',
      's3://bkt/exports/run1/a//b',
      's3://bkt/exports/run1/',
    ]) {
      expect(() => parseManifest(unload([{ url }]), ctx)).toThrow(
        expect.objectContaining({
          code: 'INVALID_KEY',
          message: expect.stringContaining(`entry 1 (${url})`),
        }),
      );
    }
  });

  it('removes duplicates keeping the first', () => {
    const text = unload([
      { url: 's3://bkt/exports/run1/a', meta: { content_length: 1 } },
      { url: 's3://bkt/exports/run1/b' },
      { url: 's3://bkt/exports/run1/a', meta: { content_length: 2 } },
    ]);
    expect(parseManifest(text, ctx)).toEqual([{ relativeKey: 'a', size: 1 }, { relativeKey: 'b' }]);
  });
});

describe('parseManifest: plain key list', () => {
  it('reads one relative key per line, skipping blanks and comments, trimming, CRLF ok', () => {
    const text = '# files of run 1\r\n\r\n  b/2.csv  \r\na/1.csv\r\n\t# another comment\n\nc.csv\nb/2.csv\n';
    expect(parseManifest(text, ctx)).toEqual([
      { relativeKey: 'b/2.csv' },
      { relativeKey: 'a/1.csv' },
      { relativeKey: 'c.csv' },
    ]);
    expect(parseManifest('', ctx)).toEqual([]);
    expect(parseManifest('\uFEFFx.csv\n', ctx)).toEqual([{ relativeKey: 'x.csv' }]);
  });

  it('refuses unsafe keys naming the line', () => {
    expect(() => parseManifest('ok.csv\n\n../evil.sh\n', ctx)).toThrow(
      expect.objectContaining({
        code: 'INVALID_KEY',
        message: expect.stringMatching(
          /"\.\.\/evil\.sh".*'\.\.' segment.*manifest s3:\/\/bkt\/exports\/run1\/manifest, line 3/,
        ),
      }),
    );
    expect(() => parseManifest('/abs/key\n', ctx)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
    expect(() => parseManifest('s3://bkt/exports/run1/a.csv\n', ctx)).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY', hint: expect.stringContaining('JSON format') }),
    );
  });
});

describe('decodeManifest', () => {
  it('reads UTF-8 (with or without a BOM) and UTF-16 with its byte-order mark', () => {
    const text = 'a.csv\r\nsüb/c.csv\r\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le.subarray(2)).swap16();
    const cases = [
      Buffer.from(text),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
      le,
      Buffer.concat([Buffer.from([0xfe, 0xff]), be]),
    ];
    for (const bytes of cases) {
      expect(parseManifest(decodeManifest(bytes), ctx)).toEqual([
        { relativeKey: 'a.csv' },
        { relativeKey: 'süb/c.csv' },
      ]);
    }
  });
});
