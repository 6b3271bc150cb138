import {
  AccessDeniedError,
  ConflictError,
  NotFoundError,
  ValidationError,
  isWharfError,
} from '../../core/errors.js';
import type { StorageDriver } from '../../storage/types.js';
import type { Catalog, CatalogTransaction, ManifestEntry, Visibility } from '../catalog/types.js';
import {
  ID_PREFIX,
  listQuerySchema,
  organisationInputSchema,
  personInputSchema,
  reviewQueueQuerySchema,
  searchQuerySchema,
  type DatasetRecord,
  type HistoryEntry,
  type ListPage,
  type ListQuery,
  type RegistryEntry,
  type ReleaseHistoryEntry,
  type ReviewQueuePage,
  type ReviewQueueQuery,
  type SearchHit,
  type SearchQuery,
} from '../model/dataset.js';
import { collectionFormatSchema, type DatasetMetadata } from '../model/metadata.js';
import {
  FieldValidationError,
  validateWith,
  type FieldIssue,
  type ValidationResult,
} from '../model/validation.js';
import {
  copyDatasetFiles,
  datasetFolder,
  folderManifest,
  writeMetadataFile,
  type FolderCopyResult,
} from './dataset-folder.js';
import { markAudited } from './audited-errors.js';
import { decodePaginationKey, encodePaginationKey, REVIEW_QUEUE_MISMATCH } from './pagination-key.js';

export interface DatastoreServiceOptions {
  catalog: Catalog;
  /** The store holding dataset folders (`<store>/<sanitised id>/`). */
  store: StorageDriver;
  /** PREFIX of the handle ids `PREFIX/N` this service mints (letters, digits, '.', '_', '-'). */
  idPrefix: string;
}

/** Who performs a mutating call; recorded in history entries and the audit log. */
export interface ActorOptions {
  actor: string;
  signal?: AbortSignal | undefined;
}

export interface UpdateOptions extends ActorOptions {
  /**
   * The `revision` the caller last read. If the dataset changed since, the update is refused with
   * ConflictError (HTTP 409) instead of overwriting the other change. Omitted: last writer wins (but every
   * write is still recorded in the history).
   */
  expectedRevision?: number | undefined;
}

export interface VersionOptions extends ActorOptions {
  /** Start the new version's folder with a copy of the previous version's files. Default true (Provena: false). */
  copyFiles?: boolean | undefined;
}

export interface ReleaseActionOptions extends ActorOptions {
  /** The actor has the sys-admin role: may reject (cancel) any pending request. */
  actorIsSysAdmin?: boolean | undefined;
}

export interface VersionResult {
  newVersionId: string;
  version: number;
  record: DatasetRecord;
  copied: FolderCopyResult | null;
}

export type ReleaseDecision = 'approve' | 'reject';

/** Limits listing and search to the datasets a user may read (the server passes the caller). */
export interface ReadScope {
  visibleTo?: Visibility;
}

/**
 * The datastore's domain: mint, fetch, update (optimistic concurrency), history and revert, versions,
 * listing and search, registry entries, and the release workflow. Authentication and per-dataset roles
 * are the server's job; this layer enforces the domain rules (valid metadata whose references resolve,
 * only the latest version is versioned, frozen while PENDING/RELEASED, only the named approver decides).
 *
 * The catalog is the source of truth; each dataset folder's `metadata.json` is rewritten inside the
 * transaction that changes the record, while the row is locked, so the file always shows the latest
 * committed record (a failed commit can leave it one change ahead until the next change).
 */
export class DatastoreService {
  readonly catalog: Catalog;
  readonly store: StorageDriver;
  readonly idPrefix: string;

  constructor(options: DatastoreServiceOptions) {
    if (!ID_PREFIX.test(options.idPrefix)) {
      throw new ValidationError(`invalid id prefix ${JSON.stringify(options.idPrefix)}`, {
        hint: "use letters, digits, '.', '_' and '-' only, e.g. 10378.1",
      });
    }
    this.catalog = options.catalog;
    this.store = options.store;
    this.idPrefix = options.idPrefix;
  }

  // ---------------------------------------------------------------- registry

