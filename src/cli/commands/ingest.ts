import { Option, type Command } from 'commander';
import { parseDurationSeconds, parseSize } from '../../core/units.js';
import type { CommandContext, RunAction } from '../context.js';

export interface IngestFlags {
  source?: string;
  sourceFile?: string;
  sourceSecret?: string;
  dest: string;
  tables?: string[];
  all?: boolean;
  schema: string;
  cursorColumn: string;
  lag: number;
  initial?: string;
  until?: string;
  maxFileSize: number;
  layout?: string;
  guardWait: number;
  dryRun?: boolean;
}

/** Comma-separated table names; a comma inside double quotes (`'"a,b"'`) is part of the name. */
const tableList = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...splitOutsideQuotes(value)
    .map((t) => t.trim())
    .filter((t) => t !== ''),
];

/** Splits at commas outside double quotes; with an unbalanced quote (`x"y`), at every comma. */
function splitOutsideQuotes(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return quoted ? value.split(',') : parts;
}

export function registerIngest(program: Command, run: RunAction): void {
  program
    .command('ingest')
    .description('incremental PostgreSQL -> Parquet -> bucket: no lost rows, exact types, constant memory')
    .requiredOption('--dest <location>', 'where the Parquet goes: s3://BUCKET/PREFIX or a local folder')
    .option(
      '--source <url>',
      'postgres://user:password@host:port/db (default: the PG* environment variables)',
    )
    .option('--source-file <path>', 'a file holding the connection URL or RDS-style JSON')
    .option(
      '--source-secret <name>',
      'AWS Secrets Manager secret with RDS-style JSON {host, port, username, password, dbname}',
    )
    .option(
      '--tables <list>',
      'comma-separated tables (schema.table outside --schema; a name with a dot or a comma in double quotes, \'"a.b"\'; repeatable)',
      tableList,
    )
    .option('--all', 'every base table in --schema that has the cursor column')
    .option('--schema <name>', 'schema of unqualified table names', 'public')
    .option('--cursor-column <name>', 'timestamptz column set to now() on insert and update', 'last_updated')
    .addOption(
      new Option('--lag <duration>', 'keep the window this far behind the database clock')
        .argParser((v) => parseDurationSeconds(v, '--lag'))
        .default(30, '30s'),
    )
    .option(
      '--initial <instant>',
      'lower bound of the first run, e.g. 2000-01-01T00:00:00Z (default: every row)',
    )
    .option('--until <instant>', 'cap the window at this instant (backfills in slices)')
    .addOption(
      new Option('--max-file-size <size>', 'split a run into -0001, -0002, ... parts above this size')
        .argParser((v) => parseSize(v, '--max-file-size'))
        .default(256 * 1024 ** 2, '256MiB'),
    )
    .option('--layout <template>', 'object key template (see docs/ingest.md)')
    .addOption(
      new Option(
        '--guard-wait <duration>',
        'wait this long for open transactions whose start is hidden (of other roles, or prepared)',
      )
        .argParser((v) => parseDurationSeconds(v, '--guard-wait'))
        .default(60, '60s'),
    )
    .option('-n, --dry-run', 'show the windows, row counts and would-be keys; write nothing')
    .addHelpText(
      'after',
      `
Each table's rows with cursor in [previous watermark, upper bound) go to one Parquet object (split into
parts above --max-file-size) at DEST/<table>/yyyy/mm/dd/hhmmssffffff.parquet, the upper bound in UTC.
The upper bound is the database clock minus --lag, held back to the start of the oldest open
transaction, so a transaction that commits late is picked up by the next run. State goes to
DEST/_wharf/ingest/<table>.json only after every object is uploaded and verified; an interrupted run is
redone over the same window and keys before new work. Every table runs even if another fails.

Examples:
  wharf ingest --source postgres://etl@db:5432/shop --dest s3://lake/raw --tables orders,customers
  PGHOST=db PGUSER=etl PGPASSWORD=... wharf ingest --dest s3://lake/raw --all --lag 1m
  wharf ingest --source-secret prod/shop --dest s3://lake/raw --tables sales.orders --dry-run
  wharf ingest --json --dest s3://lake/raw --tables orders | jq .key`,
    )
    .action(
      run(async (ctx: CommandContext, flags: IngestFlags) => {
        const { ingest } = await import('./ingest-run.js');
        return ingest(ctx, flags);
      }),
    );
}
