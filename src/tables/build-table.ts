import { createReadStream, statSync } from 'node:fs';
import { mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ProgressListener } from '../core/events.js';
import { isWharfError, NotFoundError, toWharfError, UsageError, WharfError } from '../core/errors.js';
import { asFolderPrefix, joinKey } from '../core/keys.js';
import { formatLocation, parseLocation, type Location } from '../core/location.js';
import { fetchDataset, type FetchResult, type FetchStatus } from '../fetch/fetch-dataset.js';
import { createKeyFilter } from '../fetch/key-filter.js';
import { openStorageRoot, type OpenStorageOptions } from '../storage/registry.js';
import { ENCODING_ADVICE, parseCsvEncoding, type CsvEncoding } from './csv-encoding.js';
import { misreadCsvFiles, MisreadCsvError } from './csv-misread.js';
import { DuckError, DuckSession, sqlIdentifier, sqlString, type ColumnInfo } from './duckdb-session.js';
import { groupBySchema, PARQUET_SCHEMA_CLASH } from './parquet-schemas.js';
import { prepareInputs, type BadFile, type LocalSourceFile, type TableInput } from './prepare-inputs.js';
import {
  FILE_COLUMN,
  groupSql,
  readGroups,
  readerCall,
  sourceExpression,
  type ReaderGroup,
} from './read-sql.js';
import type { TableEvent } from './table-events.js';
import { DEFAULT_NAMES_HELP, DEFAULT_TABLE_INCLUDE, type TableFormat } from './table-format.js';
import { makeDir } from '../core/make-dir.js';
import { tempPathBeside } from '../core/atomic-file.js';

/** The column naming each row's source file (unless `sourceColumn: false`). */
export const SOURCE_COLUMN = '_source_file';

const ROW_COLUMN = '__wharf_row';
const ORD_COLUMN = '__wharf_ord';

export interface BuildTableOptions {
  /** The folder of the table's files: `s3://bucket/prefix`, `file:///dir` or a local folder. */
  source: string | Location;
  /** The table's name, for the default output file. Default: the last folder of `source`. */
  name?: string | undefined;
  /**
   * Glob patterns relative to the prefix (as `wharf fetch`). Default: every .json/.ndjson/.jsonl/.csv(.gz)/.zip;
   * Parquet files only when selected here (e.g. `*.parquet`).
   */
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  /** Format of every file; `auto` (default) tells it from each file's name. */
  format?: TableFormat | undefined;
  /**
   * What CSV files that are not UTF-8 are written in: `utf-8` (default: such a file is a bad file), `utf-16`,
   * `latin-1` (also `iso-8859-1`), `windows-1252` (also `cp1252`). A byte-order mark wins, a file that is
   * UTF-8 is read as UTF-8, and JSON files are UTF-8 (or UTF-16 with a mark) whatever this says.
   */
  encoding?: CsvEncoding | undefined;
  /** Only files with a `.<name>.meta` companion are ready (Pega's export convention). */
  metaFiles?: boolean | undefined;
  /** Where the Parquet file goes: a local path or `s3://bucket/key.parquet`; a folder gets `<name>.parquet`. Default `./<name>.parquet`. */
  to?: string | undefined;
  /** Keep one row per combination of these columns: the last one in source order (file name order, then row order). */
  dedupeOn?: string[] | undefined;
  /** Add the `_source_file` column. Default true. */
  sourceColumn?: boolean | undefined;
  /** Leave out files that cannot be parsed (reported in `badFiles`) instead of failing. Default false. */
  skipBad?: boolean | undefined;
  /** Fetch cache root (as `wharf fetch DEST`). Default `./data`. */
  cache?: string | undefined;
  /** Folder name in the cache. Default: the fetch engine's fingerprint of the selection. */
  datasetId?: string | undefined;
  /** Files fetched at once. Default: the fetch engine's (256). */
  concurrency?: number | undefined;
  /** Refuse when the selected files' LastModified times span more than this many hours. */
  timestampToleranceHours?: number | undefined;
  /** Files per DuckDB read statement (memory grows ~60 KiB per file in one statement). Default 1000. */
  batchFiles?: number | undefined;
  storage?: OpenStorageOptions | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ProgressListener<TableEvent> | undefined;
}

