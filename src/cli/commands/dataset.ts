import { Option, type Command } from 'commander';
import { UsageError, ValidationError, WharfError } from '../../core/errors.js';
import { formatBytes, formatSeconds, parseDurationSeconds } from '../../core/units.js';
import type { FailedTransfer } from '../../client/errors.js';
import type { DownloadResult, TransferEvent, UploadResult } from '../../client/transfers.js';
import type { DatasetRecord } from '../../datastore/model/dataset.js';
import { positiveInt, type CommandContext, type RunAction } from '../context.js';
import { CONNECTION_HELP, connect, withServerOptions, type ServerFlags } from '../datastore-connection.js';
import { DATASET_HEADER, datasetRows, describeDataset, shellQuote, shortTime } from '../datastore-render.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { readJsonInput } from '../read-input.js';
import { createProgress } from '../progress.js';
import { clip, renderTable, visible } from '../text-table.js';

const SORTS: Record<string, 'created' | 'updated' | 'displayName' | 'releaseTime'> = {
  created: 'created',
  updated: 'updated',
  name: 'displayName',
  displayname: 'displayName',
  released: 'releaseTime',
  'release-time': 'releaseTime',
  releasetime: 'releaseTime',
};
const STATUSES = ['NOT_RELEASED', 'PENDING', 'RELEASED'] as const;

interface ListFlags extends ServerFlags {
  sort?: string;
  asc?: boolean;
  pageSize?: number;
  pageKey?: string;
  releaseStatus?: (typeof STATUSES)[number];
  approver?: string;
  all?: boolean;
}

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

