import { UsageError } from '../core/errors.js';

/**
 * `--encoding`: what the CSV files that are not UTF-8 are written in. A byte-order mark always wins, and a file
 * that is UTF-8 stays UTF-8 (see unmarkedCsvDecoding), so one folder may hold both.
 */
export type CsvEncoding = 'utf-8' | 'utf-16' | 'latin-1' | 'windows-1252';

export const CSV_ENCODINGS: readonly CsvEncoding[] = ['utf-8', 'utf-16', 'latin-1', 'windows-1252'];

/** Other names of the same encodings (compared without case). */
const ALIASES: Readonly<Record<string, CsvEncoding>> = {
  utf8: 'utf-8',
  utf16: 'utf-16',
  latin1: 'latin-1',
  'iso-8859-1': 'latin-1',
  iso8859_1: 'latin-1',
  'iso8859-1': 'latin-1',
  cp1252: 'windows-1252',
  windows1252: 'windows-1252',
};

/** The names accepted, for messages. */
export const CSV_ENCODING_CHOICES = `${CSV_ENCODINGS.join(', ')} (or utf8, utf16, latin1, iso-8859-1, cp1252)`;

/** The encoding a name (any case, or an alias) stands for; undefined for an unknown name. */
export function csvEncodingNamed(value: string): CsvEncoding | undefined {
  const name = value.trim().toLowerCase();
  return (CSV_ENCODINGS as readonly string[]).includes(name) ? (name as CsvEncoding) : ALIASES[name];
}

/** The text of `--encoding` as a CsvEncoding; UsageError naming `what` otherwise. */
export function parseCsvEncoding(value: string, what = '--encoding'): CsvEncoding {
  const known = csvEncodingNamed(value);
  if (known === undefined) {
    throw new UsageError(`${what} must be one of ${CSV_ENCODING_CHOICES}, got ${JSON.stringify(value)}`);
  }
  return known;
}

/** Added to the reason of a CSV file that is not UTF-8 (built without --encoding). */
export const ENCODING_ADVICE =
  'if it is Windows-1252 (Excel on Windows), Latin-1 or UTF-16 text, pass --encoding windows-1252, latin-1 or utf-16';
