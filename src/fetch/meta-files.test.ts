import { describe, expect, it } from 'vitest';
import { dataFileOfMeta, isMetaFile, metaCompanionOf } from './meta-files.js';

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
});
