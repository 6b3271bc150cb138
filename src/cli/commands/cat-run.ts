import { pipeline } from 'node:stream/promises';
import { resolveTarget } from '../../app/resolve-target.js';
import { UsageError } from '../../core/errors.js';
import type { CommandContext } from '../context.js';

export async function cat(ctx: CommandContext, url: string): Promise<void> {
  const target = await resolveTarget(url, 'object', ctx.storage);
  if (target.isFolder)
    throw new UsageError(`${url} is a folder or prefix, not an object: use 'wharf ls' to see what is in it`);
  const body = await target.store.read(target.key, { signal: ctx.signal });
  try {
    await pipeline(body, process.stdout, { end: false });
  } catch (error) {
    // A closed pipe (`wharf cat ... | head`) is the reader's choice, not an error.
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  }
}
