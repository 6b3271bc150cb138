import { readFile } from 'node:fs/promises';
import { toWharfError, UsageError, ValidationError } from '../core/errors.js';

/** What pg's Client takes; `undefined` fields fall back to the standard PG* environment variables. */
export interface PgConnectionConfig {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean | { rejectUnauthorized: boolean };
  connectionTimeoutMillis?: number;
}

/** Fetches a secret's string by name (AWS Secrets Manager, or a stand-in). */
export interface SecretSource {
  getSecretString(name: string, signal?: AbortSignal): Promise<string>;
}

/**
 * Where the source database's credentials come from. Exactly one of `url`, `file`, `secret`; none means the
 * standard PG* environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE).
 */
export interface SourceSpec {
  /** `postgres://user:password@host:port/db?sslmode=...` */
  url?: string | undefined;
  /** A file holding a connection URL, or JSON like an RDS secret ({host, port, username, password, dbname}). */
  file?: string | undefined;
  /** The name of an AWS Secrets Manager secret holding RDS-style JSON. */
  secret?: string | undefined;
  /** How to fetch `secret` (default: AWS Secrets Manager over HTTPS with the usual AWS credentials). */
  secrets?: SecretSource;
}

/** Resolves a SourceSpec to a pg connection config. Errors never contain the password. */
export async function resolveSource(spec: SourceSpec, signal?: AbortSignal): Promise<PgConnectionConfig> {
  const given = [spec.url, spec.file, spec.secret].filter((v) => v !== undefined && v !== '');
  if (given.length > 1) {
    throw new UsageError('give one of --source, --source-file and --source-secret, not several');
  }
  if (spec.url) return fromUrl(spec.url, 'the source URL');
  if (spec.file) {
    const text = (
      await readFile(spec.file, 'utf8').catch((error: unknown) => {
        throw toWharfError(error, `cannot read the source file ${spec.file}`);
      })
    ).trim();
    return text.startsWith('{')
      ? fromSecretJson(text, `the file ${spec.file}`)
      : fromUrl(text, `the file ${spec.file}`);
  }
  if (spec.secret) {
    const secrets = spec.secrets ?? (await import('./secrets-manager.js')).awsSecretsManager();
    const text = await secrets.getSecretString(spec.secret, signal);
    return fromSecretJson(text, `the secret ${JSON.stringify(spec.secret)}`);
  }
  return {};
}

function fromUrl(url: string, where: string): PgConnectionConfig {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new UsageError(`${where} must be a postgres://user:password@host:port/database URL`);
  }
  // A bad port or host ('postgres://u:p@h:notaport/db') would fail later as a bare 'Invalid URL'.
  try {
    new URL(url);
  } catch {
    throw new UsageError(`${where} is not a valid URL (a bad port, host or a character to %-encode?)`, {
      hint: 'expected postgres://user:password@host:port/database; %-encode special characters in the password',
    });
  }
  return { connectionString: url };
}

/** RDS secret JSON: {engine, host, port, username, password, dbname}; `user`/`database` accepted too. */
export function fromSecretJson(text: string, where: string): PgConnectionConfig {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ValidationError(`${where} is not JSON with host, port, username, password and dbname`);
  }
  const str = (...keys: string[]): string | undefined => {
    for (const key of keys) {
      const v = value[key];
      if (typeof v === 'string' && v !== '') return v;
      if (typeof v === 'number') return String(v);
    }
    return undefined;
  };
  const host = str('host');
  const user = str('username', 'user');
  if (!host || !user) {
    throw new ValidationError(`${where} lacks ${host ? 'username' : 'host'}`, {
      hint: 'RDS-style JSON: {"host": ..., "port": 5432, "username": ..., "password": ..., "dbname": ...}',
    });
  }
  const port = str('port');
  const password = str('password');
  const database = str('dbname', 'database');
  return {
    host,
    user,
    ...(port ? { port: Number(port) } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(database ? { database } : {}),
  };
}
