import { z } from 'zod';
import type { ApiTokenInfo, DatasetGrant } from '../datastore/catalog/types.js';
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

// ------------------------------------------------------------------ drift checks (compile time only)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(value: T) => value;
same<Same<z.output<typeof tokenInfoSchema>, ApiTokenInfo>>(true);
same<Same<z.output<typeof grantSchema>, DatasetGrant>>(true);
same<Same<WhoAmI, Principal>>(true);
