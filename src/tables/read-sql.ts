import type { InputRoots, TableInput } from './prepare-inputs.js';
import { sqlString } from './duckdb-session.js';

/** Column DuckDB adds with each row's input path (`<inDir>/<ord>`); dropped before writing. */
export const FILE_COLUMN = '__wharf_file';

/**
 * The SQL expression giving a row's source name from FILE_COLUMN: the path relative to its root, percent-decoded
 * for links (see TableInput). String operations only, so it keeps the rows' order and costs little.
 */
export function sourceExpression(roots: InputRoots): string {
  const after = (root: string): string => `substr(${FILE_COLUMN}, ${[...root].length + 2})`;
  return (
    `CASE WHEN starts_with(${FILE_COLUMN}, ${sqlString(`${roots.dataset}/`)}) THEN ${after(roots.dataset)} ` +
    `WHEN starts_with(${FILE_COLUMN}, ${sqlString(`${roots.zip}/`)}) THEN ${after(roots.zip)} ` +
    `ELSE url_decode(${after(roots.link)}) END`
  );
}

/**
 * One DuckDB reader call over inputs of the same format and compression (never gzip for Parquet, see
 * prepareInputs). `csvTypes` fixes the type of some CSV columns by name (the others are still detected).
 */
export function readerCall(
  format: TableInput['format'],
  gzip: boolean,
  paths: readonly string[],
  csvTypes: Readonly<Record<string, string>> = {},
): string {
  const list = `[${paths.map(sqlString).join(', ')}]`;
  // hive_partitioning = false: DuckDB would otherwise turn folder names like `dt=2024-01-01/` into a column, but
  // only while every file sits in such folders, so one file elsewhere changed the table's schema.
  const base = `union_by_name = true, filename = '${FILE_COLUMN}', hive_partitioning = false`;
  // A Parquet file carries its own column types and compression.
  if (format === 'parquet') return `read_parquet(${list}, ${base})`;
  // sample_size = -1: column types come from every row, not the first 20,480 (a value that only appears further
  // down a big file, "ABC" in a column of numbers, failed the whole file as unparseable).
  const common = `${base}, compression = '${gzip ? 'gzip' : 'uncompressed'}', sample_size = -1`;
  switch (format) {
    case 'csv': {
      const fixed = Object.entries(csvTypes);
      const types = fixed.length
        ? `, types = {${fixed.map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(', ')}}`
        : '';
      return `read_csv(${list}, ${common}${types})`;
    }
    case 'ndjson':
      return `read_json(${list}, format = 'newline_delimited', ${common})`;
    case 'json':
      // 'auto' reads a top-level array of records, one object per file, or one object per line.
      return `read_json(${list}, format = 'auto', ${common})`;
  }
}

/**
 * The (format, compression) groups of the inputs, for one SELECT each (`groupSql`), each reader call unioning its files' columns by
 * name. The caller combines the groups by name as well; not with UNION ALL BY NAME, which pushes the common
 * type into each reader (a CSV date column met by a JSON object column failed as "cannot convert to JSON").
 */
export function readGroups(inputs: readonly TableInput[]): ReaderGroup[] {
  const groups = new Map<string, ReaderGroup>();
  for (const input of inputs) {
    const key = `${input.format}:${input.gzip}`;
    const group = groups.get(key);
    if (group) group.paths.push(input.path);
    else groups.set(key, { format: input.format, gzip: input.gzip, paths: [input.path] });
  }
  return [...groups.values()];
}

/** Inputs of one format and compression, read by one reader call. */
export interface ReaderGroup {
  format: TableInput['format'];
  gzip: boolean;
  paths: string[];
}

export function groupSql(group: ReaderGroup, csvTypes?: Readonly<Record<string, string>>): string {
  return `SELECT * FROM ${readerCall(group.format, group.gzip, group.paths, csvTypes)}`;
}
