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
 * CSV files of the group that DuckDB read wrongly without an error, with DuckDB's reason from a strict read:
 *
 * - Files its sniffer found no consistent layout for (a row with more or fewer fields than the header: a file
 *   cut off mid-line, a delimiter inside an unquoted value) and read as one column of whole lines, named after
 *   the header line (`a,b,c`). The files that put values into a column whose name holds a delimiter are read
 *   again strictly with the delimiter their header line shows; those that fail are returned
 *   (`CSV Error on Line: 3: Expected Number of Columns: 3 Found: 2`). A header with the delimiter inside
 *   quotes reads fine that way and is left alone.
 * - Files with a quote that opens a value and never closes (`1,"5` then `2,6`), which the sniffer reads with no
 *   quote character at all: the quote stays in that value (`"5`), and every quoted value of the file keeps its
 *   quotes (`"p"`) or is split at its delimiter. Such a file has a value (or column name) that starts with a
 *   quote; when the sniffer chose no quote for it, it is read again strictly with `"` as the quote, and
 *   returned if that fails (`CSV Error on Line: 2: Value with unterminated quote found.`). A value DuckDB read
 *   with the quote `"` (`"""x"""`, a backslash escape) or another quote character (`'`) is not suspect, nor is
 *   a quote inside an unquoted value (`ab"c`), which DuckDB reads as it is.
 */
export async function misreadCsvFiles(
  session: DuckSession,
  table: string,
  group: ReaderGroup,
): Promise<MisreadCsv[]> {
  // A name with a NUL character cannot be written in SQL (DuckDB's parser ends the statement there).
  const columns = (await session.query(`DESCRIBE ${table}`)).rows
    .map((r) => ({ name: String(r[0]), type: String(r[1]) }))
    .filter((c) => c.name !== FILE_COLUMN && !c.name.includes('\0'));
  const ours = (paths: Iterable<string>): string[] => [...paths].filter((p) => group.paths.includes(p));
  const misread: MisreadCsv[] = [];
  const ragged = await filesWhere(
    session,
    table,
    columns
      .filter((c) => DELIMITERS.some((d) => c.name.includes(d)))
      .map((c) => `${sqlIdentifier(c.name)} IS NOT NULL`),
  );
  for (const path of ours(ragged)) {
    const header = await headerLine(path, group.gzip);
    const delimiter = mostFrequent(header, DELIMITERS);
    if (delimiter === undefined) continue;
    const reason = await strictReadFailure(session, path, group.gzip, delimiter, header);
    if (reason === undefined) continue;
    misread.push({
      path,
      reason: /Expected Number of Columns/.test(reason)
        ? `${reason} (a row with more or fewer fields than the header: a file cut off mid-line, or the delimiter inside an unquoted value)`
        : reason,
    });
  }
  const quoted = await filesWhere(session, table, [
    ...columns.filter((c) => c.name.startsWith('"')).map((c) => `${sqlIdentifier(c.name)} IS NOT NULL`),
    ...columns.filter((c) => c.type === 'VARCHAR').map((c) => `${sqlIdentifier(c.name)} LIKE '"%'`),
  ]);
  for (const path of ours(quoted)) {
    if (ragged.has(path)) continue;
    const sniffed = await sniffedDialect(session, path, group.gzip);
    if (sniffed === undefined || sniffed.quote !== '') continue;
    const reason = await strictReadFailure(
      session,
      path,
      group.gzip,
      sniffed.delimiter,
      await headerLine(path, group.gzip),
    );
    if (reason === undefined) continue;
    misread.push({
      path,
      reason: `${reason} (a quote opens a value and does not close where the value ends; read leniently, the file's values would keep their quote characters)`,
    });
  }
  return misread;
}

/** The distinct FILE_COLUMN values of rows of `table` meeting any of the conditions. */
async function filesWhere(session: DuckSession, table: string, conditions: string[]): Promise<Set<string>> {
  if (conditions.length === 0) return new Set();
  const files = await session.query(
    `SELECT DISTINCT ${FILE_COLUMN} FROM ${table} WHERE ${conditions.join(' OR ')}`,
  );
  return new Set(files.rows.map((row) => String(row[0])));
}

/** The delimiter and quote (`''` for none) DuckDB's sniffer chooses for one file, as read_csv reads it. */
async function sniffedDialect(
  session: DuckSession,
  path: string,
  gzip: boolean,
): Promise<{ delimiter: string; quote: string } | undefined> {
  try {
    const { rows } = await session.query(
      `SELECT Delimiter, Quote FROM sniff_csv(${sqlString(path)}, sample_size = -1, ` +
        `compression = '${gzip ? 'gzip' : 'uncompressed'}')`,
    );
    const [delimiter, quote] = (rows[0] ?? []).map((v) => String(v));
    if (delimiter === undefined || quote === undefined) return undefined;
    // sniff_csv shows "no character" as (empty).
    return { delimiter, quote: quote === '(empty)' ? '' : quote };
  } catch (error) {
    if (!(error instanceof DuckError)) throw error;
    return undefined;
  }
}

/**
 * DuckDB's reason when the file does not read as standard CSV (quote and escape `"`) with `delimiter` and as
 * many fields per row as its header line has; undefined when it does.
 */
async function strictReadFailure(
  session: DuckSession,
  path: string,
  gzip: boolean,
  delimiter: string,
  header: string,
): Promise<string | undefined> {
  const fields = countFields(header, delimiter);
  const columns = Array.from({ length: fields }, (_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  try {
    await session.run(
      `SELECT count(*) FROM read_csv(${sqlString(path)}, delim = ${sqlString(delimiter)}, quote = '"', ` +
        `escape = '"', header = false, skip = 1, auto_detect = false, strict_mode = true, ` +
        `compression = '${gzip ? 'gzip' : 'uncompressed'}', columns = {${columns}})`,
    );
    return undefined;
  } catch (error) {
    if (!(error instanceof DuckError)) throw error;
    return error.detail;
  }
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
