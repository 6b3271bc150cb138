import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { contentRangeTotal } from './s3-encoding.js';
import { etagPartsCount, layoutFromPartOneHead, partSizeUnknown } from './s3-multipart-layout.js';
import { getToReadInfo } from './s3-object-info.js';

const MIB = 1024 * 1024;
const MULTI = '"03d4f4f5fe1affb22a68d09de4f39a4a-3"';
const SINGLE = '"f0835dbe66a7e90b0e0e8647354d0c0b"';

describe('s3 multipart layout', () => {
  it('reads the part count from a multipart ETag', () => {
    expect(etagPartsCount(MULTI)).toBe(3);
    expect(etagPartsCount('03d4f4f5fe1affb22a68d09de4f39a4a-10000')).toBe(10000);
    expect(etagPartsCount(SINGLE)).toBeUndefined();
    expect(etagPartsCount('"abc-0"')).toBeUndefined();
    expect(etagPartsCount(undefined)).toBeUndefined();
  });

  it('takes part 1 size and PartsCount from a server that honours partNumber (AWS)', () => {
    const head = { ContentLength: 5 * MIB, ContentRange: `bytes 0-${5 * MIB - 1}/${11 * MIB}`, ETag: MULTI };
    expect(layoutFromPartOneHead({ ...head, PartsCount: 3 })).toEqual({ partSize: 5 * MIB, partsCount: 3 });
    // No PartsCount, but only part 1 came back: the count comes from the ETag.
    expect(layoutFromPartOneHead(head)).toEqual({ partSize: 5 * MIB, partsCount: 3 });
  });

  it('answers undefined for an object uploaded in one piece', () => {
    expect(layoutFromPartOneHead({ ContentLength: 1000, ETag: SINGLE })).toBeUndefined();
    expect(
      layoutFromPartOneHead({ ContentLength: 1000, ContentRange: 'bytes 0-999/1000', ETag: SINGLE }),
    ).toBeUndefined();
  });

  it('refuses to guess when the server ignored partNumber (Ceph RGW 16 returns the whole object)', () => {
    // What RGW 16.2.15 answers for HEAD ?partNumber=1 of a 5+5+1 MiB upload: 200, whole length, no PartsCount.
    expect(layoutFromPartOneHead({ ContentLength: 11 * MIB, ETag: MULTI })).toBe('unknown');
    // PartsCount with the whole object in Content-Range: partNumber was not applied either.
    expect(
      layoutFromPartOneHead({
        ContentLength: 11 * MIB,
        ContentRange: `bytes 0-${11 * MIB - 1}/${11 * MIB}`,
        ETag: MULTI,
        PartsCount: 3,
      }),
    ).toBe('unknown');
    // One part: part 1 is the whole object either way.
    expect(layoutFromPartOneHead({ ContentLength: 7, ETag: '"abc-1"' })).toEqual({
      partSize: 7,
      partsCount: 1,
    });
    const error = partSizeUnknown('http://rgw:7480', 's3://b/k', MULTI);
    expect(error).toMatchObject({ code: 'UNSUPPORTED' });
    expect(error.message).toContain('3 parts');
  });
});

describe('s3 read info', () => {
  it('parses the total of a Content-Range', () => {
    expect(contentRangeTotal('bytes 2-5/1000')).toBe(1000);
    expect(contentRangeTotal('bytes */1000')).toBe(1000);
    expect(contentRangeTotal('bytes 0-3/*')).toBeUndefined();
    expect(contentRangeTotal(undefined)).toBeUndefined();
  });

  it('reports the whole size, encryption and (for whole reads) checksums of a GetObject response', () => {
    const base = {
      $metadata: {},
      ETag: 'f0835dbe66a7e90b0e0e8647354d0c0b',
      LastModified: new Date(0),
      ContentType: 'text/plain',
      Metadata: { Note: '=?UTF-8?B?w6k=?=' },
      ChecksumCRC32: 'AAAAAA==',
    } satisfies GetObjectCommandOutput;
    expect(
      getToReadInfo('k', { ...base, ContentLength: 1000, ServerSideEncryption: 'AES256' }, true),
    ).toEqual({
      key: 'k',
      size: 1000,
      etag: `"f0835dbe66a7e90b0e0e8647354d0c0b"`,
      lastModified: new Date(0),
      contentType: 'text/plain',
      metadata: { note: 'é' },
      encryption: 'AES256',
      checksums: { CRC32: 'AAAAAA==' },
    });
    const ranged = getToReadInfo(
      'k',
      { ...base, ContentLength: 4, ContentRange: 'bytes 2-5/1000', SSECustomerAlgorithm: 'AES256' },
      false,
    );
    expect(ranged).toMatchObject({ size: 1000, encryption: 'SSE-C' });
    expect(ranged.checksums).toBeUndefined();
  });
});
