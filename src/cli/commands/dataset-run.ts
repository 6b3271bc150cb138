import { UsageError, ValidationError, WharfError } from '../../core/errors.js';
import { formatBytes, formatSeconds, parseDurationSeconds } from '../../core/units.js';
import type { FailedTransfer } from '../../client/errors.js';
import type { DownloadResult, TransferEvent, UploadResult } from '../../client/transfers.js';
import type { DatasetRecord } from '../../datastore/model/dataset.js';
import { positiveInt, type CommandContext } from '../context.js';
import { connect } from '../datastore-connection.js';
import type { ServerFlags } from '../datastore-options.js';
import { DATASET_HEADER, datasetRows, describeDataset, shellQuote, shortTime } from '../datastore-render.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { readJsonInput } from '../read-input.js';
import { createProgress } from '../progress.js';
import { clip, renderTable, visible } from '../text-table.js';
import type { ListFlags } from './dataset.js';

const SORTS: Record<string, 'created' | 'updated' | 'displayName' | 'releaseTime'> = {
  created: 'created',
  updated: 'updated',
  name: 'displayName',
  displayname: 'displayName',
  released: 'releaseTime',
  'release-time': 'releaseTime',
  releasetime: 'releaseTime',
};

function transferProgress(ctx: CommandContext, label: string) {
  const bar = createProgress(ctx.output, label);
  return {
    onEvent: async (event: TransferEvent) => {
      if (event.type === 'progress' || event.type === 'file-done') (await bar).update(event.snapshot);
      if (event.type === 'retry')
        ctx.output.debug(`retrying ${event.path} (attempt ${event.attempt + 1}): ${event.error.message}`);
    },
    stop: async () => (await bar).stop(),
  };
}

/** The partial result a TransferFailedError carries (some files failed); rethrows any other error. */
function partialResult<R extends { failed: FailedTransfer[] }>(error: unknown): R {
  const result = (error as { result?: R }).result;
  if (!(error instanceof WharfError) || !Array.isArray(result?.failed)) throw error;
  return result;
}

/** After the per-file lines and the summary: each failure (text mode) and the error; returns its exit code. */
function reportTransferFailure(ctx: CommandContext, error: WharfError, failed: FailedTransfer[]): number {
  // With --json the failures are records on stdout already.
  if (!ctx.output.json) {
    for (const f of failed) {
      ctx.output.error(
        new WharfError(
          f.error.code,
          `${f.path}: ${f.error.message}`,
          f.error.hint ? { hint: f.error.hint } : {},
        ),
      );
    }
  }
  ctx.output.error(error);
  return exitCodeFor(error.code);
}

function failedRecords(action: string, failed: FailedTransfer[]): Record<string, unknown>[] {
  return failed.map((f) => ({
    action,
    status: 'failed',
    path: f.path,
    error: { code: f.error.code, message: f.error.message, ...(f.error.hint ? { hint: f.error.hint } : {}) },
  }));
}

const files = (n: number) => `${n} file${n === 1 ? '' : 's'}`;

/** One line per file (uploaded, skipped, failed) and a summary: the same whether or not some files failed. */
function printUpload(ctx: CommandContext, id: string, result: UploadResult, started: number): void {
  const failed = result.failed.length;
  if (ctx.output.json) {
    for (const f of result.uploaded) ctx.output.record({ action: 'upload', status: 'uploaded', ...f });
    for (const f of result.skipped) ctx.output.record({ action: 'skip', status: 'skipped', ...f });
    for (const r of failedRecords('upload', result.failed)) ctx.output.record(r);
    ctx.output.record({
      summary: {
        uploaded: result.uploaded.length,
        skipped: result.skipped.length,
        failed,
        bytes: result.bytes,
        seconds: (Date.now() - started) / 1000,
      },
    });
    return;
  }
  ctx.output.info(
    `uploaded ${files(result.uploaded.length)} (${formatBytes(result.bytes)}) to ${id} in ${formatSeconds(Date.now() - started)}` +
      (result.skipped.length
        ? `; skipped ${result.skipped.length} (${result.skipped
            .map((s) => s.path)
            .slice(0, 3)
            .join(', ')})`
        : '') +
      (failed ? `; ${files(failed)} failed` : ''),
  );
}

