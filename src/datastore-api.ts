/**
 * The package's `wharf/datastore` entry: the dataset registry as a library — metadata schemas and validation,
 * the PostgreSQL catalog (embedded or a server), the domain service — and `startDatastore`, which runs its HTTP
 * API. Kept apart from `wharf` because the schemas load zod (~0.2 s at import); `import 'wharf'` stays light.
 */
export {
  DatastoreService,
  openPgCatalog,
  startEmbeddedPostgres,
  collectionFormatSchema,
  datastoreJsonSchemas,
  datasetMetadataJsonSchema,
  validateWith as validateDatastoreInput,
  FieldValidationError,
  datasetFolder,
  type DatastoreServiceOptions,
  type PgCatalogOptions,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  type Catalog as DatastoreCatalog,
  type DatasetMetadata,
  type DatasetMetadataInput,
  type DatasetRecord,
  type HistoryEntry as DatasetHistoryEntry,
  type RegistryEntry,
  type ReleaseStatus,
  type ReleaseHistoryEntry,
  type ListQuery as DatasetListQuery,
  type ListPage as DatasetListPage,
  type SearchQuery as DatasetSearchQuery,
  type SearchHit as DatasetSearchHit,
  type FieldIssue,
} from './datastore/index.js';
export { startDatastore, type DatastoreServeOptions, type RunningDatastore } from './index.js';