export interface TableSourceFile {
  /** Object key in the source store. */
  key: string;
  /** The local copy in the fetch cache. */
  path: string;
  size: number;
  /** `downloaded` in this build, or `skipped` (already in the cache, unchanged). */
  status: FetchStatus;
}

export interface BuildTableResult {
  /** The Parquet file: an absolute local path or an `s3://` URL. */
  path: string;
  rows: number;
  columns: ColumnInfo[];
  /** Every selected source file and whether this build downloaded it. */
  sourceFiles: TableSourceFile[];
  /** Files left out because they could not be parsed (only with `skipBad`). */
  badFiles: BadFile[];
  /** Empty files (and zip members): nothing to read. */
  emptyFiles: string[];
  /** Size of the Parquet file in bytes. */
  bytes: number;
  datasetDir: string;
  fetch: FetchResult['stats'];
  seconds: number;
}

/**
 * Builds one Parquet table (zstd) from the many small files under a prefix. Source files come through the fetch
 * engine (cached, incremental, verified), so a rebuild downloads only new or changed files. Files are read by
 * DuckDB: `.json` (array, object or lines), `.ndjson`/`.jsonl`, `.csv`, each optionally `.gz`,
 * `.parquet`/`.parq` (with their own column types), and `.zip` archives of them; columns are unioned by name.
 * The file appears at `to` only when complete (temp + rename locally, one atomic write to S3).
 *
 * Throws NotFoundError (nothing selected, nothing readable), WharfError IO naming a file that cannot be parsed
 * (unless `skipBad`) or could not be fetched, UsageError (bad options, unknown --dedupe-on column, an output the
 * selection would read as a source), AbortedError.
 */
