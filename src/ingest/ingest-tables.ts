import { joinKey } from '../core/keys.js';
import { parseLocation } from '../core/location.js';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConflictError,
  UsageError,
  WharfError,
  throwIfAborted,
  toWharfError,
  type ErrorCode,
} from '../core/errors.js';
import { acquireTableLock, type TableLock } from './table-lock.js';
import { messageNamingTable } from './table-message.js';
import { openStorage, type OpenStorageOptions } from '../storage/registry.js';
import { sameEtag } from '../storage/etag.js';
import type { StorageDriver } from '../storage/types.js';
import {
  diffSchema,
  parquetColumnNames,
  planColumn,
  schemaOf,
  type ColumnPlan,
  type SchemaChange,
} from './column-types.js';
import { csvBytesPerRow, makePipe, openPipeForWriting } from './csv-pipe.js';
import { silentIngestLogger, type IngestLogger } from './json-logger.js';
import { DEFAULT_LAYOUT, isInstant, runKeys, tableFolder, validateLayout } from './layout.js';
import { UnwritableValueError } from './parquet/conversion-error.js';
import type { CsvToParquetResult } from './parquet/duckdb-writer.js';
import { explainUnwritableValue } from './unwritable-row.js';
import type { PgSource, TableInfo, WindowBound } from './postgres/pg-source.js';
import { resolveSource, type SourceSpec } from './source-config.js';
import {
  newestKeyInstant,
  pendingKey,
  readPending,
  readState,
  stateKey,
  writeJson,
  type IngestState,
  type PendingRun,
} from './state.js';
import { makeDir } from '../core/make-dir.js';

export const INGEST_DEFAULTS = {
  cursorColumn: 'last_updated',
  lagSeconds: 30,
  initial: '-infinity',
  maxFileSize: 256 * 1024 ** 2,
  schema: 'public',
  guardWaitSeconds: 60,
} as const;

