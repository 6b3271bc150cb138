import { z } from 'zod';
import { listQuerySchema, organisationInputSchema, personInputSchema, searchQuerySchema } from './dataset.js';
import { collectionFormatSchema } from './metadata.js';

/**
 * JSON Schemas (draft 2020-12) of what clients send, generated from the zod schemas that validate it, for
 * the OpenAPI document and for clients that validate before sending. `io: 'input'`: fields with defaults
 * (`formats`, `keywords`, `userMetadata`, list query options) are optional.
 */
export function datastoreJsonSchemas(): Record<string, Record<string, unknown>> {
  const make = (schema: z.ZodType) =>
    z.toJSONSchema(schema, { io: 'input', override: refuseNul }) as Record<string, unknown>;
  return {
    DatasetMetadata: make(collectionFormatSchema),
    Organisation: make(organisationInputSchema),
    Person: make(personInputSchema),
    ListDatasetsQuery: make(listQuerySchema),
    SearchDatasetsQuery: make(searchQuerySchema),
  };
}

/** The JSON Schema of dataset metadata (Provena's CollectionFormat, camelCase). */
export function datasetMetadataJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(collectionFormatSchema, { io: 'input', override: refuseNul }) as Record<
    string,
    unknown
  >;
}

/**
 * `override` for z.toJSONSchema: every string refuses U+0000, as `validateWith` does for every string a
 * client sends (a rule outside the zod schemas, so it is added here).
 */
export function refuseNul(ctx: { jsonSchema: { type?: unknown; not?: unknown } }): void {
  if (ctx.jsonSchema.type === 'string' && ctx.jsonSchema.not === undefined) {
    ctx.jsonSchema.not = { pattern: '\\u0000' };
  }
}
