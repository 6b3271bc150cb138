import { loadWharfConfig } from '../../app/wharf-config.js';
import { formatBytes, formatSeconds } from '../../core/units.js';
import type { BuildTableResult } from '../../tables/build-table.js';
import type { ColumnInfo, JsonValue } from '../../tables/duckdb-session.js';
import { resolveTable } from '../../tables/table-config.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { createProgress } from '../progress.js';
import { clip, renderTable } from '../text-table.js';
import type { BuildFlags, NameFlags } from './table.js';

export async function build(ctx: CommandContext, nameOrSource: string, flags: BuildFlags): Promise<number> {
  const { output, signal } = ctx;
  const config = await loadWharfConfig(flags.config !== undefined ? { explicitPath: flags.config } : {});
  const table = resolveTable(nameOrSource, {
    ...(flags.from !== undefined ? { from: flags.from } : {}),
    ...(flags.datamartFolder !== undefined ? { datamartFolder: flags.datamartFolder } : {}),
    ...(config.tables ? { config: config.tables } : {}),
    ...(config.path ? { configPath: config.path } : {}),
  });
  const { buildTable } = await import('../../tables/build-table.js');
  const progress = await createProgress(output, 'fetch');
  let result: BuildTableResult;
  try {
    const include = flags.include ?? table.include;
    const format = flags.format ?? table.format;
    const encoding = flags.encoding ?? table.encoding;
    const dedupeOn = flags.dedupeOn ?? table.dedupeOn;
    result = await buildTable({
      source: table.source,
      name: table.name,
      storage: ctx.storage,
      signal,
      ...(include ? { include } : {}),
      ...(flags.exclude ? { exclude: flags.exclude } : {}),
      ...(format ? { format } : {}),
      ...(encoding ? { encoding } : {}),
      metaFiles: flags.metaFiles ?? false,
      ...(flags.to !== undefined ? { to: flags.to } : {}),
      ...(dedupeOn ? { dedupeOn } : {}),
      sourceColumn: flags.sourceColumn !== false,
      skipBad: flags.skipBad ?? false,
      ...(flags.cache !== undefined ? { cache: flags.cache } : {}),
      ...(flags.datasetId !== undefined ? { datasetId: flags.datasetId } : {}),
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
      ...(flags.timestampTolerance !== undefined
        ? { timestampToleranceHours: flags.timestampTolerance }
        : {}),
      onEvent: (event) => {
        switch (event.type) {
          case 'fetch': {
            const e = event.event;
            if (e.type === 'planned') {
              output.info(`${table.name}: ${e.selected} files in ${table.source}; ${e.toFetch} to download`);
              if (e.toFetch > 0) progress.update(e.snapshot);
            } else if (e.type === 'progress' || e.type === 'file-done' || e.type === 'file-failed') {
              progress.update(e.snapshot);
            } else if (e.type === 'retry') {
              output.debug(`retrying ${e.key} (attempt ${e.attempt + 1}): ${e.error.message}`);
            } else if (e.type === 'warning') {
              output.warn(`${table.name}: ${e.message}`);
            }
            break;
          }
          case 'reading':
            progress.stop();
            output.debug(`reading ${event.files} files with DuckDB`);
            break;
          case 'bad-file':
            output.debug(`left out ${event.file.source}: ${event.file.reason}`);
            break;
          case 'writing':
          case 'uploading':
            break;
        }
      },
    });
  } finally {
    progress.stop();
  }
  if (result.badFiles.length > 0) {
    const first = result.badFiles[0] as BuildTableResult['badFiles'][number];
    output.warn(
      `left out ${result.badFiles.length} file(s) that could not be parsed (--skip-bad); first: ${first.source}: ${first.reason}`,
    );
  }
  if (output.json) {
    output.record({
      table: table.name,
      source: table.source,
      path: result.path,
      rows: result.rows,
      columns: result.columns,
      bytes: result.bytes,
      downloaded: result.fetch.downloaded,
      upToDate: result.fetch.skipped,
      sourceFiles: result.sourceFiles.map((f) => ({ key: f.key, size: f.size, status: f.status })),
      badFiles: result.badFiles,
      emptyFiles: result.emptyFiles,
      datasetDir: result.datasetDir,
      seconds: result.seconds,
    });
  } else {
    output.info(
      `${table.name}: ${result.rows} rows, ${result.columns.length} columns from ${result.sourceFiles.length} files` +
        (result.badFiles.length > 0 ? `, ${result.badFiles.length} of them left out as unreadable` : '') +
        ` (${result.fetch.downloaded} downloaded, ${result.fetch.skipped} up to date) in ${formatSeconds(result.seconds * 1000)}`,
    );
    output.line(`${result.path} (${formatBytes(result.bytes)})`);
  }
  await flushStdout();
  return EXIT.ok;
}

