import { resolveTarget } from '../../app/resolve-target.js';
import { NotFoundError } from '../../core/errors.js';
import { asFolderPrefix } from '../../core/keys.js';
import type { ObjectInfo } from '../../storage/types.js';
import type { CommandContext } from '../context.js';

export async function ls(ctx: CommandContext, url: string, opts: { recursive?: boolean }): Promise<void> {
  const { signal } = ctx;
  const asObject = await resolveTarget(url, 'object', ctx.storage);
  if (!asObject.isFolder) {
    const info = await asObject.store.stat(asObject.key, { signal });
    if (info) {
      const parent = info.key.lastIndexOf('/') + 1;
      print(ctx, info, asObject.display(info.key), info.key.slice(parent));
      // `a` may also be a folder (`a/b`): show it too, named from the same parent, as aws s3 ls does.
      if (asObject.location.kind === 's3') {
        const folder = `${info.key}/`;
        for await (const below of asObject.store.list(
          folder,
          opts.recursive ? { signal } : { signal, delimiter: '/' as const },
        )) {
          if (!opts.recursive) {
            print(
              ctx,
              { key: folder, size: 0, isPrefix: true },
              asObject.display(folder),
              folder.slice(parent),
            );
            break;
          }
          print(ctx, below, asObject.display(below.key), below.key.slice(parent));
        }
      }
      return;
    }
    if (asObject.location.kind === 'local')
      throw new NotFoundError(`${asObject.location.path} does not exist`);
  }
  const store = asObject.store;
  const prefix = asObject.location.kind === 's3' ? asFolderPrefix(asObject.key) : asObject.key;
  const display = asObject.display;
  for await (const info of store.list(prefix, {
    signal,
    ...(opts.recursive ? {} : { delimiter: '/' as const }),
  })) {
    print(ctx, info, display(info.key), info.key.slice(prefix.length));
  }
}

function print(ctx: CommandContext, info: ObjectInfo, url: string, relative: string): void {
  if (ctx.output.json) {
    const record: Record<string, unknown> = { key: relative, size: info.size, url };
    if (info.isPrefix) record.isPrefix = true;
    if (info.lastModified) record.lastModified = info.lastModified.toISOString();
    if (info.etag) record.etag = info.etag;
    ctx.output.record(record);
    return;
  }
  if (info.isPrefix) {
    ctx.output.line(`${' '.repeat(19)} ${'PRE'.padStart(12)} ${relative}`);
    return;
  }
  const when = info.lastModified ? formatTime(info.lastModified) : ' '.repeat(19);
  ctx.output.line(`${when} ${String(info.size).padStart(12)} ${relative}`);
}

function formatTime(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19);
}