export async function buildTable(options: BuildTableOptions): Promise<BuildTableResult> {
  const started = Date.now();
  const { signal, onEvent } = options;
  const cwd = options.storage?.cwd ?? process.cwd();
  const location = typeof options.source === 'string' ? parseLocation(options.source, cwd) : options.source;
  const name = options.name ?? defaultName(location);
  const output = resolveOutput(options.to ?? `${name}.parquet`, name, cwd);
  const dedupeOn = (options.dedupeOn ?? []).map((c) => c.trim()).filter((c) => c !== '');
  if (options.dedupeOn && dedupeOn.length === 0)
    throw new UsageError('--dedupe-on needs at least one column name');
  const include = options.include ?? [...DEFAULT_TABLE_INCLUDE];
  // Checked here too: a JavaScript caller may pass any string, or an alias (cp1252).
  const encoding = parseCsvEncoding(options.encoding ?? 'utf-8', 'encoding');
  if (!options.metaFiles) {
    refuseOutputAmongSources(location, output, createKeyFilter({ include, exclude: options.exclude ?? [] }));
  }

  let fetched: FetchResult;
  try {
    fetched = await fetchDataset({
      source: location,
      include,
      ...(options.exclude ? { exclude: options.exclude } : {}),
      metaFiles: options.metaFiles ?? false,
      ...(options.cache !== undefined ? { dest: options.cache } : {}),
      ...(options.datasetId !== undefined ? { datasetId: options.datasetId } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.timestampToleranceHours !== undefined
        ? { timestampToleranceHours: options.timestampToleranceHours }
        : {}),
      ...(options.storage ? { storage: options.storage } : {}),
      ...(signal ? { signal } : {}),
      onEvent: (event) => onEvent?.({ type: 'fetch', event }),
    });
  } catch (error) {
    // The default selection is long; say what was looked for in words.
    if (
      isWharfError(error) &&
      error.code === 'NOT_FOUND' &&
      !options.include &&
      /^no objects match/.test(error.message)
    ) {
      const where = formatLocation(location, location.kind === 's3' ? asFolderPrefix(location.key) : '');
      const metaRule = options.metaFiles ? ', and only those with a .meta companion (--meta-files)' : '';
      throw new NotFoundError(
        `no files to build ${name} from under ${where} (looked for ${DEFAULT_NAMES_HELP}${metaRule})`,
        {
          hint: options.metaFiles
            ? 'check that the export wrote its .meta files (`wharf ls -r`), or build without --meta-files'
            : "check the location with `wharf ls -r`, or select files with --include (Parquet files: --include '**/*.parquet')",
          cause: error,
        },
      );
    }
    throw error;
  }
  const failed = fetched.files.filter((f) => f.status === 'failed');
  if (failed.length > 0) {
    const first = failed[0] as (typeof failed)[number];
    throw new WharfError(
      first.error?.code ?? 'IO',
      `${failed.length} source file(s) could not be fetched, so no table was written; first: ${first.error?.message ?? first.key}`,
      {
        // The file's own hint (free disk space, check credentials) says what to fix before building again.
        hint:
          first.error?.code === 'NOT_FOUND'
            ? 'build the table again: its listing will not have the deleted file'
            : first.error?.hint
              ? `${first.error.hint}; a rebuild fetches only the missing files`
              : 'run the build again (only the missing files are fetched); `wharf fetch --verbose` shows each failure',
      },
    );
  }
  const prefix = location.kind === 's3' ? asFolderPrefix(location.key) : '';
  const sourceFiles: TableSourceFile[] = fetched.files.map((f) => ({
    key: f.key,
    path: f.path,
    size: f.size,
    status: f.status,
  }));
  const locals: LocalSourceFile[] = fetched.files.map((f) => ({
    name: f.key.startsWith(prefix) ? f.key.slice(prefix.length) : f.key,
    path: f.path,
    size: f.size,
  }));

  const work = await mkdtemp(join(tmpdir(), 'wharf-table-'));
  let session: DuckSession | undefined;
  try {
    const prepared = await prepareInputs(
      locals,
      fetched.datasetDir,
      work,
      options.format ?? 'auto',
      signal,
      encoding,
    );
    const badFiles: BadFile[] = [];
    const reportBad = (file: BadFile): void => {
      if (!options.skipBad) throw unreadable(file);
      badFiles.push(file);
      onEvent?.({ type: 'bad-file', file });
    };
    prepared.bad.forEach(reportBad);
    onEvent?.({ type: 'reading', files: prepared.inputs.length });
    session = await DuckSession.open({ tempDir: join(work, 'duckdb'), ...(signal ? { signal } : {}) });
    const { inputs, groups } = await loadRaw(
      session,
      prepared.inputs,
      reportBad,
      locals.length,
      options.batchFiles ?? BATCH_FILES,
    );

    const columns = (await session.query(`DESCRIBE raw`)).rows.map((r) => String(r[0]));
    for (const column of dedupeOn) {
      if (!columns.includes(column)) {
        const similar = columns.find((c) => c.toLowerCase() === column.toLowerCase());
        throw new UsageError(
          `--dedupe-on: the table has no column ${JSON.stringify(column)}${similar ? ` (did you mean ${JSON.stringify(similar)}?)` : ''}`,
          { hint: `its columns: ${columns.filter((c) => c !== FILE_COLUMN).join(', ')}` },
        );
      }
    }
    const withSource = options.sourceColumn !== false;
    const hidden = [FILE_COLUMN, ...(withSource && columns.includes(SOURCE_COLUMN) ? [SOURCE_COLUMN] : [])];
    let from = 'raw';
    let params: Record<string, string[]> | undefined;
    let tail = '';
    if (dedupeOn.length > 0 || groups > 1) {
      // Source order (file, then row) is needed: join each row to its file's number.
      hidden.push(ROW_COLUMN, ORD_COLUMN);
      from =
        `(SELECT raw.*, raw.rowid AS ${ROW_COLUMN}, f.ord AS ${ORD_COLUMN} FROM raw JOIN ` +
        `(SELECT unnest($paths) AS path, generate_subscripts($paths, 1) AS ord) f ON raw.${FILE_COLUMN} = f.path)`;
      params = { paths: inputs.map((i) => i.path) };
      if (dedupeOn.length > 0) {
        tail += ` QUALIFY row_number() OVER (PARTITION BY ${dedupeOn.map(sqlIdentifier).join(', ')} ORDER BY ${ORD_COLUMN} DESC, ${ROW_COLUMN} DESC) = 1`;
      }
      tail += ` ORDER BY ${ORD_COLUMN}, ${ROW_COLUMN}`;
    }
    const select = [
      `* EXCLUDE (${hidden.map(sqlIdentifier).join(', ')})`,
      ...(withSource ? [`${sourceExpression(prepared.roots)} AS ${sqlIdentifier(SOURCE_COLUMN)}`] : []),
    ].join(', ');
    const local = output.kind === 'local' ? output.path : join(work, 'out.parquet');
    const target = output.kind === 'local' ? tempPathBeside(local) : local;
    if (output.kind === 'local') await makeDir(dirname(local));
    let rows: number;
    let outColumns: ColumnInfo[];
    try {
      rows = await session.run(
        `COPY (SELECT ${select} FROM ${from}${tail}) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd)`,
        params,
      );
      onEvent?.({ type: 'writing', rows });
      outColumns = (
        await session.query(`DESCRIBE SELECT * FROM read_parquet(${sqlString(target)})`)
      ).rows.map((r) => ({ name: String(r[0]), type: String(r[1]) }));
      if (output.kind === 'local') {
        const fh = await open(target, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(target, local);
      }
    } catch (error) {
      if (output.kind === 'local') await rm(target, { force: true });
      if (error instanceof DuckError && error.diskFull) {
        throw new WharfError('IO', `writing the table ${local}: no space left on device`, {
          cause: error,
          hint: 'free some disk space (or write elsewhere with --to) and build again; nothing was written',
        });
      }
      // DuckDB names the temporary file beside the table and says why in the C library's words.
      const errno = error instanceof DuckError ? error.errno : undefined;
      const failure = errno
        ? Object.assign(new Error(error instanceof DuckError ? error.detail : ''), {
            code: errno,
            syscall: 'open',
            path: local,
            cause: error,
          })
        : error;
      throw toWharfError(failure, `writing the table ${local}`);
    }
    const bytes = (await stat(local)).size;
    let path = local;
    if (output.kind === 's3') {
      path = await upload(local, output, bytes, options, onEvent);
    }
    return {
      path,
      rows,
      columns: outColumns,
      sourceFiles,
      badFiles,
      emptyFiles: prepared.empty,
      bytes,
      datasetDir: fetched.datasetDir,
      fetch: fetched.stats,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    session?.close();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Files per DuckDB statement. DuckDB keeps ~60 KiB of reader state per file of a multi-file scan until the
 * statement ends (5,000 files: ~280 MiB), so large selections are read in batches and appended.
 */
const BATCH_FILES = 1000;

/**
 * Reads every input into the temp table `raw` (plus FILE_COLUMN), batch by batch in source order. When a file
 * cannot be parsed, finds it (from DuckDB's message, else by reading the files one by one), reports it, and
 * reads the batch again without it. Returns the inputs that were read and the most format groups in a batch.
 */
async function loadRaw(
  session: DuckSession,
  all: TableInput[],
  reportBad: (file: BadFile) => void,
  selected: number,
  batchFiles: number,
): Promise<{ inputs: TableInput[]; groups: number }> {
  const read: TableInput[] = [];
  let groups = 0;
  for (let start = 0; start < all.length; start += batchFiles) {
    const batch = await loadBatch(session, all.slice(start, start + batchFiles), reportBad);
    if (batch.inputs.length === 0) continue;
    if (read.length === 0) await session.run(`ALTER TABLE batch RENAME TO raw`);
    else {
      await appendTable(session, 'raw', 'batch').catch((error: unknown) => {
        if (!(error instanceof DuckError)) throw error;
        throw new WharfError(
          'IO',
          `cannot combine the source files into one table: ${reasonOf(error.detail, all)}`,
          { cause: error, hint: 'the files disagree on a column type; narrow the selection with --include' },
        );
      });
    }
    read.push(...batch.inputs);
    groups = Math.max(groups, batch.groups);
  }
  if (read.length === 0) {
    throw new NotFoundError(
      `no rows to build a table from: all ${selected} selected file(s) are empty or unreadable`,
    );
  }
  return { inputs: read, groups };
}

/** Reads some inputs into the temp table `batch`, leaving out (and reporting) files that cannot be parsed. */
async function loadBatch(
  session: DuckSession,
  some: TableInput[],
  reportBad: (file: BadFile) => void,
): Promise<{ inputs: TableInput[]; groups: number }> {
  let inputs = some;
  let rounds = 0;
  let probed = false;
  while (inputs.length > 0) {
    const [first, ...more] = readGroups(inputs);
    try {
      let groups = first ? await readGroupInto(session, 'batch', first) : 0;
      for (const group of more) {
        groups += await readGroupInto(session, 'batch_group', group);
        await appendTable(session, 'batch', 'batch_group');
      }
      return { inputs, groups };
    } catch (error) {
      if (error instanceof MisreadCsvError) {
        const misread = new Map(error.files.map((f) => [f.path, f.reason]));
        const out = inputs.filter((i) => misread.has(i.path));
        for (const input of out) {
          reportBad({ source: input.source, reason: reasonOf(misread.get(input.path) ?? '', [input]) });
        }
        inputs = inputs.filter((i) => !misread.has(i.path));
        continue;
      }
      if (!(error instanceof DuckError)) throw error;
      rounds += 1;
      let culprits = namedInputs(error.detail, inputs);
      if (culprits.length === 0 || (rounds > 2 && !probed)) {
        culprits = await probe(session, inputs);
        probed = true;
        // Every file failing on its own means the statement, not the files, is the problem.
        if (culprits.length === inputs.length && inputs.length > 1) culprits = [];
      }
      if (culprits.length === 0) {
        throw new WharfError(
          'IO',
          `cannot combine the source files into one table: ${reasonOf(error.detail, inputs)}`,
          {
            cause: error,
            hint: 'the files may disagree on a column type; narrow the selection with --include',
          },
        );
      }
      for (const c of culprits) reportBad(c.bad);
      const out = new Set(culprits.map((c) => c.input.ord));
      inputs = inputs.filter((i) => !out.has(i.ord));
    }
  }
  return { inputs, groups: 0 };
}

/**
 * Reads a group of inputs into the temp table `table`; returns how many reads it took (more than one when
 * Parquet files were read by schema, see readParquetGroupInto). A CSV column DuckDB typed DOUBLE that holds
 * whole numbers past 2^53 was most likely integers longer than 64 bits (20-digit account numbers), which a
 * double keeps only to ~16 digits: the group is read again with that column as text, every digit kept.
 */
async function readGroupInto(session: DuckSession, table: string, group: ReaderGroup): Promise<number> {
  if (group.format === 'parquet') return readParquetGroupInto(session, table, group);
  await session.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${groupSql(group)}`);
  if (group.format !== 'csv') return 1;
  const misread = await misreadCsvFiles(session, table, group);
  if (misread.length > 0) throw new MisreadCsvError(misread);
  const lossy = await roundedIntegerColumns(session, table);
  if (lossy.length === 0) return 1;
  const asText = Object.fromEntries(lossy.map((column) => [column, 'VARCHAR']));
  await session.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${groupSql(group, asText)}`);
  return 1;
}

/**
 * Reads Parquet files into `table` in one read_parquet call. When two files have a column without a common type
 * (an INTEGER and a STRUCT), which that call cannot combine, the files are read in groups of equal schema and
 * appended as groups of different formats are (such a column becomes JSON). Returns the number of reads.
 */
async function readParquetGroupInto(
  session: DuckSession,
  table: string,
  group: ReaderGroup,
): Promise<number> {
  try {
    await session.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${groupSql(group)}`);
    return 1;
  } catch (error) {
    if (!(error instanceof DuckError) || !PARQUET_SCHEMA_CLASH.test(error.detail)) throw error;
    const parts = await groupBySchema(session, group.paths);
    if (parts.length < 2) throw error;
    for (const [i, paths] of parts.entries()) {
      const into = i === 0 ? table : `${table}_part`;
      await session.run(`CREATE OR REPLACE TEMP TABLE ${into} AS ${groupSql({ ...group, paths })}`);
      if (i > 0) await appendTable(session, table, into);
    }
    return parts.length;
  }
}

/** DOUBLE columns of `table` whose finite values are all whole and one at least 2^53 in size. */
async function roundedIntegerColumns(session: DuckSession, table: string): Promise<string[]> {
  const doubles = (await session.query(`DESCRIBE ${table}`)).rows
    .filter((r) => String(r[1]) === 'DOUBLE')
    .map((r) => String(r[0]));
  if (doubles.length === 0) return [];
  const checks = doubles.map((column) => {
    const c = sqlIdentifier(column);
    return `coalesce(bool_or(isfinite(${c}) AND abs(${c}) >= 9007199254740992) AND bool_and(NOT isfinite(${c}) OR ${c} = floor(${c})), false)`;
  });
  const row = (await session.query(`SELECT ${checks.join(', ')} FROM ${table}`)).rows[0] ?? [];
  return doubles.filter((_, i) => row[i] === true);
}

/**
 * Appends the temp table `from` to `into` by column name, as union_by_name would have combined them, and drops
 * `from`: new columns are added, a column whose types differ gets the type DuckDB's UNION gives both.
 */
async function appendTable(session: DuckSession, into: string, from: string): Promise<void> {
  const types = async (table: string): Promise<Map<string, string>> =>
    new Map((await session.query(`DESCRIBE ${table}`)).rows.map((r) => [String(r[0]), String(r[1])]));
  const have = await types(into);
  const batchTypes = await types(from);
  // Into a JSON column a value of another type goes as JSON (a string as "c0001"), as union_by_name reads
  // mixed values; a plain CAST would parse the text as JSON and fail.
  const converted = (column: string, type: string, to: string): string =>
    to === 'JSON' && type !== 'JSON' ? `to_json(${column})` : `CAST(${column} AS ${to})`;
  const targets = new Map([...batchTypes.keys()].map((column) => [column, targetColumn(column, have)]));
  for (const [column, type] of batchTypes) {
    const targetName = targets.get(column) ?? column;
    const current = have.get(targetName);
    const name = sqlIdentifier(targetName);
    if (current === undefined) {
      await session.run(`ALTER TABLE ${into} ADD COLUMN ${name} ${type}`);
      have.set(targetName, type);
    } else if (current !== type) {
      const target = await commonType(session, current, type);
      if (target !== current) {
        await session.run(
          `ALTER TABLE ${into} ALTER COLUMN ${name} TYPE ${target} USING ${converted(name, current, target)}`,
        );
        have.set(targetName, target);
      }
    }
  }
  const select = [...batchTypes].map(([column, type]) => {
    const name = sqlIdentifier(column);
    const targetName = targets.get(column) ?? column;
    const target = have.get(targetName) ?? type;
    const value = target === type ? name : converted(name, type, target);
    return value === name && targetName === column ? name : `${value} AS ${sqlIdentifier(targetName)}`;
  });
  await session.run(`INSERT INTO ${into} BY NAME SELECT ${select.join(', ')} FROM ${from}`);
  await session.run(`DROP TABLE ${from}`);
}

/**
 * The column of the table being appended to that `column` goes into: the one of that name; when the table has
 * the name only in another case (DuckDB matches names without regard to case, so it cannot hold both as they
 * are), `column_1`, `column_2`, … as DuckDB's union_by_name names a second spelling within one reader (ID, id_1).
 */
function targetColumn(column: string, have: ReadonlyMap<string, string>): string {
  if (have.has(column)) return column;
  const taken = (name: string): boolean =>
    [...have.keys()].some((k) => k.toLowerCase() === name.toLowerCase());
  if (!taken(column)) return column;
  for (let i = 1; ; i++) {
    const candidate = `${column}_${i}`;
    if (have.has(candidate) || !taken(candidate)) return candidate;
  }
}

/** STRUCT, MAP, UNION or LIST (`T[]`); undefined for a scalar type. */
function nestedKind(type: string): string | undefined {
  if (type.endsWith(']')) return 'LIST';
  return /^(STRUCT|MAP|UNION)\(/.exec(type)?.[1];
}

/**
 * The type DuckDB's UNION gives two column types, or JSON when they are not both scalars or both the same kind
 * of nested type (struct, list, map), or when UNION has no common type: DuckDB's UNION would pick the struct for a date and a struct,
 * and the cast fails on the first row. union_by_name within one JSON reader makes such a column JSON too.
 */
async function commonType(session: DuckSession, a: string, b: string): Promise<string> {
  if (nestedKind(a) !== nestedKind(b)) return 'JSON';
  try {
    const common = await session.query(`DESCRIBE SELECT NULL::${a} AS c UNION ALL SELECT NULL::${b}`);
    return String(common.rows[0]?.[1]);
  } catch (error) {
    if (!(error instanceof DuckError)) throw error;
    return 'JSON';
  }
}

interface Culprit {
  input: TableInput;
  bad: BadFile;
}

/** Inputs named in a DuckDB error message (by their path; the longest match wins, `a.json` vs `a.json.gz`). */
function namedInputs(detail: string, inputs: readonly TableInput[]): Culprit[] {
  let best: TableInput | undefined;
  for (const input of inputs) {
    if (detail.includes(input.path) && (!best || input.path.length > best.path.length)) best = input;
  }
  return best ? [{ input: best, bad: { source: best.source, reason: badReason(detail, best) } }] : [];
}

/**
 * Reads each input on its own; returns those that fail. Used when DuckDB's message names no file. A Parquet
 * file's count(*) comes from its footer, so every value is read (hashed) instead: a damaged page fails only then.
 */
async function probe(session: DuckSession, inputs: readonly TableInput[]): Promise<Culprit[]> {
  const culprits: Culprit[] = [];
  for (const input of inputs) {
    const reader = readerCall(input.format, input.gzip, [input.path]);
    try {
      await session.run(
        input.format === 'parquet'
          ? `SELECT bit_xor(hash(*COLUMNS(*))) FROM ${reader}`
          : `SELECT count(*) FROM ${reader}`,
      );
    } catch (error) {
      if (!(error instanceof DuckError)) throw error;
      culprits.push({ input, bad: { source: input.source, reason: badReason(error.detail, input) } });
    }
  }
  return culprits;
}

/**
 * Why an input cannot be read, from DuckDB's message: DuckDB's Parquet errors often leave out what failed, and
 * a CSV file that is not UTF-8 may be in an encoding `--encoding` names.
 */
function badReason(detail: string, input: TableInput): string {
  const reason = reasonOf(detail, [input]);
  if (input.format === 'parquet') return `not a readable Parquet file: ${reason.replace(/[:\s]+$/, '')}`;
  if (input.format === 'csv' && /not utf-8 encoded/i.test(reason)) {
    return `${reason.replace(/[.\s]+$/, '')}; ${ENCODING_ADVICE}`;
  }
  return reason;
}

/** DuckDB's message with input paths replaced by source names and the error class dropped. */
function reasonOf(detail: string, inputs: readonly TableInput[]): string {
  let text = detail;
  for (const input of [...inputs].sort((a, b) => b.path.length - a.path.length)) {
    if (text.includes(input.path)) text = text.split(input.path).join(input.source);
  }
  return text.replace(/^[A-Za-z ]*Error: /, '');
}

function unreadable(file: BadFile): WharfError {
  return new WharfError('IO', `cannot parse ${file.source}: ${file.reason}`, {
    hint: 'fix or remove the file, or pass --skip-bad to build the table without files that cannot be parsed',
  });
}

type Output =
  { kind: 'local'; path: string } | { kind: 's3'; location: Location & { kind: 's3' }; key: string };

/**
 * Refuses an output inside the source folder that the selection takes (`--include '*.parquet'` with `--to`
 * that folder): the next build would read the table back as one of its own sources.
 */
function refuseOutputAmongSources(source: Location, output: Output, selects: (key: string) => boolean): void {
  let key: string | undefined;
  let where: string;
  if (source.kind === 's3') {
    const prefix = asFolderPrefix(source.key);
    where = formatLocation({ ...source, key: '' }, prefix);
    if (output.kind === 's3' && output.location.bucket === source.bucket && output.key.startsWith(prefix)) {
      key = output.key.slice(prefix.length);
    }
  } else {
    where = source.path;
    const inside = output.kind === 'local' ? relative(source.path, output.path) : '';
    if (inside !== '' && inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside)) {
      key = inside.split(sep).join('/');
    }
  }
  if (key === undefined || !selects(key)) return;
  throw new UsageError(
    `the table would be written among its own source files: ${key} under ${where} matches the selection, so the next build would read it back`,
    { hint: `write it elsewhere with --to, or leave it out with --exclude '${key}'` },
  );
}

function resolveOutput(to: string, name: string, cwd: string): Output {
  const location = parseLocation(to, cwd);
  if (location.kind === 's3') {
    const key =
      location.key === '' || location.key.endsWith('/')
        ? joinKey(location.key, `${name}.parquet`)
        : location.key;
    return { kind: 's3', location, key };
  }
  const isFolder =
    location.trailingSlash || statSync(location.path, { throwIfNoEntry: false })?.isDirectory() === true;
  const path = isFolder ? join(location.path, `${name}.parquet`) : location.path;
  return { kind: 'local', path: resolve(path) };
}

async function upload(
  file: string,
  output: Output & { kind: 's3' },
  size: number,
  options: BuildTableOptions,
  onEvent: ProgressListener<TableEvent> | undefined,
): Promise<string> {
  const root: Location = { ...output.location, key: '' };
  const store = await openStorageRoot(root, options.storage ?? {});
  try {
    onEvent?.({ type: 'uploading', bytes: 0, totalBytes: size });
    await store.write(output.key, createReadStream(file), {
      size,
      contentType: 'application/vnd.apache.parquet',
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (bytes) => onEvent?.({ type: 'uploading', bytes, totalBytes: size }),
    });
  } finally {
    await store.close?.();
  }
  return formatLocation(root, output.key);
}

function defaultName(location: Location): string {
  const text = location.kind === 's3' ? location.key : location.path;
  const parts = text.split(/[/\\]/).filter((p) => p !== '');
  const last = parts[parts.length - 1];
  return last ?? (location.kind === 's3' ? location.bucket : 'table');
}
