import { createHash } from 'node:crypto';

/** The longest file name (one path segment) ext4, XFS, Btrfs, APFS and NTFS take, in bytes. */
export const NAME_MAX_BYTES = 255;

/**
 * `name` cut at a character boundary so that it and `reservedBytes` more fit in one file name, for the hidden
 * names Wharf makes beside a file (`.NAME.wharf-tmp-RANDOM`): a file whose own name is near the limit must not
 * fail with "name too long" because of them. Short names come back as they are.
 */
export function nameWithin(name: string, reservedBytes: number): string {
  const room = NAME_MAX_BYTES - reservedBytes;
  if (Buffer.byteLength(name) <= room) return name;
  let cut = '';
  let bytes = 0;
  for (const char of name) {
    bytes += Buffer.byteLength(char);
    if (bytes > room) break;
    cut += char;
  }
  return cut;
}

/**
 * Like `nameWithin`, but a cut name ends with a hash of the whole one, so that two long names sharing their
 * start still get different results: for names that must be the same for one file and differ between files
 * (a lock beside it).
 */
export function distinctNameWithin(name: string, reservedBytes: number): string {
  if (Buffer.byteLength(name) <= NAME_MAX_BYTES - reservedBytes) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${nameWithin(name, reservedBytes + hash.length + 1)}~${hash}`;
}
