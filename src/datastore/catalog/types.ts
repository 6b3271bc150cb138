import type {
  DatasetRecord,
  DatasetRole,
  HistoryEntry,
  RegistryEntry,
  ReleaseAction,
  ReleaseHistoryEntry,
  ReleaseStatus,
  SortField,
} from '../model/dataset.js';
import type { ApiTokenInfo } from '../model/api-token.js';
import type { DatasetMetadata } from '../model/metadata.js';

/**
 * What the datastore service needs from its catalog (the database). The PostgreSQL implementation is
 * `PgCatalog`; the service sees only this interface. Reads outside a transaction see committed data;
 * everything that must be atomic runs inside `transaction()`.
 */
export interface Catalog {
  /** Whether fuzzy (trigram) search is available; without it search falls back to prefix matching. */
  readonly fuzzySearch: boolean;

  /**
   * The next number for ids `PREFIX/N`, committed at once: never handed out twice, even when the caller's
   * later work fails (that leaves a gap).
   */
  allocateNumber(prefix: string): Promise<number>;

  /** Runs `work` in one database transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: CatalogTransaction) => Promise<T>): Promise<T>;

  getDataset(id: string): Promise<DatasetRecord | undefined>;
  listHistory(datasetId: string): Promise<HistoryEntry[]>;
  listReleaseHistory(datasetId: string): Promise<ReleaseHistoryEntry[]>;
  /** The latest REQUEST entry of each of these datasets' release history (datasets with none are absent). */
  latestReleaseRequests(datasetIds: readonly string[]): Promise<Map<string, ReleaseHistoryEntry>>;
  getReleaseManifest(releaseHistoryId: number): Promise<ManifestEntry[]>;
  listDatasets(params: ListParams): Promise<ListResult>;
  searchDatasets(query: string, limit: number, visibleTo?: Visibility): Promise<CatalogSearchHit[]>;
  /**
   * A value that changes whenever a listing or search may answer differently (datasets, grants, group
   * memberships changed). Read it before computing an answer to cache; the answer stays valid while the
   * value is unchanged.
   */
  generation(): Promise<string>;

  getRegistryEntry(id: string): Promise<RegistryEntry | undefined>;
  listRegistryEntries(kind: RegistryEntry['kind']): Promise<RegistryEntry[]>;
  listReviewers(): Promise<string[]>;
  /** Audit entries, oldest first unless `order` is `newest`; `after`/`before` are exclusive id bounds. */
  listAudit(filter?: AuditFilter): Promise<AuditEntry[]>;

  /** Appends to the audit log outside any transaction (for calls that failed). */
  audit(entry: NewAuditEntry): Promise<void>;

  close(): Promise<void>;
}

export interface CatalogTransaction {
  /** The dataset, locked against concurrent changes until the transaction ends. */
  lockDataset(id: string): Promise<DatasetRecord | undefined>;
  insertDataset(row: NewDatasetRow): Promise<DatasetRecord>;
  /** Changes the given fields, increments `revision`, sets `updatedAt`; returns the new record. */
  updateDataset(id: string, patch: DatasetPatch): Promise<DatasetRecord>;

  appendHistory(datasetId: string, entry: NewHistoryEntry): Promise<HistoryEntry>;
  getHistoryEntry(datasetId: string, historyId: number): Promise<HistoryEntry | undefined>;

  insertRegistryEntry(entry: Omit<RegistryEntry, 'createdAt'>): Promise<RegistryEntry>;
  /** Kinds of those of `ids` that exist (absent ids are missing from the map). */
  registryKinds(ids: readonly string[]): Promise<Map<string, RegistryEntry['kind']>>;

  appendReleaseHistory(datasetId: string, entry: NewReleaseEntry): Promise<ReleaseHistoryEntry>;
  insertManifest(
    datasetId: string,
    releaseHistoryId: number,
    entries: readonly ManifestEntry[],
  ): Promise<void>;
  isReviewer(username: string): Promise<boolean>;
  addReviewer(username: string, addedBy: string): Promise<boolean>;
  removeReviewer(username: string): Promise<boolean>;

  audit(entry: NewAuditEntry): Promise<void>;
}

export interface NewDatasetRow {
  id: string;
  folder: string;
  owner: string;
  metadata: DatasetMetadata;
  versionNumber: number;
  previousVersion: string | null;
  versionReason: string | null;
}

export interface DatasetPatch {
  metadata?: DatasetMetadata;
  nextVersion?: string;
  release?: {
    status: ReleaseStatus;
    approver: string | null;
    requester: string | null;
    /** Set the release timestamp to now (true) or keep it. */
    touchTimestamp: boolean;
  };
}

export interface NewHistoryEntry {
  reason: string;
  username: string;
  snapshot: DatasetMetadata;
}

export interface NewReleaseEntry {
  action: ReleaseAction;
  actor: string;
  approver: string;
  notes: string;
}

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface AuditFilter {
  target?: string;
  /** Most entries returned (default 1,000). */
  limit?: number;
  /** Only entries with a larger id. */
  after?: number;
  /** Only entries with a smaller id. */
  before?: number;
  /** `oldest` (default) or `newest` first. */
  order?: 'oldest' | 'newest';
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: 'ok' | 'denied' | 'error';
  details: Record<string, unknown>;
}
export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

