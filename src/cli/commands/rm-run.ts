import { resolveTarget } from '../../app/resolve-target.js';
import { NotFoundError, UsageError } from '../../core/errors.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

const BATCH = 1000;

export async function rm(
  ctx: CommandContext,
  url: string,
  opts: { recursive?: boolean; dryRun?: boolean },
): Promise<number> {
  const { output, signal } = ctx;
  const target = await resolveTarget(url, opts.recursive ? 'folder' : 'object', ctx.storage);
  if (!opts.recursive) {
    if (target.isFolder)
      throw new UsageError(`${url} is a folder or prefix: add --recursive to delete everything under it`);
    const info = await target.store.stat(target.key, { signal });
    if (!info) throw new NotFoundError(`${target.display(target.key)} does not exist`);
    report(ctx, target.display(target.key), opts.dryRun === true);
    if (!opts.dryRun) await target.store.delete([target.key], { signal });
    return EXIT.ok;
  }

  let batch: string[] = [];
  let count = 0;
  const flush = async (): Promise<void> => {
    if (!opts.dryRun && batch.length > 0) await target.store.delete(batch, { signal });
    batch = [];
  };
  // Listing is complete before deleting starts, page by page: deleting while listing the same prefix
  // would shift S3's continuation tokens under us.
  const keys: string[] = [];
  for await (const info of target.store.list(target.key, { signal })) if (!info.isPrefix) keys.push(info.key);
  for (const key of keys) {
    report(ctx, target.display(key), opts.dryRun === true);
    batch.push(key);
    count++;
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  output.info(`${opts.dryRun ? 'would delete' : 'deleted'} ${count} object${count === 1 ? '' : 's'}`);
  return EXIT.ok;
}

function report(ctx: CommandContext, url: string, dryRun: boolean): void {
  if (ctx.output.json) ctx.output.record({ action: 'delete', url, dryRun });
  else if (dryRun) ctx.output.line(`would delete ${url}`);
  else if (ctx.output.verbose) ctx.output.line(`deleted ${url}`);
}
