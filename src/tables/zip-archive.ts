import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Entry, ZipFile } from 'yauzl';
import { throwIfAborted } from '../core/errors.js';

export interface ZipMember {
  /** The member's name inside the archive (yauzl refuses absolute names and `..`). */
  name: string;
  size: number;
}

/**
 * Extracts the members of a zip archive that `accept` wants, one at a time, each to the path `target(member)`
 * returns (the caller picks the names, so member names never become local paths). Folders are skipped.
 * Throws the archive's problem (not a zip, truncated, bad CRC, unsafe member name) as a plain Error.
 */
export async function extractZip(
  zipPath: string,
  accept: (name: string) => boolean,
  target: (member: ZipMember) => string | Promise<string>,
  signal?: AbortSignal,
): Promise<ZipMember[]> {
  const yauzl = await import('yauzl');
  const zip = await new Promise<ZipFile>((resolve, reject) =>
    yauzl.open(zipPath, { lazyEntries: true, autoClose: true, strictFileNames: false }, (error, file) =>
      error ? reject(error) : resolve(file),
    ),
  );
  const members: ZipMember[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: unknown): void => {
        if (zip.isOpen) zip.close();
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      zip.on('error', fail);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: Entry) => {
        const name = entry.fileName;
        if (name.endsWith('/') || !accept(name)) {
          zip.readEntry();
          return;
        }
        const member: ZipMember = { name, size: entry.uncompressedSize };
        zip.openReadStream(entry, (error, stream) => {
          if (error) return fail(error);
          Promise.resolve(target(member))
            .then((path) => pipeline(stream, createWriteStream(path), signal ? { signal } : {}))
            .then(() => {
              members.push(member);
              try {
                throwIfAborted(signal);
              } catch (aborted) {
                return fail(aborted);
              }
              zip.readEntry();
            }, fail);
        });
      });
      zip.readEntry();
    });
  } finally {
    if (zip.isOpen) zip.close();
  }
  return members;
}
