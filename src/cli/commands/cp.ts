import type { Command } from 'commander';
import { positiveInt, type CommandContext, type RunAction } from '../context.js';

export interface CpOptions {
  recursive?: boolean;
  concurrency?: number;
  dryRun?: boolean;
}

export function registerCp(program: Command, run: RunAction): void {
  program
    .command('cp')
    .description('copy one object, or a whole prefix with --recursive, between any two stores')
    .argument('<src>', 'source: s3://BUCKET/KEY, file:///PATH or a local path')
    .argument(
      '<dst>',
      'destination; a folder-like destination (ending in /, or an existing folder) keeps the file name',
    )
    .option('-r, --recursive', 'copy every object under SRC to the same relative keys under DST')
    .option('-j, --concurrency <n>', 'objects copied at once', positiveInt('--concurrency'), 32)
    .option('-n, --dry-run', 'show what would be copied, copy nothing')
    .addHelpText(
      'after',
      `
Files appear at their final path only when complete (temporary file + fsync + rename locally,
atomic PUT or multipart completion on S3). Copies within one bucket run server-side. Existing files and
objects at the destination are replaced. Uploads get a Content-Type from the file's extension; copies between
buckets keep the source's Content-Type and metadata. A file that is written to while it is copied fails (exit 5).
With --recursive, an S3 SRC without a trailing / that names one object (and no prefix) copies that object.

Examples:
  wharf cp ./report.csv s3://my-bucket/reports/
  wharf cp -r ./dataset s3://my-bucket/datasets/2024-06/
  wharf cp -r s3://my-bucket/datasets/2024-06/ ./data
  wharf cp s3://my-bucket/a.parquet s3://my-bucket/archive/a.parquet`,
    )
    .action(
      run(async (ctx: CommandContext, src: string, dst: string, opts: CpOptions) => {
        const { cp } = await import('./cp-run.js');
        return cp(ctx, src, dst, opts);
      }),
    );
}
