import type { Command } from 'commander';
import { positiveInt, type CommandContext, type RunAction } from '../context.js';

export interface CpOptions {
  recursive?: boolean;
  concurrency?: number;
  dryRun?: boolean;
  /** false with --no-clobber. */
  clobber?: boolean;
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
    .option(
      '--no-clobber',
      'skip destinations that exist instead of replacing them (rclone: --ignore-existing)',
    )
    .addHelpText(
      'after',
      `
Files appear at their final path only when complete (temporary file + fsync + rename locally,
atomic PUT or multipart completion on S3). Copies within one bucket, and between buckets of one endpoint,
run server-side (no byte goes through this machine). Existing files and objects at the destination are
replaced, unless --no-clobber. Uploads get a Content-Type from the file's extension, and uploads to S3
the file's SHA-256 as wharf-sha256 metadata, which downloads (cp, fetch) verify against; a file over 16 MiB
is read twice for that (hashed, then uploaded: S3 takes metadata before the first byte). Copies between
buckets keep the source's Content-Type and metadata. A file that is written to while it is copied fails
(exit 5).
With --recursive, SRC names a folder: every object whose key starts with SRC/, even when SRC is also an
object of its own (data/x beside data/x/y: the folder, never data/xx; the object is left out with a warning).
Only when nothing is under SRC/ and SRC names one object (or a local file) is that object all of it.
cp -r copies exactly what ls -r SRC shows, each to DST/ plus the name ls -r shows for it.

--no-clobber looks up each destination first and reports one that exists as skipped (exit 0; with --json a
record {"action":"skip",...,"reason":"exists"}). The writes that follow are conditional (If-None-Match: * on
S3, an atomic link locally; a download re-checks just before its final rename), so an object created
meanwhile is kept too; on servers that ignore the condition when completing a multipart upload (Ceph RGW 16)
it is re-checked just before completing. Server-side copies have no such condition: an object created
between the look-up and the copy is replaced.

Examples:
  wharf cp ./report.csv s3://my-bucket/reports/
  wharf cp -r ./dataset s3://my-bucket/datasets/2024-06/
  wharf cp -r --no-clobber ./dataset s3://my-bucket/datasets/2024-06/   # resume: skip what is there
  wharf cp -r s3://my-bucket/datasets/2024-06/ ./data
  wharf cp s3://my-bucket/a.parquet s3://other-bucket/archive/a.parquet
  wharf cp s3://my-bucket/a.parquet s3://my-bucket/archive/a.parquet`,
    )
    .action(
      run(async (ctx: CommandContext, src: string, dst: string, opts: CpOptions) => {
        const { cp } = await import('./cp-run.js');
        return cp(ctx, src, dst, opts);
      }),
    );
}
