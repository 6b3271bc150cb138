import { besideFolderWarning, resolveRecursiveTree } from '../../app/recursive-tree.js';
import { destinationKeyFor, namesPrefix, resolveTarget, type Target } from '../../app/resolve-target.js';
import { aboutSubject, NotFoundError, UsageError, WharfError } from '../../core/errors.js';
import { formatBytes, formatSeconds } from '../../core/units.js';
import {
  assertDestinationKey,
  copyObjects,
  existingDestinations,
  planTreeCopy,
  type CopyPlan,
} from '../../transfer/copy-objects.js';
import type { CommandContext } from '../context.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { createProgress } from '../progress.js';
import type { CpOptions } from './cp.js';

export async function cp(ctx: CommandContext, src: string, dst: string, opts: CpOptions): Promise<number> {
  const { output, signal } = ctx;
  const started = Date.now();
  // -r copies exactly the objects `ls -r SRC` shows (app/recursive-tree.ts).
  const tree = opts.recursive ? await resolveRecursiveTree(src, ctx.storage, signal) : undefined;
  const source = tree?.target ?? (await resolveTarget(src, 'object', ctx.storage));
  const dest = sameBucket(
    source,
    await resolveTarget(dst, opts.recursive ? 'folder' : 'object', ctx.storage),
  );

  let plan: CopyPlan;
  if (tree?.object) {
    // `cp -r s3://b/key dir/` on one object and no folder of that name: that object, as rclone copies it.
    plan = (await singleObjectPlan(source, tree.object.key, dest, signal)) ?? { items: [], totalBytes: 0 };
  } else if (tree) {
    const note = besideFolderWarning(tree, 'not copied', (object) => `wharf cp ${object} DEST copies it`);
    if (note) output.warn(note);
    plan = await planTreeCopy(source.store, tree.prefix, dest.store, dest.key, signal);
  } else {
    if (source.isFolder) {
      throw new UsageError(`${src} is a folder or prefix: add --recursive to copy everything under it`);
    }
    const found = await singleObjectPlan(source, source.key, dest, signal);
    if (!found && source.location.kind === 's3' && (await namesPrefix(source, signal))) {
      throw new UsageError(`${src} is a prefix, not one object: add --recursive to copy everything under it`);
    }
    if (!found) throw new NotFoundError(`${source.display(source.key)} does not exist`);
    plan = found;
  }

  const noClobber = opts.clobber === false;
  const concurrency = opts.concurrency ?? 32;
  if (opts.dryRun) {
    const existing = noClobber
      ? await existingDestinations(dest.store, plan, concurrency, signal)
      : new Set<string>();
    let copied = 0;
    let bytes = 0;
    for (const item of plan.items) {
      const from = source.display(item.sourceKey);
      const to = dest.display(item.destKey);
      const skip = existing.has(item.destKey);
      if (!skip) {
        copied += 1;
        bytes += item.size;
      }
      if (output.json)
        output.record({
          action: skip ? 'skip' : 'copy',
          source: from,
          dest: to,
          size: item.size,
          ...(skip ? { reason: 'exists' } : {}),
          dryRun: true,
        });
      else output.line(skip ? `would skip ${from} -> ${to} (exists)` : `would copy ${from} -> ${to}`);
    }
    if (output.json) {
      output.record({
        summary: {
          copied,
          skipped: existing.size,
          failed: 0,
          bytes,
          seconds: (Date.now() - started) / 1000,
          dryRun: true,
        },
      });
    } else {
      const skipped = existing.size > 0 ? `; ${existing.size} would be skipped (exist)` : '';
      output.info(`dry run: ${copied} objects, ${formatBytes(bytes)}${skipped}; nothing copied`);
    }
    return EXIT.ok;
  }
  if (plan.items.length === 0) {
    output.info(`nothing to copy: no objects under ${source.display(source.key)}`);
    return EXIT.ok;
  }

  const progress = await createProgress(output, 'copy');
  const result = await copyObjects(source.store, dest.store, plan, {
    concurrency,
    sha256Metadata: true,
    noClobber,
    signal,
    onEvent: (event) => {
      if (event.type !== 'retry') progress.update(event.snapshot);
      if (event.type === 'file-done') {
        const from = source.display(event.key);
        const to = dest.display(event.destKey);
        if (output.json) output.record({ action: 'copy', source: from, dest: to, size: event.size });
        output.debug(`copied ${from} -> ${to}`);
      }
      if (event.type === 'file-skipped') {
        const from = source.display(event.key);
        const to = dest.display(event.destKey);
        if (output.json)
          output.record({ action: 'skip', source: from, dest: to, size: event.size, reason: 'exists' });
        output.debug(`skipped ${from}: ${to} exists`);
      }
      if (event.type === 'file-failed' && output.json) output.record(failureRecord(source, dest, event));
      if (event.type === 'retry')
        output.debug(`retrying ${event.key} (attempt ${event.attempt + 1}): ${event.error.message}`);
    },
  }).finally(() => progress.stop());

  for (const failure of result.failed) {
    output.error(
      new WharfError(
        failure.error.code,
        aboutSubject(source.display(failure.sourceKey), failure.error.message),
        failure.error.hint ? { hint: failure.error.hint } : {},
      ),
    );
  }
  const took = formatSeconds(Date.now() - started);
  if (output.json) {
    output.record({
      summary: {
        copied: result.done.length,
        skipped: result.skipped.length,
        failed: result.failed.length,
        bytes: result.bytes,
        seconds: (Date.now() - started) / 1000,
      },
    });
  } else if (!opts.recursive && result.skipped.length === 1) {
    output.info(`skipped ${dest.display(result.skipped[0]!.destKey)}: it exists (--no-clobber)`);
  } else if (opts.recursive || result.failed.length === 0) {
    // One object that failed: its error line says it all; "copied 0 objects; 1 failed" would be a second line.
    const skipped = result.skipped.length ? `; skipped ${result.skipped.length} that exist` : '';
    output.info(
      `copied ${result.done.length} object${result.done.length === 1 ? '' : 's'} (${formatBytes(result.bytes)}) in ${took}${skipped}${result.failed.length ? `; ${result.failed.length} failed` : ''}`,
    );
  }
  if (result.failed.length === 0) return EXIT.ok;
  const codes = new Set(result.failed.map((f) => f.error.code));
  return codes.size === 1 ? exitCodeFor([...codes][0] ?? 'INTERNAL') : EXIT.failure;
}