function printDownload(ctx: CommandContext, result: DownloadResult, started: number): void {
  const downloaded = result.files.filter((f) => f.status === 'downloaded').length;
  const failed = result.failed.length;
  if (ctx.output.json) {
    for (const f of result.files) {
      ctx.output.record({ action: f.status === 'downloaded' ? 'download' : 'skip', ...f });
    }
    for (const r of failedRecords('download', result.failed)) ctx.output.record(r);
    ctx.output.record({
      summary: {
        downloaded,
        skipped: result.files.length - downloaded,
        failed,
        bytes: result.bytes,
        dest: result.dest,
        seconds: (Date.now() - started) / 1000,
      },
    });
    return;
  }
  ctx.output.info(
    `downloaded ${files(downloaded)} (${formatBytes(result.bytes)}) to ${result.dest} in ${formatSeconds(Date.now() - started)}` +
      (result.files.length > downloaded ? `; ${result.files.length - downloaded} already up to date` : '') +
      (failed ? `; ${files(failed)} failed` : ''),
  );
}

export async function mint(ctx: CommandContext, file: string, flags: ServerFlags): Promise<void> {
  const metadata = await readJsonInput(file, 'dataset metadata');
  const ds = await connect(flags);
  const record = await ds.mintDataset(metadata as never);
  if (ctx.output.json) ctx.output.record(record);
  else {
    ctx.output.line(visible(record.id));
    ctx.output.info(`minted ${record.id} (${record.metadata.datasetInfo.name}); you own it`);
  }
}

export async function validate(ctx: CommandContext, file: string, flags: ServerFlags): Promise<number> {
  const metadata = await readJsonInput(file, 'dataset metadata');
  const ds = await connect(flags);
  const result = await ds.validateDatasetMetadata(metadata);
  if (ctx.output.json) ctx.output.record(result);
  else if (result.valid) ctx.output.line('valid');
  else
    for (const issue of result.issues)
      ctx.output.line(visible(`${issue.path || '(root)'}: ${issue.message}`));
  if (result.valid) return EXIT.ok;
  if (!ctx.output.json) {
    ctx.output.error(
      new ValidationError(
        `${file === '-' ? 'the metadata' : file} is invalid (${result.issues.length} problem${result.issues.length === 1 ? '' : 's'})`,
        { hint: 'fix the fields listed above' },
      ),
    );
  }
  return EXIT.usage;
}

export async function show(ctx: CommandContext, id: string, flags: ServerFlags): Promise<void> {
  const record = await (await connect(flags)).fetchDataset(id);
  if (ctx.output.json) ctx.output.record(record);
  else ctx.output.line(describeDataset(record));
}

export async function list(ctx: CommandContext, flags: ListFlags): Promise<void> {
  const sortBy = SORTS[(flags.sort ?? 'created').toLowerCase()];
  if (!sortBy)
    throw new UsageError(
      `unknown --sort ${JSON.stringify(flags.sort)}: use created, updated, name or released`,
    );
  const ds = await connect(flags);
  const query = {
    sortBy,
    ascending: flags.asc === true,
    ...(flags.pageSize !== undefined ? { pageSize: flags.pageSize } : {}),
    ...(flags.releaseStatus ? { releaseStatus: flags.releaseStatus } : {}),
    ...(flags.approver ? { approver: flags.approver } : {}),
  };
  if (flags.all) {
    const rows: DatasetRecord[] = [];
    for await (const record of ds.forAllDatasets(query)) {
      if (ctx.output.json) ctx.output.record(record);
      else rows.push(record);
    }
    if (!ctx.output.json) printDatasets(ctx, rows);
    return;
  }
  const page = await ds.listDatasets({
    ...query,
    ...(flags.pageKey ? { paginationKey: flags.pageKey } : {}),
  });
  if (ctx.output.json) {
    for (const record of page.items) ctx.output.record(record);
    if (page.paginationKey) ctx.output.record({ paginationKey: page.paginationKey });
    return;
  }
  printDatasets(ctx, page.items);
  if (page.paginationKey) {
    // The key belongs to this order and these filters: the command printed must repeat them.
    const again = [
      'wharf dataset list',
      ...(flags.sort !== undefined && flags.sort !== 'created' ? [`--sort ${flags.sort}`] : []),
      ...(flags.asc ? ['--asc'] : []),
      ...(flags.pageSize !== undefined ? [`--page-size ${flags.pageSize}`] : []),
      ...(flags.releaseStatus ? [`--release-status ${flags.releaseStatus}`] : []),
      ...(flags.approver ? [`--approver ${shellQuote(flags.approver)}`] : []),
      `--page-key ${page.paginationKey}`,
    ];
    ctx.output.info(`more: ${again.join(' ')} (or --all)`);
  }
}

