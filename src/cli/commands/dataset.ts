import { Option, type Command } from 'commander';
import { positiveInt, type RunAction } from '../context.js';
import { CONNECTION_HELP, withServerOptions, type ServerFlags } from '../datastore-options.js';

export const STATUSES = ['NOT_RELEASED', 'PENDING', 'RELEASED'] as const;

export interface ListFlags extends ServerFlags {
  sort?: string;
  asc?: boolean;
  pageSize?: number;
  pageKey?: string;
  releaseStatus?: (typeof STATUSES)[number];
  approver?: string;
  all?: boolean;
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
      const { mint } = await import('./dataset-run.js');
      return mint(ctx, file, flags);
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
      const { validate } = await import('./dataset-run.js');
      return validate(ctx, file, flags);
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
      const { show } = await import('./dataset-run.js');
      return show(ctx, id, flags);
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
      const { list } = await import('./dataset-run.js');
      return list(ctx, flags);
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
      const { search } = await import('./dataset-run.js');
      return search(ctx, query, flags);
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
        const { update } = await import('./dataset-run.js');
        return update(ctx, id, file, flags);
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
      const { history } = await import('./dataset-run.js');
      return history(ctx, id, flags);
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
        const { revert } = await import('./dataset-run.js');
        return revert(ctx, id, historyId, flags);
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
      const { version } = await import('./dataset-run.js');
      return version(ctx, id, flags);
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
      const { upload } = await import('./dataset-run.js');
      return upload(ctx, id, src, flags);
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
        const { download } = await import('./dataset-run.js');
        return download(ctx, id, path, dest, flags);
      },
    ),
  );

  withServerOptions(
    dataset
      .command('files')
      .description('the files of a dataset (or those under a prefix): path, size, last change')
      .argument('<id>', 'dataset id PREFIX/N')
      .argument('[prefix]', 'only paths starting with this, e.g. raw/')
      .addHelpText(
        'after',
        "\nEvery page, in path order; the service's metadata.json is not listed.\n\nExamples:\n  wharf dataset files 10378.1/42\n  wharf dataset files 10378.1/42 raw/ --json",
      ),
  ).action(
    run(async (ctx, id: string, prefix: string | undefined, flags: ServerFlags) => {
      const { listFiles } = await import('./dataset-run.js');
      return listFiles(ctx, id, prefix, flags);
    }),
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
      const { presign } = await import('./dataset-run.js');
      return presign(ctx, id, path, flags);
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
        const { credentials } = await import('./dataset-run.js');
        return credentials(ctx, id, flags);
      },
    ),
  );
}
