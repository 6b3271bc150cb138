/**
 * The datastore SDK: `import { Datastore } from 'wharf/client'`. Loads neither the server nor the AWS SDK
 * (S3 transfers load it when they start).
 */
export {
  Datastore,
  ReviewApi,
  InteractiveDataset,
  type DatastoreOptions,
  type RevisionOptions,
  type VersionOptions,
  type PresignOptions,
  type CredentialOptions,
  type DatasetTransferOptions,
} from './datastore.js';
export {
  HttpClient,
  normaliseEndpoint,
  type FetchFunction,
  type HttpClientOptions,
  type RequestOptions,
} from './http.js';
export type { ProgressSnapshot } from '../core/events.js';
export { errorFromResponse, TransferFailedError, type FailedTransfer } from './errors.js';
export { DatasetFilesDriver } from './dataset-files-driver.js';
export type {
  TransferEvent,
  TransferOptions,
  DownloadResult,
  DownloadedFile,
  UploadResult,
  UploadedFile,
} from './transfers.js';
export type * from './types.js';
// Every error class the SDK throws, for `instanceof` (or test `code`: every one is a WharfError).
export {
  WharfError,
  ConflictError,
  NotFoundError,
  AccessDeniedError,
  ValidationError,
  UsageError,
  InvalidKeyError,
  PreconditionFailedError,
  UnsupportedError,
  NetworkError,
  AbortedError,
  isWharfError,
  type ErrorCode,
} from '../core/errors.js';
export { FieldValidationError } from '../datastore/model/validation.js';
