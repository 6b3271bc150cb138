import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { parseLocation } from '../core/location.js';
import { DATASTORE_DEFAULTS, OIDC_DEFAULT_SCOPES } from './datastore-defaults.js';
import type { OidcBrowserOptions, OidcOptions } from '../datastore/access/oidc.js';
import type { OpenStorageOptions } from '../storage/registry.js';

/** What `wharf serve` accepts (flags), before defaults. */
export interface DatastoreServeOptions {
  /** Folder for the embedded defaults: `<dataDir>/store` and `<dataDir>/postgres`. Default `./.wharf-data`. */
  dataDir?: string | undefined;
  /** Any Wharf location for dataset folders (`s3://bucket/prefix`, a folder). Default `<dataDir>/store`. */
  store?: string | undefined;
  /** `postgres://…` of the catalog database. Default: an embedded PostgreSQL in `<dataDir>/postgres`. */
  database?: string | undefined;
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number | undefined;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string | undefined;
  /** PREFIX of minted ids `PREFIX/N`. Default `10378.1`. */
  idPrefix?: string | undefined;
  /** A fixed admin token (WHARF_ADMIN_TOKEN): stored hashed as the sys-admin `admin`'s token. */
  adminToken?: string | undefined;
  /** PostgreSQL schema of the catalog. Default `wharf`. */
  schema?: string | undefined;
  /** Connection settings for S3 stores. */
  storage?: OpenStorageOptions | undefined;
  /** Resolve relative paths against this folder. Default: the working directory. */
  cwd?: string | undefined;
  /**
   * Role that scoped S3 credentials assume (STS AssumeRole with a session policy); S3 stores only. Default:
   * WHARF_STS_ROLE_ARN. Without it, credentials are scoped `wds_` tokens for Wharf's own file routes.
   */
  stsRoleArn?: string | undefined;
  /** STS endpoint URL. Default: WHARF_STS_ENDPOINT, else the S3 endpoint (AWS STS when that is AWS). */
  stsEndpoint?: string | undefined;
  /** Accept OIDC JWTs verified against this JWKS URL. Default: WHARF_OIDC_JWKS_URL; none: no OIDC. */
  oidcJwksUrl?: string | undefined;
  /** Required `iss` of OIDC tokens. Default: WHARF_OIDC_ISSUER; none: not checked. */
  oidcIssuer?: string | undefined;
  /** Required `aud` of OIDC tokens. Default: WHARF_OIDC_AUDIENCE; none: not checked. */
  oidcAudience?: string | undefined;
  /** Claim naming the user. Default: WHARF_OIDC_USERNAME_CLAIM, else `preferred_username` (then `sub`). */
  oidcUsernameClaim?: string | undefined;
  /** Claim listing the user's groups. Default: WHARF_OIDC_GROUPS_CLAIM, else `groups`. */
  oidcGroupsClaim?: string | undefined;
  /** Public client id for browser sign-in (web UI). Default: WHARF_OIDC_CLIENT_ID; none: API tokens only. */
  oidcClientId?: string | undefined;
  /** The provider's authorization endpoint. Default: WHARF_OIDC_AUTHORIZATION_URL. */
  oidcAuthorizationUrl?: string | undefined;
  /** The provider's token endpoint (must allow CORS). Default: WHARF_OIDC_TOKEN_URL. */
  oidcTokenUrl?: string | undefined;
  /** Scopes the web UI asks for. Default: WHARF_OIDC_SCOPES, else `openid profile`. */
  oidcScopes?: string | undefined;
  /** MiB of memory for cached list and search answers; 0 turns the cache off. Default 32. */
  responseCacheMb?: number | undefined;
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
  /** STS for scoped S3 credentials (used with an S3 store only). */
  sts: { roleArn: string; endpoint: string | undefined } | undefined;
  /** OIDC JWT authentication. */
  oidc: OidcOptions | undefined;
  /** Bytes of cached list and search answers (0: off). */
  responseCacheBytes: number;
}

/** The service checks this too (`ID_PREFIX` in datastore/model); repeated here so the CLI need not load zod. */
const ID_PREFIX = /^[A-Za-z0-9._-]+$/;

