import type { JWTPayload, JWTVerifyGetKey } from 'jose';

type Jose = typeof import('jose'); // eslint-disable-line @typescript-eslint/consistent-type-imports

export interface OidcOptions {
  /** The identity provider's JSON Web Key Set (`wharf serve --oidc-jwks-url` / WHARF_OIDC_JWKS_URL). */
  jwksUrl: string;
  /** Required `iss` when set. */
  issuer?: string;
  /** Required `aud` (one of) when set. */
  audience?: string;
  /** Claim holding the user name. Default `preferred_username`, falling back to `sub`. */
  usernameClaim?: string;
  /** Claim holding the groups (array of strings, or one string). Default `groups`. */
  groupsClaim?: string;
  /** Browser sign-in (authorization code + PKCE) that the web UI offers, advertised by `GET /auth/config`. */
  browser?: OidcBrowserOptions;
}

/** A public OIDC client (no secret) the web UI signs in with; served as-is by `GET /auth/config`. */
export interface OidcBrowserOptions {
  clientId: string;
  authorizationUrl: string;
  tokenUrl: string;
  /** Space-separated scopes (default `openid profile`). */
  scopes: string;
}

export const OIDC_DEFAULT_USERNAME_CLAIM = 'preferred_username';
export const OIDC_DEFAULT_GROUPS_CLAIM = 'groups';

/** Asymmetric algorithms only: a JWKS of public keys must never verify an HMAC-signed token. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Seconds of clock skew allowed on `exp` / `nbf` / `iat`. */
const CLOCK_TOLERANCE_SECONDS = 30;

export interface OidcIdentity {
  username: string;
  groups: string[];
  /** `exp` in Unix seconds, when present. */
  expiresAt: number | undefined;
}

/**
 * `invalid`: the token is bad (401). `unavailable`: the key set could not be fetched (503): the server's
 * problem, not the caller's.
 */
export type OidcCheck =
  { ok: true; identity: OidcIdentity } | { ok: false; kind: 'invalid' | 'unavailable'; reason: string };

/**
 * Whether a bearer value is a JWS compact JWT: three base64url segments whose header is JSON with `alg`.
 * (An API token or WHARF_ADMIN_TOKEN with two dots is not mistaken for one.)
 */
export function looksLikeJwt(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p)) || !parts[0] || !parts[1]) {
    return false;
  }
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as unknown;
    return (
      typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string'
    );
  } catch {
    return false;
  }
}

