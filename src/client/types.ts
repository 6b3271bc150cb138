/**
 * The SDK's types. Records and list/search shapes are the datastore model's own (the server validates and
 * documents with the same schemas); presign and credential answers follow the HTTP contract and are checked
 * against the server's schemas in the SDK's tests.
 */
export type {
  DatasetRecord,
  HistoryEntry,
  ReleaseHistoryEntry,
  ReleaseAction,
  ReleaseStatus,
  SearchHit,
  ListPage,
  SortField,
  ReviewQueueItem,
  ReviewQueuePage,
} from '../datastore/model/dataset.js';
export type { DatasetMetadata, DatasetMetadataInput } from '../datastore/model/metadata.js';
export type { FieldIssue } from '../datastore/model/validation.js';
export type {
  AccessKind,
  DatasetCredentials,
  DatasetFile,
  DatasetFileList,
  PresignedUrl,
  S3DatasetCredentials,
  WharfDatasetCredentials,
} from '../datastore/model/data-access-schemas.js';
export type {
  ReleaseState,
  VersionResponse,
  MetadataValidationResult,
  HealthCheck,
  DatasetAccess,
  WhoAmI,
} from '../datastore/model/api-schemas.js';
import type { ReleaseStatus, SortField } from '../datastore/model/dataset.js';

/** `listDatasets` options (the `GET /datasets` query). */
export interface ListDatasetsOptions {
  /** Default `created`. */
  sortBy?: SortField | undefined;
  /** Default false: newest (or Z) first. */
  ascending?: boolean | undefined;
  /** 1..1000, default 20. */
  pageSize?: number | undefined;
  /** The `paginationKey` of the previous page. */
  paginationKey?: string | undefined;
  releaseStatus?: ReleaseStatus | undefined;
  /** Only datasets whose release approver is this user. */
  approver?: string | undefined;
}

/** `review.listReviewQueue` options (the `GET /review-queue` query). */
export interface ReviewQueueOptions {
  /** Whose queue: requests naming this approver. Default: the caller. */
  approver?: string | undefined;
  /** 1..1000, default 20. */
  pageSize?: number | undefined;
  /** The `paginationKey` of the previous page. */
  paginationKey?: string | undefined;
}

/** `listDatasetFiles` options (the `GET /datasets/{p}/{n}/files` query). */
export interface ListDatasetFilesOptions {
  /** Only paths starting with this (`raw/` for a folder's files; no `..`, leading `/` or `//`). */
  prefix?: string | undefined;
  /** Default 1000, at most 10,000. */
  pageSize?: number | undefined;
  /** `nextPaginationKey` of the previous page. */
  paginationKey?: string | undefined;
}

export interface ForAllDatasetsOptions extends Omit<ListDatasetsOptions, 'paginationKey'> {
  /** Stop after this many datasets (default: all). */
  totalLimit?: number | undefined;
}
