import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { parseLocation, type Location } from '../core/location.js';
import { openStorageRoot, type OpenStorageOptions } from '../storage/registry.js';
import {
  DuckError,
  DuckSession,
  sqlIdentifier,
  sqlString,
  type ColumnInfo,
  type JsonValue,
  type QueryResult,
} from './duckdb-session.js';

export interface InspectOptions {
  storage?: OpenStorageOptions | undefined;
  signal?: AbortSignal | undefined;
}

export interface TableSummary {
  path: string;
  rows: number;
  columns: ColumnInfo[];
  /** The first rows, in file order. */
  head: JsonValue[][];
}

/** Schema, row count and the first `limit` rows of a Parquet file (local path or `s3://` URL). */
export async function showTable(
  file: string,
  limit = 10,
  options: InspectOptions = {},
): Promise<TableSummary> {
  return withTable(file, options, async (session, path) => {
    const count = await session.query(`SELECT count(*) FROM t`);
    const head = await session.query(`SELECT * FROM t LIMIT ${Math.max(0, Math.floor(limit))}`);
    return { path, rows: Number(count.rows[0]?.[0] ?? 0), columns: head.columns, head: head.rows };
  });
}

/** Runs DuckDB SQL with the Parquet file as the view `t` (and as its file name, e.g. `modelSnapshot`). Small results. */
export async function queryTable(
  file: string,
  sql: string,
  options: InspectOptions = {},
): Promise<QueryResult> {
  return withTable(file, options, (session) => session.query(sql).catch(queryFailed));
}

/** As queryTable, but hands rows over in chunks as DuckDB produces them; returns the row count. */
export async function streamQuery(
  file: string,
  sql: string,
  onColumns: (columns: ColumnInfo[]) => void,
  onRows: (rows: JsonValue[][]) => void,
  options: InspectOptions = {},
): Promise<number> {
  return withTable(file, options, (session) => session.stream(sql, onColumns, onRows).catch(queryFailed));
}

const FILE_HINT =
  'give the Parquet file `wharf table build` wrote (its path is printed at the end of the build)';

/** DuckDB's words for SQL it refused, said to be about the user's query. */
function queryFailed(error: unknown): never {
  if (!(error instanceof DuckError) || error.code !== 'VALIDATION') throw error;
  throw new ValidationError(`the query failed: ${error.detail}`, {
    cause: error,
    hint: 'the table is the view t; `wharf table show FILE` lists its columns',
  });
}

/** DuckDB's refusal to read a file as Parquet, naming the file the user gave (not a downloaded copy). */
function notParquet(error: unknown, file: string): unknown {
  if (!(error instanceof DuckError) || error.code !== 'VALIDATION') return error;
  const why = /too small/i.test(error.detail)
    ? 'it is empty or too small'
    : /magic bytes/i.test(error.detail)
      ? 'it has no Parquet footer (another kind of file, or one cut short)'
      : error.detail;
  return new ValidationError(`${file} is not a Parquet file: ${why}`, { cause: error, hint: FILE_HINT });
}

async function withTable<T>(
  file: string,
  options: InspectOptions,
  body: (session: DuckSession, path: string) => Promise<T>,
): Promise<T> {
  const location = parseLocation(file, options.storage?.cwd);
  const work = await mkdtemp(join(tmpdir(), 'wharf-table-query-'));
  let session: DuckSession | undefined;
  try {
    const path =
      location.kind === 's3' ? await download(location, join(work, 'table.parquet'), options) : location.path;
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      throw new NotFoundError(`${file} does not exist or is not a file`, { hint: FILE_HINT });
    }
    session = await DuckSession.open({
      tempDir: join(work, 'duckdb'),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // DuckDB reads the file's footer here: a file that is not Parquet fails now, naming a temporary copy.
    await session
      .run(`CREATE VIEW t AS SELECT * FROM read_parquet(${sqlString(path)})`)
      .catch((error: unknown) => {
        throw notParquet(error, file);
      });
    const stem = basename(location.kind === 's3' ? location.key : path).replace(/\.parquet$/i, '');
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(stem) && stem.toLowerCase() !== 't') {
      await session.run(`CREATE VIEW ${sqlIdentifier(stem)} AS SELECT * FROM t`);
    }
    return await body(session, location.kind === 's3' ? file : path);
  } finally {
    session?.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function download(
  location: Location & { kind: 's3' },
  to: string,
  options: InspectOptions,
): Promise<string> {
  const store = await openStorageRoot({ ...location, key: '' }, options.storage ?? {});
  try {
    const body = await store.read(location.key, options.signal ? { signal: options.signal } : {});
    await pipeline(body, createWriteStream(to));
    return to;
  } finally {
    await store.close?.();
  }
}
