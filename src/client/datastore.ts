import { UsageError } from '../core/errors.js';
import type { DatasetMetadataInput } from '../datastore/model/metadata.js';
import { FieldValidationError } from '../datastore/model/validation.js';
import { HttpClient, type FetchFunction } from './http.js';
import type { DownloadResult, Selection, TransferOptions, UploadResult } from './transfers.js';
import type {
  AccessKind,
  DatasetCredentials,
  DatasetFile,
  DatasetFileList,
  DatasetRecord,
  ForAllDatasetsOptions,
  HealthCheck,
  HistoryEntry,
  ListDatasetFilesOptions,
  ListDatasetsOptions,
  ListPage,
  MetadataValidationResult,
  PresignedUrl,
  ReleaseState,
  ReviewQueueItem,
  ReviewQueueOptions,
  ReviewQueuePage,
  SearchHit,
  VersionResponse,
  WhoAmI,
} from './types.js';

export interface DatastoreOptions {
  /** The datastore's URL, e.g. `http://127.0.0.1:8080` (what `wharf serve` prints). */
  endpoint: string;
  /** API token (`wharf token create`); without one the calls are anonymous (metadata-public datasets only). */
  token?: string | undefined;
  /** The fetch to use (default: the global one). */
  fetch?: FetchFunction | undefined;
}

export interface RevisionOptions {
  /** The revision last read: the update is refused with ConflictError (409) if the record changed since. */
  expectedRevision?: number | undefined;
}

export interface VersionOptions {
  /** Start the new version's folder with a server-side copy of this version's files. Default true. */
  copyFiles?: boolean | undefined;
}

export interface PresignOptions {
  /** Default GET. */
  method?: 'GET' | 'PUT' | undefined;
  /** Seconds, 1..86400; default 10800 (3 h). */
  expiresIn?: number | undefined;
}

export interface CredentialOptions {
  /** Seconds, 900..43200; default 3600. */
  durationSeconds?: number | undefined;
}

/** Transfer options plus how long the scoped credentials the transfer asks for stay valid. */
export interface DatasetTransferOptions extends TransferOptions, CredentialOptions {}

/** `/datasets/10378.1/42`: ids are two path segments, checked so that no id can reach another route. */
function datasetPath(id: string, rest = ''): string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9._-]+\/[0-9]{1,18}$/.test(id)) {
    throw new UsageError(`invalid dataset id ${JSON.stringify(id)}`, {
      hint: 'dataset ids look like PREFIX/N, e.g. 10378.1/1451860',
    });
  }
  return `/datasets/${id}${rest}`;
}

/**
 * The datastore's HTTP API as provenaclient's datastore module has it, in camelCase:
 *
 * ```ts
 * import { Datastore } from 'wharf/client';
 * const ds = new Datastore({ endpoint: 'http://127.0.0.1:8080', token: process.env.WHARF_TOKEN });
 * const record = await ds.mintDataset(metadata);
 * await ds.interactiveDataset(record.id).uploadAllFiles('./survey');
 * ```
 *
 * Every error answer is thrown as the WharfError of its code with the server's message and hint
 * (ConflictError for a stale `expectedRevision` or a frozen dataset, NotFoundError, AccessDeniedError,
 * FieldValidationError listing every failing field, …); an unreachable server is a NetworkError. An invalid
 * argument (a dataset id that is not PREFIX/N) rejects the returned promise: no method throws synchronously.
 */
export class Datastore {
  readonly http: HttpClient;
  /** The release workflow and the reviewer pool. */
  readonly review: ReviewApi;

  constructor(options: DatastoreOptions) {
    this.http = new HttpClient(options);
    this.review = new ReviewApi(this.http);
  }

  get endpoint(): string {
    return this.http.endpoint;
  }

  /** `GET /health`: `{ status: 'ok' | 'unavailable', database, store }` (a 503 is answered, not thrown). */
  getHealthCheck(): Promise<HealthCheck> {
    return this.http.request('GET', '/health', { accept: [503] });
  }

  /** `GET /me`: who the token belongs to. */
  whoAmI(): Promise<WhoAmI> {
    return this.http.request('GET', '/me');
  }

  async fetchDataset(id: string): Promise<DatasetRecord> {
    return this.http.request('GET', datasetPath(id));
  }

  /** Registers a dataset (a new id `PREFIX/N`); the caller becomes its owner. */
  mintDataset(metadata: DatasetMetadataInput): Promise<DatasetRecord> {
    return this.http.request('POST', '/datasets', { body: metadata });
  }

