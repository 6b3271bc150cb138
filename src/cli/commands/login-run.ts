import { UsageError } from '../../core/errors.js';
import type { CommandContext } from '../context.js';
import { storeLogin } from '../datastore-connection.js';
import { readStdin } from '../read-input.js';

export async function login(ctx: CommandContext, url: string, flags: { token?: string }): Promise<void> {
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
}
