import { Option, type Command } from 'commander';
import { NetworkError, WharfError, type ErrorCode } from '../../core/errors.js';
import { positiveInt, type RunAction } from '../context.js';

interface ServerFlags {
  server?: string;
  token?: string;
}

const DEFAULT_SERVER = 'http://127.0.0.1:8080';
const KNOWN_CODES = new Set<string>([
  'USAGE',
  'VALIDATION',
  'INVALID_KEY',
  'NOT_FOUND',
  'ACCESS_DENIED',
  'PRECONDITION_FAILED',
  'CONFLICT',
  'UNSUPPORTED',
  'NETWORK',
  'ABORTED',
  'IO',
  'INTERNAL',
]);

/** Calls the datastore API; an error answer becomes a WharfError with the server's code, message and hint. */
async function api(flags: ServerFlags, method: string, path: string, body?: unknown): Promise<unknown> {
  const server = (flags.server ?? process.env.WHARF_SERVER ?? DEFAULT_SERVER).replace(/\/+$/, '');
  const token = flags.token ?? process.env.WHARF_TOKEN;
  let response: Response;
  try {
    response = await fetch(`${server}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new NetworkError(`cannot reach the datastore at ${server}`, {
      cause: error,
      hint: 'is `wharf serve` running? Set --server or WHARF_SERVER',
    });
  }
  const text = await response.text();
  const parsed: unknown = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; hint?: string } } | undefined)
      ?.error;
    const code: ErrorCode =
      error?.code === 'UNAUTHENTICATED'
        ? 'ACCESS_DENIED'
        : KNOWN_CODES.has(error?.code ?? '')
          ? (error!.code as ErrorCode)
          : 'INTERNAL';
    throw new WharfError(code, error?.message ?? `HTTP ${response.status}`, {
      ...(error?.hint
        ? { hint: error.hint }
        : error?.code === 'UNAUTHENTICATED'
          ? { hint: 'set --token or WHARF_TOKEN' }
          : {}),
    });
  }
  return parsed;
}

function withServerOptions(command: Command): Command {
  return command
    .option('--server <url>', `datastore URL (default: WHARF_SERVER, else ${DEFAULT_SERVER})`)
    .option('--token <token>', 'API token (default: WHARF_TOKEN)');
}

interface TokenInfo {
  token?: string;
  tokenId: string;
  username: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export function registerToken(program: Command, run: RunAction): void {
  const token = program
    .command('token')
    .description("manage the datastore's API tokens (talks to wharf serve)");
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
        ctx.output.line(created.token!);
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
      .option('--user <username>', "another user's tokens (sys-admins only)"),
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
          ctx.output.line(`${t.tokenId}\t${t.username}\t${state}\t${t.createdAt}\t${t.name}`);
        }
      }
    }),
  );
  withServerOptions(
    token
      .command('revoke')
      .description('revoke a token by its id')
      .argument('<token-id>', 'as `wharf token list` shows it'),
  ).action(
    run(async (ctx, tokenId: string, flags: ServerFlags) => {
      await api(flags, 'DELETE', `/tokens/${encodeURIComponent(tokenId)}`);
      if (ctx.output.json) ctx.output.record({ revoked: tokenId });
      else ctx.output.info(`revoked ${tokenId}`);
    }),
  );
}
