import { formatBytes, formatSeconds } from '../../core/units.js';
import { fetchDataset, type FetchedFile, type FetchResult } from '../../fetch/fetch-dataset.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { createProgress } from '../progress.js';
import type { FetchFlags } from './fetch.js';

export async function fetch(
  ctx: CommandContext,
  source: string,
  dest: string,
  flags: FetchFlags,
): Promise<number> {
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
