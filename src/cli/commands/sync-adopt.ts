import type { Command } from 'commander';
import { positiveInt, type CommandContext, type RunAction } from '../context.js';

export interface AdoptFlags {
  dryRun?: boolean;
  yes?: boolean;
  concurrency?: number;
}

export function registerSyncAdopt(sync: Command, run: RunAction): void {
  sync
    .command('adopt')
    .description('take objects other tools put under the remote prefix into the shared index')
    .argument('[dir]', 'the linked folder', '.')
    .option('-n, --dry-run', 'list the untracked objects, change nothing')
    .option('-y, --yes', 'adopt without asking')
    .option('-j, --concurrency <n>', 'objects read at once (default 16)', positiveInt('--concurrency'))
    .addHelpText(
      'after',
      `
A sync only sees what is in the shared index, so objects put under the prefix with aws-cli, rclone or a
pipeline stay invisible to it. adopt lists the prefix, reads each untracked object once (its SHA-256,
checked against its ETag) and commits them all to the index as added by you. The next sync of every
member then downloads them, takes a local file with the same content as it is, or keeps both versions
where a local file differs. Your folder is not touched by adopt itself. Left alone: names no folder can
hold ('..', '//'), a file that other objects need as a folder (data/x beside data/x/y), paths your
.wharfignore ignores, and uploads another member has not committed yet.

Examples:
  wharf sync adopt ./team-data --dry-run
  wharf sync adopt ./team-data --yes && wharf sync ./team-data --yes`,
    )
    .action(
      run(async (ctx: CommandContext, dir: string, flags: AdoptFlags) => {
        const { runAdopt } = await import('./sync-adopt-run.js');
        return runAdopt(ctx, dir, flags);
      }),
    );
}