  registerOrganisation(input: unknown, options: ActorOptions): Promise<RegistryEntry> {
    return this.audited(options.actor, 'registry.organisation.create', null, async (commit) => {
      const data = parse(organisationInputSchema, input, 'organisation');
      const id = await this.mintId();
      return commit((tx) =>
        tx.insertRegistryEntry({
          id,
          kind: 'organisation',
          displayName: data.name,
          data,
          createdBy: options.actor,
        }),
      );
    });
  }

  registerPerson(input: unknown, options: ActorOptions): Promise<RegistryEntry> {
    return this.audited(options.actor, 'registry.person.create', null, async (commit) => {
      const data = parse(personInputSchema, input, 'person');
      const id = await this.mintId();
      return commit((tx) =>
        tx.insertRegistryEntry({
          id,
          kind: 'person',
          displayName: `${data.firstName} ${data.lastName}`,
          data,
          createdBy: options.actor,
        }),
      );
    });
  }

  async fetchRegistryEntry(id: string): Promise<RegistryEntry> {
    const entry = await this.catalog.getRegistryEntry(id);
    if (!entry) throw new NotFoundError(`no registry entry with id ${id}`);
    return entry;
  }

  /** Organisations or people, by display name. */
  listRegistryEntries(kind: RegistryEntry['kind']): Promise<RegistryEntry[]> {
    return this.catalog.listRegistryEntries(kind);
  }

  // ---------------------------------------------------------------- datasets

  /**
   * Checks metadata against the schema and that its registry references resolve (organisation and publisher
   * are organisations, the custodian a person). Returns every failing field; never throws for bad input.
   */
  async validateDatasetMetadata(input: unknown): Promise<ValidationResult<DatasetMetadata>> {
    const result = validateWith(collectionFormatSchema, input);
    const references = await this.catalog.transaction((tx) => referenceIssues(tx, input));
    if (result.ok) return references.length === 0 ? result : { ok: false, issues: references };
    return { ok: false, issues: withReferenceIssues(result.issues, references) };
  }

