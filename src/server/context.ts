import type { AccessCatalog, Catalog } from '../datastore/catalog/types.js';
import type { DatastoreService } from '../datastore/service/datastore-service.js';
import type { StorageDriver } from '../storage/types.js';
import type { Authorizer } from './auth.js';

/** What every route handler works with. */
export interface ServerContext {
  service: DatastoreService;
  catalog: Catalog;
  access: AccessCatalog;
  store: StorageDriver;
  auth: Authorizer;
}
