import { Option, type Command } from 'commander';
import { loadWharfConfig } from '../../app/wharf-config.js';
import { UsageError } from '../../core/errors.js';
import { formatBytes, formatSeconds } from '../../core/units.js';
import { FETCH_DEFAULTS } from '../../fetch/fetch-dataset.js';
import type { BuildTableResult } from '../../tables/build-table.js';
import type { ColumnInfo, JsonValue } from '../../tables/duckdb-session.js';
import { PEGA_DATAMART_PRESET } from '../../tables/presets.js';
import { resolveTable } from '../../tables/table-config.js';
import { SUPPORTED_NAMES_HELP, type TableFormat } from '../../tables/table-format.js';
import { positiveInt, type CommandContext, type RunAction } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { createProgress } from '../progress.js';
import { clip, renderTable } from '../text-table.js';

// DuckDB loads only inside the actions (the tables modules import it on first use), so `wharf --help` stays fast.

interface NameFlags {
  from?: string;
  datamartFolder?: string;
  config?: string;
}

interface BuildFlags extends NameFlags {
  include?: string[];
  exclude?: string[];
  format?: TableFormat;
  metaFiles?: boolean;
  to?: string;
  dedupeOn?: string[];
  sourceColumn?: boolean;
  skipBad?: boolean;
  cache?: string;
  datasetId?: string;
  concurrency?: number;
  timestampTolerance?: number;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const collectColumns = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== ''),
];

function nameOptions(command: Command): Command {
  return command
    .option(
      '--from <location>',
      'base location of named tables, e.g. s3://my-bucket (default: tables.from in the config)',
    )
    .option(
      '--datamart-folder <folder>',
      `folder under --from holding the ${PEGA_DATAMART_PRESET} tables (default: datamart)`,
    )
    .option('--config <path>', 'config file (default: ./wharf.config.json if present)');
}

