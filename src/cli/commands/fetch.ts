import { Option, type Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { formatBytes, formatSeconds, parseSize } from '../../core/units.js';
import {
  FETCH_DEFAULTS,
  fetchDataset,
  type FetchedFile,
  type FetchResult,
} from '../../fetch/fetch-dataset.js';
import { GLOB_DIALECT_HELP } from '../../fetch/key-filter.js';
import { positiveInt, type CommandContext, type RunAction } from '../context.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { createProgress } from '../progress.js';

interface FetchFlags {
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
Patterns (--include/--exclude) are globs on the key relative to the prefix:
${GLOB_DIALECT_HELP}

Every file is downloaded to a temporary file, checked (size; MD5 or multipart ETag; SHA-256 when the
uploader stored one), fsynced and renamed into place. A rerun downloads only new or changed objects: the
index in DEST/<id>/.wharf/ remembers each object's ETag and the local file's size and mtime. Large files
come in parallel byte ranges and resume where they stopped after Ctrl-C or a crash.

In-flight requests never exceed max(--concurrency, --part-concurrency); memory stays near one 256 KiB
read buffer per connection and two write buffers per request in flight (about 60 MiB with the defaults),
plus 1 MiB per large file being checked.

Examples:
  wharf fetch s3://my-bucket/exports/2024-06/ ./data --include '**/*.parquet'
  wharf fetch s3://my-bucket/unload/ --manifest manifest.json --dataset-id sales
  wharf fetch s3://my-bucket/datamart/ --meta-files --timestamp-tolerance 4
  wharf fetch s3://my-bucket/exports/ --delete --dry-run
  wharf fetch --json s3://my-bucket/exports/ | jq '.files[].path'`,
    )
    .action(
      run((ctx: CommandContext, source: string, dest: string, flags: FetchFlags) =>
        fetch(ctx, source, dest, flags),
      ),
    );
}

async function fetch(ctx: CommandContext, source: string, dest: string, flags: FetchFlags): Promise<number> {
  const { output, signal } = ctx;
  const progress = await createProgress(output, 'fetch');
  let result: FetchResult;
  try {
    result = await fetchDataset({
      source,
      dest,
      storage: ctx.storage,
      signal,
      ...(flags.include ? { include: flags.include } : {}),
      ...(flags.exclude ? { exclude: flags.exclude } : {}),
      ...(flags.datasetId !== undefined ? { datasetId: flags.datasetId } : {}),
      ...(flags.manifest !== undefined ? { manifest: flags.manifest } : {}),
      metaFiles: flags.metaFiles ?? false,
      ...(flags.timestampTolerance !== undefined
        ? { timestampToleranceHours: flags.timestampTolerance }
        : {}),
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
      ...(flags.partConcurrency !== undefined ? { partConcurrency: flags.partConcurrency } : {}),
      ...(flags.partSize !== undefined ? { partSize: flags.partSize } : {}),
      force: flags.force ?? false,
      verify: flags.verify ?? false,
      delete: flags.delete ?? false,
      dryRun: flags.dryRun ?? false,
      onEvent: (event) => {
        switch (event.type) {
          case 'planned':
            if (!flags.dryRun) {
              output.info(
                `${event.selected} selected of ${event.listed} listed; ${event.toFetch} to download (${formatBytes(event.snapshot.totalBytes ?? 0)})`,
              );
            }
            if (event.toFetch > 0 && !flags.dryRun) progress.update(event.snapshot);
            break;
          case 'progress':
          case 'file-done':
            progress.update(event.snapshot);
            if (event.type === 'file-done')
              output.debug(`downloaded ${event.file.key} -> ${event.file.path}`);
            break;
          case 'file-failed':
            progress.update(event.snapshot);
            break;
          case 'retry':
            output.debug(`retrying ${event.key} (attempt ${event.attempt + 1}): ${event.error.message}`);
            break;
          case 'deleted':
            break;
          case 'warning':
            output.warn(event.message);
            break;
        }
      },
    });
  } finally {
    progress.stop();
  }
  render(output, result, flags.dryRun ?? false);
  return result.stats.failed > 0 ? EXIT.failure : EXIT.ok;
}

function render(output: Output, result: FetchResult, dryRun: boolean): void {
  if (output.json) {
    output.record({
      datasetId: result.datasetId,
      datasetDir: result.datasetDir,
      dryRun,
      files: result.files.map(fileRecord),
      deleted: result.deleted,
      stats: result.stats,
    });
  }
  const failed = result.files.filter((f) => f.status === 'failed');
  for (const f of failed) if (f.error) output.error(f.error);
  if (dryRun) {
    if (!output.json) {
      for (const f of result.files) {
        if (f.status === 'planned') output.line(`would download ${f.key} -> ${f.path} (${f.reason})`);
      }
      for (const path of result.deleted) output.line(`would delete ${path}`);
    }
    const planned = result.files.filter((f) => f.status === 'planned');
    output.info(
      `dry run: ${planned.length} to download (${formatBytes(planned.reduce((n, f) => n + f.size, 0))}), ${result.stats.skipped} up to date, ${result.deleted.length} to delete; nothing changed`,
    );
    return;
  }
  const s = result.stats;
  const parts = [
    `${s.downloaded} downloaded (${formatBytes(s.bytes)})`,
    `${s.skipped} up to date`,
    ...(result.deleted.length ? [`${result.deleted.length} deleted`] : []),
    ...(s.failed ? [`${s.failed} failed`] : []),
  ];
  output.info(`${parts.join(', ')} in ${formatSeconds(s.seconds * 1000)} -> ${result.datasetDir}`);
}

function fileRecord(f: FetchedFile): Record<string, unknown> {
  return {
    key: f.key,
    path: f.path,
    size: f.size,
    status: f.status,
    ...(f.reason ? { reason: f.reason } : {}),
    ...(f.verified ? { verified: f.verified } : {}),
    ...(f.error
      ? {
          error: {
            code: f.error.code,
            message: f.error.message,
            ...(f.error.hint ? { hint: f.error.hint } : {}),
          },
        }
      : {}),
  };
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
