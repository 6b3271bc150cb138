import type { Command } from 'commander';
import type { CommandContext, RunAction } from '../context.js';

export function registerCat(program: Command, run: RunAction): void {
  program
    .command('cat')
    .description('write one object to standard output')
    .argument('<url>', 's3://BUCKET/KEY, file:///PATH or a local path')
    .addHelpText(
      'after',
      `
Examples:
  wharf cat s3://my-bucket/config/settings.json | jq .
  wharf cat s3://my-bucket/logs/app.log.gz | gunzip | tail`,
    )
    .action(
      run(async (ctx: CommandContext, url: string) => {
        const { cat } = await import('./cat-run.js');
        return cat(ctx, url);
      }),
    );
}
