import { z } from 'zod';
import type { ApiTokenInfo, AuditEntry, DatasetGrant, ManifestEntry } from '../datastore/catalog/types.js';
import {
  organisationInputSchema,
  personInputSchema,
  type RegistryEntry,
} from '../datastore/model/dataset.js';
import type { grantSchema, WhoAmI } from '../datastore/model/api-schemas.js';
import type { Principal } from './auth.js';

/**
 * Response bodies, for the OpenAPI document. The dataset-related ones live in `datastore/model/api-schemas.ts`
 * (the SDK types its answers with them) and are re-exported here; tokens stay here. The
 * `Same<…>` checks at the bottom make the compiler fail if a schema here and its interface drift apart.
 */
export {
  datasetRecordSchema,
  datasetPageSchema,
  searchResultsSchema,
  historySchema,
  releaseStateSchema,
  reviewQueuePageSchema,
  versionResultSchema,
  validationResultSchema,
  healthSchema,
  datasetAccessSchema,
  whoAmISchema,
} from '../datastore/model/api-schemas.js';

const isoTime = z.string().describe('ISO 8601 time (UTC).');
const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

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

const registryEntryFields = {
  id: z.string().describe('Registry id PREFIX/N.'),
  displayName: z.string(),
  createdAt: isoTime,
  createdBy: z.string(),
};
export const registryEntrySchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      ...registryEntryFields,
      kind: z.literal('organisation'),
      data: organisationInputSchema,
    }),
    z.strictObject({ ...registryEntryFields, kind: z.literal('person'), data: personInputSchema }),
  ])
  .meta({ title: 'RegistryEntry' });
export const registryEntryListSchema = z
  .strictObject({ items: z.array(registryEntrySchema) })
  .meta({ title: 'RegistryEntryList' });

export const usernameListSchema = z
  .strictObject({ items: z.array(z.string().describe('A user name.')) })
  .meta({ title: 'UsernameList' });

const manifestEntrySchema = z.strictObject({
  path: z.string().describe("The file's path in the dataset's folder."),
  size: z.number().int(),
  sha256: z.string().describe('Hex SHA-256 of the content when released.'),
});
export const releaseManifestSchema = z
  .strictObject({ items: z.array(manifestEntrySchema) })
  .meta({ title: 'ReleaseManifest' });

const auditEntrySchema = z.strictObject({
  id: z.number().int(),
  at: isoTime,
  actor: z.string().describe("The caller's user name, or anonymous."),
  action: z.string().describe('e.g. dataset.mint, dataset.file.put, or http METHOD /route for refusals.'),
  target: nullable(z.string()),
  outcome: z.enum(['ok', 'denied', 'error']),
  details: z.record(z.string(), z.unknown()),
});
export const auditPageSchema = z
  .strictObject({
    items: z.array(auditEntrySchema),
    hasMore: z.boolean().describe('Whether another page exists.'),
  })
  .meta({ title: 'AuditPage' });

// ------------------------------------------------------------------ drift checks (compile time only)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(value: T) => value;
same<Same<z.output<typeof tokenInfoSchema>, ApiTokenInfo>>(true);
same<Same<z.output<typeof grantSchema>, DatasetGrant>>(true);
same<Same<WhoAmI, Principal>>(true);
same<Same<z.output<typeof registryEntrySchema>, RegistryEntry>>(true);
same<Same<z.output<typeof manifestEntrySchema>, ManifestEntry>>(true);
same<Same<z.output<typeof auditEntrySchema>, AuditEntry>>(true);
