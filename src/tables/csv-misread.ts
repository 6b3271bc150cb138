import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { DuckError, sqlIdentifier, sqlString, type DuckSession } from './duckdb-session.js';
import { FILE_COLUMN, type ReaderGroup } from './read-sql.js';

/** Delimiters an exporter uses; a column name holding one may be a whole header line. */
const DELIMITERS = [',', ';', '\t', '|'];

/** Bytes read to find a file's header line. */
const HEADER_MAX = 64 * 1024;

/** A file of the group that cannot be read as the CSV its header says, and why. */
export interface MisreadCsv {
  path: string;
  reason: string;
}

/** Thrown by a group's read when some of its CSV files were misread (see misreadCsvFiles). */
export class MisreadCsvError extends Error {
  constructor(readonly files: readonly MisreadCsv[]) {
    super(`${files.length} CSV file(s) do not match their header`);
  }
}

/**
 * CSV files DuckDB's sniffer found no consistent layout for (a row with more or fewer fields than the header:
 * a file cut off mid-line, a delimiter inside an unquoted value) and read as one column of whole lines, named
 * after the header line (`a,b,c`): no error, a wrong table. The files that put values into a column whose name
 * holds a delimiter are read again strictly with the delimiter their header line shows; those that fail are
 * returned with DuckDB's reason (`CSV Error on Line: 3: Expected Number of Columns: 3 Found: 2`). A header
 * with the delimiter inside quotes reads fine that way and is left alone.
 */
export async function misreadCsvFiles(
  session: DuckSession,
  table: string,
  group: ReaderGroup,
): Promise<MisreadCsv[]> {
  const suspects = (await session.query(`DESCRIBE ${table}`)).rows
    .map((r) => String(r[0]))
    .filter((name) => name !== FILE_COLUMN && DELIMITERS.some((d) => name.includes(d)));
  if (suspects.length === 0) return [];
  const paths = new Set<string>();
  for (const column of suspects) {
    const files = await session.query(
      `SELECT DISTINCT ${FILE_COLUMN} FROM ${table} WHERE ${sqlIdentifier(column)} IS NOT NULL`,
    );
    for (const row of files.rows) paths.add(String(row[0]));
  }
  const misread: MisreadCsv[] = [];
  for (const path of [...paths].filter((p) => group.paths.includes(p))) {
    const header = await headerLine(path, group.gzip);
    const delimiter = mostFrequent(header, DELIMITERS);
    if (delimiter === undefined) continue;
    const fields = countFields(header, delimiter);
    const columns = Array.from({ length: fields }, (_, i) => `'c${i}': 'VARCHAR'`).join(', ');
    try {
      await session.run(
        `SELECT count(*) FROM read_csv(${sqlString(path)}, delim = ${sqlString(delimiter)}, quote = '"', ` +
          `escape = '"', header = false, skip = 1, auto_detect = false, strict_mode = true, ` +
          `compression = '${group.gzip ? 'gzip' : 'uncompressed'}', columns = {${columns}})`,
      );
    } catch (error) {
      if (!(error instanceof DuckError)) throw error;
      const count = /Expected Number of Columns/.test(error.detail);
      misread.push({
        path,
        reason: count
          ? `${error.detail} (a row with more or fewer fields than the header: a file cut off mid-line, or the delimiter inside an unquoted value)`
          : error.detail,
      });
    }
  }
  return misread;
}

/** The first line of a (possibly gzipped) file, without its line break and byte-order mark. */
async function headerLine(path: string, gzip: boolean): Promise<string> {
  const read = createReadStream(path, gzip ? {} : { end: HEADER_MAX - 1 });
  const stream = gzip ? read.pipe(createGunzip()) : read;
  let text = '';
  try {
    for await (const chunk of stream) {
      text += (chunk as Buffer).toString('utf8');
      if (text.includes('\n') || text.length >= HEADER_MAX) break;
    }
  } finally {
    read.destroy();
  }
  return (text.split('\n')[0] ?? '').replace(/\r$/, '').replace(/^\uFEFF/, '');
}

function mostFrequent(text: string, candidates: readonly string[]): string | undefined {
  let best: { d: string; n: number } | undefined;
  for (const d of candidates) {
    const n = text.split(d).length - 1;
    if (n > 0 && (!best || n > best.n)) best = { d, n };
  }
  return best?.d;
}

/** Fields in one CSV line, a delimiter inside double quotes not counting. */
function countFields(line: string, delimiter: string): number {
  let fields = 1;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === delimiter && !quoted) fields += 1;
  }
  return fields;
}
