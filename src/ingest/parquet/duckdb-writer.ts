import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { WharfError } from '../../core/errors.js';
import { csvLeadField, parquetColumnNames, type ColumnPlan } from '../column-types.js';
import { duckdbWriteError } from './conversion-error.js';

export interface ParquetFile {
  path: string;
  size: number;
  rows: number;
}

export interface CsvToParquetInput {
  /** The COPY (FORMAT csv) output, no header: a file, or a named pipe a writer fills while DuckDB reads. */
  csv: string;
  /** CSV bytes per row (an estimate is enough): sizes the row groups. */
  csvBytesPerRow: number;
  plans: readonly ColumnPlan[];
  /** An empty folder for the Parquet files (data_0.parquet, data_1.parquet, ... in row order). */
  outDir: string;
  /** DuckDB's spill folder. */
  tempDir: string;
  /** Start a new file once one reaches this many bytes (checked at row-group boundaries). */
  maxFileSize: number;
  /** Cursor and primary-key columns, to report the last (cursor, pk) written. */
  cursor: string;
  /** The cursor is a timestamptz (rendered in UTC with a Z); a plain timestamp is rendered as it is. */
  cursorIsUtc: boolean;
  primaryKey: readonly string[];
  /** DuckDB worker threads (default 2). */
  threads?: number;
}

export interface CsvToParquetResult {
  files: ParquetFile[];
  lastRow: { cursor: string; pk: string[] } | null;
}

const ROW_GROUP_MAX = 122_880;
const ROW_GROUP_MIN = 2_048;

/** DuckDB quotes identifiers like SQL: double quotes, doubled inside. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Converts COPY's CSV into zstd Parquet with the schema the catalog gave (explicit column types, no
 * sniffing), in bounded memory: DuckDB streams `read_csv` into the Parquet writer row group by row group and
 * spills to `tempDir` past its memory limit. No extension is ever downloaded. The caller checks that the
 * files hold as many rows as COPY sent (with a pipe, COPY is still running while this reads).
 */
export async function csvToParquet(input: CsvToParquetInput): Promise<CsvToParquetResult> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    threads: String(input.threads ?? 2),
    memory_limit: '512MB',
    temp_directory: input.tempDir,
    preserve_insertion_order: 'true',
  });
  let connection: DuckDBConnection | undefined;
  try {
    connection = await instance.connect();
    // ICU (built in) gives TIMESTAMPTZ its time zones; render and parse in UTC.
    await connection.run("SET TimeZone = 'UTC'");
    const fields = input.plans.map((_, i) => `c${i}`);
    const outputNames = parquetColumnNames(input.plans.map((p) => p.name));
    const fieldTypes = input.plans.map(
      (p, i) => `${quoteString(fields[i] ?? '')}: ${quoteString(p.csvType)}`,
    );
    if (csvLeadField(input.plans)) fieldTypes.unshift(`'lead': 'VARCHAR'`);
    const columns = `{${fieldTypes.join(', ')}}`;
    const select = input.plans
      .map((p, i) => `${p.duckExpr(quoteIdent(fields[i] ?? ''))} AS ${quoteIdent(outputNames[i] ?? p.name)}`)
      .join(', ');
    const source =
      `read_csv(${quoteString(input.csv)}, columns = ${columns}, header = false, auto_detect = false, ` +
      `delim = ',', quote = '"', escape = '"', new_line = '\\n', allow_quoted_nulls = false, nullstr = '', ` +
      // DuckDB's default (2 MB) refused any row with a bigger text, jsonb or bytea value. Its buffers default
      // to 16 lines, which for 64 MiB lines is past the memory limit: one line per buffer.
      `max_line_size = ${MAX_ROW_BYTES}, buffer_size = ${MAX_ROW_BYTES})`;
    // Aim for ~8 row groups per file so --max-file-size is met within about an eighth.
    const parquetBytesPerRow = Math.max(1, input.csvBytesPerRow / 3);
    const rowGroup = Math.round(
      Math.min(ROW_GROUP_MAX, Math.max(ROW_GROUP_MIN, input.maxFileSize / 8 / parquetBytesPerRow)),
    );
    await connection.run(
      `COPY (SELECT ${select} FROM ${source}) TO ${quoteString(input.outDir)} ` +
        `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroup}, FILE_SIZE_BYTES ${Math.max(1, Math.floor(input.maxFileSize))}, OVERWRITE_OR_IGNORE)`,
    );
    const names = (await readdir(input.outDir))
      .filter((n) => /^data_\d+\.parquet$/.test(n))
      .sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
    const files: ParquetFile[] = [];
    for (const name of names) {
      const path = join(input.outDir, name);
      const counted = await connection.runAndReadAll(
        `SELECT coalesce(sum(num_rows), 0)::BIGINT AS n FROM parquet_file_metadata(${quoteString(path)})`,
      );
      files.push({ path, size: (await stat(path)).size, rows: Number(counted.getRowsJS()[0]?.[0] ?? 0) });
    }
    return { files, lastRow: await lastRow(connection, files, input) };
  } catch (error) {
    if (error instanceof WharfError) throw error;
    throw duckdbWriteError(error, input.plans);
  } finally {
    connection?.closeSync();
    instance.closeSync();
  }
}

/** Largest row COPY may send, as CSV text. */
const MAX_ROW_BYTES = 64 * 1024 * 1024;

async function lastRow(
  connection: DuckDBConnection,
  files: readonly ParquetFile[],
  input: CsvToParquetInput,
): Promise<{ cursor: string; pk: string[] } | null> {
  if (files.length === 0) return null;
  const names = input.plans.map((p) => p.name);
  const outputNames = parquetColumnNames(names);
  const outputName = (name: string): string => outputNames[names.indexOf(name)] ?? name;
  const cursor = quoteIdent(outputName(input.cursor));
  const pk = input.primaryKey.map((k) => quoteIdent(outputName(k)));
  const list = files.map((f) => quoteString(f.path)).join(', ');
  // The greatest (cursor, primary key) of the run: two columns of the Parquet just written, a top-1 scan.
  const reader = await connection.runAndReadAll(
    `SELECT strftime(CAST(${cursor} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%f') AS c, ` +
      `[${pk.map((k) => `CAST(${k} AS VARCHAR)`).join(', ')}]::VARCHAR[] AS k ` +
      `FROM read_parquet([${list}]) WHERE ${cursor} IS NOT NULL ORDER BY ${[cursor, ...pk].map((c) => `${c} DESC`).join(', ')} LIMIT 1`,
  );
  const row = reader.getRowsJS()[0];
  if (!row) return null;
  const utc = input.cursorIsUtc ? 'Z' : '';
  return {
    cursor: `${String(row[0])}${utc}`,
    pk: ((row[1] as unknown[] | null) ?? []).map((v) => String(v)),
  };
}
