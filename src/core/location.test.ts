import { describe, expect, it } from 'vitest';
import { formatLocation, parseLocation } from './location.js';

describe('parseLocation', () => {
  it('parses s3 URLs into bucket and verbatim key', () => {
    expect(parseLocation('s3://my-bucket')).toMatchObject({ kind: 's3', bucket: 'my-bucket', key: '' });
    expect(parseLocation('s3://my-bucket/')).toMatchObject({ kind: 's3', bucket: 'my-bucket', key: '' });
    expect(parseLocation('s3://b.c-d/a b/%20+=x')).toMatchObject({ bucket: 'b.c-d', key: 'a b/%20+=x' });
  });

  it("takes a '//' after the bucket as a key starting with '/', as aws-cli does and as ls prints it", () => {
    expect(parseLocation('s3://bucket//x')).toMatchObject({ bucket: 'bucket', key: '/x' });
    expect(parseLocation('s3://bucket//')).toMatchObject({ bucket: 'bucket', key: '/' });
    expect(parseLocation('s3://bucket///a//b')).toMatchObject({ key: '//a//b' });
  });

  it('rejects s3 URLs without a usable bucket, naming the expected form', () => {
    expect(() => parseLocation('s3://')).toThrow(/s3:\/\/BUCKET\[\/PREFIX\]/);
    expect(() => parseLocation('s3:///key')).toThrow(/missing bucket name/);
    expect(() => parseLocation('s3://ab')).toThrow(/invalid bucket name/);
    expect(() => parseLocation('s3://Upper/x')).toThrow(/invalid bucket name/);
    try {
      parseLocation('s3://');
    } catch (error) {
      expect(error).toMatchObject({ code: 'USAGE' });
    }
  });

  it('parses file URLs and plain paths as local folders', () => {
    expect(parseLocation('file:///tmp/data/')).toMatchObject({
      kind: 'local',
      path: '/tmp/data',
      trailingSlash: true,
    });
    expect(parseLocation('file:///tmp/a%20b')).toMatchObject({
      kind: 'local',
      path: '/tmp/a b',
      trailingSlash: false,
    });
    expect(parseLocation('./data', '/home/me')).toMatchObject({ kind: 'local', path: '/home/me/data' });
    expect(parseLocation('/abs/dir/')).toMatchObject({
      kind: 'local',
      path: '/abs/dir',
      trailingSlash: true,
    });
    expect(() => parseLocation('file://host/x')).toThrow(/invalid file URL/);
    // '?' and '#' would silently end the path (another file); a bare '%' is not an escape.
    expect(() => parseLocation('file:///d/report?.txt')).toThrow(/has a '\?', which ends the path/);
    expect(() => parseLocation('file:///d/x#y.txt')).toThrow(/has a '#'/);
    expect(() => parseLocation('file:///d/100%.txt')).toThrow(/'%' that is not a %XX escape/);
    expect(parseLocation('file:///d/report%3F.txt')).toMatchObject({ path: '/d/report?.txt' });
  });

  it('rejects unknown schemes and empty input', () => {
    expect(() => parseLocation('gs://bucket/x')).toThrow(/scheme 'gs:\/\/' is not known/);
    expect(() => parseLocation('')).toThrow(/empty location/);
  });

  it('rejects a URL with a slash missing instead of taking it for a folder, and says how to name such a folder', () => {
    expect(() => parseLocation('s3:/bucket/x')).toThrow(
      /malformed location "s3:\/bucket\/x": expected s3:\/\/BUCKET\[\/PREFIX\] \(with '\/\/' after 's3:'\)/,
    );
    expect(() => parseLocation('S3:bucket')).toThrow(/malformed location/);
    expect(() => parseLocation('file:/tmp/x')).toThrow(/expected file:\/\/\/DIR/);
    expect(() => parseLocation('https:/host/x')).toThrow(/malformed location/);
    expect(parseLocation('./s3:odd', '/work')).toMatchObject({ kind: 'local', path: '/work/s3:odd' });
    expect(parseLocation('s3-data', '/work')).toMatchObject({ kind: 'local', path: '/work/s3-data' });
  });

  it('formats locations back', () => {
    expect(formatLocation(parseLocation('s3://bkt/p'), 'p/k')).toBe('s3://bkt/p/k');
    // Every URL printed for a key parses back to that key.
    for (const key of ['/x', '//x', 'a//b', '/'])
      expect(parseLocation(formatLocation(parseLocation('s3://bkt'), key))).toMatchObject({ key });
    expect(formatLocation(parseLocation('/tmp/x'), 'a/b')).toBe('/tmp/x/a/b');
  });
});