/** A position in a keyset-ordered listing: the sort value (as text) and the row's insertion sequence. */
export interface KeysetPosition {
  value: string;
  seq: string;
}

export interface ListParams {
  sortBy: SortField;
  ascending: boolean;
  limit: number;
  after?: KeysetPosition;
  releaseStatus?: ReleaseStatus;
  approver?: string;
  /** Only datasets this user may read (owner, a grant, or metadata-public). Absent: all. */
  visibleTo?: Visibility;
}

export interface ListResult {
  items: DatasetRecord[];
  /** Position of the last item, when more may follow. */
  next?: KeysetPosition;
}

export interface CatalogSearchHit {
  record: DatasetRecord;
  score: number;
  match: 'fulltext' | 'fuzzy';
}

export { DATASET_ROLES, type DatasetRole } from '../model/dataset.js';
export const SYSTEM_ROLES = ['sys-admin', 'reviewer'] as const;
export type SystemRole = (typeof SYSTEM_ROLES)[number];
export type PrincipalKind = 'user' | 'group';

export type { ApiTokenInfo } from '../model/api-token.js';

export interface NewApiToken {
  tokenId: string;
  /** SHA-256 of the whole token string. */
  hash: Buffer;
  username: string;
  name: string;
  expiresAt: Date | null;
}

export interface DatasetGrant {
  principalKind: PrincipalKind;
  principal: string;
  role: DatasetRole;
  grantedBy: string;
  grantedAt: string;
}

/** What an authorisation decision on one dataset needs, in one query. */
export interface DatasetAccessFacts {
  owner: string;
  metadataPublic: boolean;
  /** The strongest role granted to the user or one of their groups, if any. */
  grantedRole: DatasetRole | null;
  releaseApprover: string | null;
}

/** Who a user is beyond their name: system roles (reviewer = in the reviewer pool) and groups. */
export interface UserFacts {
  systemRoles: SystemRole[];
  groups: string[];
}

/**
 * Access data of the HTTP service (tokens, system roles, groups, dataset grants), kept in the same catalog.
 * Every method runs on its own (no transaction needed); mutations are single statements.
 */
export interface AccessCatalog {
  /** `SELECT 1`; throws when the database is unreachable. */
  ping(): Promise<void>;
  /**
   * The value of a setting every replica shares (`service_settings`), created from `create()` when absent.
   * Concurrent first calls agree on one value (insert-if-absent, then read).
   */
  sharedSetting(key: string, create: () => string): Promise<string>;

  createToken(token: NewApiToken): Promise<ApiTokenInfo>;
  /** The active (not revoked, not expired) token with this hash; marks it used. */
  findActiveToken(hash: Buffer): Promise<ApiTokenInfo | undefined>;
  listTokens(username?: string): Promise<ApiTokenInfo[]>;
  getToken(tokenId: string): Promise<ApiTokenInfo | undefined>;
  /** Revokes the token; false when there is no such active token. */
  revokeToken(tokenId: string): Promise<boolean>;
  /**
   * Creates `token` as a sys-admin's token when the catalog holds no token at all (a fresh catalog),
   * serialised across replicas; returns whether it did.
   */
  bootstrapAdminToken(token: NewApiToken): Promise<boolean>;
  /** Creates or replaces (same token id) a sys-admin's token, e.g. from WHARF_ADMIN_TOKEN. */
  upsertAdminToken(token: NewApiToken): Promise<void>;

  userFacts(username: string): Promise<UserFacts>;
  grantSystemRole(username: string, role: 'sys-admin', grantedBy: string): Promise<boolean>;
  revokeSystemRole(username: string, role: 'sys-admin'): Promise<boolean>;
  addGroupMember(group: string, username: string): Promise<boolean>;
  removeGroupMember(group: string, username: string): Promise<boolean>;
  listGroupMembers(group: string): Promise<string[]>;

  datasetAccessFacts(datasetId: string, username: string | null): Promise<DatasetAccessFacts | undefined>;
  listDatasetGrants(datasetId: string): Promise<DatasetGrant[]>;
  grantDatasetRole(
    datasetId: string,
    principalKind: PrincipalKind,
    principal: string,
    role: DatasetRole,
    grantedBy: string,
  ): Promise<void>;
  revokeDatasetRole(datasetId: string, principalKind: PrincipalKind, principal: string): Promise<boolean>;
  setMetadataPublic(datasetId: string, value: boolean): Promise<void>;
  /** Copies grants and metadata-public from one dataset to another (a new version keeps its audience). */
  copyDatasetAccess(fromId: string, toId: string, grantedBy: string): Promise<void>;
}

/** Restricts listing and search to what a user may see (absent: everything). */
export interface Visibility {
  /** null: anonymous (metadata-public datasets only). */
  username: string | null;
  /**
   * The caller's groups, when the caller knows them (catalog groups plus groups an OIDC token asserts);
   * without it the catalog's group memberships are used.
   */
  groups?: readonly string[];
}
