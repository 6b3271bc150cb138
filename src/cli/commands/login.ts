import type { Command } from 'commander';
import type { RunAction } from '../context.js';

export function registerLogin(program: Command, run: RunAction): void {
  program
    .command('login')
    .description('check an API token against a datastore and remember both for the datastore commands')
    .argument('<url>', 'the datastore, e.g. http://127.0.0.1:8080')
    .option(
      '--token <token>',
      "API token (wharf token create); '-' reads it from stdin (default: WHARF_TOKEN)",
    )
    .addHelpText(
      'after',
      `
The server and token are stored in $XDG_CONFIG_HOME/wharf/credentials.json (default
~/.config/wharf/credentials.json), readable by you only. Commands use --server/--token first, then
WHARF_SERVER/WHARF_TOKEN, then this login; the stored token is only ever sent to the stored server.

Examples:
  wharf login http://127.0.0.1:8080 --token wharf_0123abcd..._...
  pass show wharf | wharf login https://data.example.org --token -`,
    )
    .action(
      run(async (ctx, url: string, flags: { token?: string }) => {
        const { login } = await import('./login-run.js');
        return login(ctx, url, flags);
      }),
    );
}
