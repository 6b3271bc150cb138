import type { Command } from 'commander';
import type { CommandContext, RunAction } from '../context.js';

export interface PresignFlags {
  expires: string;
  put?: boolean;
  contentType?: string;
}

export function registerPresign(program: Command, run: RunAction): void {
  program
    .command('presign')
    .description('print a URL that grants GET (or PUT with --put) on one object without credentials')
    .argument('<url>', 's3://BUCKET/KEY')
    .option('-e, --expires <duration>', 'how long the URL works: 90s, 15m, 1h, 7d (at most 7d)', '1h')
    .option('--put', 'an upload URL (HTTP PUT) instead of a download URL')
    .option('--content-type <type>', 'with --put: the Content-Type the uploader must send')
    .addHelpText(
      'after',
      `
A download URL is made only for an object that exists (one HEAD request; a missing one is exit 3).

Examples:
  wharf presign s3://my-bucket/reports/q2.pdf --expires 15m
  curl -T data.csv "$(wharf presign --put s3://my-bucket/inbox/data.csv)"`,
    )
    .action(
      run(async (ctx: CommandContext, url: string, opts: PresignFlags) => {
        const { presign } = await import('./presign-run.js');
        return presign(ctx, url, opts);
      }),
    );
}
