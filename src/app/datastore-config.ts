import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { OpenStorageOptions } from '../storage/registry.js';

/** What `wharf serve` accepts (flags), before defaults. */
export interface DatastoreServeOptions {
  /** Folder for the embedded defaults: `<dataDir>/store` and `<dataDir>/postgres`. Default `./.wharf-data`. */
  dataDir?: string;
  /** Any Wharf location for dataset folders (`s3://bucket/prefix`, a folder). Default `<dataDir>/store`. */
  store?: string;
  /** `postgres://…` of the catalog database. Default: an embedded PostgreSQL in `<dataDir>/postgres`. */
  database?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** PREFIX of minted ids `PREFIX/N`. Default `10378.1`. */
  idPrefix?: string;
  /** A fixed admin token (WHARF_ADMIN_TOKEN): stored hashed as the sys-admin `admin`'s token. */
  adminToken?: string;
  /** PostgreSQL schema of the catalog. Default `wharf`. */
  schema?: string;
  /** Connection settings for S3 stores. */
  storage?: OpenStorageOptions;
  /** Resolve relative paths against this folder. Default: the working directory. */
  cwd?: string;
}

export interface DatastoreConfig {
  dataDir: string;
  store: string;
  database: { kind: 'embedded'; dataDir: string } | { kind: 'url'; url: string };
  port: number;
  host: string;
  idPrefix: string;
  adminToken: string | undefined;
  schema: string;
  storage: OpenStorageOptions;
}

/** The service checks this too (`ID_PREFIX` in datastore/model); repeated here so the CLI need not load zod. */
const ID_PREFIX = /^[A-Za-z0-9._-]+$/;

export const DATASTORE_DEFAULTS = {
  dataDir: '.wharf-data',
  port: 8080,
  host: '127.0.0.1',
  idPrefix: '10378.1',
} as const;

/**
 * Resolves serve options (flags, then `env`: WHARF_ADMIN_TOKEN) to a validated configuration; every problem
 * is a UsageError naming the flag.
 */
export function resolveDatastoreConfig(
  options: DatastoreServeOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): DatastoreConfig {
  const cwd = options.cwd ?? process.cwd();
  const dataDir = resolve(cwd, options.dataDir ?? DATASTORE_DEFAULTS.dataDir);
  const port = options.port ?? DATASTORE_DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`invalid --port ${String(port)}: expected 0-65535 (0 picks a free port)`);
  }
  const idPrefix = options.idPrefix ?? DATASTORE_DEFAULTS.idPrefix;
  if (!ID_PREFIX.test(idPrefix)) {
    throw new UsageError(
      `invalid --id-prefix ${JSON.stringify(idPrefix)}: use letters, digits, '.', '_' and '-', e.g. 10378.1`,
    );
  }
  let database: DatastoreConfig['database'] = { kind: 'embedded', dataDir };
  if (options.database !== undefined) {
    if (!/^postgres(ql)?:\/\/./.test(options.database)) {
      throw new UsageError(
        `invalid --database ${JSON.stringify(redactUrl(options.database))}: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
      );
    }
    database = { kind: 'url', url: options.database };
  }
  const adminToken = options.adminToken ?? (env.WHARF_ADMIN_TOKEN || undefined);
  if (adminToken !== undefined && (adminToken.length < 16 || /\s/.test(adminToken))) {
    throw new UsageError('WHARF_ADMIN_TOKEN must be at least 16 characters without spaces', {
      hint: 'e.g. WHARF_ADMIN_TOKEN=$(openssl rand -hex 32)',
    });
  }
  const store =
    options.store === undefined
      ? join(dataDir, 'store')
      : /^[a-z][a-z0-9+.-]*:\/\//i.test(options.store) || isAbsolute(options.store)
        ? options.store
        : resolve(cwd, options.store);
  return {
    dataDir,
    store,
    database,
    port,
    host: options.host ?? DATASTORE_DEFAULTS.host,
    idPrefix,
    adminToken,
    schema: options.schema ?? 'wharf',
    storage: options.storage ?? {},
  };
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