/** A claim by name, or by a dotted path into nested objects (`realm_access.roles`) when no claim has that name. */
export function claimValue(payload: Record<string, unknown>, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The user name and groups a verified token's claims name (pure; exported for tests). */
export function identityFromClaims(
  payload: JWTPayload,
  options: Pick<OidcOptions, 'usernameClaim' | 'groupsClaim'>,
): { ok: true; identity: OidcIdentity } | { ok: false; reason: string } {
  const usernameClaim = options.usernameClaim ?? OIDC_DEFAULT_USERNAME_CLAIM;
  let username = claimValue(payload, usernameClaim);
  let from = usernameClaim;
  if ((username === undefined || username === '') && usernameClaim === OIDC_DEFAULT_USERNAME_CLAIM) {
    username = payload.sub;
    from = 'sub';
  }
  if (typeof username !== 'string' || username === '') {
    return { ok: false, reason: `the token has no user name claim ${JSON.stringify(usernameClaim)}` };
  }
  if (!/^[^\s/]{1,200}$/.test(username)) {
    return {
      ok: false,
      reason: `claim ${JSON.stringify(from)} is not a usable user name (1-200 characters, no spaces or '/')`,
    };
  }
  const raw = claimValue(payload, options.groupsClaim ?? OIDC_DEFAULT_GROUPS_CLAIM);
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  const groups = [...new Set(list.filter((g): g is string => typeof g === 'string' && g.length > 0))].sort();
  return { ok: true, identity: { username, groups, expiresAt: payload.exp } };
}

/**
 * Verifies OIDC access/ID tokens (JWTs) against the provider's JWKS: signature (keys fetched and cached by
 * jose, refetched when an unknown `kid` appears), `exp`/`nbf`, and `iss`/`aud` when configured; then maps
 * claims to a user name and groups. jose loads on first use.
 */
export class OidcVerifier {
  #jwks: Promise<{ getKey: JWTVerifyGetKey; jose: Jose }> | undefined;
  readonly options: OidcOptions;

  constructor(options: OidcOptions) {
    let url: URL;
    try {
      url = new URL(options.jwksUrl);
    } catch {
      throw new Error(`invalid OIDC JWKS URL ${JSON.stringify(options.jwksUrl)}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new Error(`the OIDC JWKS URL must be http(s), got ${JSON.stringify(options.jwksUrl)}`);
    }
    this.options = options;
  }

  async verify(token: string): Promise<OidcCheck> {
    let jose: Jose;
    let getKey: JWTVerifyGetKey;
    try {
      ({ jose, getKey } = await this.keySet());
    } catch (error) {
      return { ok: false, kind: 'unavailable', reason: `cannot load jose: ${String(error)}` };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, getKey, {
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        ...(this.options.issuer !== undefined ? { issuer: this.options.issuer } : {}),
        ...(this.options.audience !== undefined ? { audience: this.options.audience } : {}),
      }));
    } catch (error) {
      return this.explain(error, jose);
    }
    const mapped = identityFromClaims(payload, this.options);
    return mapped.ok ? mapped : { ok: false, kind: 'invalid', reason: mapped.reason };
  }

  private keySet() {
    this.#jwks ??= import('jose').then((jose) => ({
      jose,
      getKey: jose.createRemoteJWKSet(new URL(this.options.jwksUrl), {
        timeoutDuration: 5_000,
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      }),
    }));
    this.#jwks.catch(() => (this.#jwks = undefined));
    return this.#jwks;
  }

  private explain(error: unknown, jose: Jose): OidcCheck {
    const { errors } = jose;
    const invalid = (reason: string): OidcCheck => ({ ok: false, kind: 'invalid', reason });
    if (error instanceof errors.JWTExpired) {
      const exp = (error.payload as JWTPayload).exp;
      return invalid(`the token expired${exp ? ` at ${new Date(exp * 1000).toISOString()}` : ''}`);
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'iss') return invalid(`the token's issuer is not ${this.options.issuer}`);
      if (error.claim === 'aud')
        return invalid(`the token's audience does not include ${this.options.audience}`);
      if (error.claim === 'nbf') return invalid('the token is not valid yet (nbf)');
      return invalid(`claim ${error.claim} is invalid: ${error.reason}`);
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('bad signature');
    if (error instanceof errors.JWKSNoMatchingKey) {
      return invalid(`no key of the JWKS at ${this.options.jwksUrl} matches the token (kid/alg)`);
    }
    if (error instanceof errors.JOSEAlgNotAllowed)
      return invalid('the token uses an algorithm this server does not accept');
    if (error instanceof errors.JWKSTimeout) {
      return {
        ok: false,
        kind: 'unavailable',
        reason: `fetching the JWKS at ${this.options.jwksUrl} timed out`,
      };
    }
    if (error instanceof errors.JWKSInvalid || error instanceof errors.JWKInvalid) {
      return { ok: false, kind: 'unavailable', reason: `the JWKS at ${this.options.jwksUrl} is invalid` };
    }
    if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) {
      return invalid(`malformed JWT: ${error.message}`);
    }
    // Fetch failures (connection refused, DNS, non-200) are the server's configuration, not the token.
    const message = error instanceof Error ? error.message : String(error);
    const cause = (error as { cause?: { code?: string } })?.cause?.code;
    return {
      ok: false,
      kind: 'unavailable',
      reason: `cannot fetch the JWKS at ${this.options.jwksUrl}: ${cause ?? message}`,
    };
  }
}
