import { describe, expect, it } from 'vitest';
import { parseListObjectsV2 } from './s3-list-xml.js';

const doc = (inner: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</ListBucketResult>\n`;

describe('parseListObjectsV2', () => {
  it('reads objects, common prefixes and the paging fields, resolving entities', () => {
    const page = parseListObjectsV2(
      doc(
        '<Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter>' +
          '<IsTruncated>true</IsTruncated><EncodingType>url</EncodingType>' +
          '<Contents><Key>p/a&amp;b &lt;c&gt; &#233;&#x1F433;</Key><LastModified>2025-01-01T10:00:00.000Z</LastModified>' +
          '<ETag>&quot;abc&quot;</ETag><Size>12</Size><Owner><ID>x</ID><DisplayName>y</DisplayName></Owner>' +
          '<StorageClass>STANDARD</StorageClass><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumAlgorithm>SHA1</ChecksumAlgorithm>' +
          '<RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress></RestoreStatus></Contents>' +
          '<CommonPrefixes><Prefix>p/sub/</Prefix></CommonPrefixes>' +
          '<Contents><Key>p/z</Key><Size>0</Size></Contents>' +
          '<NextContinuationToken>tok/+=</NextContinuationToken>',
      ),
    );
    expect(page).toEqual({
      IsTruncated: true,
      EncodingType: 'url',
      NextContinuationToken: 'tok/+=',
      Contents: [
        { Key: 'p/a&b <c> é🐳', Size: 12, ETag: '"abc"', LastModified: new Date('2025-01-01T10:00:00Z') },
        { Key: 'p/z', Size: 0 },
      ],
      CommonPrefixes: [{ Prefix: 'p/sub/' }],
    });
  });

  it('reads an empty page, and keeps spaces in keys as they are', () => {
    expect(
      parseListObjectsV2(
        doc('<Name>b</Name><Prefix/><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>'),
      ),
    ).toEqual({
      IsTruncated: false,
    });
    expect(parseListObjectsV2(doc('<Contents><Key> a </Key><Size>1</Size></Contents>'))?.Contents).toEqual([
      { Key: ' a ', Size: 1 },
    ]);
  });

  it('returns undefined for anything it does not expect, so that the SDK reads it', () => {
    const object = (fields: string) => doc(`<IsTruncated>false</IsTruncated><Contents>${fields}</Contents>`);
    for (const xml of [
      '<Error><Code>AccessDenied</Code></Error>',
      '<html><body>proxy</body></html>',
      `<?xml version="1.0"?><!-- note --><ListBucketResult></ListBucketResult>`,
      doc('<IsTruncated>maybe</IsTruncated>'),
      object('<Size>1</Size>'),
      object('<Key>k</Key>'),
      object('<Key>k</Key><Size>1.5</Size>'),
      object('<Key>k</Key><Size>-1</Size>'),
      object('<Key>k</Key><Key>j</Key><Size>1</Size>'),
      object('<Key>k&nbsp;</Key><Size>1</Size>'),
      object('<Key>k & j</Key><Size>1</Size>'),
      object('<Key>k&#x110000;</Key><Size>1</Size>'),
      object('<Key>k</Key><Size>1</Size><LastModified>yesterday</LastModified>'),
      doc('<CommonPrefixes><Other>x</Other></CommonPrefixes>'),
      doc('<IsTruncated>true</IsTruncated><IsTruncated>false</IsTruncated>'),
    ]) {
      expect(parseListObjectsV2(xml), xml).toBeUndefined();
    }
  });

  it('ignores entities it does not know in fields it does not read', () => {
    expect(
      parseListObjectsV2(
        doc(
          '<Name>b&nbsp;</Name><Contents><Key>k</Key><Size>1</Size><StorageClass>&x;</StorageClass></Contents>',
        ),
      ),
    ).toEqual({ IsTruncated: false, Contents: [{ Key: 'k', Size: 1 }] });
  });
});
