import { holdsBytes, namesPrefix, resolveTarget } from '../../app/resolve-target.js';
import { NotFoundError, UnsupportedError, UsageError } from '../../core/errors.js';
import { parseDurationSeconds } from '../../core/units.js';
import type { CommandContext } from '../context.js';
import type { PresignFlags } from './presign.js';

export async function presign(ctx: CommandContext, url: string, opts: PresignFlags): Promise<void> {
  const expiresIn = parseDurationSeconds(opts.expires, '--expires');
  const target = await resolveTarget(url, 'object', ctx.storage);
  if (target.isFolder && (opts.put || !(await holdsBytes(target, ctx.signal)))) {
    throw new UsageError(`${url} names a prefix; presign needs one object key`);
  }
  if (!target.store.presign) {
    throw new UnsupportedError(`${target.store.name} cannot make presigned URLs`, {
      hint: 'presigned URLs need an S3 store (s3://BUCKET/KEY)',
    });
  }
  if (opts.contentType !== undefined && !opts.put) {
    throw new UsageError(
      '--content-type goes with --put (the type an uploader must send); a GET URL has none',
    );
  }
  const method = opts.put ? 'PUT' : 'GET';
  // A download URL for nothing would answer 404 to whoever gets it: a typo is caught here, where it can be fixed.
  if (method === 'GET' && !(await target.store.stat(target.key, { signal: ctx.signal }))) {
    if (await namesPrefix(target, ctx.signal)) {
      throw new UsageError(`${url} is a prefix, not one object; presign needs one object key`);
    }
    throw new NotFoundError(`${target.display(target.key)} does not exist`, {
      hint: 'a download URL for it would answer 404; for an upload URL add --put',
    });
  }
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
