import { createReadStream } from 'node:fs';
import { readFile, symlink } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { isAbortLike } from '../core/errors.js';
import { runPool } from '../core/pool.js';
import { fileKind, SUPPORTED_NAMES_HELP, type RowFormat, type TableFormat } from './table-format.js';
import { ENCODING_ADVICE, type CsvEncoding } from './csv-encoding.js';
import {
  hasExcelSeparatorLine,
  HEAD_BYTES,
  markedEncoding,
  readHead,
  UndecodableTextError,
  unmarkedCsvDecoding,
  writeUtf8Copy,
  type TextDecoding,
} from './text-encoding.js';
import { extractZip } from './zip-archive.js';
import { makeDir } from '../core/make-dir.js';

/** A local source file as the fetch left it. */
export interface LocalSourceFile {
  /** Name shown to users and stored in `_source_file`: the key relative to the table's prefix. */
  name: string;
  path: string;
  size: number;
}

/**
 * One file DuckDB reads, at a path from which its source name follows by string operations alone (see
 * `roots`): the fetched file itself (`<datasetDir>/<name>`), a zip member extracted to
 * `<workDir>/zip/<archive name>/<member>`, or, for names with DuckDB glob characters (`*`, `?`, `[`, `{`), a
 * symlink `<workDir>/link/<name, percent-encoded>`.
 */
export interface TableInput {
  /** 0, 1, 2, ... in source order (file name order, then member order within an archive). */
  ord: number;
  path: string;
  /** Name of the source file, or `archive.zip/member` for a member of a zip archive. */
  source: string;
  format: RowFormat;
  gzip: boolean;
}

/** A file that cannot be read, and why. */
export interface BadFile {
  source: string;
  reason: string;
}

/** Folders under which an input's path, relative to the folder, is its source name. */
export interface InputRoots {
  /** The fetch cache's dataset folder. */
  dataset: string;
  /** Extracted zip members. */
  zip: string;
  /** Symlinks named by the percent-encoded source name (names DuckDB would take for glob patterns). */
  link: string;
}

export interface PreparedInputs {
  roots: InputRoots;
  inputs: TableInput[];
  bad: BadFile[];
  /** Empty files and members (no rows, nothing to read). */
  empty: string[];
}

/** How a file is copied to the UTF-8 text DuckDB reads; `advise`: a refusal suggests --encoding. */
interface Recoding {
  decoding: TextDecoding;
  dropFirstLine: boolean;
  advise: boolean;
}

interface Candidate {
  source: string;
  target: string;
  size: number;
  format: RowFormat;
  gzip: boolean;
}

/**
 * Turns fetched files into numbered inputs: classifies each by name (or the forced format), extracts the
 * readable members of zip archives, and sets aside empty files, files of unknown format, broken archives and
 * gzip streams, gzipped Parquet files, and text that is not in its encoding (the last five as `bad`, with the
 * reason). `encoding` is what CSV files without a byte-order mark that are not UTF-8 are in.
 */