export async function search(
  ctx: CommandContext,
  query: string,
  flags: ServerFlags & { limit?: number },
): Promise<void> {
  const hits = await (
    await connect(flags)
  ).searchDatasets(query, flags.limit !== undefined ? { limit: flags.limit } : {});
  if (ctx.output.json) {
    for (const hit of hits) ctx.output.record(hit);
    return;
  }
  if (hits.length === 0) {
    ctx.output.info(`no datasets match ${JSON.stringify(query)}`);
    return;
  }
  ctx.output.line(
    renderTable(
      ['ID', 'SCORE', 'MATCH', 'STATUS', 'NAME'],
      hits.map((h) => [
        h.id,
        h.score.toFixed(3),
        h.match,
        h.dataset.release.status,
        clip(h.dataset.metadata.datasetInfo.name, 60),
      ]),
    ),
  );
}

export async function update(
  ctx: CommandContext,
  id: string,
  file: string,
  flags: ServerFlags & { reason: string; expectedRevision?: number },
): Promise<void> {
  const metadata = await readJsonInput(file, 'dataset metadata');
  const record = await (
    await connect(flags)
  ).updateDatasetMetadata(id, flags.reason, metadata as never, {
    ...(flags.expectedRevision !== undefined ? { expectedRevision: flags.expectedRevision } : {}),
  });
  if (ctx.output.json) ctx.output.record(record);
  else ctx.output.info(`updated ${record.id}: revision ${record.revision}`);
}

export async function history(ctx: CommandContext, id: string, flags: ServerFlags): Promise<void> {
  const entries = await (await connect(flags)).listDatasetHistory(id);
  if (ctx.output.json) {
    for (const entry of entries) ctx.output.record(entry);
    return;
  }
  ctx.output.line(
    renderTable(
      ['ID', 'TIME', 'USER', 'REASON'],
      entries.map((e) => [String(e.id), shortTime(e.timestamp), e.username, clip(e.reason, 80)]),
    ),
  );
}

export async function revert(
  ctx: CommandContext,
  id: string,
  historyId: string,
  flags: ServerFlags & { reason: string; expectedRevision?: number },
): Promise<void> {
  const entry = positiveInt('HISTORY_ID')(historyId);
  const record = await (
    await connect(flags)
  ).revertDatasetMetadata(id, entry, flags.reason, {
    ...(flags.expectedRevision !== undefined ? { expectedRevision: flags.expectedRevision } : {}),
  });
  if (ctx.output.json) ctx.output.record(record);
  else ctx.output.info(`reverted ${record.id} to history entry ${entry}: revision ${record.revision}`);
}

export async function version(
  ctx: CommandContext,
  id: string,
  flags: ServerFlags & { reason: string; empty?: boolean },
): Promise<void> {
  const result = await (
    await connect(flags)
  ).versionDataset(id, flags.reason, { copyFiles: flags.empty !== true });
  if (ctx.output.json) ctx.output.record(result);
  else {
    ctx.output.line(visible(result.newVersionId));
    ctx.output.info(
      `created ${result.newVersionId}: version ${result.version} of ${id}${flags.empty ? ' (empty)' : ''}`,
    );
  }
}

export async function upload(
  ctx: CommandContext,
  id: string,
  src: string,
  flags: ServerFlags & { concurrency: number },
): Promise<number> {
  const started = Date.now();
  const ds = await connect(flags);
  const progress = transferProgress(ctx, 'upload');
  try {
    const result = await ds
      .interactiveDataset(id)
      .uploadAllFiles(src, {
        concurrency: flags.concurrency,
        signal: ctx.signal,
        onEvent: (e) => void progress.onEvent(e),
      })
      .finally(() => progress.stop());
    for (const s of result.skipped) ctx.output.debug(`skipped ${s.path}: ${s.reason}`);
    printUpload(ctx, id, result, started);
    return EXIT.ok;
  } catch (error) {
    const partial = partialResult<UploadResult>(error);
    printUpload(ctx, id, partial, started);
    return reportTransferFailure(ctx, error as WharfError, partial.failed);
  }
}

export async function download(
  ctx: CommandContext,
  id: string,
  path: string,
  dest: string | undefined,
  flags: ServerFlags & { concurrency: number },
): Promise<number> {
  const started = Date.now();
  const ds = await connect(flags);
  const target = dest ?? `./${id.replace(/[^A-Za-z0-9._-]/g, '-')}`;
  const progress = transferProgress(ctx, 'download');
  try {
    const result = await ds
      .interactiveDataset(id)
      .downloadSpecificFile(path, target, {
        concurrency: flags.concurrency,
        signal: ctx.signal,
        onEvent: (e) => void progress.onEvent(e),
      })
      .finally(() => progress.stop());
    printDownload(ctx, result, started);
    return EXIT.ok;
  } catch (error) {
    const partial = partialResult<DownloadResult>(error);
    printDownload(ctx, partial, started);
    return reportTransferFailure(ctx, error as WharfError, partial.failed);
  }
}

