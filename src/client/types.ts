/**
 * The SDK's types. Records and list/search shapes are the datastore model's own (the server validates and
 * documents with the same schemas); presign and credential answers follow the HTTP contract and are checked
 * against the server's schemas in the SDK's tests.
 */
export type {
  DatasetRecord,
  HistoryEntry,
  ReleaseHistoryEntry,
  ReleaseStatus,
  SearchHit,
  ListPage,
  SortField,
} from '../datastore/model/dataset.js';
export type { DatasetMetadata, DatasetMetadataInput } from '../datastore/model/metadata.js';
export type { FieldIssue } from '../datastore/model/validation.js';
export type {
  ReleaseState,
  VersionResponse,
  MetadataValidationResult,
  HealthCheck,
} from '../datastore/model/api-schemas.js';
import type { ReleaseStatus, SortField } from '../datastore/model/dataset.js';

/** `listDatasets` options (the `GET /datasets` query). */
export interface ListDatasetsOptions {
  /** Default `created`. */
  sortBy?: SortField;
  /** Default false: newest (or Z) first. */
  ascending?: boolean;
  /** 1..1000, default 20. */
  pageSize?: number;
  /** The `paginationKey` of the previous page. */
  paginationKey?: string;
  releaseStatus?: ReleaseStatus;
  /** Only datasets whose release approver is this user. */
  approver?: string;
}

export interface ForAllDatasetsOptions extends Omit<ListDatasetsOptions, 'paginationKey'> {
  /** Stop after this many datasets (default: all). */
  totalLimit?: number;
}

/** `POST /datasets/{p}/{n}/presign`. */
export interface PresignedUrl {
  /** Use it with `method` and no Authorization header. */
  url: string;
  method: 'GET' | 'PUT';
  datasetId: string;
  path: string;
  /** ISO time after which the URL is refused. */
  expiresAt: string;
}

export type AccessKind = 'read' | 'write';

/** Temporary S3 credentials limited to the dataset's folder (S3 store with an STS role configured). */
export interface S3DatasetCredentials {
  kind: 's3';
  access: AccessKind;
  datasetId: string;
  /** S3 endpoint URL; null for AWS S3 itself. */
  endpoint: string | null;
  region: string;
  bucket: string;
  /** The dataset's folder in the bucket, ending in '/'; the credentials reach nothing outside it. */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
}

/** A short-lived bearer token valid only for the dataset's `/files` routes and its record (local store). */
export interface WharfDatasetCredentials {
  kind: 'wharf';
  access: AccessKind;
  datasetId: string;
  /** The datastore's URL as the server saw the request. */
  endpoint: string;
  /** `wds_…`: send as `Authorization: Bearer …`. */
  token: string;
  expiration: string;
}

/** `POST /datasets/{p}/{n}/credentials`. */
export type DatasetCredentials = S3DatasetCredentials | WharfDatasetCredentials;

/** `GET /datasets/{p}/{n}/files`: one file of the dataset. */
export interface DatasetFile {
  path: string;
  size: number;
  lastModified: string;
  etag: string | null;
}

/** `GET /me`. */
export interface WhoAmI {
  username: string;
  tokenId: string;
  systemRoles: string[];
  groups: string[];
}