export { DATASTORE_DEFAULTS, OIDC_DEFAULT_SCOPES };

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
  // `s3:/bucket` or `gs://bucket` is a mistyped location, not a folder to create under the working directory.
  if (options.store !== undefined) parseLocation(options.store, cwd);
  const store =
    options.store === undefined
      ? join(dataDir, 'store')
      : /^[a-z][a-z0-9+.-]*:\/\//i.test(options.store) || isAbsolute(options.store)
        ? options.store
        : resolve(cwd, options.store);
  const { sts, oidc } = resolveAccessOptions(options, env, store);
  const cacheMb = options.responseCacheMb ?? DATASTORE_DEFAULTS.responseCacheMb;
  if (!Number.isFinite(cacheMb) || cacheMb < 0 || cacheMb > 65536) {
    throw new UsageError(`invalid --response-cache-mb ${String(cacheMb)}: expected 0-65536 (0 turns it off)`);
  }
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
    sts,
    oidc,
    responseCacheBytes: Math.round(cacheMb * 1024 * 1024),
  };
}

const ROLE_ARN = /^arn:[a-z-]+:(iam|sts)::[0-9]*:[A-Za-z0-9+=,.@/_-]+$/;

function httpUrl(value: string, flag: string, example: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // fall through
  }
  throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: expected an http(s) URL, e.g. ${example}`);
}

/** STS and OIDC settings: flags first, then WHARF_STS_* / WHARF_OIDC_* environment variables. */
function resolveAccessOptions(
  options: DatastoreServeOptions,
  env: NodeJS.ProcessEnv,
  store: string,
): Pick<DatastoreConfig, 'sts' | 'oidc'> {
  const isS3 = /^s3:\/\//i.test(store);
  const roleArn = options.stsRoleArn ?? (env.WHARF_STS_ROLE_ARN || undefined);
  if (options.stsRoleArn !== undefined && !isS3) {
    throw new UsageError('--sts-role-arn needs an S3 store (--store s3://BUCKET/PREFIX)', {
      hint: 'with a local store, credentials are scoped wds_ tokens for the file routes: drop --sts-role-arn',
    });
  }
  if (roleArn !== undefined && !ROLE_ARN.test(roleArn)) {
    throw new UsageError(
      `invalid --sts-role-arn / WHARF_STS_ROLE_ARN ${JSON.stringify(roleArn)}: expected arn:aws:iam::ACCOUNT:role/NAME`,
    );
  }
  const stsEndpoint = options.stsEndpoint ?? (env.WHARF_STS_ENDPOINT || undefined);
  if (stsEndpoint !== undefined)
    httpUrl(stsEndpoint, '--sts-endpoint / WHARF_STS_ENDPOINT', 'https://sts.example.org');
  // A role in the environment with a local store is ignored: credentials are wds_ tokens there.
  const sts = roleArn !== undefined && isS3 ? { roleArn, endpoint: stsEndpoint } : undefined;

  const jwksUrl = options.oidcJwksUrl ?? (env.WHARF_OIDC_JWKS_URL || undefined);
  const issuer = options.oidcIssuer ?? (env.WHARF_OIDC_ISSUER || undefined);
  const audience = options.oidcAudience ?? (env.WHARF_OIDC_AUDIENCE || undefined);
  const usernameClaim = options.oidcUsernameClaim ?? (env.WHARF_OIDC_USERNAME_CLAIM || undefined);
  const groupsClaim = options.oidcGroupsClaim ?? (env.WHARF_OIDC_GROUPS_CLAIM || undefined);
  const browser = resolveBrowserOptions(options, env);
  if (jwksUrl === undefined) {
    if (browser !== undefined) {
      throw new UsageError('browser sign-in (--oidc-client-id and the endpoint URLs) needs --oidc-jwks-url', {
        hint: "set --oidc-jwks-url / WHARF_OIDC_JWKS_URL to the identity provider's JWKS (its jwks_uri), so that the service can verify the tokens the browser gets",
      });
    }
    if (
      issuer !== undefined ||
      audience !== undefined ||
      usernameClaim !== undefined ||
      groupsClaim !== undefined
    ) {
      throw new UsageError('--oidc-issuer, --oidc-audience and the claim options need --oidc-jwks-url', {
        hint: "set --oidc-jwks-url / WHARF_OIDC_JWKS_URL to the identity provider's JWKS (its jwks_uri)",
      });
    }
    return { sts, oidc: undefined };
  }
  httpUrl(
    jwksUrl,
    '--oidc-jwks-url / WHARF_OIDC_JWKS_URL',
    'https://idp.example.org/realms/x/protocol/openid-connect/certs',
  );
  for (const [flag, value] of [
    ['--oidc-username-claim', usernameClaim],
    ['--oidc-groups-claim', groupsClaim],
  ] as const) {
    if (value !== undefined && !/^\S+$/.test(value))
      throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}`);
  }
  return {
    sts,
    oidc: {
      jwksUrl,
      ...(issuer !== undefined ? { issuer } : {}),
      ...(audience !== undefined ? { audience } : {}),
      ...(usernameClaim !== undefined ? { usernameClaim } : {}),
      ...(groupsClaim !== undefined ? { groupsClaim } : {}),
      ...(browser !== undefined ? { browser } : {}),
    },
  };
}

