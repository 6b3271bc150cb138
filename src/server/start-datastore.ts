import { UsageError } from '../core/errors.js';
import { resolveDatastoreConfig, type DatastoreServeOptions } from '../app/datastore-config.js';
import { openDatastore, type OpenedDatastore } from '../app/open-datastore.js';
import { createApp } from './create-app.js';

/** Why `listen` failed, for the errors a user fixes with another --host or --port. */
const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: 'the port is in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'no such address on this machine',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS did not answer)',
};

export interface RunningDatastore {
  /** `http://HOST:PORT` */
  url: string;
  port: number;
  datastore: OpenedDatastore;
  /** Set when this start created the first admin token (show it once). */
  createdAdminToken: string | undefined;
  /** Stops accepting requests, finishes those in flight, then closes the catalog, store and embedded database. */
  close(): Promise<void>;
}

/** Opens the datastore (see `openDatastore`) and serves its HTTP API on `host:port`. */
export async function startDatastore(
  options: DatastoreServeOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningDatastore> {
  const config = resolveDatastoreConfig(options, env);
  const datastore = await openDatastore(config);
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  try {
    app = await createApp({
      service: datastore.service,
      catalog: datastore.catalog,
      access: datastore.access,
      store: datastore.store,
      responseCacheBytes: config.responseCacheBytes,
      ...(datastore.sts ? { sts: datastore.sts } : {}),
      ...(datastore.oidc ? { oidc: datastore.oidc } : {}),
    });
    try {
      await app.listen({ port: config.port, host: config.host });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === undefined ? undefined : LISTEN_FAILURES[code];
      if (reason !== undefined) {
        throw new UsageError(`cannot listen on ${config.host}:${config.port}: ${reason}`, {
          cause: error,
          hint: 'choose another --port (0 picks a free one) or --host',
        });
      }
      throw error;
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
      port,
      datastore,
      createdAdminToken: datastore.createdAdminToken,
      close: () =>
        (closing ??= (async () => {
          await app!.close().catch(() => undefined);
          await datastore.close();
        })()),
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await datastore.close();
    throw error;
  }
}
