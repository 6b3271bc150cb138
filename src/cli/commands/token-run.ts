import type { ApiTokenInfo } from '../../datastore/model/api-token.js';
import type { CommandContext } from '../context.js';
import { connect } from '../datastore-connection.js';
import type { ServerFlags } from '../datastore-options.js';
import { visible } from '../text-table.js';

/**
 * Calls the datastore API through the SDK's HTTP client (server and token resolved like every datastore
 * command); an error answer becomes a WharfError with the server's code, message and hint.
 */
async function api(flags: ServerFlags, method: string, path: string, body?: unknown): Promise<unknown> {
  const datastore = await connect(flags);
  return datastore.http.request(method, path, body !== undefined ? { body } : {});
}

/** A token as `POST /tokens` (with `token`, shown once) and `GET /tokens` answer it. */
type TokenInfo = ApiTokenInfo & { token?: string };

export async function create(
  ctx: CommandContext,
  name: string,
  flags: ServerFlags & { user?: string; expiresInDays?: number },
): Promise<void> {
  const created = (await api(flags, 'POST', '/tokens', {
    name,
    ...(flags.user !== undefined ? { username: flags.user } : {}),
    ...(flags.expiresInDays !== undefined ? { expiresInDays: flags.expiresInDays } : {}),
  })) as TokenInfo;
  if (ctx.output.json) ctx.output.record(created);
  else {
    ctx.output.line(visible(created.token!));
    ctx.output.info(
      `token ${created.tokenId} for ${created.username} (${created.name})` +
        `${created.expiresAt ? `, expires ${created.expiresAt}` : ''}; it is not shown again`,
    );
  }
}

export async function list(ctx: CommandContext, flags: ServerFlags & { user?: string }): Promise<void> {
  const query = flags.user !== undefined ? `?username=${encodeURIComponent(flags.user)}` : '';
  const { items } = (await api(flags, 'GET', `/tokens${query}`)) as { items: TokenInfo[] };
  for (const t of items) {
    if (ctx.output.json) ctx.output.record(t);
    else {
      const state = t.revokedAt
        ? 'revoked'
        : t.expiresAt && t.expiresAt < new Date().toISOString()
          ? 'expired'
          : 'active';
      ctx.output.line([t.tokenId, t.username, state, t.createdAt, t.name].map(visible).join('\t'));
    }
  }
}

export async function revoke(ctx: CommandContext, tokenId: string, flags: ServerFlags): Promise<void> {
  await api(flags, 'DELETE', `/tokens/${encodeURIComponent(tokenId)}`);
  if (ctx.output.json) ctx.output.record({ revoked: tokenId });
  else ctx.output.info(`revoked ${tokenId}`);
}
