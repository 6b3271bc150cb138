import { Option, type Command } from 'commander';
import { positiveInt, type RunAction } from '../context.js';
import { CONNECTION_HELP, withServerOptions, type ServerFlags } from '../datastore-options.js';

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
      const { create } = await import('./token-run.js');
      return create(ctx, name, flags);
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
      const { list } = await import('./token-run.js');
      return list(ctx, flags);
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
      const { revoke } = await import('./token-run.js');
      return revoke(ctx, tokenId, flags);
    }),
  );
}
