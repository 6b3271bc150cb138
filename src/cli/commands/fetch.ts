import { Option, type Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { parseSize } from '../../core/units.js';
import { FETCH_DEFAULTS } from '../../fetch/fetch-defaults.js';
import { GLOB_DIALECT_HELP } from '../../fetch/glob-dialect.js';
import { positiveInt, type CommandContext, type RunAction } from '../context.js';

export interface FetchFlags {
  include?: string[];
  exclude?: string[];
  datasetId?: string;
  manifest?: string;
  metaFiles?: boolean;
  timestampTolerance?: number;
  concurrency?: number;
  partConcurrency?: number;
  partSize?: number;
  force?: boolean;
  verify?: boolean;
  delete?: boolean;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerFetch(program: Command, run: RunAction): void {
  program
    .command('fetch')
    .description(
      'pull a dataset (a prefix, filtered by globs) into a local cache: only what changed, verified, resumable',
    )
    .argument('<source>', 'the dataset: s3://BUCKET/PREFIX, file:///PATH or a local folder')
    .argument('[dest]', `cache folder; the dataset lands in DEST/<dataset-id>/`, FETCH_DEFAULTS.dest)
    .option('-i, --include <glob>', 'fetch only keys matching the glob (repeatable; OR)', collect)
    .option('-x, --exclude <glob>', 'skip keys matching the glob (repeatable; wins over --include)', collect)
    .option('--dataset-id <id>', 'folder name under DEST (default: a fingerprint of the selection)')
    .option(
      '--manifest <name>',
      'object under the prefix listing the files to fetch (JSON UNLOAD manifest or one key per line)',
    )
    .option(
      '--meta-files',
      'fetch a file only when its companion .<name>.meta exists (never the .meta files)',
    )
    .addOption(
      new Option(
        '--timestamp-tolerance <hours>',
        'refuse if the selected files were last modified more than HOURS apart',
      ).argParser(nonNegativeNumber('--timestamp-tolerance')),
    )
    .option(
      '-j, --concurrency <n>',
      `files at once; also the cap on requests in flight (default ${FETCH_DEFAULTS.concurrency})`,
      positiveInt('--concurrency'),
    )
    .option(
      '--part-concurrency <n>',
      `parallel byte ranges per large file (default ${FETCH_DEFAULTS.partConcurrency})`,
      positiveInt('--part-concurrency'),
    )
    .option(
      '--part-size <size>',
      'bytes per range, e.g. 8MiB; files over twice this come in ranges (default 8MiB)',
      (v) => parseSize(v, '--part-size'),
    )
    .option('--force', 'download everything again')
    .option('--verify', 're-hash local files and repair any that were modified or truncated')
    .option('--delete', 'delete local files in the dataset folder that are not in the selection')
    .option('-n, --dry-run', 'show what would be downloaded and deleted; change nothing')
    .addHelpText(
      'after',
      `
Patterns (--include/--exclude):
${GLOB_DIALECT_HELP}

Every file is downloaded to a temporary file, checked (size; MD5 or multipart ETag; SHA-256 when the
uploader stored one), fsynced and renamed into place. A rerun downloads only new or changed objects: the
index in DEST/<id>/.wharf/ remembers each object's ETag and the local file's size and mtime. Large files
come in parallel byte ranges and resume where they stopped after Ctrl-C or a crash.

In-flight requests never exceed max(--concurrency, --part-concurrency), of which at most 64 stream
bodies above 256 KiB; memory stays within one 256 KiB read buffer per connection, the body of each small
object in flight and two write buffers per streamed request (at most about 210 MiB with the defaults).

Examples:
  wharf fetch s3://my-bucket/exports/2024-06/ ./data --include '**/*.parquet'
  wharf fetch s3://my-bucket/unload/ --manifest manifest.json --dataset-id sales
  wharf fetch s3://my-bucket/datamart/ --meta-files --timestamp-tolerance 4
  wharf fetch s3://my-bucket/exports/ --delete --dry-run
  wharf fetch --json s3://my-bucket/exports/ | jq '.files[].path'`,
    )
    .action(
      run(async (ctx: CommandContext, source: string, dest: string, flags: FetchFlags) => {
        const { fetch } = await import('./fetch-run.js');
        return fetch(ctx, source, dest, flags);
      }),
    );
}

function nonNegativeNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new UsageError(`${name} must be a number of hours >= 0, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}