export interface IngestOptions {
  /** Where the database credentials come from; default: the PG* environment variables. */
  source?: SourceSpec | undefined;
  /** `s3://bucket/prefix` or a local folder: objects go to DEST/<layout>, state to DEST/_wharf/ingest/. */
  dest: string;
  /** Use this store instead of opening `dest` (it is not closed). */
  store?: StorageDriver | undefined;
  storage?: OpenStorageOptions | undefined;
  /** `table` (in `schema`) or `schema.table`; case-sensitive. */
  tables?: string[] | undefined;
  /** Every base table in `schema` that has the cursor column. */
  all?: boolean | undefined;
  /** Schema for unqualified names (default `public`). */
  schema?: string | undefined;
  /** timestamptz (or timestamp) column set to now() on every insert and update (default `last_updated`). */
  cursorColumn?: string | undefined;
  /** Seconds the window's upper bound stays behind the database clock (default 30). */
  lagSeconds?: number | undefined;
  /** Lower bound of the first run, an ISO instant with a zone, e.g. `2000-01-01T00:00:00Z` (default: every row). */
  initial?: string | undefined;
  /** Cap for the window's upper bound (an ISO instant); mostly for tests and backfills in slices. */
  until?: string | undefined;
  /** Split a run into `-0001`, `-0002`, ... parts above this many bytes (default 256 MiB). */
  maxFileSize?: number | undefined;
  /** Key template, see layout.ts (default `{table}/{yyyy}/{mm}/{dd}/{hhmmssffffff}{part}.parquet`). */
  layout?: string | undefined;
  /** Show the windows, row counts and would-be keys; write nothing. */
  dryRun?: boolean | undefined;
  /** Seconds to wait for open transactions of other roles whose start is not visible (default 60). */
  guardWaitSeconds?: number | undefined;
  /** Parent folder for temp files (default the OS temp dir); each table's files are removed on every path. */
  tempDir?: string | undefined;
  logger?: IngestLogger | undefined;
  onEvent?: ((event: IngestEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export type IngestEvent =
  | { type: 'table-start'; table: string }
  | { type: 'schema-changed'; table: string; change: SchemaChange }
  /** The table has no primary key: its rows cannot be deduplicated by key on read. */
  | { type: 'no-primary-key'; table: string }
  /** Postgres column name -> Parquet column name, for names that differ from an earlier one's only by case. */
  | { type: 'columns-renamed'; table: string; renamed: Record<string, string> }
  | { type: 'pending'; table: string; runId: string; action: 'finish' | 'clear'; from: string; to: string }
  | { type: 'window'; table: string; from: string; to: string; heldBy?: WindowBound['heldBy'] }
  | { type: 'extract-progress'; table: string; bytes: number }
  | { type: 'extracted'; table: string; rows: number; bytes: number }
  | { type: 'written'; table: string; files: number; bytes: number }
  | { type: 'uploaded'; table: string; key: string; size: number }
  | { type: 'committed'; table: string; runId: string; keys: string[]; rows: number; watermark: string }
  | { type: 'no-rows'; table: string; from: string; to: string }
  | { type: 'failed'; table: string; error: WharfError };

export interface TableReport {
  /** The name as given (`orders`, `sales.orders`). */
  table: string;
  status: 'written' | 'no-rows' | 'planned' | 'failed';
  /** First key of the last run written in this call; null when none was. */
  key: string | null;
  /** Every key written in this call (a finished pending run's and the new run's). */
  keys: string[];
  rows: number;
  bytes: number;
  /** The new run's window `[from, to)`. */
  window?: { from: string; to: string; heldBy?: WindowBound['heldBy'] };
  /** A pending run found at the start and finished (or cleared) first. */
  pending?: { runId: string; from: string; to: string; action: 'finish' | 'clear' };
  schemaChange?: SchemaChange;
  /** --dry-run: rows in the window and the key the run would write (parts get -0001, ... suffixes). */
  plannedRows?: number;
  plannedKey?: string;
  error?: WharfError;
  seconds: number;
}

export interface IngestReport {
  tables: TableReport[];
  failed: number;
}

/** Thrown by ingestTables after every table ran when at least one failed; carries the whole report. */
export class IngestFailedError extends WharfError {
  readonly report: IngestReport;
  constructor(report: IngestReport) {
    const failed = report.tables.filter((t) => t.status === 'failed');
    const codes = new Set(failed.map((t) => t.error?.code ?? 'INTERNAL'));
    const code: ErrorCode = codes.size === 1 ? ([...codes][0] ?? 'INTERNAL') : 'INTERNAL';
    const first = failed[0];
    super(
      code,
      `ingest failed for ${failed.length} of ${report.tables.length} table(s): ${failed.map((t) => t.table).join(', ')}` +
        (first?.error ? ` (${messageNamingTable(first.table, first.error.message)})` : ''),
      first?.error?.hint ? { hint: first.error.hint } : {},
    );
    this.report = report;
  }
}

/**
 * Incremental Postgres -> Parquet -> bucket for each table: `{ [table]: first key written | null }`.
 * Every table runs even when another fails; then it throws IngestFailedError (with the full report).
 */
export async function ingestTables(options: IngestOptions): Promise<Record<string, string | null>> {
  const report = await ingestTablesDetailed(options);
  if (report.failed > 0) throw new IngestFailedError(report);
  return Object.fromEntries(report.tables.map((t) => [t.table, t.key]));
}

interface Settings {
  schema: string;
  cursorColumn: string;
  lagSeconds: number;
  initial: string;
  until: string | undefined;
  maxFileSize: number;
  layout: string;
  dryRun: boolean;
  guardWaitSeconds: number;
  tempDir: string;
}

/**
 * The destination store. A dry run into a local folder that does not exist yet (a first run would create it)
 * previews against an empty store instead of failing on the missing folder.
 */
async function openDestination(options: IngestOptions, dryRun: boolean): Promise<StorageDriver> {
  const location = parseLocation(options.dest, options.storage?.cwd);
  if (dryRun && location.kind === 'local' && !(await pathExists(location.path))) {
    const { MemoryDriver } = await import('../storage/memory/memory-driver.js');
    return new MemoryDriver(location.path);
  }
  return openStorage(location, options.storage ?? {});
}

async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Like ingestTables, but never throws for a table's failure: returns what happened to each table. */
export async function ingestTablesDetailed(options: IngestOptions): Promise<IngestReport> {
  const settings = validate(options);
  const log = options.logger ?? silentIngestLogger;
  const emit = options.onEvent ?? ((): void => undefined);
  const signal = options.signal;
  const store = options.store ?? (await openDestination(options, settings.dryRun));
  const reports: TableReport[] = [];
  let source: PgSource | undefined;
  try {
    let connectError: WharfError | undefined;
    try {
      const config = await resolveSource(options.source ?? {}, signal);
      const { PgSource: Source } = await import('./postgres/pg-source.js');
      source = await Source.connect(config);
    } catch (error) {
      connectError = toWharfError(error);
    }
    let names = options.tables ?? [];
    if (options.all && source) {
      const listed = await source.listTables(settings.schema, settings.cursorColumn);
      names = [...new Set([...names, ...listed.map(quoteTableName)])];
      if (names.length === 0) log.warn({ schema: settings.schema }, 'no table has the cursor column');
    }
    if (options.all && !source) names = [`${settings.schema}.*`];
    for (const [position, name] of names.entries()) {
      const started = Date.now();
      const report = notRun(name);
      try {
        throwIfAborted(signal);
        if (connectError || !source)
          throw connectError ?? new WharfError('INTERNAL', 'no database connection');
        emit({ type: 'table-start', table: name });
        await runTable({ source, store, settings, log, emit, signal }, name, report);
      } catch (error) {
        const wharfError = toWharfError(error);
        report.status = 'failed';
        report.error = wharfError;
        emit({ type: 'failed', table: name, error: wharfError });
        log.critical(
          {
            table: name,
            code: wharfError.code,
            error: wharfError.message,
            ...(wharfError.hint ? { hint: wharfError.hint } : {}),
          },
          `ingest of ${name} failed`,
        );
        if (wharfError.code === 'ABORTED') {
          report.seconds = (Date.now() - started) / 1000;
          reports.push(report);
          // The tables never started are reported too, so a caller can tell them from tables that ran.
          for (const rest of names.slice(position + 1)) {
            reports.push({
              ...notRun(rest),
              error: new WharfError('ABORTED', `${rest} was not started: the run was stopped before it`),
            });
          }
          break;
        }
      }
      report.seconds = (Date.now() - started) / 1000;
      reports.push(report);
    }
  } finally {
    await source?.close();
    if (!options.store) await store.close?.();
  }
  return { tables: reports, failed: reports.filter((r) => r.status === 'failed').length };
}

function validate(options: IngestOptions): Settings {
  if (!options.dest) throw new UsageError('a destination is required (--dest s3://bucket/prefix)');
  if (!options.all && (!options.tables || options.tables.length === 0)) {
    throw new UsageError('name the tables to ingest (--tables a,b) or use --all');
  }
  for (const t of options.tables ?? []) {
    if (t.trim() === '') throw new UsageError('an empty table name in --tables');
  }
  const lagSeconds = options.lagSeconds ?? INGEST_DEFAULTS.lagSeconds;
  if (!Number.isFinite(lagSeconds) || lagSeconds < 0) throw new UsageError('--lag must be a duration >= 0');
  const maxFileSize = options.maxFileSize ?? INGEST_DEFAULTS.maxFileSize;
  if (!Number.isFinite(maxFileSize) || maxFileSize < 64 * 1024) {
    throw new UsageError('--max-file-size must be at least 64KiB');
  }
  const layout = options.layout ?? DEFAULT_LAYOUT;
  validateLayout(layout);
  return {
    schema: options.schema ?? INGEST_DEFAULTS.schema,
    cursorColumn: options.cursorColumn ?? INGEST_DEFAULTS.cursorColumn,
    lagSeconds,
    initial: normaliseInstant(options.initial ?? INGEST_DEFAULTS.initial, '--initial'),
    until: options.until === undefined ? undefined : normaliseInstant(options.until, '--until'),
    maxFileSize,
    layout,
    dryRun: options.dryRun ?? false,
    guardWaitSeconds: options.guardWaitSeconds ?? INGEST_DEFAULTS.guardWaitSeconds,
    tempDir: options.tempDir ?? tmpdir(),
  };
}

/** `2000-01-01T00:00:00Z`, `2000-01-01T02:00:00.5+02:00`, `2000-01-01` -> `2000-01-01T00:00:00.000000Z`. */
export function normaliseInstant(input: string, what: string): string {
  if (input === '-infinity' || isInstant(input)) return input;
  const m =
    /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2}))?$/i.exec(
      input.trim(),
    );
  if (!m) {
    throw new UsageError(
      `${what} must be an ISO instant with a zone, e.g. 2000-01-01T00:00:00Z, got ${JSON.stringify(input)}`,
    );
  }
  const [, date, time = '00:00:00', frac = '', zone = 'Z'] = m;
  const ms = Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}${zone}`);
  if (Number.isNaN(ms)) throw new UsageError(`${what}: not a valid date ${JSON.stringify(input)}`);
  const iso = new Date(ms).toISOString(); // whole seconds in UTC
  return `${iso.slice(0, 19)}.${frac.padEnd(6, '0')}Z`;
}

interface TableContext {
  source: PgSource;
  store: StorageDriver;
  settings: Settings;
  log: IngestLogger;
  emit: (event: IngestEvent) => void;
  signal: AbortSignal | undefined;
}

/**
 * `table` or `schema.table`, each part plain or double-quoted as in SQL (`"my.table"`, `sales."Q1 ""x"""`),
 * so that a name holding a dot can be named at all.
 */
export function splitName(name: string, defaultSchema: string): { schema: string; table: string } {
  const parts: string[] = [];
  let rest = name;
  while (rest !== '') {
    let part: string;
    if (rest.startsWith('"')) {
      const m = /^"((?:[^"]|"")*)"/.exec(rest);
      if (!m) return { schema: defaultSchema, table: name }; // an unbalanced quote: the name as typed
      part = (m[1] ?? '').replace(/""/g, '"');
      rest = rest.slice(m[0].length);
    } else {
      const dot = rest.indexOf('.');
      part = dot < 0 ? rest : rest.slice(0, dot);
      rest = dot < 0 ? '' : rest.slice(dot);
    }
    parts.push(part);
    if (rest === '') break;
    if (!rest.startsWith('.') || parts.length === 2) return { schema: defaultSchema, table: name };
    rest = rest.slice(1);
  }
  if (parts.length === 2) return { schema: parts[0] ?? defaultSchema, table: parts[1] ?? '' };
  return { schema: defaultSchema, table: parts[0] ?? name };
}

/** A table name as `splitName` reads it back: quoted when it holds a dot or a quote. */
export function quoteTableName(table: string): string {
  return /[."]/.test(table) ? `"${table.replace(/"/g, '""')}"` : table;
}

