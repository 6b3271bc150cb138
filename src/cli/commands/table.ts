import { Option, type Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { FETCH_DEFAULTS } from '../../fetch/fetch-defaults.js';
import { CSV_ENCODINGS, parseCsvEncoding, type CsvEncoding } from '../../tables/csv-encoding.js';
import { PEGA_DATAMART_PRESET } from '../../tables/presets.js';
import { SUPPORTED_NAMES_HELP, TABLE_FORMATS, type TableFormat } from '../../tables/table-format.js';
import { positiveInt, type CommandContext, type RunAction } from '../context.js';

// The bodies (table-run.ts) load only when a table command runs, and DuckDB only on first use inside them.

export interface NameFlags {
  from?: string;
  datamartFolder?: string;
  config?: string;
}

export interface BuildFlags extends NameFlags {
  include?: string[];
  exclude?: string[];
  format?: TableFormat;
  encoding?: CsvEncoding;
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
      'read only keys matching the glob, relative to the prefix (repeatable; default: every readable file but Parquet)',
      collect,
    )
    .option('-x, --exclude <glob>', 'skip keys matching the glob (repeatable)', collect)
    .addOption(
      new Option('--format <format>', 'format of every file; auto tells it from each name').choices([
        ...TABLE_FORMATS,
      ]),
    )
    .option(
      '--encoding <enc>',
      `text encoding of the CSV files that are not UTF-8: ${CSV_ENCODINGS.join(', ')} (default utf-8: such a file is a bad file)`,
      (value) => parseCsvEncoding(value),
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
Reads ${SUPPORTED_NAMES_HELP}.
Parquet files are read only when selected (--include '**/*.parquet'; a table written into its source folder
would otherwise be read back) and keep their column types. Files whose columns differ are combined by column
name (a missing column is NULL). Source files come through the fetch cache: a rebuild downloads only new or
changed files. The Parquet file appears only when complete (temp file + rename, or one upload to S3).

Text is UTF-8, or what its byte-order mark says. --encoding names what the other CSV files are in:
windows-1252 (cp1252, Excel's "CSV" on Windows), latin-1 (iso-8859-1) or utf-16 (without a mark). A CSV file
that is UTF-8 is still read as UTF-8; JSON is always UTF-8 (or UTF-16 with a mark).

Named tables: wharf.config.json {"tables": {"from": "s3://my-bucket", "define": {"orders": {"prefix":
"exports/orders", "include": ["**/*.csv.gz"], "format": "csv", "encoding": "windows-1252"}}}}; the
${PEGA_DATAMART_PRESET} names (modelSnapshot, predictorSnapshot, ...) live under FROM/DATAMART-FOLDER/ (see
\`wharf table list\`).

Examples:
  wharf table build modelSnapshot --from s3://my-bucket --meta-files --to modelSnapshot.parquet
  wharf table build s3://my-bucket/exports/orders/ --dedupe-on order_id --to s3://my-bucket/tables/orders.parquet
  wharf table build ./exports --format ndjson --include '**/*.txt' --skip-bad
  wharf table build s3://my-bucket/exports/crm/ --encoding windows-1252 --to crm.parquet
  wharf table build s3://my-bucket/exports/events/ --include '**/*.parquet' --to events.parquet`,
    )
    .action(
      run(async (ctx: CommandContext, nameOrSource: string, flags: BuildFlags) => {
        const { build } = await import('./table-run.js');
        return build(ctx, nameOrSource, flags);
      }),
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
    .action(
      run(async (ctx: CommandContext, flags: NameFlags) => {
        const { list } = await import('./table-run.js');
        return list(ctx, flags);
      }),
    );

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
    .action(
      run(async (ctx: CommandContext, file: string, flags: { limit?: number }) => {
        const { show } = await import('./table-run.js');
        return show(ctx, file, flags);
      }),
    );

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
    .action(
      run(async (ctx: CommandContext, file: string, sql: string) => {
        const { query } = await import('./table-run.js');
        return query(ctx, file, sql);
      }),
    );
}