export function registerTable(program: Command, run: RunAction): void {
  const table = program
    .command('table')
    .description(
      'build one Parquet table from the many small export files under a prefix; inspect and query it',
    )
    .addHelpText(
      'after',
      `
Examples:
  wharf table list --from s3://my-bucket
  wharf table build modelSnapshot --from s3://my-bucket --meta-files --to modelSnapshot.parquet
  wharf table show modelSnapshot.parquet
  wharf table query modelSnapshot.parquet "SELECT Channel, count(*) FROM t GROUP BY 1"`,
    );

  nameOptions(
    table
      .command('build')
      .description('fetch a table’s files (only new ones) and write them as one zstd Parquet file')
      .argument(
        '<name|source>',
        `a table name (from the config or the ${PEGA_DATAMART_PRESET} preset) or a location s3://BUCKET/PREFIX`,
      ),
  )
    .option(
      '-i, --include <glob>',
      'read only keys matching the glob, relative to the prefix (repeatable; default: every readable file)',
      collect,
    )
    .option('-x, --exclude <glob>', 'skip keys matching the glob (repeatable)', collect)
    .addOption(
      new Option('--format <format>', 'row format of every file; auto tells it from each name').choices([
        'auto',
        'json',
        'ndjson',
        'csv',
      ]),
    )
    .option('--meta-files', 'read a file only when its companion .<name>.meta exists (Pega exports)')
    .option(
      '--to <path|url>',
      'output: a local path or s3://BUCKET/KEY.parquet; a folder gets NAME.parquet (default ./NAME.parquet)',
    )
    .option(
      '--dedupe-on <columns>',
      'keep one row per value of these columns (comma-separated): the last in file order',
      collectColumns,
    )
    .option('--no-source-column', 'leave out the _source_file column')
    .option(
      '--skip-bad',
      'leave out files that cannot be parsed (a warning with their count) instead of failing',
    )
    .option('--cache <dir>', 'fetch cache folder, as `wharf fetch DEST` (default ./data)')
    .option('--dataset-id <id>', 'folder name in the cache (default: a fingerprint of the selection)')
    .option(
      '-j, --concurrency <n>',
      `files fetched at once (default ${FETCH_DEFAULTS.concurrency})`,
      positiveInt('--concurrency'),
    )
    .option(
      '--timestamp-tolerance <hours>',
      'refuse if the files were last modified more than HOURS apart',
      (v) => {
        const n = Number(v);
        if (v.trim() === '' || !Number.isFinite(n) || n < 0)
          throw new UsageError(`--timestamp-tolerance must be a number >= 0, got ${JSON.stringify(v)}`);
        return n;
      },
    )
    .addHelpText(
      'after',
      `
Reads ${SUPPORTED_NAMES_HELP}. Files whose columns differ are combined by column
name (a missing column is NULL). Source files come through the fetch cache: a rebuild downloads only new or
changed files. The Parquet file appears only when complete (temp file + rename, or one upload to S3).

Named tables: wharf.config.json {"tables": {"from": "s3://my-bucket", "define": {"orders": {"prefix":
"exports/orders", "include": ["**/*.csv.gz"], "format": "csv"}}}}; the ${PEGA_DATAMART_PRESET} names
(modelSnapshot, predictorSnapshot, ...) live under FROM/DATAMART-FOLDER/ (see \`wharf table list\`).

Examples:
  wharf table build modelSnapshot --from s3://my-bucket --meta-files --to modelSnapshot.parquet
  wharf table build s3://my-bucket/exports/orders/ --dedupe-on order_id --to s3://my-bucket/tables/orders.parquet
  wharf table build ./exports --format ndjson --include '**/*.txt' --skip-bad`,
    )
    .action(
      run((ctx: CommandContext, nameOrSource: string, flags: BuildFlags) => build(ctx, nameOrSource, flags)),
    );

  nameOptions(
    table
      .command('list')
      .description('show the known table names, where their files are and whether there are any'),
  )
    .addHelpText(
      'after',
      `
Examples:
  wharf table list --from s3://my-bucket
  wharf table list --from s3://my-bucket --datamart-folder exports/datamart --json
  wharf table list --config ./wharf.config.json`,
    )
    .action(run((ctx: CommandContext, flags: NameFlags) => list(ctx, flags)));

  table
    .command('show')
    .description('print the schema, row count and first rows of a Parquet table')
    .argument('<file>', 'a Parquet file: local path or s3://BUCKET/KEY')
    .option('-n, --limit <n>', 'rows to show (default 10)', positiveInt('--limit'))
    .addHelpText(
      'after',
      `
Examples:
  wharf table show modelSnapshot.parquet
  wharf table show s3://my-bucket/tables/orders.parquet --limit 3`,
    )
    .action(run((ctx: CommandContext, file: string, flags: { limit?: number }) => show(ctx, file, flags)));

  table
    .command('query')
    .description(
      'run DuckDB SQL over a Parquet table (as view t); CSV on stdout, or one JSON object per row with --json',
    )
    .argument('<file>', 'a Parquet file: local path or s3://BUCKET/KEY')
    .argument('<sql>', 'the query, e.g. "SELECT Channel, count(*) FROM t GROUP BY 1"')
    .addHelpText(
      'after',
      `
The table is the view t, and also the file's name when that is a plain identifier (e.g. modelSnapshot).

Examples:
  wharf table query modelSnapshot.parquet "SELECT Channel, count(*) FROM t GROUP BY 1"
  wharf table query s3://my-bucket/tables/orders.parquet "SELECT * FROM t LIMIT 10" > orders.csv
  wharf --json table query modelSnapshot.parquet "SELECT * FROM modelSnapshot LIMIT 3" | jq .`,
    )
    .action(run((ctx: CommandContext, file: string, sql: string) => query(ctx, file, sql)));
}

async function build(ctx: CommandContext, nameOrSource: string, flags: BuildFlags): Promise<number> {
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
    const dedupeOn = flags.dedupeOn ?? table.dedupeOn;
    result = await buildTable({
      source: table.source,
      name: table.name,
      storage: ctx.storage,
      signal,
      ...(include ? { include } : {}),
      ...(flags.exclude ? { exclude: flags.exclude } : {}),
      ...(format ? { format } : {}),
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
      `${table.name}: ${result.rows} rows, ${result.columns.length} columns from ${result.sourceFiles.length} files ` +
        `(${result.fetch.downloaded} downloaded, ${result.fetch.skipped} up to date) in ${formatSeconds(result.seconds * 1000)}`,
    );
    output.line(`${result.path} (${formatBytes(result.bytes)})`);
  }
  await flushStdout();
  return EXIT.ok;
}

async function list(ctx: CommandContext, flags: NameFlags): Promise<number> {
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

async function show(ctx: CommandContext, file: string, flags: { limit?: number }): Promise<number> {
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

async function query(ctx: CommandContext, file: string, sql: string): Promise<number> {
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
