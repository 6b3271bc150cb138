import type { Command } from 'commander';

// What the datastore commands register (options, help); connecting is datastore-connection.ts, loaded when they run.

/** Where `wharf serve` listens by default. */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** `--server` / `--token` of every command that talks to the datastore. */
export interface ServerFlags {
  server?: string;
  token?: string;
}

/** Adds `--server` and `--token` to a command. */
export function withServerOptions(command: Command): Command {
  return command
    .option(
      '--server <url>',
      `datastore URL (default: WHARF_SERVER, the stored login, else ${DEFAULT_SERVER})`,
    )
    .option('--token <token>', 'API token (default: WHARF_TOKEN, else the stored login)');
}

export const CONNECTION_HELP = `The server and token come from --server/--token, else WHARF_SERVER/WHARF_TOKEN, else the
login stored by \`wharf login\`, else ${DEFAULT_SERVER} without a token.`;