async function runTable(ctx: TableContext, name: string, report: TableReport): Promise<void> {
  const { source, store, settings, signal } = ctx;
  const { schema, table } = splitName(name, settings.schema);
  const info = await source.describeTable(schema, table, settings.cursorColumn);
  const folder = tableFolder(schema, table, settings.schema);
  // One run per table at a time: a second one fails here, before it reads or writes anything.
  const lock = settings.dryRun
    ? undefined
    : await acquireTableLock(store, folder, name, signal ? { signal } : {});
  try {
    await runLockedTable(ctx, name, report, info, folder, lock);
  } finally {
    await lock?.release().catch(() => undefined);
  }
}

async function runLockedTable(
  ctx: TableContext,
  name: string,
  report: TableReport,
  info: TableInfo,
  folder: string,
  lock: TableLock | undefined,
): Promise<void> {
  const { source, store, settings, log, emit, signal } = ctx;
  const plans = info.columns.map(planColumn);
  if (info.primaryKey.length === 0) {
    emit({ type: 'no-primary-key', table: name });
    log.warn({ table: name }, 'table has no primary key: its rows cannot be deduplicated by key on read');
  }
  const outputNames = parquetColumnNames(plans.map((p) => p.name));
  const renamed: Record<string, string> = Object.fromEntries(
    plans.flatMap((p, i) => {
      const out = outputNames[i] ?? p.name;
      return out === p.name ? [] : [[p.name, out]];
    }),
  );
  if (Object.keys(renamed).length > 0) {
    emit({ type: 'columns-renamed', table: name, renamed });
    log.warn(
      { table: name, renamed },
      'columns whose names differ only by case are renamed in the Parquet (readers match names without regard to case)',
    );
  }
  let state = await readState(store, folder, signal);
  const columns = schemaOf(plans);
  if (state) {
    const change = diffSchema(state.value.columns ?? [], columns);
    if (change) {
      report.schemaChange = change;
      emit({ type: 'schema-changed', table: name, change });
      log.warn(
        { table: name, ...change },
        'schema changed since the last run; new files carry the new schema',
      );
    }
  }
  const run = { ctx, name, info, plans, folder, columns, report, lock };

  // Pending work first: a run that uploaded but did not commit is redone over exactly its window and keys.
  const pending = await readPending(store, folder, signal);
  if (pending) {
    const done = state?.value.runId === pending.runId;
    const action = done ? 'clear' : 'finish';
    report.pending = { runId: pending.runId, from: pending.from, to: pending.to, action };
    emit({ type: 'pending', table: name, runId: pending.runId, action, from: pending.from, to: pending.to });
    log.info(
      { table: name, runId: pending.runId, from: pending.from, to: pending.to, action },
      `pending run found: ${action}`,
    );
    if (!settings.dryRun) {
      if (done) await store.delete([pendingKey(folder)], signal ? { signal } : {});
      else {
        await runWindow(run, pending.from, pending.to, pending.runId, pending.keys, state, true);
        state = await readState(store, folder, signal);
      }
    }
  }

  let from = state?.value.watermark;
  // A dry run does not finish the pending run; the new window would start where that run ends.
  if (settings.dryRun && pending && report.pending?.action === 'finish') from = pending.to;
  if (from === undefined) {
    const newest = await newestKeyInstant(store, settings.layout, folder, signal);
    if (newest) {
      from = newest.instant;
      log.info(
        { table: name, key: newest.key, listed: newest.listed, watermark: from },
        'no state: resuming after the newest object key',
      );
    }
  }
  from ??= settings.initial;
  const bound = await source.windowBound({
    lagSeconds: settings.lagSeconds,
    until: settings.until,
    guardWaitSeconds: settings.guardWaitSeconds,
    localClock: info.cursor.base === 'timestamp',
    signal,
  });
  const to = bound.upper;
  report.window = { from, to, ...(bound.heldBy ? { heldBy: bound.heldBy } : {}) };
  emit({ type: 'window', table: name, from, to, ...(bound.heldBy ? { heldBy: bound.heldBy } : {}) });
  if (bound.heldBy) {
    log.info(
      { table: name, pid: bound.heldBy.pid, since: bound.heldBy.since },
      'window held back by an open transaction',
    );
  }
  if (bound.heldBeforeClockChange) {
    log.info(
      { table: name, upper: to, instead: bound.heldBeforeClockChange, timeZone: source.defaultTimeZone },
      'window held back: the local clock of the timestamp cursor is about to repeat an hour (daylight saving time ends)',
    );
  }
  if (settings.dryRun) {
    report.status = 'planned';
    report.plannedRows = to > from ? await source.countWindow(info, from, to) : 0;
    report.plannedKey = runKeys(settings.layout, folder, to, 1)[0] ?? '';
    return;
  }
  if (to <= from) {
    if (report.keys.length === 0) report.status = 'no-rows';
    emit({ type: 'no-rows', table: name, from, to });
    log.warn({ table: name, from, to }, 'no new rows (the window is empty)');
    return;
  }
  await runWindow(run, from, to, randomUUID(), [], state);
}

