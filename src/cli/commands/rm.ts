import type { Command } from 'commander';
import type { CommandContext, RunAction } from '../context.js';

export interface RmOptions {
  recursive?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

export function registerRm(program: Command, run: RunAction): void {
  program
    .command('rm')
    .description('delete one object, or every object under a prefix with --recursive')
    .argument('<url>', 's3://BUCKET/KEY, file:///PATH or a local path')
    .option('-r, --recursive', 'delete every object under URL')
    .option('-n, --dry-run', 'list what would be deleted, delete nothing')
    .option('-y, --yes', 'with --recursive on a whole bucket: delete without asking')
    .addHelpText(
      'after',
      `
With --recursive, URL names a folder: every object whose key starts with URL/, even when URL is also an
object of its own (data/x beside data/x/y: the folder, never data/xx; the object is left out with a warning).
Only when nothing is under URL/ and URL names one object (or a local file) is that object all of it.
rm -r deletes exactly what ls -r URL shows (check with --dry-run).
rm -r of a whole bucket (s3://BUCKET or s3://BUCKET/) asks for the bucket name first; without a terminal it
needs --yes. A single object that does not exist is exit 3.

Examples:
  wharf rm s3://my-bucket/tmp/scratch.csv
  wharf rm -r --dry-run s3://my-bucket/tmp/
  wharf rm -r s3://my-bucket/tmp/`,
    )
    .action(
      run(async (ctx: CommandContext, url: string, opts: RmOptions) => {
        const { rm } = await import('./rm-run.js');
        return rm(ctx, url, opts);
      }),
    );
}
