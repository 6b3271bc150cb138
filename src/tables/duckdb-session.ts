import type * as DuckDB from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBInstance, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { AbortedError, WharfError } from '../core/errors.js';

/** A column of a result or table: its name and DuckDB type (as DuckDB prints it, e.g. `BIGINT`, `VARCHAR[]`). */
export interface ColumnInfo {
  name: string;
  type: string;
}

/** JSON-safe value: integers within 2^53 and small decimals as numbers, dates and times as DuckDB prints them. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface QueryResult {
  columns: ColumnInfo[];
  rows: JsonValue[][];
}

export interface DuckSessionOptions {
  /** Folder where DuckDB may spill to disk (keeps memory bounded for large tables). */
  tempDir?: string;
  /** Worker threads. Default: DuckDB's (one per core). */
  threads?: number;
  /** Interrupts the running statement when fired. */
  signal?: AbortSignal;
}

/**
 * One in-memory DuckDB database and connection. Extensions are never installed or loaded automatically
 * (`autoinstall_known_extensions` and `autoload_known_extensions` off): parquet and json are built into
 * @duckdb/node-api, so nothing is downloaded at run time. The DuckDB module itself is imported on first use.
 */
export class DuckSession {
  private constructor(
    private readonly duck: typeof DuckDB,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly signal: AbortSignal | undefined,
  ) {}

  static async open(options: DuckSessionOptions = {}): Promise<DuckSession> {
    const duck = await import('@duckdb/node-api');
    const config: Record<string, string> = {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    };
    if (options.tempDir !== undefined) config.temp_directory = options.tempDir;
    if (options.threads !== undefined) config.threads = String(options.threads);
    const instance = await duck.DuckDBInstance.create(':memory:', config);
    const connection = await instance.connect();
    const session = new DuckSession(duck, instance, connection, options.signal);
    options.signal?.addEventListener('abort', session.onAbort, { once: true });
    return session;
  }

  private readonly onAbort = (): void => {
    this.connection.interrupt();
  };

  /** The DuckDB library version, e.g. `v1.5.6`. */
  get version(): string {
    return this.duck.version();
  }