interface Run {
  ctx: TableContext;
  name: string;
  info: TableInfo;
  plans: ColumnPlan[];
  folder: string;
  columns: { name: string; type: string }[];
  report: TableReport;
  lock: TableLock | undefined;
}

/**
 * Extract [from, to) -> Parquet -> upload + verify -> commit state -> drop the pending marker. `staleKeys`
 * are a pending attempt's keys: overwritten where the redo writes the same key, deleted otherwise.
 */
async function runWindow(
  run: Run,
  from: string,
  to: string,
  runId: string,
  staleKeys: readonly string[],
  state: { value: IngestState; etag: string | undefined } | undefined,
  finishing = false,
): Promise<void> {
  const { ctx, name, info, plans, folder, report } = run;
  const { source, store, settings, log, emit, signal } = ctx;
  const op = signal ? { signal } : {};
  await makeDir(settings.tempDir);
  const temp = await mkdtemp(join(settings.tempDir, 'wharf-ingest-'));
  try {
    const t0 = Date.now();
    const csv = join(temp, 'rows.csv');
    const outDir = join(temp, 'parquet');
    await mkdir(outDir);
    const toParquet = async (bytesPerRow: number): Promise<CsvToParquetResult> => {
      const { csvToParquet } = await import('./parquet/duckdb-writer.js');
      return csvToParquet({
        csv,
        csvBytesPerRow: bytesPerRow,
        plans,
        outDir,
        tempDir: join(temp, 'duckdb'),
        maxFileSize: settings.maxFileSize,
        cursor: info.cursor.name,
        cursorIsUtc: info.cursor.base === 'timestamptz',
        primaryKey: info.primaryKey,
      });
    };
    // Through a named pipe DuckDB writes Parquet while COPY still runs; it starts at the first batch of rows
    // (never for an empty window). Without pipes: COPY into a temp file, then DuckDB.
    const piped = process.env.WHARF_INGEST_PIPE !== '0' && (await makePipe(csv));
    let parquet: Promise<CsvToParquetResult> | undefined;
    const openSink = piped
      ? (first: Buffer): Promise<FileHandle> => {
          parquet = toParquet(csvBytesPerRow(first));
          parquet.catch(() => undefined);
          return openPipeForWriting(csv, parquet);
        }
      : (): Promise<FileHandle> => open(csv, 'w');
    // A value the Parquet cannot hold: its row is looked up in PostgreSQL for the message.
    const explain = async (error: unknown): Promise<unknown> =>
      error instanceof UnwritableValueError
        ? explainUnwritableValue(error, source, info, plans, from, to)
        : error;
    let extracted: { rows: number; bytes: number };
    try {
      extracted = await source.copyWindow(info, plans, from, to, openSink, {
        signal,
        onBytes: (bytes) => emit({ type: 'extract-progress', table: name, bytes }),
      });
    } catch (error) {
      // DuckDB failing mid-stream breaks the pipe under COPY: its own error says more.
      const duckdbError = await parquet?.then(
        () => undefined,
        (e: unknown) => e,
      );
      throw await explain(duckdbError ?? error);
    }
    emit({ type: 'extracted', table: name, rows: extracted.rows, bytes: extracted.bytes });
    log.info(
      { table: name, from, to, rows: extracted.rows, bytes: extracted.bytes, ms: Date.now() - t0 },
      'extracted window',
    );
    let keys: string[] = [];
    let lastRow: IngestState['lastRow'] = state?.value.lastRow ?? null;
    if (extracted.rows > 0) {
      const t1 = Date.now();
      const written = await (parquet ?? toParquet(extracted.bytes / extracted.rows)).catch(
        async (error: unknown) => {
          throw await explain(error);
        },
      );
      await rm(csv, { force: true });
      const total = written.files.reduce((n, f) => n + f.rows, 0);
      if (total !== extracted.rows) {
        throw new WharfError(
          'INTERNAL',
          `the Parquet files hold ${total} rows but COPY sent ${extracted.rows}; nothing was uploaded`,
        );
      }
      lastRow = written.lastRow ?? lastRow;
      const bytes = written.files.reduce((n, f) => n + f.size, 0);
      emit({ type: 'written', table: name, files: written.files.length, bytes });
      log.info({ table: name, files: written.files.length, bytes, ms: Date.now() - t1 }, 'wrote Parquet');
      keys = runKeys(settings.layout, folder, to, written.files.length);
      const marker: PendingRun = {
        version: 1,
        table: `${info.schema}.${info.table}`,
        runId,
        from,
        to,
        keys: [...new Set([...keys, ...staleKeys])],
        startedAt: new Date().toISOString(),
      };
      // A fresh run creates the marker only if none exists: a second ingest of the same table running at the
      // same time fails here, before uploading anything. Finishing a pending run replaces its marker.
      try {
        await writeJson(store, pendingKey(folder), marker, {
          ...op,
          ...(finishing ? {} : { ifNoneMatch: '*' as const }),
        });
      } catch (error) {
        if (error instanceof WharfError && error.code === 'PRECONDITION_FAILED') {
          throw new ConflictError(
            `another ingest of ${name} is running (its pending marker appeared during this run)`,
            {
              cause: error,
              hint: 'run one ingest per table at a time; this run uploaded nothing',
            },
          );
        }
        throw error;
      }
      for (const [i, file] of written.files.entries()) {
        throwIfAborted(signal);
        const key = keys[i] ?? '';
        const t2 = Date.now();
        const put = await store.write(key, createReadStream(file.path), {
          ...op,
          size: file.size,
          contentType: 'application/vnd.apache.parquet',
          metadata: { 'wharf-ingest-run': runId, 'wharf-rows': String(file.rows) },
        });
        const check = await store.stat(key, op);
        if (
          !check ||
          check.size !== file.size ||
          (put.etag && check.etag && !sameEtag(put.etag, check.etag))
        ) {
          throw new WharfError(
            'IO',
            `uploaded ${joinKey(store.name, key)} but it reads back as ${check ? `${check.size} bytes` : 'absent'}, expected ${file.size} bytes`,
            {
              retryable: true,
              hint: 'run again: the pending run is redone and the state was not advanced',
            },
          );
        }
        report.bytes += file.size;
        emit({ type: 'uploaded', table: name, key, size: file.size });
        log.info(
          { table: name, key, bytes: file.size, rows: file.rows, ms: Date.now() - t2 },
          'uploaded and verified',
        );
      }
    }
    const stale = staleKeys.filter((k) => !keys.includes(k));
    if (stale.length > 0) await store.delete(stale, op);
    const next: IngestState = {
      version: 1,
      table: `${info.schema}.${info.table}`,
      cursorColumn: info.cursor.name,
      watermark: to,
      lastRow,
      keys,
      runId,
      rows: extracted.rows,
      committedAt: new Date().toISOString(),
      columns: run.columns,
    };
    run.lock?.assertHeld();
    try {
      await writeJson(store, stateKey(folder), next, {
        ...op,
        ...(state?.etag ? { ifMatch: state.etag } : { ifNoneMatch: '*' as const }),
      });
    } catch (error) {
      if (error instanceof WharfError && error.code === 'PRECONDITION_FAILED') {
        // Our objects are not committed and overlap the other run's window: remove them (best effort).
        await store
          .delete(
            keys.filter((k) => !staleKeys.includes(k)),
            op,
          )
          .catch(() => undefined);
        throw new ConflictError(
          `another ingest of ${name} committed while this one ran; this run's state was not written`,
          {
            cause: error,
            hint: 'run one ingest per table at a time; the next run finishes or clears the pending work',
          },
        );
      }
      throw error;
    }
    if (keys.length > 0 || staleKeys.length > 0) await store.delete([pendingKey(folder)], op);
    emit({ type: 'committed', table: name, runId, keys, rows: extracted.rows, watermark: to });
    report.rows += extracted.rows;
    if (keys.length > 0) {
      report.keys.push(...keys);
      report.key = keys[0] ?? null;
      report.status = 'written';
      log.info({ table: name, runId, rows: extracted.rows, keys, watermark: to }, 'committed state');
    } else {
      if (report.keys.length === 0) report.status = 'no-rows';
      emit({ type: 'no-rows', table: name, from, to });
      log.warn({ table: name, from, to }, 'no new rows');
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** A table's report before anything of it ran: failed until the run says otherwise. */
function notRun(table: string): TableReport {
  return { table, status: 'failed', key: null, keys: [], rows: 0, bytes: 0, seconds: 0 };
}
