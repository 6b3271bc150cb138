import { pipeline } from 'node:stream/promises';
import { holdsBytes, namesPrefix, resolveTarget } from '../../app/resolve-target.js';
import { isWharfError, UsageError } from '../../core/errors.js';
import type { CommandContext } from '../context.js';

export async function cat(ctx: CommandContext, url: string): Promise<void> {
  const target = await resolveTarget(url, 'object', ctx.storage);
  const isFolder = new UsageError(
    `${url} is a folder or prefix, not an object: use 'wharf ls' to see what is in it`,
  );
  // `s3://b/notes/` is a folder, unless an object of that very name holds bytes (not an empty folder marker).
  if (target.isFolder && !(await holdsBytes(target, ctx.signal))) throw isFolder;
  const body = await target.store.read(target.key, { signal: ctx.signal }).catch(async (error: unknown) => {
    // `s3://b/data` for the folder `data/`: say so rather than that no object `data` exists.
    if (isWharfError(error) && error.code === 'NOT_FOUND' && !error.affectsAll) {
      if (await namesPrefix(target, ctx.signal)) throw isFolder;
    }
    throw error;
  });
  try {
    await pipeline(body, process.stdout, { end: false });
  } catch (error) {
    // A closed pipe (`wharf cat ... | head`) is the reader's choice, not an error.
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  }
}
