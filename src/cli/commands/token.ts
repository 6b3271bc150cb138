import { Option, type Command } from 'commander';
import type { ApiTokenInfo } from '../../datastore/model/api-token.js';
import { connect, CONNECTION_HELP, withServerOptions, type ServerFlags } from '../datastore-connection.js';
import { visible } from '../text-table.js';
import { positiveInt, type RunAction } from '../context.js';

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

export function registerToken(program: Command, run: RunAction): void {
  const token = program
    .command('token')
    .description("manage the datastore's API tokens (talks to wharf serve)")
    .addHelpText(
      'after',
      `
${CONNECTION_HELP}

Examples:
  wharf token create ci --expires-in-days 90
  wharf token list
  wharf token revoke TOKEN-ID        # the first column of wharf token list`,
    );
  withServerOptions(
    token
      .command('create')
      .description('create an API token; it is printed once')
      .argument('<name>', 'what the token is for, e.g. laptop or ci')
      .option('--user <username>', 'for another user (sys-admins only)')
      .addOption(
        new Option('--expires-in-days <n>', 'expiry (default: never)').argParser(
          positiveInt('--expires-in-days'),
        ),
      )
      .addHelpText(
        'after',
        `
Examples:
  wharf token create laptop
  wharf token create ci --expires-in-days 90 --json | jq -r .token
  wharf token create backup --user alice --server https://data.example.org   # as a sys-admin`,
      ),
  ).action(
    run(async (ctx, name: string, flags: ServerFlags & { user?: string; expiresInDays?: number }) => {
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
    }),
  );
  withServerOptions(
    token
      .command('list')
      .description('list tokens (yours; sys-admins: --user or everyone) — never the secrets')
      .option('--user <username>', "another user's tokens (sys-admins only)")
      .addHelpText(
        'after',
        `
Examples:
  wharf token list
  wharf token list --user alice --json      # as a sys-admin`,
      ),
  ).action(
    run(async (ctx, flags: ServerFlags & { user?: string }) => {
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
    }),
  );
  withServerOptions(
    token
      .command('revoke')
      .description('revoke a token by its id')
      .argument('<token-id>', 'as `wharf token list` shows it')
      .addHelpText(
        'after',
        `
Examples:
  wharf token list                   # the token id is the first column
  wharf token revoke TOKEN-ID`,
      ),
  ).action(
    run(async (ctx, tokenId: string, flags: ServerFlags) => {
      await api(flags, 'DELETE', `/tokens/${encodeURIComponent(tokenId)}`);
      if (ctx.output.json) ctx.output.record({ revoked: tokenId });
      else ctx.output.info(`revoked ${tokenId}`);
    }),
  );
}
