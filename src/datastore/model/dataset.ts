import { z } from 'zod';
import { onlyFormat } from './validation.js';
import { SHORT_TEXT, text, type collectionFormatSchema } from './metadata.js';

/**
 * Records the datastore keeps besides the metadata itself: registry entries (organisations, people), dataset
 * records with their version links and release state, history entries, release history, and the query
 * shapes of list and search. The same schemas validate requests and generate the OpenAPI document.
 */

/** A persistent handle-style id `PREFIX/N`, e.g. `10378.1/1451860`. */
export const HANDLE_ID = /^[A-Za-z0-9._-]+\/[0-9]+$/;
export const handleIdSchema = z
  .string()
  .regex(HANDLE_ID, onlyFormat('must be a handle id PREFIX/N, e.g. 10378.1/1451860'))
  .describe('Persistent handle-style id PREFIX/N.');

/** The PREFIX part of handle ids: letters, digits, '.', '_' and '-'. */
export const ID_PREFIX = /^[A-Za-z0-9._-]+$/;

const nonEmpty = z.string().min(1, onlyFormat('must not be empty'));
const name = text(undefined, SHORT_TEXT);

export const organisationInputSchema = z
  .strictObject({
    name: name.describe('Display name of the organisation.'),
    ror: z.url(onlyFormat('must be a ROR URL, e.g. https://ror.org/03qn8fb07')).optional(),
    url: z.url({ protocol: /^https?$/, ...onlyFormat('must be an http(s) URL') }).optional(),
  })
  .meta({ title: 'Organisation' });

export const personInputSchema = z
  .strictObject({
    firstName: name,
    lastName: name,
    email: z.email(onlyFormat('must be an email address')).optional(),
    orcid: z.url(onlyFormat('must be an ORCID URL, e.g. https://orcid.org/0000-0002-1825-0097')).optional(),
  })
  .meta({ title: 'Person' });

export type OrganisationInput = z.output<typeof organisationInputSchema>;
export type PersonInput = z.output<typeof personInputSchema>;

export type RegistryEntry =
  | {
      id: string;
      kind: 'organisation';
      displayName: string;
      data: OrganisationInput;
      createdAt: string;
      createdBy: string;
    }
  | {
      id: string;
      kind: 'person';
      displayName: string;
      data: PersonInput;
      createdAt: string;
      createdBy: string;
    };

/** Per-dataset roles, weakest first; each implies those before it. */
export const DATASET_ROLES = ['metadata-read', 'metadata-write', 'data-read', 'data-write', 'admin'] as const;
export type DatasetRole = (typeof DATASET_ROLES)[number];

export const RELEASE_STATUSES = ['NOT_RELEASED', 'PENDING', 'RELEASED'] as const;
export const releaseStatusSchema = z.enum(RELEASE_STATUSES);
export type ReleaseStatus = z.output<typeof releaseStatusSchema>;

export const RELEASE_ACTIONS = ['REQUEST', 'APPROVE', 'REJECT'] as const;
export type ReleaseAction = (typeof RELEASE_ACTIONS)[number];

export interface ReleaseHistoryEntry {
  id: number;
  action: ReleaseAction;
  timestamp: string;
  /** Who acted (the requester for REQUEST, the approver for APPROVE/REJECT, or a sys-admin who cancelled). */
  actor: string;
  approver: string;
  notes: string;
}

/** A dataset as `fetchDataset` returns it and as `metadata.json` in its folder holds it. */
export interface DatasetRecord {
  id: string;
  metadata: z.output<typeof collectionFormatSchema>;
  owner: string;
  /** Folder of the dataset's files in the store, relative to the store root, ending in '/'. */
  folder: string;
  versioning: {
    version: number;
    previousVersion: string | null;
    nextVersion: string | null;
    /** Why this version was created from the previous one (null for version 1). */
    reason: string | null;
  };
  release: {
    status: ReleaseStatus;
    approver: string | null;
    requester: string | null;
    /** When the status last changed by a release action (ISO time), null before any. */
    timestamp: string | null;
  };
  /** Increments on every change of the record; pass it back as `expectedRevision` to update safely. */
  revision: number;
  /** `"<revision>-<hash>"` quoted as an HTTP entity tag. */
  etag: string;
  createdAt: string;
  updatedAt: string;
}

export interface HistoryEntry {
  /** 1, 2, 3, ... per dataset; entry 1 is the minted metadata. */
  id: number;
  timestamp: string;
  reason: string;
  username: string;
  snapshot: z.output<typeof collectionFormatSchema>;
}

export const SORT_FIELDS = ['created', 'updated', 'displayName', 'releaseTime'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export const listQuerySchema = z
  .strictObject({
    sortBy: z.enum(SORT_FIELDS).default('created'),
    ascending: z.boolean().default(false),
    pageSize: z.number().int().min(1).max(1000).default(20),
    paginationKey: z.string().min(1).optional().describe('Opaque key from the previous page.'),
    releaseStatus: releaseStatusSchema.optional(),
    approver: nonEmpty.optional().describe('Only datasets whose release approver is this user.'),
  })
  .meta({ title: 'List datasets query' });
export type ListQuery = z.input<typeof listQuerySchema>;

export interface ListPage {
  items: DatasetRecord[];
  /** Pass back to get the next page; absent on the last page. */
  paginationKey?: string;
}

/**
 * The review queue: PENDING datasets, oldest request first, each with its latest release request (who asked,
 * when, the notes for the reviewer). One page; `paginationKey` as for `listDatasets`.
 */
export const reviewQueueQuerySchema = z
  .strictObject({
    approver: nonEmpty.optional().describe('Only requests naming this approver (default: every one).'),
    pageSize: z.number().int().min(1).max(1000).default(20),
    paginationKey: z.string().min(1).optional().describe('Opaque key from the previous page.'),
  })
  .meta({ title: 'Review queue query' });
export type ReviewQueueQuery = z.input<typeof reviewQueueQuerySchema>;

export interface ReviewQueueItem {
  dataset: DatasetRecord;
  /**
   * The latest REQUEST entry of the dataset's release history (`actor` is the requester). Null only for a
   * dataset made PENDING without one (not by Wharf).
   */
  request: ReleaseHistoryEntry | null;
}

export interface ReviewQueuePage {
  items: ReviewQueueItem[];
  /** Pass back to get the next page; absent on the last page. */
  paginationKey?: string;
}

export const searchQuerySchema = z
  .strictObject({
    query: nonEmpty.max(500),
    limit: z.number().int().min(1).max(1000).default(25),
  })
  .meta({ title: 'Search datasets query' });
export type SearchQuery = z.input<typeof searchQuerySchema>;

export interface SearchHit {
  id: string;
  score: number;
  /** `fulltext` when the words matched, `fuzzy` when only the query with misspelt words corrected did. */
  match: 'fulltext' | 'fuzzy';
  dataset: DatasetRecord;
}