export async function listFiles(
  ctx: CommandContext,
  id: string,
  prefix: string | undefined,
  flags: ServerFlags,
): Promise<void> {
  const ds = await connect(flags);
  const rows: string[][] = [];
  for await (const file of ds.forAllDatasetFiles(id, prefix ? { prefix } : {})) {
    if (ctx.output.json) ctx.output.record(file);
    else rows.push([file.path, formatBytes(file.size), shortTime(file.lastModified)]);
  }
  if (ctx.output.json) return;
  if (rows.length === 0) {
    ctx.output.info(prefix ? `no files under ${prefix} in ${id}` : `no files in ${id}`);
    return;
  }
  ctx.output.line(renderTable(['PATH', 'SIZE', 'MODIFIED'], rows));
}

export async function presign(
  ctx: CommandContext,
  id: string,
  path: string,
  flags: ServerFlags & { put?: boolean; expiresIn?: string },
): Promise<void> {
  const expiresIn =
    flags.expiresIn === undefined
      ? undefined
      : Math.round(parseDurationSeconds(flags.expiresIn, '--expires-in', '900, 15m, 2h'));
  const presigned = await (
    await connect(flags)
  ).generateDatasetPresignedUrl(id, path, {
    method: flags.put ? 'PUT' : 'GET',
    ...(expiresIn !== undefined ? { expiresIn } : {}),
  });
  if (ctx.output.json) ctx.output.record(presigned);
  else {
    ctx.output.line(visible(presigned.url));
    ctx.output.info(`${presigned.method} ${presigned.path} until ${presigned.expiresAt}`);
  }
}

export async function credentials(
  ctx: CommandContext,
  id: string,
  flags: ServerFlags & { write?: boolean; duration?: string; env?: boolean },
): Promise<void> {
  const durationSeconds =
    flags.duration === undefined
      ? undefined
      : Math.round(parseDurationSeconds(flags.duration, '--duration', '3600, 15m, 2h'));
  const ds = await connect(flags);
  const options = durationSeconds !== undefined ? { durationSeconds } : {};
  const creds = flags.write
    ? await ds.generateWriteAccessCredentials(id, options)
    : await ds.generateReadAccessCredentials(id, options);
  if (ctx.output.json) {
    ctx.output.record(creds);
    return;
  }
  const lines: [string, string][] =
    creds.kind === 's3'
      ? [
          ['AWS_ACCESS_KEY_ID', creds.accessKeyId],
          ['AWS_SECRET_ACCESS_KEY', creds.secretAccessKey],
          ['AWS_SESSION_TOKEN', creds.sessionToken],
          ['AWS_REGION', creds.region],
          ...(creds.endpoint ? ([['AWS_ENDPOINT_URL', creds.endpoint]] as [string, string][]) : []),
        ]
      : [
          ['WHARF_DATASET_TOKEN', creds.token],
          ['WHARF_DATASET_FILES_URL', `${ds.endpoint}/datasets/${creds.datasetId}/files`],
        ];
  const where =
    creds.kind === 's3'
      ? `s3://${creds.bucket}/${creds.prefix}`
      : `${ds.endpoint}/datasets/${creds.datasetId}/files (Authorization: Bearer $WHARF_DATASET_TOKEN)`;
  if (flags.env) {
    for (const [name, value] of lines) ctx.output.line(`export ${name}=${shellQuote(visible(value))}`);
  } else {
    ctx.output.line(`kind: ${visible(creds.kind)}`);
    ctx.output.line(`access: ${visible(creds.access)}`);
    ctx.output.line(`location: ${visible(where)}`);
    for (const [name, value] of lines) ctx.output.line(`${name}: ${visible(value)}`);
    ctx.output.line(`expiration: ${visible(creds.expiration)}`);
  }
  ctx.output.info(`${creds.access} credentials for ${where}, until ${creds.expiration}`);
}

function printDatasets(ctx: CommandContext, records: DatasetRecord[]): void {
  if (records.length === 0) {
    ctx.output.info('no datasets');
    return;
  }
  ctx.output.line(renderTable(DATASET_HEADER, datasetRows(records)));
}
