// The public library API: `import { openStorage } from 'wharf'`. Re-exports only; importing this module
// never loads the AWS SDK (S3 stores load it on first open).
export { openStorage, openStorageRoot } from './storage/registry.js';
export type { OpenStorageOptions, S3ConnectionOptions } from './storage/registry.js';
export type {
  StorageDriver,
  DriverCapabilities,
  ObjectInfo,
  OpOptions,
  ListOptions,
  ReadOptions,
  WriteOptions,
  CopyOptions as ObjectCopyOptions,
  PresignOptions,
  ByteRange,
  ReadInfo,
  MultipartLayout,
  LayoutOptions,
  DetectOptions,
} from './storage/types.js';
export type { S3DriverOptions, S3Credentials, ChecksumMode } from './storage/s3/s3-options.js';
export { MemoryDriver } from './storage/memory/memory-driver.js';
export { LocalDriver, type LocalDriverOptions } from './storage/local/local-driver.js';
export { PrefixedDriver } from './storage/prefixed-driver.js';
export { DeleteError } from './storage/delete-error.js';
export { sameEtag, normaliseEtag } from './storage/etag.js';
export {
  parseLocation,
  formatLocation,
  type Location,
  type S3Location,
  type LocalLocation,
} from './core/location.js';
export * from './core/errors.js';
export { assertSafeRelativeKey, joinKey, asFolderPrefix, compareKeys } from './core/keys.js';
export { runPool } from './core/pool.js';
export { withRetry, type RetryOptions } from './core/retry.js';
export type { ProgressSnapshot, ProgressListener } from './core/events.js';
export type { Logger } from './core/logger.js';
export {
  planTreeCopy,
  copyObjects,
  type CopyPlan,
  type CopyItem,
  type CopyResult,
  type CopyOptions,
} from './transfer/copy-objects.js';
export type { CopyEvent } from './transfer/copy-events.js';
export {
  downloadFile,
  type DownloadSource,
  type DownloadOptions,
  type DownloadResult,
} from './transfer/download/download-file.js';
export { RequestLimiter } from './transfer/download/request-limiter.js';
export { SHA256_METADATA_KEY } from './transfer/download/expectations.js';
export type { FileDigest } from './transfer/download/content-hasher.js';
export {
  fetchDataset,
  FETCH_DEFAULTS,
  type FetchOptions,
  type FetchResult,
  type FetchedFile,
  type FetchStatus,
} from './fetch/fetch-dataset.js';
export type { FetchEvent } from './fetch/fetch-events.js';
export type { FetchReason } from './fetch/fetch-decision.js';
export type { RequestCounts as FetchRequestCounts } from './fetch/instrumented-store.js';
export {
  selectObjects,
  type SelectOptions,
  type Selection,
  type SelectedObject,
} from './fetch/select-objects.js';
export { datasetFingerprint, type DatasetSelector } from './fetch/dataset-id.js';
export {
  syncFolder,
  type SyncOptions,
  type SyncResult,
  type SyncEvent,
  type SyncGuarantee,
} from './sync/sync-folder.js';
export {
  initSync,
  openLinked,
  resetSync,
  listTrash,
  restoreFromTrash,
  purgeTrash,
  syncLog,
  type InitOptions,
  type TrashItem,
  type LinkedStore,
  type PurgeResult,
} from './sync/sync-admin.js';
export type { SyncConfig } from './sync/local-state.js';
export {
  adoptUntracked,
  type AdoptOptions,
  type AdoptResult,
  type UntrackedObject,
} from './sync/adopt-untracked.js';
export { planSync, conflictName, type PlanInput } from './sync/plan-sync.js';
export { parseMaxDelete, type MaxDelete, type GuardTrip as SyncGuardTrip } from './sync/sync-guards.js';
export type {
  SyncPlan,
  SyncAction,
  IndexEntry as SyncIndexEntry,
  SyncIndex,
  CommitRecord,
  Direction as SyncDirection,
  Prefer as SyncPrefer,
  ChangeRecord as SyncChangeRecord,
  SkippedChange as SyncSkippedChange,
  RefusedPath as SyncRefusedPath,
  LocalFile as SyncLocalFile,
  LocalSnapshot as SyncLocalSnapshot,
  EntryMap as SyncEntryMap,
} from './sync/types.js';

import type { StorageDriver } from './storage/types.js';
import type { S3DriverOptions } from './storage/s3/s3-options.js';
import type { DatastoreServeOptions } from './app/datastore-config.js';
import type { RunningDatastore } from './server/start-datastore.js';

/** Opens an S3 bucket with explicit options (endpoint, credentials, ...), loading the AWS SDK on first use. */
export async function openS3(options: S3DriverOptions): Promise<StorageDriver> {
  const { openS3Driver } = await import('./storage/s3/s3-driver.js');
  return openS3Driver(options);
}

// Datastore (issue 5): the dataset registry library (schemas, catalog, domain service) is the package's
// `wharf/datastore` entry (src/datastore-api.ts): its schemas load zod, which would cost every `import 'wharf'`
// ~0.2 s. Running the HTTP API is here too, loading the server on first use.
export type { DatastoreServeOptions } from './app/datastore-config.js';
export type { RunningDatastore } from './server/start-datastore.js';

/** Runs the datastore's HTTP API (what `wharf serve` runs), loading the HTTP server on first use. */
export async function startDatastore(
  options: DatastoreServeOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningDatastore> {
  const { startDatastore: start } = await import('./server/start-datastore.js');
  return start(options, env);
}

export {
  ingestTables,
  ingestTablesDetailed,
  IngestFailedError,
  INGEST_DEFAULTS,
  type IngestOptions,
  type IngestEvent,
  type IngestReport,
  type TableReport as IngestTableReport,
} from './ingest/ingest-tables.js';
export type { SourceSpec, SecretSource, PgConnectionConfig } from './ingest/source-config.js';
export { createJsonLogger, type IngestLogger } from './ingest/json-logger.js';
export { DEFAULT_LAYOUT as INGEST_DEFAULT_LAYOUT } from './ingest/layout.js';
export type { IngestState, PendingRun } from './ingest/state.js';
export type { SchemaChange as IngestSchemaChange } from './ingest/column-types.js';
export type { WindowBound as IngestWindowBound } from './ingest/postgres/pg-source.js';

// Tables (issue 8): one Parquet table from many small export files. DuckDB loads on first use.
export {
  buildTable,
  SOURCE_COLUMN,
  type BuildTableOptions,
  type BuildTableResult,
  type TableSourceFile,
} from './tables/build-table.js';
export type { TableEvent } from './tables/table-events.js';
export type { BadFile } from './tables/prepare-inputs.js';
export type { ColumnInfo, JsonValue, QueryResult } from './tables/duckdb-session.js';
export {
  showTable,
  queryTable,
  streamQuery,
  type TableSummary,
  type InspectOptions as TableInspectOptions,
} from './tables/inspect-table.js';
export { listTables, type KnownTable, type ListTablesOptions } from './tables/list-tables.js';
export {
  resolveTable,
  knownTableNames,
  type ResolvedTable,
  type ResolveTableOptions,
  type TableDefinition,
  type TablesConfig,
} from './tables/table-config.js';
export { PEGA_DATAMART_TABLES, DEFAULT_DATAMART_FOLDER } from './tables/presets.js';
export { DEFAULT_TABLE_INCLUDE, type TableFormat, type RowFormat } from './tables/table-format.js';
export { CSV_ENCODINGS, type CsvEncoding } from './tables/csv-encoding.js';
export { loadWharfConfig, type WharfConfig } from './app/wharf-config.js';
