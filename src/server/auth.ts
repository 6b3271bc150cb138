import { apiTokenId, hashApiToken } from '../app/api-tokens.js';
import { NotFoundError, WharfError } from '../core/errors.js';
import { looksLikeJwt, type OidcVerifier } from '../datastore/access/oidc.js';
import { isScopedToken, verifyScopedToken, type ScopedAccess } from '../datastore/access/scoped-token.js';
import { serviceHmacKey } from '../datastore/access/service-key.js';
import {
  DATASET_ROLES,
  type AccessCatalog,
  type Catalog,
  type DatasetRole,
  type SystemRole,
} from '../datastore/catalog/types.js';
import { AuthorizationError, UnauthenticatedError } from './http-errors.js';

/** The authenticated caller. */
export interface Principal {
  username: string;
  tokenId: string;
  systemRoles: SystemRole[];
  groups: string[];
  /**
   * Set for a scoped `wds_` token (POST …/credentials on the local store): the caller may use only this
   * dataset's file routes and read its record, with `access`; `username` is the user who asked for it.
   */
  scope?: { datasetId: string; access: ScopedAccess; expiresAt: string };
}

/** `tokenId` of principals authenticated by a scoped token and by an OIDC JWT. */
export const SCOPED_TOKEN_ID = 'scoped';
export const OIDC_TOKEN_ID = 'oidc';

export interface AuthorizerOptions {
  /** Accept OIDC JWTs verified against this provider's JWKS; without it a JWT is refused (401). */
  oidc?: OidcVerifier;
}

const rank = (role: DatasetRole | null): number => (role === null ? -1 : DATASET_ROLES.indexOf(role));
const strongest = (...roles: (DatasetRole | null)[]): DatasetRole | null =>
  roles.reduce<DatasetRole | null>((best, r) => (rank(r) > rank(best) ? r : best), null);

/**
 * Authentication (bearer API tokens) and authorisation (system roles and per-dataset roles).
 *
 * A caller's role on a dataset is the strongest of: admin for sys-admins and for the dataset's owner; the
 * strongest grant to the user or one of their groups; metadata-read for reviewers (data-read as well when
 * they are the named approver of its pending release); metadata-read for anyone, anonymous included,
 * when the dataset is metadata-public. Each role implies those below it.
 */
export class Authorizer {
  /** Groups an OIDC token named that the catalog does not (grants to them are looked up separately). */
  readonly #tokenGroups = new WeakMap<Principal, string[]>();

  constructor(
    private readonly access: AccessCatalog,
    private readonly catalog: Catalog,
    private readonly options: AuthorizerOptions = {},
  ) {}

  /**
   * The caller named by `Authorization: Bearer …`; null without the header; 401 for a bad token. The token
   * is an API token (`wharf_…`), a scoped token (`wds_…`), or an OIDC JWT when a JWKS URL is configured.
   */
  async authenticate(header: string | undefined): Promise<Principal | null> {
    if (header === undefined || header === '') return null;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthenticatedError('the Authorization header must be "Bearer <token>"');
    const token = match[1]!;
    if (isScopedToken(token)) return this.authenticateScoped(token);
    if (looksLikeJwt(token)) return this.authenticateJwt(token);
    const info = await this.access.findActiveToken(hashApiToken(token));
    if (!info) {
      const id = apiTokenId(token);
      throw new UnauthenticatedError(
        id ? `token ${id} is unknown, revoked or expired` : 'the bearer token is unknown, revoked or expired',
      );
    }
    const facts = await this.access.userFacts(info.username);
    return { username: info.username, tokenId: info.tokenId, ...facts };
  }

  private async authenticateScoped(token: string): Promise<Principal> {
    const check = verifyScopedToken(await serviceHmacKey(this.access), token);
    if (!check.ok) {
      throw new UnauthenticatedError(`scoped token refused: ${check.reason}`, {
        hint: 'ask for new credentials: POST /datasets/{prefix}/{number}/credentials',
      });
    }
    const { claims } = check;
    return {
      username: claims.issuer,
      tokenId: SCOPED_TOKEN_ID,
      systemRoles: [],
      groups: [],
      scope: {
        datasetId: claims.datasetId,
        access: claims.access,
        expiresAt: new Date(claims.expiresAt * 1000).toISOString(),
      },
    };
  }

