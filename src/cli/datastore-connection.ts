import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { UsageError } from '../core/errors.js';
import type { Datastore } from '../client/datastore.js';
import { makeDir } from '../core/make-dir.js';
import { DEFAULT_SERVER, type ServerFlags } from './datastore-options.js';

/** What `wharf login` stores. */
export interface StoredLogin {
  server: string;
  token: string;
}

/** `$XDG_CONFIG_HOME/wharf/credentials.json`, else `~/.config/wharf/credentials.json`. */
export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'wharf', 'credentials.json');
}

export async function readStoredLogin(
  env: NodeJS.ProcessEnv = process.env,
): Promise<StoredLogin | undefined> {
  const file = credentialsFile(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<StoredLogin>;
    if (typeof parsed.server === 'string' && typeof parsed.token === 'string') {
      return { server: parsed.server, token: parsed.token };
    }
  } catch {
    // fall through
  }
  throw new UsageError(`${file} is not a login file wharf can read`, {
    hint: 'run `wharf login URL` again (it rewrites the file)',
  });
}

/** Writes the login file atomically, readable by its owner only (0600, folder 0700). */
export async function storeLogin(login: StoredLogin, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = credentialsFile(env);
  await makeDir(dirname(file), { mode: 0o700 });
  const previous = process.umask(0o077);
  try {
    await writeFileAtomic(file, `${JSON.stringify(login, null, 2)}\n`);
  } finally {
    process.umask(previous);
  }
  return file;
}

function trimUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * The server and token a command uses: flags, then WHARF_SERVER / WHARF_TOKEN, then the stored login, then
 * the default server without a token. The stored token is sent only to the server it was stored for, so
 * `--server OTHER` never leaks it.
 */
export async function resolveConnection(
  flags: ServerFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ server: string; token: string | undefined }> {
  const explicitServer = flags.server ?? (env.WHARF_SERVER || undefined);
  const explicitToken = flags.token ?? (env.WHARF_TOKEN || undefined);
  const stored =
    explicitServer !== undefined && explicitToken !== undefined ? undefined : await readStoredLogin(env);
  const server = trimUrl(explicitServer ?? stored?.server ?? DEFAULT_SERVER);
  const token = explicitToken ?? (stored && trimUrl(stored.server) === server ? stored.token : undefined);
  return { server, token };
}

/** A Datastore client for the resolved server and token (the SDK loads on first use). */
export async function connect(flags: ServerFlags): Promise<Datastore> {
  const { server, token } = await resolveConnection(flags);
  const { Datastore } = await import('../client/datastore.js');
  return new Datastore({ endpoint: server, ...(token ? { token } : {}) });
}
