import type { FastifyReply } from 'fastify';
import type { ReadScope } from '../../datastore/service/datastore-service.js';
import type { Principal } from '../auth.js';
import type { ServerContext } from '../context.js';

/**
 * What listings (list, search, the review queue) show a caller: sys-admins and reviewers see everything,
 * others what they may read, anonymous callers metadata-public datasets.
 */
export function readScope(principal: Principal | null, sysAdmin: boolean): ReadScope {
  if (sysAdmin) return {};
  if (principal?.systemRoles.includes('reviewer')) return {};
  return {
    visibleTo: principal ? { username: principal.username, groups: principal.groups } : { username: null },
  };
}

/**
 * The answer as JSON text through the response cache: `key` must hold everything the answer depends on
 * (the operation, the validated query and what the caller may see).
 */
export async function cachedJson(
  reply: FastifyReply,
  ctx: ServerContext,
  key: unknown[],
  compute: () => Promise<unknown>,
): Promise<string> {
  const body = await ctx.responses.json(JSON.stringify(key), compute);
  reply.type('application/json; charset=utf-8');
  return body;
}