/**
 * The web UI's sign-in settings: none of them set is no browser sign-in; some set needs all of client id,
 * authorization URL and token URL (a UsageError names the missing ones).
 */
function resolveBrowserOptions(
  options: DatastoreServeOptions,
  env: NodeJS.ProcessEnv,
): OidcBrowserOptions | undefined {
  const clientId = options.oidcClientId ?? (env.WHARF_OIDC_CLIENT_ID || undefined);
  const authorizationUrl = options.oidcAuthorizationUrl ?? (env.WHARF_OIDC_AUTHORIZATION_URL || undefined);
  const tokenUrl = options.oidcTokenUrl ?? (env.WHARF_OIDC_TOKEN_URL || undefined);
  const scopes = options.oidcScopes ?? (env.WHARF_OIDC_SCOPES || undefined);
  const given = { clientId, authorizationUrl, tokenUrl, scopes };
  if (Object.values(given).every((v) => v === undefined)) return undefined;
  const missing = [
    clientId === undefined ? '--oidc-client-id / WHARF_OIDC_CLIENT_ID' : undefined,
    authorizationUrl === undefined ? '--oidc-authorization-url / WHARF_OIDC_AUTHORIZATION_URL' : undefined,
    tokenUrl === undefined ? '--oidc-token-url / WHARF_OIDC_TOKEN_URL' : undefined,
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0) {
    throw new UsageError(`browser sign-in (OIDC) also needs ${missing.join(' and ')}`, {
      hint: "set the web UI's public client id and the provider's authorization_endpoint and token_endpoint (from its .well-known/openid-configuration), or drop the --oidc-client-id / --oidc-*-url / --oidc-scopes settings",
    });
  }
  if (!/^[\x21-\x7e]{1,200}$/.test(clientId!)) {
    throw new UsageError(
      `invalid --oidc-client-id ${JSON.stringify(clientId)}: expected printable ASCII without spaces`,
    );
  }
  httpUrl(
    authorizationUrl!,
    '--oidc-authorization-url / WHARF_OIDC_AUTHORIZATION_URL',
    'https://idp.example.org/realms/x/protocol/openid-connect/auth',
  );
  httpUrl(
    tokenUrl!,
    '--oidc-token-url / WHARF_OIDC_TOKEN_URL',
    'https://idp.example.org/realms/x/protocol/openid-connect/token',
  );
  const scopeList = (scopes ?? OIDC_DEFAULT_SCOPES).trim().split(/\s+/);
  if (scopeList.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
    throw new UsageError(
      `invalid --oidc-scopes ${JSON.stringify(scopes)}: expected space-separated scopes, e.g. "openid profile"`,
    );
  }
  return {
    clientId: clientId!,
    authorizationUrl: authorizationUrl!,
    tokenUrl: tokenUrl!,
    scopes: scopeList.join(' '),
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
