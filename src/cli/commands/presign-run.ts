import { resolveTarget } from '../../app/resolve-target.js';
import { UnsupportedError, UsageError } from '../../core/errors.js';
import { parseDurationSeconds } from '../../core/units.js';
import type { CommandContext } from '../context.js';
import type { PresignFlags } from './presign.js';

export async function presign(ctx: CommandContext, url: string, opts: PresignFlags): Promise<void> {
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
