import { apiTokenId, hashApiToken } from '../app/api-tokens.js';
import { NotFoundError } from '../core/errors.js';
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
  constructor(
    private readonly access: AccessCatalog,
    private readonly catalog: Catalog,
  ) {}

  /** The caller named by `Authorization: Bearer …`; null without the header; 401 for a bad token. */
  async authenticate(header: string | undefined): Promise<Principal | null> {
    if (header === undefined || header === '') return null;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthenticatedError('the Authorization header must be "Bearer <token>"');
    const token = match[1]!;
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
    if (this.isSysAdmin(principal) || facts.owner === principal.username) return 'admin';
    const reviewer = principal.systemRoles.includes('reviewer');
    return strongest(
      facts.grantedRole,
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
    throw new AuthorizationError(
      `${principal.username} needs the ${role} role on dataset ${datasetId}` +
        (held ? ` (has ${held})` : ' (has no role on it)'),
      datasetId,
      { hint: "ask the dataset's owner or an admin for access" },
    );
  }
}
