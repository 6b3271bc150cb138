/** The datastore library: model (schemas), catalog (PostgreSQL), service (domain operations). */
export * from './model/metadata.js';
export * from './model/dataset.js';
export * from './model/validation.js';
export * from './model/json-schema.js';
export type * from './catalog/types.js';
export { DATASET_ROLES, SYSTEM_ROLES } from './catalog/types.js';
export { openPgCatalog, PgCatalog, type PgCatalogOptions } from './catalog/pg-catalog.js';
export { runMigrations, type MigrationReport } from './catalog/migrate.js';
export { MIGRATIONS, type Migration } from './catalog/migrations.js';
export { createScratchDatabase, type ScratchDatabase } from './catalog/scratch-database.js';
export {
  startEmbeddedPostgres,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
} from './catalog/embedded-postgres.js';
export {
  DatastoreService,
  type DatastoreServiceOptions,
  type ActorOptions,
  type UpdateOptions,
  type VersionOptions,
  type VersionResult,
  type ReleaseDecision,
  type ReadScope,
  type ReleaseActionOptions,
} from './service/datastore-service.js';
export { PgAccessCatalog } from './catalog/pg-access.js';
export { datasetFolder, METADATA_FILE, type FolderCopyResult } from './service/dataset-folder.js';