  /** The metadata validated; invalid, a FieldValidationError listing schema and reference issues at once. */
  async #parseMetadata(input: unknown): Promise<DatasetMetadata> {
    const result = validateWith(collectionFormatSchema, input);
    if (result.ok) return result.value;
    const references = await this.catalog.transaction((tx) => referenceIssues(tx, input));
    throw new FieldValidationError('dataset metadata', withReferenceIssues(result.issues, references));
  }

  /** Registers a dataset: a new id, its folder with `metadata.json`, history entry 1. */
  mintDataset(metadata: unknown, options: ActorOptions): Promise<DatasetRecord> {
    return this.audited(options.actor, 'dataset.mint', null, async (commit) => {
      const value = await this.#parseMetadata(metadata);
      // Check references before taking an id, so that invalid metadata does not use up numbers.
      await this.catalog.transaction((tx) => assertReferences(tx, value));
      const id = await this.mintId();
      return commit(async (tx) => {
        const record = await tx.insertDataset({
          id,
          folder: datasetFolder(id),
          owner: options.actor,
          metadata: value,
          versionNumber: 1,
          previousVersion: null,
          versionReason: null,
        });
        await tx.appendHistory(id, { reason: 'minted', username: options.actor, snapshot: value });
        await writeMetadataFile(this.store, record);
        return record;
      });
    });
  }

  async fetchDataset(id: string): Promise<DatasetRecord> {
    const record = await this.catalog.getDataset(id);
    if (!record) throw notFound(id);
    return record;
  }

  /** Replaces the metadata; records a history entry. ConflictError when `expectedRevision` is stale or the dataset is frozen. */
  updateDatasetMetadata(
    id: string,
    reason: string,
    metadata: unknown,
    options: UpdateOptions,
  ): Promise<DatasetRecord> {
    return this.audited(options.actor, 'dataset.update', id, async (commit) => {
      requireReason(reason);
      const value = await this.#parseMetadata(metadata);
      return commit(async (tx) => {
        const current = await lockWritable(tx, id, options.expectedRevision);
        await assertReferences(tx, value);
        const record = await tx.updateDataset(current.id, { metadata: value });
        await tx.appendHistory(id, { reason, username: options.actor, snapshot: value });
        await writeMetadataFile(this.store, record);
        return record;
      });
    });
  }

  /** Every metadata change of the dataset, oldest first. */
  async listHistory(id: string): Promise<HistoryEntry[]> {
    await this.fetchDataset(id);
    return this.catalog.listHistory(id);
  }

  /** Makes history entry `historyId`'s snapshot current again, as a new history entry (nothing is deleted). */
  revertDatasetMetadata(
    id: string,
    historyId: number,
    reason: string,
    options: UpdateOptions,
  ): Promise<DatasetRecord> {
    return this.audited(options.actor, 'dataset.revert', id, async (commit) => {
      requireReason(reason);
      return commit(async (tx) => {
        const current = await lockWritable(tx, id, options.expectedRevision);
        // History ids are PostgreSQL integers: a number beyond them names no entry (and would fail the query).
        const entry =
          Number.isInteger(historyId) && historyId >= 1 && historyId <= MAX_HISTORY_ID
            ? await tx.getHistoryEntry(id, historyId)
            : undefined;
        if (!entry)
          throw new NotFoundError(`dataset ${id} has no history entry ${historyId}`, {
            hint: 'list the history to see the entry ids',
          });
        // The snapshot must still be valid now (its registry references may not resolve any more).
        const snapshot = parse(collectionFormatSchema, entry.snapshot, `history entry ${historyId}`);
        await assertReferences(tx, snapshot);
        const record = await tx.updateDataset(current.id, { metadata: snapshot });
        await tx.appendHistory(id, {
          reason: `revert to history entry ${historyId}: ${reason}`,
          username: options.actor,
          snapshot,
        });
        await writeMetadataFile(this.store, record);
        return record;
      });
    });
  }

  /**
   * Creates the next version of the latest version `id`: a new id linked both ways, version number + 1,
   * the same metadata, and (by default) a copy of the previous version's files.
   */
  versionDataset(id: string, reason: string, options: VersionOptions): Promise<VersionResult> {
    return this.audited(options.actor, 'dataset.version', id, async (commit) => {
      requireReason(reason);
      const source = await this.fetchDataset(id);
      assertLatest(source);
      const newId = await this.mintId();
      const folder = datasetFolder(newId);
      try {
        const copied =
          options.copyFiles === false
            ? null
            : await copyDatasetFiles(this.store, source.folder, folder, options.signal);
        const record = await commit(async (tx) => {
          const locked = await tx.lockDataset(id);
          if (!locked) throw notFound(id);
          assertLatest(locked);
          const created = await tx.insertDataset({
            id: newId,
            folder,
            owner: options.actor,
            metadata: locked.metadata,
            versionNumber: locked.versioning.version + 1,
            previousVersion: locked.id,
            versionReason: reason,
          });
          await tx.appendHistory(newId, {
            reason: `version ${created.versioning.version} of ${locked.id}: ${reason}`,
            username: options.actor,
            snapshot: locked.metadata,
          });
          const previous = await tx.updateDataset(locked.id, { nextVersion: newId });
          await writeMetadataFile(this.store, previous);
          await writeMetadataFile(this.store, created);
          return created;
        });
        return { newVersionId: newId, version: record.versioning.version, record, copied };
      } catch (error) {
        // A failed copy, a lost race to another versioning call or a failed commit: the files copied so far
        // belong to no dataset (the id stays unused for good).
        await this.removeFolder(folder).catch(() => undefined);
        throw error;
      }
    });
  }

  /** One page of datasets; pass `paginationKey` from a page to get the next one. */
  async listDatasets(query: ListQuery = {}, scope: ReadScope = {}): Promise<ListPage> {
    const q = parse(listQuerySchema, query, 'list query');
    const shape = {
      sortBy: q.sortBy,
      ascending: q.ascending,
      releaseStatus: q.releaseStatus,
      approver: q.approver,
    };
    const after = q.paginationKey === undefined ? undefined : decodePaginationKey(q.paginationKey, shape);
    const result = await this.catalog.listDatasets({
      sortBy: q.sortBy,
      ascending: q.ascending,
      limit: q.pageSize,
      ...(after ? { after } : {}),
      ...(q.releaseStatus ? { releaseStatus: q.releaseStatus } : {}),
      ...(q.approver ? { approver: q.approver } : {}),
      ...(scope.visibleTo ? { visibleTo: scope.visibleTo } : {}),
    });
    return result.next
      ? { items: result.items, paginationKey: encodePaginationKey(shape, result.next) }
      : { items: result.items };
  }

  /** Every dataset matching the listing, page by page. */
  async *listAllDatasets(query: Omit<ListQuery, 'paginationKey'> = {}): AsyncGenerator<DatasetRecord> {
    let key: string | undefined;
    do {
      const page: ListPage = await this.listDatasets(
        key === undefined ? query : { ...query, paginationKey: key },
      );
      yield* page.items;
      key = page.paginationKey;
    } while (key !== undefined);
  }

  /**
   * Full-text search, ranked id > name > keywords > description, with prefix matching of every word and,
   * where pg_trgm is available, fuzzy (typo-tolerant) matching of name and keywords below full-text hits.
   */
  async searchDatasets(query: SearchQuery, scope: ReadScope = {}): Promise<SearchHit[]> {
    const q = parse(searchQuerySchema, query, 'search query');
    const hits = await this.catalog.searchDatasets(q.query.trim(), q.limit, scope.visibleTo);
    return hits.map((h) => ({ id: h.record.id, score: h.score, match: h.match, dataset: h.record }));
  }

  // ---------------------------------------------------------------- release workflow

  addDatasetReviewer(username: string, options: ActorOptions): Promise<boolean> {
    return this.audited(options.actor, 'reviewer.add', username, (commit) => {
      requireName(username, 'reviewer');
      return commit((tx) => tx.addReviewer(username, options.actor));
    });
  }

  deleteDatasetReviewer(username: string, options: ActorOptions): Promise<boolean> {
    return this.audited(options.actor, 'reviewer.remove', username, (commit) =>
      commit((tx) => tx.removeReviewer(username)),
    );
  }

  listDatasetReviewers(): Promise<string[]> {
    return this.catalog.listReviewers();
  }

  /** NOT_RELEASED → PENDING, naming an approver from the reviewer pool. */
  datasetApprovalRequest(
    datasetId: string,
    approverId: string,
    notes: string,
    options: ActorOptions,
  ): Promise<DatasetRecord> {
    return this.audited(options.actor, 'release.request', datasetId, (commit) =>
      commit(async (tx) => {
        const current = await tx.lockDataset(datasetId);
        if (!current) throw notFound(datasetId);
        if (current.release.status !== 'NOT_RELEASED') {
          throw new ConflictError(
            `dataset ${datasetId} is ${current.release.status}; only a NOT_RELEASED dataset can be submitted for release`,
            {
              hint:
                current.release.status === 'RELEASED'
                  ? 'create a new version to release changed data'
                  : 'wait for the approver to approve or reject the pending request',
            },
          );
        }
        // Four eyes: whoever asks for a release cannot be the one who approves it.
        if (approverId === options.actor) {
          throw new ValidationError(`${approverId} cannot approve their own release request`, {
            hint: 'name another reviewer from the pool (listDatasetReviewers)',
          });
        }
        if (!(await tx.isReviewer(approverId))) {
          throw new ValidationError(`${approverId} is not in the reviewer pool`, {
            hint: 'name a reviewer from the pool, or ask an admin to add them (addDatasetReviewer)',
          });
        }
        const record = await tx.updateDataset(datasetId, {
          release: {
            status: 'PENDING',
            approver: approverId,
            requester: options.actor,
            touchTimestamp: true,
          },
        });
        await tx.appendReleaseHistory(datasetId, {
          action: 'REQUEST',
          actor: options.actor,
          approver: approverId,
          notes,
        });
        await writeMetadataFile(this.store, record);
        return record;
      }),
    );
  }

  /**
   * The named approver's decision on a PENDING dataset: approve → RELEASED (with a content manifest of its
   * files: path, size, SHA-256), reject → NOT_RELEASED. The approver must still be in the reviewer pool. A
   * sys-admin may also reject (cancel) any pending request, so that an approver who left the pool cannot
   * keep a dataset frozen; the history entry and the audit log name the sys-admin as the actor.
   */
  actionApprovalRequest(
    datasetId: string,
    decision: ReleaseDecision,
    notes: string,
    options: ReleaseActionOptions,
  ): Promise<DatasetRecord> {
    return this.audited(options.actor, `release.${decision}`, datasetId, async (commit, details) => {
      const pending = await this.fetchDataset(datasetId);
      const inPool = (await this.catalog.listReviewers()).includes(options.actor);
      mayActOn(pending, decision, options, inPool);
      // Data writes are refused while PENDING, so the manifest read before the transaction stays true.
      const manifest: ManifestEntry[] =
        decision === 'approve' ? await folderManifest(this.store, pending.folder, options.signal) : [];
      return commit(async (tx) => {
        const current = await tx.lockDataset(datasetId);
        if (!current) throw notFound(datasetId);
        const as = mayActOn(current, decision, options, await tx.isReviewer(options.actor));
        if (as === 'sys-admin') details.cancelledAsSysAdmin = { approver: current.release.approver };
        const approved = decision === 'approve';
        // Reading the manifest can take long: if the request was rejected and made again meanwhile (new data,
        // same PENDING status), this manifest and this approval belong to the earlier request.
        if (approved && current.revision !== pending.revision) {
          throw new ConflictError(
            `dataset ${datasetId} changed while its files were read for the release manifest (revision ${pending.revision} → ${current.revision})`,
            { hint: 'check the release request and its files again, then approve again' },
          );
        }
        const record = await tx.updateDataset(datasetId, {
          release: {
            status: approved ? 'RELEASED' : 'NOT_RELEASED',
            approver: current.release.approver,
            requester: current.release.requester,
            touchTimestamp: true,
          },
        });
        const entry = await tx.appendReleaseHistory(datasetId, {
          action: approved ? 'APPROVE' : 'REJECT',
          actor: options.actor,
          approver: current.release.approver ?? options.actor,
          notes,
        });
        if (approved) await tx.insertManifest(datasetId, entry.id, manifest);
        await writeMetadataFile(this.store, record);
        return record;
      });
    });
  }

  async listReleaseHistory(datasetId: string): Promise<ReleaseHistoryEntry[]> {
    await this.fetchDataset(datasetId);
    return this.catalog.listReleaseHistory(datasetId);
  }

  /**
   * PENDING datasets, oldest request first (release time), each with its latest request: what a reviewer's
   * queue shows, in two queries per page (the page, then the requests of its datasets).
   */
  async listReviewQueue(query: ReviewQueueQuery = {}, scope: ReadScope = {}): Promise<ReviewQueuePage> {
    const q = parse(reviewQueueQuerySchema, query, 'review queue query');
    const shape = { releaseStatus: 'PENDING', sortBy: 'releaseTime', ascending: true } as const;
    // Checked here first so that a key from another queue is refused in the queue's terms (its approver).
    if (q.paginationKey !== undefined)
      decodePaginationKey(q.paginationKey, { ...shape, approver: q.approver }, REVIEW_QUEUE_MISMATCH);
    const page = await this.listDatasets(
      {
        ...shape,
        pageSize: q.pageSize,
        ...(q.approver !== undefined ? { approver: q.approver } : {}),
        ...(q.paginationKey !== undefined ? { paginationKey: q.paginationKey } : {}),
      },
      scope,
    );
    const requests = await this.catalog.latestReleaseRequests(page.items.map((d) => d.id));
    const items = page.items.map((dataset) => ({ dataset, request: requests.get(dataset.id) ?? null }));
    return page.paginationKey === undefined ? { items } : { items, paginationKey: page.paginationKey };
  }

  /** The content manifest recorded when the dataset was (last) released. */
  async releaseManifest(datasetId: string): Promise<ManifestEntry[]> {
    const history = await this.listReleaseHistory(datasetId);
    const approval = history.filter((h) => h.action === 'APPROVE').at(-1);
    if (!approval) throw new NotFoundError(`dataset ${datasetId} has never been released`);
    return this.catalog.getReleaseManifest(approval.id);
  }

  /**
   * Refuses data writes to a dataset that is PENDING or RELEASED (for the access layer: upload, presigned PUT
   * and write credentials call this first). Returns the record.
   */
  async assertDataWritable(datasetId: string): Promise<DatasetRecord> {
    const record = await this.fetchDataset(datasetId);
    assertNotFrozen(record, 'data');
    return record;
  }

  // ---------------------------------------------------------------- helpers

  private async mintId(): Promise<string> {
    return `${this.idPrefix}/${await this.catalog.allocateNumber(this.idPrefix)}`;
  }

  private async removeFolder(folder: string): Promise<void> {
    const keys: string[] = [];
    for await (const info of this.store.list(folder)) if (!info.isPrefix) keys.push(info.key);
    if (keys.length > 0) await this.store.delete(keys);
  }

  /**
   * Runs a mutating call and records it in the audit log with its outcome. `work` makes its change through
   * `commit`, a transaction that also writes the `ok` audit entry, so a change and its audit entry commit
   * together; a failure is recorded afterwards (outside the failed transaction).
   */
  private async audited<T>(
    actor: string,
    action: string,
    target: string | null,
    work: (
      commit: <R>(body: (tx: CatalogTransaction) => Promise<R>) => Promise<R>,
      /** Details the work adds to the audit entry of a successful call. */
      details: Record<string, unknown>,
    ) => Promise<T>,
  ): Promise<T> {
    requireName(actor, 'actor');
    const details: Record<string, unknown> = {};
    const commit = <R>(body: (tx: CatalogTransaction) => Promise<R>): Promise<R> =>
      this.catalog.transaction(async (tx) => {
        const result = await body(tx);
        const id = (result as { id?: unknown } | null)?.id;
        await tx.audit({
          actor,
          action,
          target: target ?? (typeof id === 'string' ? id : null),
          outcome: 'ok',
          details,
        });
        return result;
      });
    try {
      return await work(commit, details);
    } catch (error) {
      const code = isWharfError(error) ? error.code : 'INTERNAL';
      await this.catalog
        .audit({
          actor,
          action,
          target,
          outcome: code === 'ACCESS_DENIED' ? 'denied' : 'error',
          details: { code, message: error instanceof Error ? error.message.slice(0, 2000) : String(error) },
        })
        .catch(() => undefined);
      markAudited(error);
      throw error;
    }
  }
}