export async function prepareInputs(
  files: readonly LocalSourceFile[],
  datasetDir: string,
  workDir: string,
  format: TableFormat,
  signal?: AbortSignal,
  encoding: CsvEncoding = 'utf-8',
): Promise<PreparedInputs> {
  const roots: InputRoots = { dataset: datasetDir, zip: join(workDir, 'zip'), link: join(workDir, 'link') };
  await makeDir(roots.link);
  const result: PreparedInputs = { roots, inputs: [], bad: [], empty: [] };
  const candidates: Candidate[] = [];
  for (const file of files) {
    const kind = fileKind(file.name, format);
    if (kind.kind === 'rows') {
      candidates.push({
        source: file.name,
        target: file.path,
        size: file.size,
        format: kind.format,
        gzip: kind.gzip,
      });
    } else if (kind.kind === 'unknown') {
      result.bad.push({
        source: file.name,
        reason: `cannot tell its format from the name (expected ${SUPPORTED_NAMES_HELP}); pass --format`,
      });
    } else {
      const dir = join(roots.zip, file.name);
      const members: Candidate[] = [];
      try {
        await extractZip(
          file.path,
          (name) => fileKind(name, format).kind === 'rows',
          async (member) => {
            const memberKind = fileKind(member.name, format);
            // yauzl refuses absolute member names and '..' segments, so this stays inside `dir`.
            const target = join(dir, member.name);
            await makeDir(dirname(target));
            members.push({
              source: `${file.name}/${member.name}`,
              target,
              size: member.size,
              format: memberKind.kind === 'rows' ? memberKind.format : 'json',
              gzip: memberKind.kind === 'rows' && memberKind.gzip,
            });
            return target;
          },
          signal,
        );
        candidates.push(...members);
      } catch (error) {
        if (isAbortLike(error) || signal?.aborted) throw error;
        result.bad.push({
          source: file.name,
          reason: `not a readable zip archive: ${(error as Error).message}`,
        });
      }
    }
  }
  // DuckDB reads Parquet only from a file it can seek in, and Parquet compresses its own pages.
  const gzippedParquet = new Set(candidates.filter((c) => c.format === 'parquet' && c.gzip && c.size > 0));
  // DuckDB reads a truncated gzip stream without complaint (rows silently missing); check each one whole.
  const broken = new Map<Candidate, string>();
  // Text with a byte-order mark DuckDB cannot take is read from a UTF-8 copy without it: its JSON reader refuses
  // a UTF-8 mark in a newline-delimited file and, worse, reads a top-level array after one as a single value
  // (one row, one `json` column); its readers refuse UTF-16 (Windows' "Unicode" exports) as not UTF-8. So is a
  // CSV file that starts with Excel's `sep=;` line, without that line, and a CSV file in the `--encoding` given
  // (DuckDB's own latin-1 refuses € and curly quotes, it has no windows-1252 without downloading an extension,
  // and its utf-16 reads big-endian text as no rows at all).
  const recode = new Map<Candidate, Recoding>();
  const noteMark = (c: Candidate, head: Uint8Array): void => {
    const marked = markedEncoding(head);
    const decoding =
      marked ?? (c.format === 'csv' ? unmarkedCsvDecoding(head, encoding) : undefined) ?? 'utf-8';
    const dropFirstLine = c.format === 'csv' && hasExcelSeparatorLine(head, decoding);
    if (dropFirstLine || decoding !== 'utf-8' || (marked === 'utf-8' && isJson(c))) {
      // --encoding can help a CSV file without a mark only.
      recode.set(c, { decoding, dropFirstLine, advise: c.format === 'csv' && marked === undefined });
    }
  };
  const isJson = (c: Candidate): boolean => c.format === 'json' || c.format === 'ndjson';
  await runPool(
    candidates.filter((c) => c.gzip && c.size > 0 && !gzippedParquet.has(c)),
    8,
    async (c) => {
      const checked = await checkGzip(c.target, c.size);
      if (checked.problem !== undefined) broken.set(c, checked.problem);
      else if (c.format !== 'parquet') noteMark(c, checked.head);
    },
    signal,
  );
  await runPool(
    candidates.filter((c) => !c.gzip && c.size > 0 && c.format !== 'parquet'),
    16,
    async (c) => noteMark(c, await readHead(c.target)),
    signal,
  );
  // A file of blanks, a byte-order mark or `[]` has no rows, but DuckDB would make up a column for it.
  const blank = new Set<Candidate>();
  await runPool(
    candidates.filter((c) => c.size > 0 && c.size <= NEAR_EMPTY_MAX && !broken.has(c)),
    8,
    async (c) => {
      // A Parquet file is binary; one without rows still has its columns.
      if (c.format === 'parquet') return;
      const bytes = await readFile(c.target);
      if (holdsNoRecords(c.gzip ? gunzipSync(bytes) : bytes, c.format)) blank.add(c);
    },
    signal,
  );
  const links: { path: string; target: string }[] = [];
  const copies: ({ path: string; candidate: Candidate } & Recoding)[] = [];
  for (const c of candidates) {
    if (gzippedParquet.has(c)) {
      result.bad.push({
        source: c.source,
        reason:
          'a gzip-compressed Parquet file cannot be read; store it uncompressed (Parquet compresses its own pages)',
      });
      continue;
    }
    const problem = broken.get(c);
    if (problem !== undefined) {
      result.bad.push({ source: c.source, reason: `not a complete gzip stream: ${problem}` });
      continue;
    }
    if (c.size === 0 || blank.has(c)) {
      result.empty.push(c.source);
      continue;
    }
    let path = c.target;
    const underRoot = path === join(roots.dataset, c.source) || path === join(roots.zip, c.source);
    const recoded = recode.get(c);
    if (recoded) {
      // A plain UTF-8 copy, where a link would go (its name gives the source back).
      path = join(roots.link, encodeName(c.source));
      copies.push({ path, candidate: c, ...recoded });
    } else if (GLOB_CHARACTERS.test(path) || !underRoot) {
      path = join(roots.link, encodeName(c.source));
      links.push({ path, target: c.target });
    }
    const gzip = c.gzip && !recoded;
    result.inputs.push({ ord: result.inputs.length, path, source: c.source, format: c.format, gzip });
  }
  await runPool(links, 16, ({ path, target }) => symlink(target, path), signal);
  // Text that is not in its encoding is a bad file, as DuckDB would call it, not text with U+FFFD in it.
  const undecodable = new Map<string, string>();
  await runPool(
    copies,
    8,
    async ({ path, candidate, decoding, dropFirstLine, advise }) => {
      try {
        await writeUtf8Copy(candidate.target, candidate.gzip, decoding, path, dropFirstLine);
      } catch (error) {
        if (!(error instanceof UndecodableTextError)) throw error;
        undecodable.set(
          path,
          advise && decoding === 'utf-8' ? `${error.message}; ${ENCODING_ADVICE}` : error.message,
        );
      }
    },
    signal,
  );
  if (undecodable.size > 0) {
    for (const input of result.inputs) {
      const reason = undecodable.get(input.path);
      if (reason !== undefined) result.bad.push({ source: input.source, reason });
    }
    result.inputs = result.inputs
      .filter((i) => !undecodable.has(i.path))
      .map((input, ord) => ({ ...input, ord }));
  }
  return result;
}

