import { UsageError } from '../core/errors.js';

/** How the rows of a source file are written. */
export type RowFormat = 'json' | 'ndjson' | 'csv' | 'parquet';

/** `--format`: `auto` tells each file's format by its name. */
export type TableFormat = 'auto' | RowFormat;

export const TABLE_FORMATS: readonly TableFormat[] = ['auto', 'json', 'ndjson', 'csv', 'parquet'];

/** What a file is, by its name (and the forced format, if any). */
export type FileKind =
  | { kind: 'rows'; format: RowFormat; gzip: boolean }
  | { kind: 'zip' }
  /** Not a format Wharf reads (and no format was forced). */
  | { kind: 'unknown' };

const BY_EXTENSION: Record<string, RowFormat> = {
  json: 'json',
  ndjson: 'ndjson',
  jsonl: 'ndjson',
  csv: 'csv',
  parquet: 'parquet',
  parq: 'parquet',
};

/**
 * The default selection when no `--include` is given: every export file Wharf can read, at any depth.
 * (`.meta` companions and other files stay out.) Parquet files are read only when selected with `--include`:
 * a table written into its own source folder (`--to` that folder) would otherwise be read back as a source by
 * the next build.
 */
export const DEFAULT_TABLE_INCLUDE: readonly string[] = [
  '**/*.json',
  '**/*.json.gz',
  '**/*.ndjson',
  '**/*.ndjson.gz',
  '**/*.jsonl',
  '**/*.jsonl.gz',
  '**/*.csv',
  '**/*.csv.gz',
  '**/*.zip',
];

/** The names the default selection takes (see DEFAULT_TABLE_INCLUDE). */
export const DEFAULT_NAMES_HELP =
  '.json, .ndjson, .jsonl or .csv, each optionally .gz, or .zip archives of them';

/** Every name whose format Wharf tells by itself. */
export const SUPPORTED_NAMES_HELP =
  '.json, .ndjson, .jsonl or .csv (each optionally .gz), .parquet or .parq, or .zip archives of them';

/**
 * Tells a file's kind from its name: `.zip` is an archive; `.gz` means gzip; the extension before it picks the
 * row format, unless `forced` (not `auto`) overrides it for every file.
 */
export function fileKind(name: string, forced: TableFormat = 'auto'): FileKind {
  const lower = name.toLowerCase();
  if (lower.endsWith('.zip')) return { kind: 'zip' };
  const gzip = lower.endsWith('.gz');
  const stem = gzip ? lower.slice(0, -'.gz'.length) : lower;
  if (forced !== 'auto') return { kind: 'rows', format: forced, gzip };
  const dot = stem.lastIndexOf('.');
  const slash = stem.lastIndexOf('/');
  const extension = dot > slash ? stem.slice(dot + 1) : '';
  const format = BY_EXTENSION[extension];
  return format ? { kind: 'rows', format, gzip } : { kind: 'unknown' };
}

/** Parses `--format`. */
export function parseTableFormat(value: string): TableFormat {
  if ((TABLE_FORMATS as readonly string[]).includes(value)) return value as TableFormat;
  throw new UsageError(`--format must be one of ${TABLE_FORMATS.join(', ')}, got ${JSON.stringify(value)}`);
}