export function registerDataset(program: Command, run: RunAction): void {
  const dataset = program
    .command('dataset')
    .description(
      'register, find, change, version and transfer datasets in the datastore (talks to wharf serve)',
    )
    .addHelpText(
      'after',
      `
${CONNECTION_HELP}

Examples:
  wharf dataset mint metadata.json
  wharf dataset list --sort name --asc
  wharf dataset search kelp --limit 5
  wharf dataset upload 10378.1/42 ./survey
  wharf dataset download 10378.1/42 raw/ ./raw-files
  eval "$(wharf dataset credentials 10378.1/42 --env)" && aws s3 ls s3://BUCKET/PREFIX`,
    );

  withServerOptions(
    dataset
      .command('mint')
      .description('register a dataset from its metadata (JSON); prints the new id')
      .argument('<file>', "metadata JSON file, or '-' for stdin")
      .addHelpText(
        'after',
        '\nExamples:\n  wharf dataset mint metadata.json\n  cat metadata.json | wharf dataset mint -',
      ),
  ).action(
    run(async (ctx, file: string, flags: ServerFlags) => {
      const metadata = await readJsonInput(file, 'dataset metadata');
      const ds = await connect(flags);
      const record = await ds.mintDataset(metadata as never);
      if (ctx.output.json) ctx.output.record(record);
      else {
        ctx.output.line(visible(record.id));
        ctx.output.info(`minted ${record.id} (${record.metadata.datasetInfo.name}); you own it`);
      }
    }),
  );

  withServerOptions(
    dataset
      .command('validate')
      .description('check metadata (schema and registry references) without registering it')
      .argument('<file>', "metadata JSON file, or '-' for stdin")
      .addHelpText(
        'after',
        '\nPrints every failing field as PATH: MESSAGE and exits 2 when the metadata is invalid.\n\nExamples:\n  wharf dataset validate metadata.json',
      ),
  ).action(
    run(async (ctx, file: string, flags: ServerFlags) => {
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
    }),
  );

  withServerOptions(
    dataset
      .command('show')
      .description('a dataset record: name, owner, version links, release state, revision')
      .argument('<id>', 'dataset id PREFIX/N')
      .addHelpText('after', '\nExamples:\n  wharf dataset show 10378.1/42 --json'),
  ).action(
    run(async (ctx, id: string, flags: ServerFlags) => {
      const record = await (await connect(flags)).fetchDataset(id);
      if (ctx.output.json) ctx.output.record(record);
      else ctx.output.line(describeDataset(record));
    }),
  );

  withServerOptions(
    dataset
      .command('list')
      .description('the datasets you may read, newest first (one page, or --all)')
      .addOption(new Option('--sort <field>', 'created, updated, name or released').default('created'))
      .option('--asc', 'ascending (default: descending, newest / Z first)')
      .addOption(
        new Option('--page-size <n>', 'datasets per page (1-1000, default 20)').argParser(
          positiveInt('--page-size'),
        ),
      )
      .option('--page-key <key>', 'continue after the page that printed this key')
      .addOption(new Option('--release-status <status>', 'only datasets in this state').choices(STATUSES))
      .option('--approver <user>', 'only datasets whose release approver is USER')
      .option('--all', 'every page')
      .addHelpText(
        'after',
        `
With --json: one dataset record per line; without --all a last line {"paginationKey": KEY} when there
are more pages (pass it to --page-key).

Examples:
  wharf dataset list --sort name --asc --page-size 50
  wharf dataset list --release-status PENDING --approver rita --all --json`,
      ),
  ).action(
    run(async (ctx, flags: ListFlags) => {
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
    }),
  );

  withServerOptions(
    dataset
      .command('search')
      .description('full-text and fuzzy search (id > name > keywords > description), best first')
      .argument('<query>', 'words to find')
      .addOption(new Option('--limit <n>', 'most results (default 25)').argParser(positiveInt('--limit')))
      .addHelpText(
        'after',
        '\nExamples:\n  wharf dataset search "kelp forest"\n  wharf dataset search 10378.1/42 --json',
      ),
  ).action(
    run(async (ctx, query: string, flags: ServerFlags & { limit?: number }) => {
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
    }),
  );

  withServerOptions(
    dataset
      .command('update')
      .description('replace the metadata of a dataset (kept in its history)')
      .argument('<id>', 'dataset id PREFIX/N')
      .argument('<file>', "the new metadata JSON file, or '-' for stdin")
      .requiredOption('--reason <text>', 'why it changes (kept in the history)')
      .addOption(
        new Option(
          '--expected-revision <n>',
          'refuse (exit 5) if the record changed since this revision',
        ).argParser(positiveInt('--expected-revision')),
      )
      .addHelpText(
        'after',
        '\nExamples:\n  wharf dataset show 10378.1/42 --json | jq .metadata > m.json   # edit m.json, then\n  wharf dataset update 10378.1/42 m.json --reason "fix licence" --expected-revision 3',
      ),
  ).action(
    run(
      async (
        ctx,
        id: string,
        file: string,
        flags: ServerFlags & { reason: string; expectedRevision?: number },
      ) => {
        const metadata = await readJsonInput(file, 'dataset metadata');
        const record = await (
          await connect(flags)
        ).updateDatasetMetadata(id, flags.reason, metadata as never, {
          ...(flags.expectedRevision !== undefined ? { expectedRevision: flags.expectedRevision } : {}),
        });
        if (ctx.output.json) ctx.output.record(record);
        else ctx.output.info(`updated ${record.id}: revision ${record.revision}`);
      },
    ),
  );

  withServerOptions(
    dataset
      .command('history')
      .description('every metadata change of a dataset, oldest first')
      .argument('<id>', 'dataset id PREFIX/N')
      .addHelpText('after', '\nExamples:\n  wharf dataset history 10378.1/42'),
  ).action(
    run(async (ctx, id: string, flags: ServerFlags) => {
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
    }),
  );

  withServerOptions(
    dataset
      .command('revert')
      .description("make a history entry's metadata current again (as a new history entry)")
      .argument('<id>', 'dataset id PREFIX/N')
      .argument('<history-id>', 'the entry, as `wharf dataset history` lists it')
      .requiredOption('--reason <text>', 'why')
      .addOption(
        new Option(
          '--expected-revision <n>',
          'refuse (exit 5) if the record changed since this revision',
        ).argParser(positiveInt('--expected-revision')),
      )
      .addHelpText(
        'after',
        '\nExamples:\n  wharf dataset revert 10378.1/42 2 --reason "undo the licence change"',
      ),
  ).action(
    run(
      async (
        ctx,
        id: string,
        historyId: string,
        flags: ServerFlags & { reason: string; expectedRevision?: number },
      ) => {
        const entry = positiveInt('HISTORY_ID')(historyId);
        const record = await (
          await connect(flags)
        ).revertDatasetMetadata(id, entry, flags.reason, {
          ...(flags.expectedRevision !== undefined ? { expectedRevision: flags.expectedRevision } : {}),
        });
        if (ctx.output.json) ctx.output.record(record);
        else ctx.output.info(`reverted ${record.id} to history entry ${entry}: revision ${record.revision}`);
      },
    ),
  );

  withServerOptions(
    dataset
      .command('version')
      .description('create the next version of a dataset (a new id; files copied unless --empty)')
      .argument('<id>', 'dataset id PREFIX/N (the latest version)')
      .requiredOption('--reason <text>', 'why the new version is created')
      .option('--empty', "start the new version's folder empty (default: a server-side copy of the files)")
      .addHelpText('after', '\nExamples:\n  wharf dataset version 10378.1/42 --reason "2025 survey"'),
  ).action(
    run(async (ctx, id: string, flags: ServerFlags & { reason: string; empty?: boolean }) => {
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
    }),
  );

  withServerOptions(
    dataset
      .command('upload')
      .description("upload a folder's files to a dataset (same relative paths; verified, atomic per file)")
      .argument('<id>', 'dataset id PREFIX/N')
      .argument('<src-dir>', 'local folder')
      .option('-j, --concurrency <n>', 'files at once', positiveInt('--concurrency'), 16)
      .addHelpText(
        'after',
        `
Uses write credentials scoped to the dataset (S3 keys or a dataset token) and Wharf's copy engine.
Files with the same path are replaced; nothing is deleted. Refused while the dataset is PENDING or
RELEASED (create a new version). Skips .wharf/ and a metadata.json at the top.

Examples:
  wharf dataset upload 10378.1/42 ./survey`,
      ),
  ).action(
    run(async (ctx, id: string, src: string, flags: ServerFlags & { concurrency: number }) => {
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
    }),
  );

  withServerOptions(
    dataset
      .command('download')
      .description('download a dataset, or one file or folder of it (verified, atomic per file, resumable)')
      .argument('<id>', 'dataset id PREFIX/N')
      .argument(
        '[path]',
        'what: a file, a folder (the folder itself), a folder/ (its contents), / (everything)',
        '/',
      )
      .argument('[dest]', 'local folder (default: ./<id with / as ->)')
      .option('-j, --concurrency <n>', 'files at once', positiveInt('--concurrency'), 16)
      .addHelpText(
        'after',
        `
raw/obs.csv -> DEST/obs.csv;  raw -> DEST/raw/...;  raw/ -> DEST/... ; / -> everything into DEST.
Uses read credentials scoped to the dataset. Unchanged files from an earlier download into the same
DEST are skipped (Wharf keeps its index in DEST/.wharf/).

Examples:
  wharf dataset download 10378.1/42                 # everything into ./10378.1-42/
  wharf dataset download 10378.1/42 / ./data        # everything into ./data/
  wharf dataset download 10378.1/42 raw/obs.csv .   # one file into ./obs.csv`,
      ),
  ).action(
    run(
      async (
        ctx,
        id: string,
        path: string,
        dest: string | undefined,
        flags: ServerFlags & { concurrency: number },
      ) => {
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
      },
    ),
  );

  withServerOptions(
    dataset
      .command('presign')
      .description('a URL that downloads (or with --put uploads) one file of a dataset without a token')
      .argument('<id>', 'dataset id PREFIX/N')
      .argument('<path>', 'file path in the dataset, e.g. raw/obs.csv')
      .option('--put', 'a PUT (upload) URL instead of GET')
      .option('--expires-in <duration>', 'how long it works: 1s to 24h, e.g. 900, 15m, 2h (default 3h)')
      .addHelpText(
        'after',
        '\nExamples:\n  curl -o obs.csv "$(wharf dataset presign 10378.1/42 raw/obs.csv)"\n  curl -T obs.csv "$(wharf dataset presign 10378.1/42 raw/obs.csv --put --expires-in 15m)"',
      ),
  ).action(
    run(async (ctx, id: string, path: string, flags: ServerFlags & { put?: boolean; expiresIn?: string }) => {
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
    }),
  );

  withServerOptions(
    dataset
      .command('credentials')
      .description("temporary credentials for one dataset's folder (read, or --write)")
      .argument('<id>', 'dataset id PREFIX/N')
      .option('--write', 'read and write (refused while PENDING or RELEASED)')
      .option('--duration <duration>', 'how long they work: 15m to 12h, e.g. 3600, 2h (default 1h)')
      .option('--env', 'print shell `export` lines (AWS_* for aws-cli with the S3 store)')
      .addHelpText(
        'after',
        `
With the S3 store and an STS role: S3 keys that reach only the dataset's folder (aws-cli works
with them as-is). Otherwise: a dataset token for the datastore's /datasets/ID/files routes.

Examples:
  eval "$(wharf dataset credentials 10378.1/42 --env)"
  aws s3 sync s3://BUCKET/PREFIX ./local    # BUCKET/PREFIX as printed on stderr
  wharf dataset credentials 10378.1/42 --write --duration 2h --json`,
      ),
  ).action(
    run(
      async (ctx, id: string, flags: ServerFlags & { write?: boolean; duration?: string; env?: boolean }) => {
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
      },
    ),
  );
}

function printDatasets(ctx: CommandContext, records: DatasetRecord[]): void {
  if (records.length === 0) {
    ctx.output.info('no datasets');
    return;
  }
  ctx.output.line(renderTable(DATASET_HEADER, datasetRows(records)));
}
