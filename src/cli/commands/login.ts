import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { RunAction } from '../context.js';
import { storeLogin } from '../datastore-connection.js';
import { readStdin } from './dataset.js';

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
        const { normaliseEndpoint } = await import('../../client/http.js');
        const endpoint = normaliseEndpoint(url);
        let token = flags.token === '-' ? (await readStdin()).trim() : flags.token;
        token ??= process.env.WHARF_TOKEN || undefined;
        if (!token) {
          throw new UsageError('no token given', {
            hint: "pass --token TOKEN, or --token - to read it from stdin (create one with 'wharf token create')",
          });
        }
        const { Datastore } = await import('../../client/datastore.js');
        const ds = new Datastore({ endpoint, token });
        const me = await ds.whoAmI();
        const file = await storeLogin({ server: ds.endpoint, token });
        if (ctx.output.json) ctx.output.record({ server: ds.endpoint, username: me.username, file });
        else ctx.output.info(`logged in to ${ds.endpoint} as ${me.username} (saved in ${file})`);
      }),
    );
}
