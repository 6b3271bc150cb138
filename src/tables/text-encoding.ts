import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/** What a text file's byte-order mark says; undefined without one (UTF-8 assumed). */
export type MarkedEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** Bytes of a file's start read to tell its byte-order mark and an Excel `sep=` line. */
export const HEAD_BYTES = 32;

/** The encoding a file's first bytes declare with a byte-order mark. */
export function markedEncoding(head: Uint8Array): MarkedEncoding | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return undefined;
}

/**
 * Whether a CSV file starts (after its byte-order mark) with the `sep=;` line Excel reads for its delimiter:
 * DuckDB takes it for the header and the real header for a row.
 */
export function hasExcelSeparatorLine(head: Uint8Array, encoding: MarkedEncoding | undefined): boolean {
  const text = new TextDecoder(encoding ?? 'utf-8').decode(head);
  return /^sep=.\r?\n/i.test(text);
}

/** The first HEAD_BYTES bytes of a plain file. */
export async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Writes the text of `source` (gunzipped when `gzip`) to `dest` as UTF-8 without a byte-order mark (DuckDB's JSON
 * reader refuses a mark, and its readers take UTF-16 for bytes that are not UTF-8), and without its first line
 * when `dropFirstLine` (an Excel `sep=` line).
 */
export async function writeUtf8Copy(
  source: string,
  gzip: boolean,
  encoding: MarkedEncoding,
  dest: string,
  dropFirstLine = false,
): Promise<void> {
  // TextDecoder drops the mark (ignoreBOM false), keeps a character split across chunks for the next one, and
  // throws a TypeError for bytes that are not text in that encoding (fatal) instead of writing U+FFFD.
  const decoder = new TextDecoder(encoding, { fatal: true });
  let dropping = dropFirstLine;
  const toUtf8 = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        let text = decoder.decode(chunk, { stream: true });
        if (dropping) {
          const end = text.indexOf('\n');
          if (end < 0) return done();
          text = text.slice(end + 1);
          dropping = false;
        }
        done(null, Buffer.from(text, 'utf8'));
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        done(null, Buffer.from(decoder.decode(), 'utf8'));
      } catch (error) {
        done(error as Error);
      }
    },
  });
  const read = createReadStream(source);
  const write = createWriteStream(dest);
  if (gzip) await pipeline(read, createGunzip(), toUtf8, write);
  else await pipeline(read, toUtf8, write);
}
