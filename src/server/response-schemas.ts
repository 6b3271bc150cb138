import { z } from 'zod';
import type { ApiTokenInfo, DatasetGrant } from '../datastore/catalog/types.js';
import {
  releaseStatusSchema,
  type DatasetRecord,
  type HistoryEntry,
  type ReleaseHistoryEntry,
  type SearchHit,
} from '../datastore/model/dataset.js';
import { collectionFormatSchema } from '../datastore/model/metadata.js';

/**
 * Response bodies, for the OpenAPI document. The records are TypeScript interfaces in the datastore model;
 * the `Same<…>` checks at the bottom make the compiler fail if a schema here and its interface drift apart.
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

const searchHitSchema = z.strictObject({
  id: z.string(),
  score: z.number(),
  match: z.enum(['fulltext', 'fuzzy']),
  dataset: datasetRecordSchema,
});
export const searchResultsSchema = z
  .strictObject({ items: z.array(searchHitSchema) })
  .meta({ title: 'SearchResults' });

const historyEntrySchema = z.strictObject({
  id: z.number().int(),
  timestamp: isoTime,
  reason: z.string(),
  username: z.string(),
  snapshot: collectionFormatSchema,
});
export const historySchema = z
  .strictObject({ items: z.array(historyEntrySchema) })
  .meta({ title: 'History' });

const releaseEntrySchema = z.strictObject({
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

export const versionResultSchema = z
  .strictObject({
    newVersionId: z.string(),
    version: z.number().int(),
    dataset: datasetRecordSchema,
    copied: z.unknown().describe('What was copied (null with copyFiles false).'),
  })
  .meta({ title: 'VersionResult' });

const tokenInfoSchema = z.strictObject({
  tokenId: z.string(),
  username: z.string(),
  name: z.string(),
  createdAt: isoTime,
  expiresAt: nullable(isoTime),
  revokedAt: nullable(isoTime),
  lastUsedAt: nullable(isoTime),
});
export const createdTokenSchema = tokenInfoSchema
  .extend({ token: z.string().describe('The token; shown only in this answer.') })
  .meta({ title: 'CreatedToken' });
export const tokenListSchema = z
  .strictObject({ items: z.array(tokenInfoSchema) })
  .meta({ title: 'TokenList' });

const grantSchema = z.strictObject({
  principalKind: z.enum(['user', 'group']),
  principal: z.string(),
  role: z.enum(['metadata-read', 'metadata-write', 'data-read', 'data-write', 'admin']),
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

export const validationResultSchema = z
  .strictObject({
    valid: z.boolean(),
    issues: z.array(z.strictObject({ path: z.string(), message: z.string() })),
  })
  .meta({ title: 'ValidationResult' });

export const healthSchema = z
  .strictObject({
    status: z.enum(['ok', 'unavailable']),
    database: z.string().describe('"ok" or "unreachable: …"'),
    store: z.string().describe('"ok" or "unreachable: …"'),
  })
  .meta({ title: 'Health' });

// ------------------------------------------------------------------ drift checks (compile time only)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(value: T) => value;
same<Same<z.output<typeof datasetRecordSchema>, DatasetRecord>>(true);
same<Same<z.output<typeof historyEntrySchema>, HistoryEntry>>(true);
same<Same<z.output<typeof releaseEntrySchema>, ReleaseHistoryEntry>>(true);
same<Same<Omit<z.output<typeof searchHitSchema>, 'dataset'>, Omit<SearchHit, 'dataset'>>>(true);
same<Same<z.output<typeof tokenInfoSchema>, ApiTokenInfo>>(true);
same<Same<z.output<typeof grantSchema>, DatasetGrant>>(true);