function parse<S extends Parameters<typeof validateWith>[0]>(schema: S, input: unknown, what: string) {
  const result = validateWith(schema, input);
  if (!result.ok) throw new FieldValidationError(what, result.issues);
  return result.value;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`dataset ${id} does not exist`, {
    hint: 'check the id, e.g. with listDatasets or searchDatasets',
  });
}

function requireReason(reason: string): void {
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw new ValidationError('reason must not be empty', {
      hint: 'say why the dataset is being changed; it is kept in the history',
    });
  }
}

function requireName(name: string, what: string): void {
  if (typeof name !== 'string' || name.trim() === '')
    throw new ValidationError(`${what} must be a non-empty user name`);
}

async function lockWritable(
  tx: CatalogTransaction,
  id: string,
  expectedRevision: number | undefined,
): Promise<DatasetRecord> {
  const current = await tx.lockDataset(id);
  if (!current) throw notFound(id);
  if (expectedRevision !== undefined && current.revision !== expectedRevision) {
    throw new ConflictError(
      expectedRevision < current.revision
        ? `dataset ${id} changed since revision ${expectedRevision} (it is at revision ${current.revision})`
        : `dataset ${id} is at revision ${current.revision}: revision ${expectedRevision} does not exist yet`,
      { hint: 'fetch the dataset again, reapply your change and send it with the new revision' },
    );
  }
  assertNotFrozen(current, 'metadata');
  return current;
}