/** The plan to copy the one object at `key` (undefined when there is none) to where `dest` says. */
async function singleObjectPlan(
  source: Target,
  key: string,
  dest: Target,
  signal: AbortSignal,
): Promise<CopyPlan | undefined> {
  const destKey = destinationKeyFor(dest, key);
  assertDestinationKey(dest.store, destKey);
  const info = await source.store.stat(key, { signal });
  if (!info) return undefined;
  const item = {
    sourceKey: key,
    destKey,
    size: info.size,
    ...(info.etag !== undefined ? { etag: info.etag } : {}),
    ...(info.lastModified ? { lastModified: info.lastModified } : {}),
  };
  return { items: [item], totalBytes: info.size };
}

/** A failed object for scripts: the copy record's names, and the error as `fetch --json` gives it. */
function failureRecord(
  source: Target,
  dest: Target,
  failure: { key: string; destKey: string; error: WharfError },
): Record<string, unknown> {
  const { code, message, hint } = failure.error;
  return {
    action: 'failed',
    source: source.display(failure.key),
    dest: dest.display(failure.destKey),
    error: { code, message, ...(hint ? { hint } : {}) },
  };
}

/** Two targets in one bucket share a driver, so the copy runs server-side. */
function sameBucket(source: Target, dest: Target): Target {
  if (
    source.location.kind === 's3' &&
    dest.location.kind === 's3' &&
    source.location.bucket === dest.location.bucket
  ) {
    void dest.store.close?.();
    return { ...dest, store: source.store };
  }
  return dest;
}