  /** Checks metadata (schema and registry references) without registering it: `{ valid, issues }`. */
  validateDatasetMetadata(metadata: unknown): Promise<MetadataValidationResult> {
    return this.http.request('POST', '/datasets/validate', { body: metadata });
  }

  /** Replaces the metadata; with `expectedRevision` only if nobody changed the record since (else ConflictError). */
  async updateDatasetMetadata(
    id: string,
    reason: string,
    metadata: DatasetMetadataInput,
    options: RevisionOptions = {},
  ): Promise<DatasetRecord> {
    return this.http
      .request<DatasetRecord>('PUT', datasetPath(id, '/metadata'), {
        body: {
          reason,
          metadata,
          ...(options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {}),
        },
      })
      .catch((error: unknown) => {
        throw relativeToMetadata(error);
      });
  }

  /** Every metadata change, oldest first. */
  async listDatasetHistory(id: string): Promise<HistoryEntry[]> {
    return (await this.http.request<{ items: HistoryEntry[] }>('GET', datasetPath(id, '/history'))).items;
  }

  /** Makes history entry `historyId`'s metadata current again, as a new history entry. */
  async revertDatasetMetadata(
    id: string,
    historyId: number,
    reason: string,
    options: RevisionOptions = {},
  ): Promise<DatasetRecord> {
    return this.http.request('POST', datasetPath(id, '/revert'), {
      body: {
        historyId,
        reason,
        ...(options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {}),
      },
    });
  }

  /** Creates the next version of the latest version (dataset admin): `{ newVersionId, version, dataset, copied }`. */
  async versionDataset(id: string, reason: string, options: VersionOptions = {}): Promise<VersionResponse> {
    return this.http.request('POST', datasetPath(id, '/versions'), {
      body: { reason, copyFiles: options.copyFiles ?? true },
    });
  }

  /** One page of the datasets the caller may read; pass `paginationKey` back for the next. */
  listDatasets(options: ListDatasetsOptions = {}): Promise<ListPage> {
    return this.http.request('GET', '/datasets', {
      query: {
        sortBy: options.sortBy,
        ascending: options.ascending,
        pageSize: options.pageSize,
        paginationKey: options.paginationKey,
        releaseStatus: options.releaseStatus,
        approver: options.approver,
      },
    });
  }

  /** Every dataset the caller may read, page by page, stopping after `totalLimit` if given. */
  async *forAllDatasets(options: ForAllDatasetsOptions = {}): AsyncGenerator<DatasetRecord> {
    const { totalLimit, ...query } = options;
    if (totalLimit !== undefined && (!Number.isInteger(totalLimit) || totalLimit < 0)) {
      throw new UsageError(`totalLimit must be a whole number >= 0, got ${String(totalLimit)}`);
    }
    let seen = 0;
    let paginationKey: string | undefined;
    do {
      if (totalLimit !== undefined && seen >= totalLimit) return;
      const pageSize =
        totalLimit === undefined ? query.pageSize : Math.min(query.pageSize ?? 20, totalLimit - seen);
      const page = await this.listDatasets({
        ...query,
        ...(pageSize !== undefined ? { pageSize } : {}),
        ...(paginationKey ? { paginationKey } : {}),
      });
      for (const item of page.items) {
        if (totalLimit !== undefined && seen >= totalLimit) return;
        seen += 1;
        yield item;
      }
      paginationKey = page.paginationKey;
    } while (paginationKey !== undefined);
  }

  /** Every dataset the caller may read (all pages), as one array. */
  async listAllDatasets(options: Omit<ListDatasetsOptions, 'paginationKey'> = {}): Promise<DatasetRecord[]> {
    const all: DatasetRecord[] = [];
    for await (const record of this.forAllDatasets(options)) all.push(record);
    return all;
  }

  /** Full-text and fuzzy search, best first (default limit 25). */
  async searchDatasets(query: string, options: { limit?: number | undefined } = {}): Promise<SearchHit[]> {
    const answer = await this.http.request<{ items: SearchHit[] }>('GET', '/datasets/search', {
      query: { query, limit: options.limit },
    });
    return answer.items;
  }

  /** One page of the dataset's files (data-read), in path order; pass `nextPaginationKey` back for the next. */
  async listDatasetFiles(id: string, options: ListDatasetFilesOptions = {}): Promise<DatasetFileList> {
    return this.http.request('GET', datasetPath(id, '/files'), {
      query: { prefix: options.prefix, pageSize: options.pageSize, paginationKey: options.paginationKey },
    });
  }

