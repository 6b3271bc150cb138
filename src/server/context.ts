import type { IssueRequest, S3ScopedCredentials } from '../datastore/access/sts-credentials.js';
import type { AccessCatalog, Catalog } from '../datastore/catalog/types.js';
import type { DatastoreService } from '../datastore/service/datastore-service.js';
import type { StorageDriver } from '../storage/types.js';
import type { Authorizer } from './auth.js';
import type { ResponseCache } from './response-cache.js';

/** What every route handler works with. */
export interface ServerContext {
  service: DatastoreService;
  catalog: Catalog;
  access: AccessCatalog;
  store: StorageDriver;
  auth: Authorizer;
  /** Cached answers of list and search, valid while the catalog's generation holds. */
  responses: ResponseCache;
  /** Issues STS credentials for a dataset folder (S3 store with `--sts-role-arn`); absent: scoped wds_ tokens. */
  sts?: ScopedS3CredentialIssuer;
}

/** What the credentials route needs from the STS issuer (datastore/access/sts-credentials.ts). */
export interface ScopedS3CredentialIssuer {
  issue(request: IssueRequest): Promise<S3ScopedCredentials>;
}
