import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TextDecoder } from 'node:util';
import { createGunzip } from 'node:zlib';
import type { CsvEncoding } from './csv-encoding.js';

/** What a text file's byte-order mark says; undefined without one (UTF-8 assumed). */
export type MarkedEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** How a file's bytes are decoded into the UTF-8 copy DuckDB reads. */
export type TextDecoding = MarkedEncoding | 'latin-1' | 'windows-1252';

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
export function hasExcelSeparatorLine(head: Uint8Array, decoding: TextDecoding | undefined): boolean {
  // The line is ASCII; windows-1252 reads it as latin-1 would.
  const text = new TextDecoder(decoding === 'latin-1' ? 'windows-1252' : (decoding ?? 'utf-8')).decode(head);
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
 * How a CSV file without a byte-order mark is decoded under `--encoding` (undefined: as UTF-8, DuckDB's own).
 * UTF-16 text of the Latin scripts holds a zero byte in every ASCII character (the second byte in
 * little-endian, the first in big-endian), and CSV text in UTF-8 holds none: a file with no zero byte in its
 * first bytes is UTF-8. Whether a file is UTF-8 rather than Latin-1 or Windows-1252 shows only at its end, so
 * those two are decoded with a check (see writeUtf8Copy).
 */
export function unmarkedCsvDecoding(head: Uint8Array, encoding: CsvEncoding): TextDecoding | undefined {
  switch (encoding) {
    case 'utf-8':
      return undefined;
    case 'latin-1':
    case 'windows-1252':
      return encoding;
    case 'utf-16': {
      let even = 0;
      let odd = 0;
      head.forEach((byte, i) => {
        if (byte === 0) {
          if (i % 2 === 0) even += 1;
          else odd += 1;
        }
      });
      if (even === 0 && odd === 0) return undefined;
      return odd >= even ? 'utf-16le' : 'utf-16be';
    }
  }
}

/**
 * Bytes that are no character of a single-byte encoding's text: NUL (UTF-16 text has one in every ASCII
 * character), and C1 control codes, which no export means as text.
 */
const NOT_TEXT: Readonly<Record<'latin-1' | 'windows-1252', (byte: number) => boolean>> = {
  // ISO-8859-1 has control codes at 0x80-0x9F, where Windows-1252 has € and curly quotes.
  'latin-1': (b) => b === 0 || (b >= 0x80 && b <= 0x9f),
  // The five bytes Windows-1252 leaves undefined (WHATWG's decoder passes them on as C1 controls).
  'windows-1252': (b) => b === 0 || b === 0x81 || b === 0x8d || b === 0x8f || b === 0x90 || b === 0x9d,
};

const DISPLAY_NAME: Readonly<Record<TextDecoding, string>> = {
  'utf-8': 'UTF-8',
  'utf-16le': 'UTF-16LE',
  'utf-16be': 'UTF-16BE',
  'latin-1': 'Latin-1',
  'windows-1252': 'Windows-1252',
};

/** A file whose bytes are not text in the encoding it is decoded with. */
export class UndecodableTextError extends Error {}

/** Decodes chunks of one file; `end()` after the last chunk. Throws UndecodableTextError. */
interface ChunkDecoder {
  decode(chunk: Uint8Array): string;
  end(): string;
}

function unicodeDecoder(encoding: MarkedEncoding): ChunkDecoder {
  // TextDecoder drops the mark (ignoreBOM false), keeps a character split across chunks for the next one, and
  // throws a TypeError for bytes that are not text in that encoding (fatal) instead of writing U+FFFD.
  const decoder = new TextDecoder(encoding, { fatal: true });
  const fail = (error: unknown): never => {
    if (!(error instanceof TypeError)) throw error;
    throw new UndecodableTextError(`not valid ${DISPLAY_NAME[encoding]} text: ${error.message}`);
  };
  return {
    decode: (chunk) => {
      try {
        return decoder.decode(chunk, { stream: true });
      } catch (error) {
        return fail(error);
      }
    },
    end: () => {
      try {
        return decoder.decode();
      } catch (error) {
        return fail(error);
      }
    },
  };
}

/**
 * Latin-1 or Windows-1252, noting as it goes whether the bytes are UTF-8 after all (`isUtf8` once ended: valid
 * UTF-8 with at least one byte past ASCII) and the first byte that is no character (line and value), which
 * `end()` refuses unless the file is UTF-8.
 */
function singleByteDecoder(encoding: 'latin-1' | 'windows-1252'): ChunkDecoder & { isUtf8: boolean } {
  // Node's latin1 is ISO-8859-1 byte for byte; TextDecoder's 'latin1' label means windows-1252 (WHATWG).
  const decoder = encoding === 'windows-1252' ? new TextDecoder('windows-1252') : undefined;
  let utf8: TextDecoder | undefined = new TextDecoder('utf-8', { fatal: true });
  let beyondAscii = false;
  let line = 1;
  let stray: { byte: number; line: number } | undefined;
  const notText = NOT_TEXT[encoding];
  const state = {
    isUtf8: false,
    decode(chunk: Uint8Array): string {
      if (utf8) {
        try {
          utf8.decode(chunk, { stream: true });
        } catch {
          utf8 = undefined;
        }
      }
      for (const byte of chunk) {
        if (byte === 0x0a) line += 1;
        else if (byte >= 0x80 || byte === 0) {
          if (byte !== 0) beyondAscii = true;
          if (stray === undefined && notText(byte)) stray = { byte, line };
        }
      }
      return decoder ? decoder.decode(chunk, { stream: true }) : Buffer.from(chunk).toString('latin1');
    },
    end(): string {
      if (utf8) {
        try {
          utf8.decode();
        } catch {
          utf8 = undefined;
        }
      }
      state.isUtf8 = utf8 !== undefined && beyondAscii;
      if (!state.isUtf8 && stray !== undefined) {
        const hex = `0x${stray.byte.toString(16).toUpperCase()}`;
        const name = DISPLAY_NAME[encoding];
        throw new UndecodableTextError(
          stray.byte === 0
            ? `not ${name} text: line ${stray.line} holds a zero byte, as UTF-16 text does; if it is UTF-16 without a byte-order mark, pass --encoding utf-16`
            : encoding === 'latin-1'
              ? `not Latin-1 text: line ${stray.line} holds byte ${hex}, a control code in Latin-1 (Windows-1252 has € and curly quotes there); pass --encoding windows-1252`
              : `not Windows-1252 text: line ${stray.line} holds byte ${hex}, which is no character in Windows-1252`,
        );
      }
      return decoder ? decoder.decode() : '';
    },
  };
  return state;
}

/**
 * Writes the text of `source` (gunzipped when `gzip`) to `dest` as UTF-8 without a byte-order mark (DuckDB's JSON
 * reader refuses a mark, and its readers take UTF-16 for bytes that are not UTF-8), and without its first line
 * when `dropFirstLine` (an Excel `sep=` line). Returns the decoding used: `utf-8` for a file asked to be read as
 * Latin-1 or Windows-1252 that is UTF-8 text (then written again as such). Throws UndecodableTextError.
 */
export async function writeUtf8Copy(
  source: string,
  gzip: boolean,
  decoding: TextDecoding,
  dest: string,
  dropFirstLine = false,
): Promise<TextDecoding> {
  if (decoding === 'latin-1' || decoding === 'windows-1252') {
    const decoder = singleByteDecoder(decoding);
    await copyDecoded(source, gzip, decoder, dest, dropFirstLine);
    if (!decoder.isUtf8) return decoding;
    decoding = 'utf-8';
  }
  await copyDecoded(source, gzip, unicodeDecoder(decoding), dest, dropFirstLine);
  return decoding;
}

async function copyDecoded(
  source: string,
  gzip: boolean,
  decoder: ChunkDecoder,
  dest: string,
  dropFirstLine: boolean,
): Promise<void> {
  let dropping = dropFirstLine;
  const toUtf8 = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        let text = decoder.decode(chunk);
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
        done(null, Buffer.from(decoder.end(), 'utf8'));
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
