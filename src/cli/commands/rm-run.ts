import { besideFolderWarning, resolveRecursiveTree, treeObjects } from '../../app/recursive-tree.js';
import { namesPrefix, resolveTarget } from '../../app/resolve-target.js';
import { NotFoundError, UsageError } from '../../core/errors.js';
import { ask, requireTerminal } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import type { RmOptions } from './rm.js';

const BATCH = 1000;

export async function rm(ctx: CommandContext, url: string, opts: RmOptions): Promise<number> {
  const { signal } = ctx;
  if (opts.recursive) return rmTree(ctx, url, opts);
  const target = await resolveTarget(url, 'object', ctx.storage);
  if (target.isFolder)
    throw new UsageError(`${url} is a folder or prefix: add --recursive to delete everything under it`);
  const info = await target.store.stat(target.key, { signal });
  if (!info) {
    // `s3://b/logs` for the prefix `logs/`: say so (as cp and cat do) rather than that no object `logs` exists.
    if (await namesPrefix(target, signal)) {
      throw new UsageError(
        `${url} is a prefix, not one object: add --recursive to delete everything under it`,
      );
    }
    throw new NotFoundError(`${target.display(target.key)} does not exist`);
  }
  report(ctx, target.display(target.key), opts.dryRun === true);
  if (!opts.dryRun) await target.store.delete([target.key], { signal });
  return EXIT.ok;
}

/** rm -r: exactly the objects `ls -r URL` shows (app/recursive-tree.ts). */
async function rmTree(ctx: CommandContext, url: string, opts: RmOptions): Promise<number> {
  const { output, signal } = ctx;
  const tree = await resolveRecursiveTree(url, ctx.storage, signal);
  const { target } = tree;
  let batch: string[] = [];
  let count = 0;
  const flush = async (): Promise<void> => {
    if (!opts.dryRun && batch.length > 0) await target.store.delete(batch, { signal });
    batch = [];
  };
  // Listing is complete before deleting starts, page by page: deleting while listing the same prefix
  // would shift S3's continuation tokens under us.
  const keys: string[] = [];
  for await (const { info } of treeObjects(tree, signal)) keys.push(info.key);
  const note = besideFolderWarning(
    tree,
    opts.dryRun ? 'would be kept' : 'kept',
    (object) => `wharf rm ${object} deletes it`,
  );
  if (note) output.warn(note);
  if (!opts.dryRun && !opts.yes && keys.length > 0 && target.location.kind === 's3' && target.key === '') {
    // A whole bucket is one missing path segment away from `rm -r s3://b/tmp/`: ask, as `sync reset` does.
    const bucket = target.location.bucket;
    requireTerminal(`rm -r of the whole bucket ${bucket}`, { dryRun: true });
    const answer = await ask(
      `This deletes all ${keys.length} object${keys.length === 1 ? '' : 's'} in s3://${bucket}.\nType ${bucket} to confirm: `,
    );
    if (answer.trim() !== bucket) {
      output.info('not confirmed; nothing was deleted');
      return EXIT.conflict;
    }
  }
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