  private async authenticateJwt(token: string): Promise<Principal> {
    const oidc = this.options.oidc;
    if (!oidc) {
      throw new UnauthenticatedError(
        'this server does not accept OIDC tokens (JWTs): no JWKS URL is configured',
        {
          hint: 'send an API token (wharf token create), or start wharf serve with --oidc-jwks-url',
        },
      );
    }
    const check = await oidc.verify(token);
    if (!check.ok) {
      if (check.kind === 'unavailable') {
        throw new WharfError('NETWORK', `cannot verify OIDC tokens: ${check.reason}`, {
          retryable: true,
          hint: 'check --oidc-jwks-url / WHARF_OIDC_JWKS_URL and that the server can reach it',
        });
      }
      throw new UnauthenticatedError(`OIDC token refused: ${check.reason}`, {
        hint: 'sign in again for a fresh token from the identity provider',
      });
    }
    const { username, groups } = check.identity;
    const facts = await this.access.userFacts(username);
    const principal: Principal = {
      username,
      tokenId: OIDC_TOKEN_ID,
      systemRoles: facts.systemRoles,
      groups: [...new Set([...facts.groups, ...groups])].sort(),
    };
    const fromToken = groups.filter((g) => !facts.groups.includes(g));
    if (fromToken.length > 0) this.#tokenGroups.set(principal, fromToken);
    return principal;
  }

  /** Scoped-token principals may use only their dataset's file routes and read its record (see create-app). */
  isScoped(principal: Principal | null): boolean {
    return principal?.scope !== undefined;
  }

  requireUser(principal: Principal | null): Principal {
    if (!principal) throw new UnauthenticatedError('this call needs an API token');
    return principal;
  }

  isSysAdmin(principal: Principal | null): boolean {
    return principal?.systemRoles.includes('sys-admin') === true;
  }

  /** The caller must be a sys-admin (401 when anonymous, 403 otherwise). */
  requireSysAdmin(principal: Principal | null, what: string, target: string | null = null): Principal {
    const user = this.requireUser(principal);
    if (!this.isSysAdmin(user)) {
      throw new AuthorizationError(
        `${what} needs the sys-admin role; ${user.username} does not have it`,
        target,
      );
    }
    return user;
  }

  /** The caller's role on the dataset (null: none). NotFoundError when the dataset does not exist. */
  async datasetRole(principal: Principal | null, datasetId: string): Promise<DatasetRole | null> {
    const facts = await this.access.datasetAccessFacts(datasetId, principal?.username ?? null);
    if (!facts) {
      throw new NotFoundError(`dataset ${datasetId} does not exist`, {
        hint: 'check the id, e.g. with GET /datasets or /datasets/search',
      });
    }
    if (!principal) return facts.metadataPublic ? 'metadata-read' : null;
    if (principal.scope) {
      if (principal.scope.datasetId !== datasetId) return null;
      return principal.scope.access === 'write' ? 'data-write' : 'data-read';
    }
    if (this.isSysAdmin(principal) || facts.owner === principal.username) return 'admin';
    const reviewer = principal.systemRoles.includes('reviewer');
    const tokenGroups = this.#tokenGroups.get(principal);
    let tokenGroupRole: DatasetRole | null = null;
    if (tokenGroups) {
      // Groups from an OIDC token count like catalog groups: the strongest grant to any of them.
      for (const grant of await this.access.listDatasetGrants(datasetId)) {
        if (grant.principalKind === 'group' && tokenGroups.includes(grant.principal)) {
          tokenGroupRole = strongest(tokenGroupRole, grant.role);
        }
      }
    }
    return strongest(
      facts.grantedRole,
      tokenGroupRole,
      facts.metadataPublic || reviewer ? 'metadata-read' : null,
      reviewer && facts.releaseApprover === principal.username ? 'data-read' : null,
    );
  }

  /**
   * The caller must hold `role` (or a stronger one) on the dataset: 404 when it does not exist, 401 when
   * anonymous and the dataset is not readable anonymously, 403 otherwise.
   */
  async requireDatasetRole(
    principal: Principal | null,
    datasetId: string,
    role: DatasetRole,
  ): Promise<DatasetRole> {
    const held = await this.datasetRole(principal, datasetId);
    if (rank(held) >= rank(role)) return held!;
    if (!principal)
      throw new UnauthenticatedError(`dataset ${datasetId} needs the ${role} role; send an API token`);
    if (principal.scope) {
      throw new AuthorizationError(
        principal.scope.datasetId === datasetId
          ? `a ${principal.scope.access} scoped token of dataset ${datasetId} does not grant ${role}`
          : `this scoped token is valid only for dataset ${principal.scope.datasetId}, not ${datasetId}`,
        datasetId,
        { hint: 'ask for credentials of the access you need: POST /datasets/{prefix}/{number}/credentials' },
      );
    }
    throw new AuthorizationError(
      `${principal.username} needs the ${role} role on dataset ${datasetId}` +
        (held ? ` (has ${held})` : ' (has no role on it)'),
      datasetId,
      { hint: "ask the dataset's owner or an admin for access" },
    );
  }
}
