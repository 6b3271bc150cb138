import { describe, expect, it } from 'vitest';
import { dataFileOfMeta, isMetaFile, metaCompanionOf, orphanMetaWarning } from './meta-files.js';

describe('meta files', () => {
  it('names the companion in the same folder', () => {
    expect(metaCompanionOf('path/to/files_001.json')).toBe('path/to/.files_001.json.meta');
    expect(metaCompanionOf('files_001.json')).toBe('.files_001.json.meta');
    expect(metaCompanionOf('a/.hidden')).toBe('a/..hidden.meta');
  });

  it('recognises companions by base name only', () => {
    expect(isMetaFile('path/to/.files_001.json.meta')).toBe(true);
    expect(isMetaFile('.x.meta')).toBe(true);
    expect(isMetaFile('path/to/files_001.json.meta')).toBe(false);
    expect(isMetaFile('path/.to/files.json')).toBe(false);
    expect(isMetaFile('.dir.meta/file.json')).toBe(false);
    expect(isMetaFile('path/to/.files.json')).toBe(false);
  });

  it('maps a companion back to its data file', () => {
    expect(dataFileOfMeta('path/to/.files_001.json.meta')).toBe('path/to/files_001.json');
    expect(dataFileOfMeta('.files_001.json.meta')).toBe('files_001.json');
    expect(dataFileOfMeta('a/..hidden.meta')).toBe('a/.hidden');
    expect(dataFileOfMeta('path/to/files_001.json')).toBeUndefined();
    expect(dataFileOfMeta('a/.meta')).toBeUndefined();
  });

  it('round-trips', () => {
    for (const key of ['a', 'a/b/c.json', 'x/.y', 'n/o.meta']) {
      expect(isMetaFile(metaCompanionOf(key))).toBe(true);
      expect(dataFileOfMeta(metaCompanionOf(key))).toBe(key);
    }
  });

  it('words the warning for companions without a data file: one named with its data file, many named and counted', () => {
    const show = (key: string) => `s3://b/${key}`;
    expect(orphanMetaWarning(['ds/path/.files_002.json.meta'], show)).toBe(
      's3://b/ds/path/.files_002.json.meta has no data file s3://b/ds/path/files_002.json: nothing is fetched ' +
        'for it until that exists (its producer may still be writing it)',
    );
    const many = Array.from({ length: 7 }, (_, i) => `ds/.f${i}.json.meta`);
    const text = orphanMetaWarning(many, show);
    expect(text).toMatch(/^7 \.meta companions have no data file \(s3:\/\/b\/ds\/\.f0\.json\.meta, /);
    expect(text).toContain('s3://b/ds/.f4.json.meta and 2 more)');
    expect(text).not.toContain('.f5.json.meta');
  });
});
