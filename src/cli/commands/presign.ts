import type { Command } from 'commander';
import { resolveTarget } from '../../app/resolve-target.js';
import { UnsupportedError, UsageError } from '../../core/errors.js';
import { parseDurationSeconds } from '../../core/units.js';
import type { CommandContext, RunAction } from '../context.js';

interface PresignFlags {
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
Examples:
  wharf presign s3://my-bucket/reports/q2.pdf --expires 15m
  curl -T data.csv "$(wharf presign --put s3://my-bucket/inbox/data.csv)"`,
    )
    .action(run((ctx: CommandContext, url: string, opts: PresignFlags) => presign(ctx, url, opts)));
}

async function presign(ctx: CommandContext, url: string, opts: PresignFlags): Promise<void> {
  const expiresIn = parseDurationSeconds(opts.expires, '--expires');
  const target = await resolveTarget(url, 'object', ctx.storage);
  if (target.isFolder) throw new UsageError(`${url} names a prefix; presign needs one object key`);
  if (!target.store.presign) {
    throw new UnsupportedError(`${target.store.name} cannot make presigned URLs`, {
      hint: 'presigned URLs need an S3 store (s3://BUCKET/KEY)',
    });
  }
  const method = opts.put ? 'PUT' : 'GET';
  const signed = await target.store.presign(target.key, {
    method,
    expiresIn,
    signal: ctx.signal,
    ...(opts.contentType ? { contentType: opts.contentType } : {}),
  });
  if (ctx.output.json) {
    ctx.output.record({
      url: signed,
      method,
      expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString(),
    });
  } else {
    ctx.output.line(signed);
  }
}
