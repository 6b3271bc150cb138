import type { Command } from 'commander';
import type { CommandContext, RunAction } from '../context.js';

export interface LsOptions {
  recursive?: boolean;
  humanReadable?: boolean;
  summarize?: boolean;
}

export function registerLs(program: Command, run: RunAction): void {
  program
    .command('ls')
    .description('list objects under a location (one level, or every level with --recursive)')
    .argument('<url>', 's3://BUCKET[/PREFIX], file:///DIR or a local folder')
    .option('-r, --recursive', 'list every object below the prefix, not just one level')
    .option('--human-readable', 'sizes in KiB, MiB, GiB... instead of bytes (not with --json)')
    .option('--summarize', 'end with the number of objects listed and their total size')
    .addHelpText(
      'after',
      `
Output: one line per object: modified time, size in bytes, key relative to URL; folders as "PRE name/".
A URL naming an object shows its name; if that name is also a folder (a and a/b), the folder follows.
With --recursive, URL names a folder: every object whose key starts with URL/, even when URL is also an
object of its own (data/x beside data/x/y: the folder, never data/xx; the object is left out with a warning).
Only when nothing is under URL/ and URL names one object (or a local file) is that object all of it.
Keys are shown relative to that folder (an object alone by its name): what ls -r shows is exactly what
rm -r deletes and cp -r copies.
--summarize ends with "Total Objects: N" and "Total Size: BYTES" (folders are not counted), as aws s3 ls does.
With --json: one JSON object per line {key, size, lastModified, etag, url}, sizes always in bytes;
--summarize adds a last line {"summary":{"objects":N,"bytes":B}}.

Examples:
  wharf ls s3://my-bucket/datasets/
  wharf ls -r --human-readable --summarize s3://my-bucket/datasets/2024/
  wharf ls -r --json s3://my-bucket/datasets/2024/ | jq -r .key
  wharf ls -r ./local-store`,
    )
    .action(
      run(async (ctx: CommandContext, url: string, opts: LsOptions) => {
        const { ls } = await import('./ls-run.js');
        return ls(ctx, url, opts);
      }),
    );
}