  /** Every file of the dataset (under `prefix`, if given), page by page, in path order. */
  async *forAllDatasetFiles(
    id: string,
    options: Omit<ListDatasetFilesOptions, 'paginationKey'> = {},
  ): AsyncGenerator<DatasetFile> {
    let paginationKey: string | undefined;
    do {
      const page = await this.listDatasetFiles(id, {
        ...options,
        ...(paginationKey ? { paginationKey } : {}),
      });
      yield* page.files;
      paginationKey = page.nextPaginationKey ?? undefined;
    } while (paginationKey !== undefined);
  }

  /** A URL that GETs (or PUTs) one file of the dataset without a token. */
  async generateDatasetPresignedUrl(
    id: string,
    path: string,
    options: PresignOptions = {},
  ): Promise<PresignedUrl> {
    return this.http.request('POST', datasetPath(id, '/presign'), {
      body: {
        path,
        method: options.method ?? 'GET',
        ...(options.expiresIn !== undefined ? { expiresIn: options.expiresIn } : {}),
      },
    });
  }

  /** Temporary credentials that read the dataset's folder and nothing else (S3 keys, or a dataset token). */
  generateReadAccessCredentials(id: string, options: CredentialOptions = {}): Promise<DatasetCredentials> {
    return this.#credentials(id, 'read', options);
  }

  /** Temporary credentials that read and write the dataset's folder (refused while PENDING or RELEASED). */
  generateWriteAccessCredentials(id: string, options: CredentialOptions = {}): Promise<DatasetCredentials> {
    return this.#credentials(id, 'write', options);
  }

  async #credentials(
    id: string,
    access: AccessKind,
    options: CredentialOptions,
  ): Promise<DatasetCredentials> {
    return this.http.request('POST', datasetPath(id, '/credentials'), {
      body: {
        access,
        ...(options.durationSeconds !== undefined ? { durationSeconds: options.durationSeconds } : {}),
      },
    });
  }

  /** Release state and every release action. */
  async getReleaseState(id: string): Promise<ReleaseState> {
    return this.http.request('GET', datasetPath(id, '/release'));
  }

  /** One dataset, with its files: download, upload, version, revert. */
  interactiveDataset(id: string): InteractiveDataset {
    datasetPath(id);
    return new InteractiveDataset(this, id);
  }
}

/** Reviewer pool (sys-admins manage it) and the release workflow. */
export class ReviewApi {
  constructor(private readonly http: HttpClient) {}

  async addDatasetReviewer(username: string): Promise<void> {
    await this.http.request('PUT', `/reviewers/${encodeURIComponent(username)}`);
  }

  async deleteDatasetReviewer(username: string): Promise<void> {
    await this.http.request('DELETE', `/reviewers/${encodeURIComponent(username)}`);
  }

  async listDatasetReviewers(): Promise<string[]> {
    return (await this.http.request<{ items: string[] }>('GET', '/reviewers')).items;
  }

  /**
   * One page of the review queue: PENDING datasets whose approver is the caller (or `approver`), oldest
   * request first, each with its latest request (`request.actor` asked, `timestamp`, `notes`); pass
   * `paginationKey` back for the next page.
   */
  listReviewQueue(options: ReviewQueueOptions = {}): Promise<ReviewQueuePage> {
    return this.http.request('GET', '/review-queue', {
      query: {
        approver: options.approver,
        pageSize: options.pageSize,
        paginationKey: options.paginationKey,
      },
    });
  }

  /** Every request of the review queue (the caller's, or `approver`'s), page by page, oldest first. */
  async *forAllReviewQueue(
    options: Omit<ReviewQueueOptions, 'paginationKey'> = {},
  ): AsyncGenerator<ReviewQueueItem> {
    let paginationKey: string | undefined;
    do {
      const page = await this.listReviewQueue({ ...options, ...(paginationKey ? { paginationKey } : {}) });
      yield* page.items;
      paginationKey = page.paginationKey;
    } while (paginationKey !== undefined);
  }

  /** Asks `approverId` (a reviewer) to release the dataset: NOT_RELEASED → PENDING (dataset admin). */
  async datasetApprovalRequest(datasetId: string, approverId: string, notes = ''): Promise<DatasetRecord> {
    return this.http.request('POST', datasetPath(datasetId, '/release/request'), {
      body: { approver: approverId, notes },
    });
  }