/** Files at most this big are checked for holding no records (blanks, a BOM, `[]`). */
const NEAR_EMPTY_MAX = 64;

/** Whether a file's text holds no records: only blanks and a byte-order mark, or (JSON) an empty array. */
export function holdsNoRecords(bytes: Uint8Array, format: 'csv' | 'json' | 'ndjson'): boolean {
  const text = Buffer.from(bytes)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trim();
  return text === '' || (format !== 'csv' && /^\[\s*\]$/.test(text));
}

/** Characters that make DuckDB treat a path as a glob pattern. */
const GLOB_CHARACTERS = /[*?[\]{}]/;

/** The source name as one file name without glob characters; DuckDB's url_decode() restores it. */
export function encodeName(name: string): string {
  return name.replace(
    /[%*?[\]{}/\\]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/**
 * Why a gzip file cannot be decompressed completely (bad header, truncated, CRC mismatch), if it cannot, and
 * the first bytes of its content (for a byte-order mark).
 */
async function checkGzip(path: string, size: number): Promise<{ problem?: string; head: Uint8Array }> {
  try {
    if (size <= SMALL_GZIP) {
      // Small files (the usual export) in one piece: far fewer callbacks than a stream per file.
      return { head: gunzipSync(await readFile(path)).subarray(0, HEAD_BYTES) };
    }
    let head: Buffer = Buffer.alloc(0);
    await pipeline(
      createReadStream(path),
      createGunzip(),
      new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk]).subarray(0, HEAD_BYTES);
          done();
        },
      }),
    );
    return { head };
  } catch (error) {
    return { problem: (error as Error).message, head: new Uint8Array() };
  }
}

const SMALL_GZIP = 1024 * 1024;
