import { z } from 'zod';
import {
  DATASET_ROLES,
  releaseStatusSchema,
  type DatasetRecord,
  type HistoryEntry,
  type ReleaseHistoryEntry,
  type ReviewQueueItem,
  type SearchHit,
} from './dataset.js';
import { collectionFormatSchema } from './metadata.js';

/**
 * Response bodies of the datastore's HTTP API that the server documents (OpenAPI) and the SDK (`wharf/client`)
 * types its answers with. The records are TypeScript interfaces in `dataset.ts`; the `Same<…>` checks at the
 * bottom make the compiler fail if a schema here and its interface drift apart. (Moved here from
 * `server/response-schemas.ts`, which re-exports them, so that the client need not import the server.)
 */
const isoTime = z.string().describe('ISO 8601 time (UTC).');
const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

export const datasetRecordSchema = z
  .strictObject({
    id: z.string().describe('Handle id PREFIX/N.'),
    metadata: collectionFormatSchema,
    owner: z.string(),
    folder: z.string().describe("The dataset's folder in the store, ending in '/'."),
    versioning: z.strictObject({
      version: z.number().int(),
      previousVersion: nullable(z.string()),
      nextVersion: nullable(z.string()),
      reason: nullable(z.string()),
    }),
    release: z.strictObject({
      status: releaseStatusSchema,
      approver: nullable(z.string()),
      requester: nullable(z.string()),
      timestamp: nullable(isoTime),
    }),
    revision: z.number().int().describe('Pass back as If-Match / expectedRevision.'),
    etag: z.string(),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ title: 'DatasetRecord' });

export const datasetPageSchema = z
  .strictObject({
    items: z.array(datasetRecordSchema),
    paginationKey: z.string().optional().describe('Absent on the last page.'),
  })
  .meta({ title: 'DatasetPage' });

export const searchHitSchema = z.strictObject({
  id: z.string(),
  score: z.number(),
  match: z.enum(['fulltext', 'fuzzy']),
  dataset: datasetRecordSchema,
});
export const searchResultsSchema = z
  .strictObject({ items: z.array(searchHitSchema) })
  .meta({ title: 'SearchResults' });

export const historyEntrySchema = z.strictObject({
  id: z.number().int(),
  timestamp: isoTime,
  reason: z.string(),
  username: z.string(),
  snapshot: collectionFormatSchema,
});
export const historySchema = z
  .strictObject({ items: z.array(historyEntrySchema) })
  .meta({ title: 'History' });

export const releaseEntrySchema = z.strictObject({
  id: z.number().int(),
  action: z.enum(['REQUEST', 'APPROVE', 'REJECT']),
  timestamp: isoTime,
  actor: z.string(),
  approver: z.string(),
  notes: z.string(),
});
export const releaseStateSchema = z
  .strictObject({
    status: releaseStatusSchema,
    approver: nullable(z.string()),
    requester: nullable(z.string()),
    timestamp: nullable(isoTime),
    history: z.array(releaseEntrySchema),
  })
  .meta({ title: 'ReleaseState' });

export const reviewQueueItemSchema = z.strictObject({
  dataset: datasetRecordSchema,
  request: nullable(releaseEntrySchema).describe(
    'The latest REQUEST entry of the release history: actor (the requester), timestamp, notes for the reviewer. Null only for a dataset made PENDING without one.',
  ),
});
export const reviewQueuePageSchema = z
  .strictObject({
    items: z.array(reviewQueueItemSchema),
    paginationKey: z.string().optional().describe('Absent on the last page.'),
  })
  .meta({ title: 'ReviewQueuePage' });

export const versionResultSchema = z
  .strictObject({
    newVersionId: z.string(),
    version: z.number().int(),
    dataset: datasetRecordSchema,
    copied: z.unknown().describe('What was copied (null with copyFiles false).'),
  })
  .meta({ title: 'VersionResult' });

export const validationResultSchema = z
  .strictObject({
    valid: z.boolean(),
    issues: z.array(z.strictObject({ path: z.string(), message: z.string() })),
  })
  .meta({ title: 'ValidationResult' });

export const healthSchema = z
  .strictObject({
    status: z.enum(['ok', 'unavailable']),
    database: z
      .string()
      .describe('"ok", or "unreachable: …" with the reason for a sys-admin (others see no reason)'),
    store: z
      .string()
      .describe('"ok", or "unreachable: …" with the reason for a sys-admin (others see no reason)'),
  })
  .meta({ title: 'Health' });

export const grantSchema = z.strictObject({
  principalKind: z.enum(['user', 'group']),
  principal: z.string(),
  role: z.enum(DATASET_ROLES),
  grantedBy: z.string(),
  grantedAt: isoTime,
});
export const datasetAccessSchema = z
  .strictObject({
    owner: z.string(),
    metadataPublic: z.boolean(),
    yourRole: grantSchema.shape.role,
    grants: z.array(grantSchema).optional().describe('Only for admins of the dataset.'),
  })
  .meta({ title: 'DatasetAccess' });

export const whoAmISchema = z
  .strictObject({
    username: z.string(),
    tokenId: z
      .string()
      .describe('The API token\'s id; "scoped" for a scoped data token, "oidc" for an OIDC JWT.'),
    systemRoles: z.array(z.enum(['sys-admin', 'reviewer'])),
    groups: z.array(z.string()),
    scope: z
      .strictObject({ datasetId: z.string(), access: z.enum(['read', 'write']), expiresAt: isoTime })
      .optional()
      .describe('Only for a scoped data token: the one dataset it may reach, and how.'),
  })
  .meta({ title: 'WhoAmI' });

/** `GET /datasets/{p}/{n}/access`. */
export type DatasetAccess = z.output<typeof datasetAccessSchema>;
/** `GET /me`: the caller. */
export type WhoAmI = z.output<typeof whoAmISchema>;
/** `GET /datasets/{p}/{n}/release`. */
export type ReleaseState = z.output<typeof releaseStateSchema>;
/** `POST /datasets/{p}/{n}/versions`. */
export type VersionResponse = z.output<typeof versionResultSchema>;
/** `POST /datasets/validate`: every failing field with its path. */
export type MetadataValidationResult = z.output<typeof validationResultSchema>;
/** `GET /health`. */
export type HealthCheck = z.output<typeof healthSchema>;

// ------------------------------------------------------------------ drift checks (compile time only)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(value: T) => value;
same<Same<z.output<typeof datasetRecordSchema>, DatasetRecord>>(true);
same<Same<z.output<typeof historyEntrySchema>, HistoryEntry>>(true);
same<Same<z.output<typeof releaseEntrySchema>, ReleaseHistoryEntry>>(true);
same<Same<z.output<typeof reviewQueueItemSchema>, ReviewQueueItem>>(true);
same<Same<Omit<z.output<typeof searchHitSchema>, 'dataset'>, Omit<SearchHit, 'dataset'>>>(true);