  /**
   * The named approver's decision: approve (`true` / `'approve'`: PENDING → RELEASED, a content manifest is
   * recorded) or reject (`false` / `'reject'`: back to NOT_RELEASED).
   */
  async actionApprovalRequest(
    datasetId: string,
    approve: boolean | 'approve' | 'reject',
    notes = '',
  ): Promise<DatasetRecord> {
    const decision = approve === true || approve === 'approve' ? 'approve' : 'reject';
    return this.http.request('POST', datasetPath(datasetId, `/release/${decision}`), { body: { notes } });
  }
}

/**
 * One dataset: its record, its files (downloads and uploads through scoped credentials and Wharf's transfer
 * engine: concurrent, verified, atomic per file), versions and reverts.
 */
export class InteractiveDataset {
  constructor(
    readonly datastore: Datastore,
    readonly id: string,
  ) {}

  fetchDataset(): Promise<DatasetRecord> {
    return this.datastore.fetchDataset(this.id);
  }

  /** Every file of the dataset into `dest` (created if needed), with its folder structure. */
  downloadAllFiles(dest: string, options: DatasetTransferOptions = {}): Promise<DownloadResult> {
    return this.#download({ kind: 'all' }, undefined, dest, options);
  }

  /**
   * One file or folder: `raw/obs.csv` → `dest/obs.csv`; `raw` (a folder, no trailing '/') → `dest/raw/…` (the
   * folder itself with its structure); `raw/` → `dest/…` (its contents, without the folder). `..` is refused.
   */
  async downloadSpecificFile(
    path: string,
    dest: string,
    options: DatasetTransferOptions = {},
  ): Promise<DownloadResult> {
    if (typeof path !== 'string') throw new UsageError('path must be a string, e.g. raw/obs.csv or raw/');
    return this.#download(undefined, path, dest, options);
  }

  /** Every file under `src` to the same relative paths in the dataset (replacing files with the same path). */
  async uploadAllFiles(src: string, options: DatasetTransferOptions = {}): Promise<UploadResult> {
    const transfers = await import('./transfers.js');
    const credentials = await this.generateWriteAccessCredentials(options);
    const driver = await transfers.openDatasetDriver(credentials, this.datastore.http);
    try {
      return await transfers.uploadFolder(driver, src, options);
    } finally {
      await driver.close?.();
    }
  }

  /** The next version of this dataset (see Datastore.versionDataset). */
  version(reason: string, options: VersionOptions = {}): Promise<VersionResponse> {
    return this.datastore.versionDataset(this.id, reason, options);
  }

  revertDatasetMetadata(
    historyId: number,
    reason: string,
    options: RevisionOptions = {},
  ): Promise<DatasetRecord> {
    return this.datastore.revertDatasetMetadata(this.id, historyId, reason, options);
  }

  generateReadAccessCredentials(options: CredentialOptions = {}): Promise<DatasetCredentials> {
    return this.datastore.generateReadAccessCredentials(this.id, options);
  }

  generateWriteAccessCredentials(options: CredentialOptions = {}): Promise<DatasetCredentials> {
    return this.datastore.generateWriteAccessCredentials(this.id, options);
  }

  async #download(
    selection: Selection | undefined,
    path: string | undefined,
    dest: string,
    options: DatasetTransferOptions,
  ): Promise<DownloadResult> {
    if (typeof dest !== 'string' || dest === '') throw new UsageError('dest must be a local folder path');
    const transfers = await import('./transfers.js');
    const credentials = await this.generateReadAccessCredentials(options);
    const driver = await transfers.openDatasetDriver(credentials, this.datastore.http);
    try {
      const chosen = selection ?? (await transfers.resolveSelection(driver, path ?? '', options.signal));
      return await transfers.downloadSelection(driver, this.id, chosen, dest, options);
    } finally {
      await driver.close?.();
    }
  }
}

/**
 * The server names fields of the request body (`metadata.datasetInfo.license`); the caller passed the metadata
 * itself, so name them as in it (`datasetInfo.license`), as mint and validate do.
 */
function relativeToMetadata(error: unknown): unknown {
  if (!(error instanceof FieldValidationError)) return error;
  const inside = error.issues.filter((i) => i.path === 'metadata' || i.path.startsWith('metadata.'));
  if (inside.length === 0) return error;
  const issues = error.issues.map((i) =>
    i.path.startsWith('metadata.') ? { ...i, path: i.path.slice('metadata.'.length) } : i,
  );
  return new FieldValidationError('metadata', issues, {
    cause: error,
    ...(error.hint !== undefined ? { hint: error.hint } : {}),
  });
}