function assertNotFrozen(record: DatasetRecord, what: 'metadata' | 'data'): void {
  const status = record.release.status;
  if (status === 'PENDING' || status === 'RELEASED') {
    throw new ConflictError(`dataset ${record.id} is ${status}: its ${what} cannot be changed`, {
      hint:
        status === 'RELEASED'
          ? 'create a new version (versionDataset) and change that instead'
          : 'wait for the review to finish (a rejection reopens it), or create a new version (versionDataset)',
    });
  }
}

/** The largest history entry id (`metadata_history.history_id` is a PostgreSQL integer). */
const MAX_HISTORY_ID = 2_147_483_647;

function assertLatest(record: DatasetRecord): void {
  if (record.versioning.nextVersion !== null) {
    throw new ConflictError(
      `dataset ${record.id} is version ${record.versioning.version} and already has a newer version ${record.versioning.nextVersion}`,
      { hint: 'only the latest version can be versioned; version the latest one instead' },
    );
  }
}

/**
 * Whether `options.actor` may take `decision` on the record's pending request, and as whom: the named approver
 * while still in the reviewer pool, or (reject only) a sys-admin cancelling the request.
 */
function mayActOn(
  record: DatasetRecord,
  decision: ReleaseDecision,
  options: ReleaseActionOptions,
  actorInPool: boolean,
): 'approver' | 'sys-admin' {
  if (record.release.status !== 'PENDING') {
    throw new ConflictError(
      `dataset ${record.id} is ${record.release.status}, not PENDING: there is no request to act on`,
    );
  }
  const approver = record.release.approver;
  if (approver === options.actor && actorInPool) return 'approver';
  if (decision === 'reject' && options.actorIsSysAdmin === true) return 'sys-admin';
  if (approver === options.actor) {
    throw new AccessDeniedError(
      `${options.actor} is no longer in the reviewer pool and may not act on the release request of ${record.id}`,
      {
        hint: 'ask a sys-admin to add you back to the pool, or to reject the request so that it can be resubmitted',
      },
    );
  }
  throw new AccessDeniedError(
    `only the named approver (${approver}) may act on the release request of ${record.id}`,
    { hint: 'a sys-admin may reject (cancel) a pending request' },
  );
}

