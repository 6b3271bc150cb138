import type { Command } from 'commander';
import type { CommandContext, RunAction } from '../context.js';

export function registerRm(program: Command, run: RunAction): void {
  program
    .command('rm')
    .description('delete one object, or every object under a prefix with --recursive')
    .argument('<url>', 's3://BUCKET/KEY, file:///PATH or a local path')
    .option('-r, --recursive', 'delete every object under URL')
    .option('-n, --dry-run', 'list what would be deleted, delete nothing')
    .addHelpText(
      'after',
      `
Examples:
  wharf rm s3://my-bucket/tmp/scratch.csv
  wharf rm -r --dry-run s3://my-bucket/tmp/
  wharf rm -r s3://my-bucket/tmp/`,
    )
    .action(
      run(async (ctx: CommandContext, url: string, opts: { recursive?: boolean; dryRun?: boolean }) => {
        const { rm } = await import('./rm-run.js');
        return rm(ctx, url, opts);
      }),
    );
}
