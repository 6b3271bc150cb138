import { Option, type Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { Direction, Prefer } from '../../sync/types.js';
import { positiveInt, type CommandContext, type RunAction } from '../context.js';
import { registerSyncAdopt } from './sync-adopt.js';

export interface SyncFlags {
  direction?: Direction;
  dryRun?: boolean;
  yes?: boolean;
  planOut?: string;
  prefer?: Prefer;
  maxDelete?: string;
  force?: boolean;
  concurrency?: number;
}

export function registerSync(program: Command, run: RunAction): void {
  const sync = program
    .command('sync')
    .description('keep a folder in step with a bucket prefix shared by a team: push, pull, conflicts, trash')
    .argument('[dir]', 'the linked folder', '.')
    .addOption(
      new Option('--direction <dir>', 'both: push and pull; push: only send; pull: only receive')
        .choices(['both', 'push', 'pull'])
        .default('both'),
    )
    .option('-n, --dry-run', 'show the plan and change nothing')
    .option('-y, --yes', 'apply the plan without asking')
    .option(
      '--plan-out <file>',
      'write the plan to FILE (JSON) and stop; apply it later with `wharf sync apply FILE`',
    )
    .addOption(
      new Option(
        '--prefer <side>',
        'resolve edit-vs-edit conflicts: local, remote or newer (the file modified later; default: keep both)',
      ).choices(['local', 'remote', 'newer']),
    )
    .option(
      '--max-delete <n|p%>',
      'refuse plans deleting more files than this (default 50% of tracked, at most 1000)',
    )
    .option('--force', 'go ahead even when a guard trips (mass delete, empty folder, everything changed)')
    .option('-j, --concurrency <n>', 'files transferred at once (default 16)', positiveInt('--concurrency'))
    .addHelpText(
      'after',
      `
A sync compares the folder, this member's base (the remote index at its last sync) and the remote index by
SHA-256 content hashes, never by times. Changes on one side are copied to the other; deletions go to a trash
(.wharf/trash/ on both sides); a file edited on both sides keeps both versions: the remote one at the path,
yours as NAME.conflict-<member>-<YYYYMMDD-hhmmss>.EXT. The shared index is committed with compare-and-swap
(If-Match), so two members can never overwrite each other's commit; the output says which guarantee held.
.wharfignore in the folder takes gitignore patterns.

Subcommands: init, adopt, status, apply, log, trash list|purge, restore, reset (see wharf sync <cmd> --help).

Examples:
  wharf sync init ./team-data s3://team-bucket/projects/alpha --member alice
  wharf sync ./team-data                # shows the plan, asks, applies
  wharf sync ./team-data --dry-run --json | jq '.plan.counts'
  wharf sync ./team-data --yes --direction pull
  wharf sync ./team-data --plan-out plan.json && wharf sync apply plan.json`,
    )
    .action(
      run(async (ctx: CommandContext, dir: string, flags: SyncFlags) => {
        const { runSync } = await import('./sync-run.js');
        return runSync(ctx, dir, flags);
      }),
    );

  sync
    .command('init')
    .description('link a folder to a remote prefix')
    .addHelpText(
      'after',
      `\nExamples:\n  wharf sync init ./team-data s3://team-bucket/alpha --member alice\n  wharf sync init ./team-data /mnt/shared/alpha   # a local folder as the remote`,
    )
    .argument('<dir>', 'the folder to link (created if missing)')
    .argument('<remote>', 's3://BUCKET/PREFIX or a local folder')
    .option('--member <name>', 'your name in the journal and in conflict file names (default: user@host)')
    .action(
      run(async (ctx: CommandContext, dir: string, remote: string, flags: { member?: string }) => {
        const { init } = await import('./sync-run.js');
        return init(ctx, dir, remote, flags);
      }),
    );

  registerSyncAdopt(sync, run);

  // Commander reads `sync`'s options (--dry-run, --direction, …) wherever they stand, also after a
  // subcommand that has no such option, which then ignored it: `sync reset --remote --dry-run` reset the
  // shared index. An option only `sync` itself has is refused for its subcommands.
  sync.hook('preAction', (parent, action) => {
    if (action === parent) return;
    for (const option of parent.options) {
      if (parent.getOptionValueSource(option.attributeName()) !== 'cli') continue;
      if (action.options.some((o) => o.long === option.long)) continue;
      const name = `wharf sync ${action.parent === parent ? '' : `${action.parent?.name() ?? ''} `}${action.name()}`;
      throw new UsageError(`${name} has no option ${option.long ?? option.flags}; nothing was changed`, {
        hint: `see ${name} --help`,
      });
    }
  });

  sync
    .command('status')
    .description('what a sync would do now (reads the remote, writes nothing)')
    .addHelpText(
      'after',
      `\nExamples:\n  wharf sync status ./team-data\n  wharf sync status ./team-data --json | jq '.plan.counts'\n  wharf sync status ./team-data --direction pull --force`,
    )
    .argument('[dir]', 'the linked folder', '.')
    // The options that change a plan, so that status shows the plan of the sync you mean to run.
    .addOption(
      new Option('--direction <dir>', 'plan as `wharf sync --direction DIR` would')
        .choices(['both', 'push', 'pull'])
        .default('both'),
    )
    .addOption(
      new Option('--prefer <side>', 'plan as `wharf sync --prefer SIDE` would').choices([
        'local',
        'remote',
        'newer',
      ]),
    )
    .option('--max-delete <n|p%>', 'judge the delete guard as `wharf sync --max-delete` would')
    .option('--force', 'a tripped guard is a warning, as with `wharf sync --force` (exit 0)')
    .action(
      run(async (ctx: CommandContext, dir: string, flags: SyncFlags) => {
        const { runSync } = await import('./sync-run.js');
        return runSync(ctx, dir, { ...flags, dryRun: true });
      }),
    );

  sync
    .command('apply')
    .description('apply a plan saved with --plan-out, if nothing it touches changed since')
    .addHelpText(
      'after',
      `
Plans again and carries out the saved actions, refusing (exit 5) if a file they touch changed since (other
content, or a new change on one of their paths). Changes on other paths made since are left for the next sync.

Examples:
  wharf sync ./team-data --plan-out plan.json   # review plan.json, then:
  wharf sync apply plan.json`,
    )
    .argument('<file>', 'the plan file')
    .option('-j, --concurrency <n>', 'files transferred at once (default 16)', positiveInt('--concurrency'))
    .action(
      run(async (ctx: CommandContext, file: string, flags: { concurrency?: number }) => {
        const { applySaved } = await import('./sync-run.js');
        return applySaved(ctx, file, flags);
      }),
    );

  sync
    .command('log')
    .description('who changed what, when (from the shared journal)')
    .addHelpText(
      'after',
      `\nExamples:\n  wharf sync log -C ./team-data\n  wharf sync log reports/q1.csv -C ./team-data --json`,
    )
    .argument('[path]', 'only commits touching this path')
    .option('-C, --dir <dir>', 'the linked folder', '.')
    .action(
      run(async (ctx: CommandContext, path: string | undefined, flags: { dir: string }) => {
        const { log } = await import('./sync-run.js');
        return log(ctx, path, flags);
      }),
    );

  const trash = sync
    .command('trash')
    .description('files a sync deleted or replaced')
    .addHelpText(
      'after',
      `\nExamples:\n  wharf sync trash list -C ./team-data\n  wharf sync trash purge --older-than 30d -C ./team-data --dry-run\n  wharf sync restore reports/q1.csv -C ./team-data   # bring one back`,
    );
  trash
    .command('list')
    .description('trashed files, newest first (remote and this folder)')
    .addHelpText('after', `\nExamples:\n  wharf sync trash list -C ./team-data`)
    .option('-C, --dir <dir>', 'the linked folder', '.')
    .action(
      run(async (ctx: CommandContext, flags: { dir: string }) => {
        const { trashList } = await import('./sync-run.js');
        return trashList(ctx, flags);
      }),
    );
  trash
    .command('purge')
    .description('delete trashed files older than a duration')
    .addHelpText(
      'after',
      `\nExamples:\n  wharf sync trash purge --older-than 30d -C ./team-data --dry-run\n  wharf sync trash purge --older-than 30d -C ./team-data`,
    )
    .requiredOption('--older-than <duration>', 'e.g. 30d, 12h')
    .option('-C, --dir <dir>', 'the linked folder', '.')
    .option('-n, --dry-run', 'only count')
    .action(
      run(async (ctx: CommandContext, flags: { dir: string; olderThan: string; dryRun?: boolean }) => {
        const { trashPurge } = await import('./sync-run.js');
        return trashPurge(ctx, flags);
      }),
    );

  sync
    .command('restore')
    .description('bring a trashed file back into the folder (the next sync uploads it)')
    .addHelpText(
      'after',
      `\nExamples:\n  wharf sync restore reports/q1.csv -C ./team-data\n  wharf sync restore reports/q1.csv --from 20261123 -C ./team-data`,
    )
    .argument('<path>', 'the file path relative to the folder')
    .option(
      '--from <timestamp>',
      'the trash stamp (or its prefix, e.g. 20261123) to restore from; default newest',
    )
    .option('-C, --dir <dir>', 'the linked folder', '.')
    .action(
      run(async (ctx: CommandContext, path: string, flags: { dir: string; from?: string }) => {
        const { restore } = await import('./sync-run.js');
        return restore(ctx, path, flags);
      }),
    );

  sync
    .command('reset')
    .description("forget this folder's sync state (with --remote also the shared index and journal)")
    .addHelpText(
      'after',
      `\nExamples:\n  wharf sync reset ./team-data            # asks first\n  wharf sync reset ./team-data --remote --yes`,
    )
    .argument('[dir]', 'the linked folder', '.')
    .option('--remote', 'also remove the remote .wharf/ index, journal and lease (the trash is kept)')
    .option('-y, --yes', 'do not ask')
    .action(
      run(async (ctx: CommandContext, dir: string, flags: { remote?: boolean; yes?: boolean }) => {
        const { reset } = await import('./sync-run.js');
        return reset(ctx, dir, flags);
      }),
    );
}