export async function list(ctx: CommandContext, flags: NameFlags): Promise<number> {
  const config = await loadWharfConfig(flags.config !== undefined ? { explicitPath: flags.config } : {});
  const { listTables } = await import('../../tables/list-tables.js');
  const tables = await listTables({
    ...(flags.from !== undefined ? { from: flags.from } : {}),
    ...(flags.datamartFolder !== undefined ? { datamartFolder: flags.datamartFolder } : {}),
    ...(config.tables ? { config: config.tables } : {}),
    storage: ctx.storage,
    signal: ctx.signal,
  });
  const { output } = ctx;
  if (output.json) {
    for (const t of tables) output.record(t);
    await flushStdout();
    return EXIT.ok;
  }
  const state = (t: (typeof tables)[number]): string =>
    t.source === undefined ? 'needs --from' : t.hasFiles ? 'has files' : 'no files';
  output.line(
    renderTable(
      ['NAME', 'ORIGIN', 'FILES', 'SOURCE'],
      tables.map((t) => [t.name, t.origin, state(t), t.source ?? '']),
    ),
  );
  await flushStdout();
  return EXIT.ok;
}

export async function show(ctx: CommandContext, file: string, flags: { limit?: number }): Promise<number> {
  const { showTable } = await import('../../tables/inspect-table.js');
  const summary = await showTable(file, flags.limit ?? 10, { storage: ctx.storage, signal: ctx.signal });
  const { output } = ctx;
  if (output.json) {
    output.record({
      path: summary.path,
      rows: summary.rows,
      columns: summary.columns,
      head: summary.head.map((row) => rowObject(summary.columns, row)),
    });
    await flushStdout();
    return EXIT.ok;
  }
  output.line(`${summary.path}: ${summary.rows} rows, ${summary.columns.length} columns`);
  output.line(
    renderTable(
      ['COLUMN', 'TYPE'],
      summary.columns.map((c) => [c.name, c.type]),
    ),
  );
  if (summary.head.length > 0) {
    output.line('');
    output.line(
      renderTable(
        summary.columns.map((c) => c.name),
        summary.head.map((row) => row.map((v) => clip(cellText(v), 40))),
      ),
    );
  }
  await flushStdout();
  return EXIT.ok;
}

export async function query(ctx: CommandContext, file: string, sql: string): Promise<number> {
  const { streamQuery } = await import('../../tables/inspect-table.js');
  const { output } = ctx;
  let columns: ColumnInfo[] = [];
  await streamQuery(
    file,
    sql,
    (c) => {
      columns = c;
      if (!output.json) output.line(c.map((col) => csvCell(col.name)).join(','));
    },
    (rows) => {
      for (const row of rows) {
        if (output.json) output.record(rowObject(columns, row));
        else output.line(row.map((v) => (v === null ? '' : csvCell(cellText(v)))).join(','));
      }
    },
    { storage: ctx.storage, signal: ctx.signal },
  );
  await flushStdout();
  return EXIT.ok;
}

/**
 * Waits until everything written to stdout has been handed to the OS: on a pipe Node writes asynchronously,
 * and cli/main.ts ends with process.exit, which would cut a large --json record or query result short.
 */
function flushStdout(): Promise<void> {
  return new Promise((resolve) => process.stdout.write('', () => resolve()));
}

function rowObject(columns: ColumnInfo[], row: JsonValue[]): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  columns.forEach((c, i) => {
    out[c.name] = row[i] ?? null;
  });
  return out;
}

function cellText(value: JsonValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** One CSV field; an empty string is `""`, so that it differs from NULL, which is an empty field. */
function csvCell(text: string): string {
  return text === '' || /[",\r\n]/.test(text) || text !== text.trim()
    ? `"${text.replace(/"/g, '""')}"`
    : text;
}