  /** Runs a statement; returns the rows it changed (COPY and CREATE TABLE AS report the rows written). */
  async run(sql: string, params?: Record<string, string[] | string>): Promise<number> {
    this.throwIfAborted();
    try {
      const reader = await this.runAndReadAll(sql, params);
      const rows = reader.getRowsJson();
      const first = rows[0]?.[0];
      return typeof first === 'string' || typeof first === 'number' ? Number(first) : 0;
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /** Runs a query and returns every row (for small results). */
  async query(sql: string, params?: Record<string, string[] | string>): Promise<QueryResult> {
    this.throwIfAborted();
    try {
      const reader = await this.runAndReadAll(sql, params);
      const types = reader.columnTypes();
      return {
        columns: reader.columnNames().map((name, i) => ({ name, type: String(types[i]) })),
        rows: reader.getRowsJson().map((row) => row.map((v, i) => toJsonValue(v as JsonValue, types[i]))),
      };
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /** Runs a query and hands its rows over in chunks as they are produced (for large results). */
  async stream(
    sql: string,
    onColumns: (columns: ColumnInfo[]) => void,
    onRows: (rows: JsonValue[][]) => void,
  ): Promise<number> {
    this.throwIfAborted();
    try {
      const result = await this.connection.stream(sql);
      const types = result.columnTypes();
      onColumns(result.columnNames().map((name, i) => ({ name, type: String(types[i]) })));
      let count = 0;
      for await (const rows of result.yieldRowsJson()) {
        this.throwIfAborted();
        count += rows.length;
        onRows(rows.map((row) => row.map((v, i) => toJsonValue(v as JsonValue, types[i]))));
      }
      return count;
    } catch (error) {
      throw this.wrap(error);
    }
  }

  close(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private runAndReadAll(
    sql: string,
    params: Record<string, string[] | string> | undefined,
  ): ReturnType<DuckDBConnection['runAndReadAll']> {
    if (!params) return this.connection.runAndReadAll(sql);
    const values: Record<string, DuckDBValue> = {};
    const types: Record<string, DuckDBType> = {};
    for (const [name, value] of Object.entries(params)) {
      if (Array.isArray(value)) {
        values[name] = this.duck.listValue(value);
        types[name] = this.duck.LIST(this.duck.VARCHAR);
      } else {
        values[name] = value;
        types[name] = this.duck.VARCHAR;
      }
    }
    return this.connection.runAndReadAll(sql, values, types);
  }

  private throwIfAborted(): void {
    if (this.signal?.aborted) throw new AbortedError();
  }

  private wrap(error: unknown): Error {
    if (this.signal?.aborted) return new AbortedError(undefined, { cause: error });
    if (error instanceof WharfError) return error;
    return new DuckError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** A DuckDB error; `detail` is its first line (the rest echoes the SQL). */
export class DuckError extends WharfError {
  readonly detail: string;
  constructor(message: string, options: { cause?: unknown } = {}) {
    const detail = firstLine(message);
    // DuckDB's file-system failures (a full disk, a folder that went away) are I/O, not bad input.
    const io = detail.startsWith('IO Error:');
    const hint = /no space left on device/i.test(detail)
      ? 'free some disk space and run the command again'
      : undefined;
    super(io ? 'IO' : 'VALIDATION', detail, { ...options, ...(hint ? { hint } : {}) });
    this.detail = detail;
  }

  get diskFull(): boolean {
    return /no space left on device/i.test(this.detail);
  }

  /** The errno behind a DuckDB file-system failure (`EROFS` for "Read-only file system"), when it names one. */
  get errno(): string | undefined {
    if (this.code !== 'IO') return undefined;
    return OS_ERRORS.find(([pattern]) => pattern.test(this.detail))?.[1];
  }
}

/** The C library's words DuckDB passes on, and their errno codes. */
const OS_ERRORS: [RegExp, string][] = [
  [/No space left on device/i, 'ENOSPC'],
  [/Read-only file system/i, 'EROFS'],
  [/Permission denied/i, 'EACCES'],
  [/No such file or directory/i, 'ENOENT'],
  [/Not a directory/i, 'ENOTDIR'],
  [/Is a directory/i, 'EISDIR'],
];

/**
 * DuckDB's first line, plus the line that says why when the first only says where ("CSV Error on Line: 2"):
 * the column and value a conversion failed on, or that the file is not UTF-8. The rest (the whole row, the
 * reader's options) is left out.
 */
function firstLine(message: string): string {
  const lines = message.split('\n').map((l) => l.trim());
  const first = lines.find((l) => l !== '') ?? message.trim();
  const why = lines.find((l) =>
    /^(Error when converting column|Invalid unicode|Expected Number of Columns|Value with unterminated quote)/.test(
      l,
    ),
  );
  return why ? `${first}: ${why.slice(0, 300)}` : first;
}

const INTEGER_TYPES = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'HUGEINT',
  'UHUGEINT',
]);

/** DuckDB's node API renders DATE's infinities as the day after its last date and the day before its first. */
const DATE_INFINITIES: Record<string, string> = {
  '5881580-07-11': 'infinity',
  '5877642-06-24 (BC)': '-infinity',
};

/** The shortest decimal that reads back as the same 32-bit float: 0.1, not 0.10000000149011612. */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/**
 * DuckDB's JSON form prints 64-bit integers and decimals as strings; numbers that fit a double exactly become
 * numbers. FLOATs are printed as the float they are, DATE infinities as `infinity` and `-infinity`.
 */
function toJsonValue(value: JsonValue, type: DuckDBType | undefined): JsonValue {
  if (type === undefined) return value;
  const name = String(type);
  if (name === 'FLOAT' && typeof value === 'number') return shortestFloat32(value);
  if (typeof value !== 'string') return value;
  if (name === 'DATE') return DATE_INFINITIES[value] ?? value;
  if (INTEGER_TYPES.has(name)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  const decimal = /^DECIMAL\((\d+),\d+\)$/.exec(name);
  if (decimal && Number(decimal[1]) <= 15) return Number(value);
  return value;
}

/** Quotes an SQL identifier. */
export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes an SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