/** Where metadata references registry entries, and of which kind. */
const REFERENCES: { path: [string, string]; kind: RegistryEntry['kind'] }[] = [
  { path: ['associations', 'organisationId'], kind: 'organisation' },
  { path: ['datasetInfo', 'publisherId'], kind: 'organisation' },
  { path: ['associations', 'dataCustodianId'], kind: 'person' },
];

/**
 * Registry references of the metadata that do not resolve to an entry of the right kind. `metadata` may be
 * unvalidated: references that are not non-blank strings are left to the schema's issues.
 */
async function referenceIssues(tx: CatalogTransaction, metadata: unknown): Promise<FieldIssue[]> {
  const refs: { path: string; id: string; kind: RegistryEntry['kind'] }[] = [];
  for (const { path, kind } of REFERENCES) {
    const parent = (metadata as Record<string, unknown> | null)?.[path[0]];
    const id =
      typeof parent === 'object' && parent !== null
        ? (parent as Record<string, unknown>)[path[1]]
        : undefined;
    // An id with U+0000 is already a schema issue (and PostgreSQL could not look it up).
    if (typeof id === 'string' && /\S/.test(id) && !id.includes('\u0000'))
      refs.push({ path: path.join('.'), id, kind });
  }
  if (refs.length === 0) return [];
  const kinds = await tx.registryKinds(refs.map((r) => r.id));
  const issues: FieldIssue[] = [];
  for (const ref of refs) {
    const kind = kinds.get(ref.id);
    if (kind === undefined)
      issues.push({ path: ref.path, message: `no ${ref.kind} with id ${ref.id} is registered` });
    else if (kind !== ref.kind) {
      issues.push({
        path: ref.path,
        message: `${ref.id} is ${withArticle(kind)}, expected ${withArticle(ref.kind)}`,
      });
    }
  }
  return issues;
}

/** Schema issues and reference issues in path order; a field with a schema issue is not also a reference issue. */
function withReferenceIssues(schema: FieldIssue[], references: FieldIssue[]): FieldIssue[] {
  const seen = new Set(schema.map((i) => i.path));
  return [...schema, ...references.filter((i) => !seen.has(i.path))].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
}

function withArticle(kind: RegistryEntry['kind']): string {
  return kind === 'organisation' ? 'an organisation' : 'a person';
}

async function assertReferences(tx: CatalogTransaction, metadata: DatasetMetadata): Promise<void> {
  const issues = await referenceIssues(tx, metadata);
  if (issues.length > 0) throw new FieldValidationError('dataset metadata', issues);
}
