import { besideFolderWarning, resolveRecursiveTree, treeObjects } from '../../app/recursive-tree.js';
import { resolveTarget } from '../../app/resolve-target.js';
import { NotFoundError } from '../../core/errors.js';
import { asFolderPrefix } from '../../core/keys.js';
import { formatBytes } from '../../core/units.js';
import type { ObjectInfo } from '../../storage/types.js';
import type { CommandContext } from '../context.js';
import type { LsOptions } from './ls.js';

/** Prints one listed entry: `info`, shown as `url` (JSON) or `relative` (text). */
type Print = (info: ObjectInfo, url: string, relative: string) => void;

export async function ls(ctx: CommandContext, url: string, opts: LsOptions): Promise<void> {
  const totals = { objects: 0, bytes: 0 };
  await listEntries(ctx, url, opts, (info, shownUrl, relative) => {
    if (!info.isPrefix) {
      totals.objects += 1;
      totals.bytes += info.size;
    }
    printEntry(ctx, opts, info, shownUrl, relative);
  });
  if (!opts.summarize) return;
  if (ctx.output.json) {
    ctx.output.record({ summary: totals });
    return;
  }
  // As aws s3 ls --summarize prints it.
  ctx.output.line('');
  ctx.output.line(`Total Objects: ${totals.objects}`);
  ctx.output.line(
    `   Total Size: ${opts.humanReadable ? formatBytes(totals.bytes) : `${totals.bytes} Bytes`}`,
  );
}

async function listEntries(ctx: CommandContext, url: string, opts: LsOptions, print: Print): Promise<void> {
  const { signal } = ctx;
  if (opts.recursive) {
    // The same tree rm -r deletes and cp -r copies (app/recursive-tree.ts).
    const tree = await resolveRecursiveTree(url, ctx.storage, signal);
    const note = besideFolderWarning(tree, 'not listed', (object) => `wharf ls ${object} shows it`);
    if (note) ctx.output.warn(note);
    for await (const { info, relative } of treeObjects(tree, signal))
      print(info, tree.target.display(info.key), relative);
    return;
  }
  const asObject = await resolveTarget(url, 'object', ctx.storage);
  if (!asObject.isFolder) {
    const info = await asObject.store.stat(asObject.key, { signal });
    if (info) {
      const parent = info.key.lastIndexOf('/') + 1;
      print(info, asObject.display(info.key), info.key.slice(parent));
      // `a` may also be a folder (`a/b`): show it too, named from the same parent, as aws s3 ls does.
      if (asObject.location.kind === 's3') {
        const folder = `${info.key}/`;
        for await (const _ of asObject.store.list(folder, { signal, delimiter: '/' as const })) {
          print({ key: folder, size: 0, isPrefix: true }, asObject.display(folder), folder.slice(parent));
          break;
        }
      }
      return;
    }
    if (asObject.location.kind === 'local')
      throw new NotFoundError(`${asObject.location.path} does not exist`);
  }
  const store = asObject.store;
  const prefix = asObject.location.kind === 's3' ? asFolderPrefix(asObject.key) : asObject.key;
  for await (const info of store.list(prefix, { signal, delimiter: '/' as const })) {
    print(info, asObject.display(info.key), info.key.slice(prefix.length));
  }
}

function printEntry(
  ctx: CommandContext,
  opts: LsOptions,
  info: ObjectInfo,
  url: string,
  relative: string,
): void {
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
  const size = opts.humanReadable ? formatBytes(info.size) : String(info.size);
  ctx.output.line(`${when} ${size.padStart(12)} ${relative}`);
}

function formatTime(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19);
}
