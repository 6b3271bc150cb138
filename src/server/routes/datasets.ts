import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import { DATASET_ROLES } from '../../datastore/catalog/types.js';
import { releaseStatusSchema, SORT_FIELDS, type DatasetRecord } from '../../datastore/model/dataset.js';
import { collectionFormatSchema } from '../../datastore/model/metadata.js';
import type { Principal } from '../auth.js';
import {
  datasetAccessSchema,
  datasetPageSchema,
  datasetRecordSchema,
  historySchema,
  searchResultsSchema,
  validationResultSchema,
  versionResultSchema,
} from '../response-schemas.js';
import { route, type RouteSpec } from '../route.js';
import { cachedJson, readScope } from './cached-listing.js';
import { handleId, handleParams, nonEmpty, queryBoolean, queryInt, username } from './params.js';

export const updateMetadataRequest = z
  .strictObject({
    reason: nonEmpty.describe('Why the metadata changes; kept in the history.'),
    metadata: collectionFormatSchema,
    expectedRevision: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('The revision last read; a stale one gets 409. Same as the If-Match header.'),
  })
  .meta({ title: 'UpdateMetadataRequest' });

/**
 * What the update route checks itself; the service validates `metadata`, so that its schema issues and its
 * unresolved registry references are reported together (as for mint and validate).
 */
const updateMetadataEnvelope = updateMetadataRequest.extend({
  metadata: z.unknown().refine((v) => v !== undefined, { message: 'required' }),
});

export const revertRequest = z
  .strictObject({
    historyId: z.number().int().min(1).describe('The history entry whose snapshot becomes current.'),
    reason: nonEmpty,
    expectedRevision: z.number().int().min(1).optional(),
  })
  .meta({ title: 'RevertRequest' });

export const versionRequest = z
  .strictObject({
    reason: nonEmpty.describe('Why the new version is created.'),
    copyFiles: z
      .boolean()
      .default(true)
      .describe("Start the new version's folder with a copy of this version's files (false: empty)."),
  })
  .meta({ title: 'VersionRequest' });

export const listDatasetsHttpQuery = z
  .strictObject({
    sortBy: z.enum(SORT_FIELDS).optional().describe('Default created.'),
    ascending: queryBoolean.optional().describe('Default false (newest / Z first).'),
    pageSize: queryInt(1, 1000).optional().describe('Default 20.'),
    paginationKey: nonEmpty.optional().describe('The paginationKey of the previous page.'),
    releaseStatus: releaseStatusSchema.optional(),
    approver: username.optional().describe('Only datasets whose release approver is this user.'),
  })
  .meta({ title: 'ListDatasetsQuery' });

export const searchDatasetsHttpQuery = z
  .strictObject({
    query: nonEmpty
      .max(500)
      .describe('Words to find: id > name > keywords > description, plus fuzzy matches.'),
    limit: queryInt(1, 1000).optional().describe('Default 25.'),
  })
  .meta({ title: 'SearchDatasetsQuery' });

export const grantRequest = z
  .strictObject({
    principalKind: z.enum(['user', 'group']).default('user'),
    principal: username,
    role: z.enum(DATASET_ROLES),
  })
  .meta({ title: 'GrantRequest' });

export const metadataPublicRequest = z
  .strictObject({
    metadataPublic: z.boolean().describe('Anyone, anonymous included, may read the metadata.'),
  })
  .meta({ title: 'MetadataPublicRequest' });

const grantParams = handleParams.extend({
  principalKind: z.enum(['user', 'group']),
  principal: username,
});

/** `If-Match: "3"` (or `W/"3"`, `3`) → 3; `*` or absent → undefined. */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header[0]! : header).trim();
  if (value === '*') return undefined;
  const match = /^(?:W\/)?"?([0-9]+)"?$/.exec(value);
  if (!match) {
    throw new ValidationError(`invalid If-Match header ${JSON.stringify(value)}`, {
      hint: 'send the ETag of the dataset as last read, e.g. If-Match: "3"',
    });
  }
  return Number(match[1]);
}

function expectedRevision(
  header: string | string[] | undefined,
  body: number | undefined,
): number | undefined {
  const fromHeader = parseIfMatch(header);
  if (fromHeader !== undefined && body !== undefined && fromHeader !== body) {
    throw new ValidationError(`If-Match (${fromHeader}) and expectedRevision (${body}) disagree`);
  }
  return fromHeader ?? body;
}

const actor = (p: Principal | null): { actor: string } => ({ actor: p!.username });
const withEtag = (reply: { header(name: string, value: string): unknown }, record: DatasetRecord) => {
  reply.header('etag', record.etag);
  return record;
};
const DATASET_ERRORS = [403, 404];

export const datasetRoutes: RouteSpec[] = [
  route({
    method: 'POST',
    path: '/datasets',
    operationId: 'mintDataset',
    tag: 'datasets',
    summary: 'Register a dataset (mint a new id); the caller becomes its owner',
    // The service validates the metadata: schema issues and unresolved references in one answer.
    body: z.unknown(),
    docBody: collectionFormatSchema,
    bodyName: 'dataset metadata',
    success: {
      status: 201,
      description: 'The new dataset record (Location: its URL, ETag: its revision).',
      schema: datasetRecordSchema,
    },
    handler: async ({ body, principal, ctx, reply }) => {
      const record = await ctx.service.mintDataset(body, actor(principal));
      reply.header('location', `/datasets/${record.id}`);
      return withEtag(reply, record);
    },
  }),
  route({
    method: 'POST',
    path: '/datasets/validate',
    operationId: 'validateDatasetMetadata',
    tag: 'datasets',
    summary: 'Check metadata (schema and registry references) without registering it',
    // The body is validated by the handler: invalid metadata is a 200 answer listing every issue.
    body: z.unknown(),
    docBody: collectionFormatSchema,
    success: {
      status: 200,
      description: '{ valid, issues }: every failing field, with its path.',
      schema: validationResultSchema,
    },
    handler: async ({ body, ctx }) => {
      const result = await ctx.service.validateDatasetMetadata(body);
      return result.ok ? { valid: true, issues: [] } : { valid: false, issues: result.issues };
    },
  }),
  route({
    method: 'GET',
    path: '/datasets',
    operationId: 'listDatasets',
    tag: 'datasets',
    summary: 'One page of the datasets the caller may read (anonymous: metadata-public ones)',
    query: listDatasetsHttpQuery,
    auth: 'optional',
    success: {
      status: 200,
      description: '{ items, paginationKey? }; pass paginationKey back for the next page.',
      schema: datasetPageSchema,
    },
    handler: ({ query, principal, auth, ctx, reply }) => {
      const scope = readScope(principal, auth.isSysAdmin(principal));
      return cachedJson(reply, ctx, ['listDatasets', query, scope], () =>
        ctx.service.listDatasets(query, scope),
      );
    },
  }),
  route({
    method: 'GET',
    path: '/datasets/search',
    operationId: 'searchDatasets',
    tag: 'datasets',
    summary: 'Full-text and fuzzy search over the datasets the caller may read',
    query: searchDatasetsHttpQuery,
    auth: 'optional',
    success: {
      status: 200,
      description: '{ items: [{ id, score, match, dataset }] }, best first.',
      schema: searchResultsSchema,
    },
    handler: ({ query, principal, auth, ctx, reply }) => {
      const scope = readScope(principal, auth.isSysAdmin(principal));
      return cachedJson(reply, ctx, ['searchDatasets', query, scope], async () => ({
        items: await ctx.service.searchDatasets(query, scope),
      }));
    },
  }),
  route({
    method: 'GET',
    path: '/datasets/{prefix}/{number}',
    operationId: 'fetchDataset',
    tag: 'datasets',
    summary: 'A dataset record (metadata-read)',
    params: handleParams,
    auth: 'optional',
    errors: DATASET_ERRORS,
    success: {
      status: 200,
      description: 'The dataset record; ETag: its revision.',
      schema: datasetRecordSchema,
    },
    handler: async ({ params, principal, auth, ctx, reply }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'metadata-read');
      return withEtag(reply, await ctx.service.fetchDataset(id));
    },
  }),
  route({
    method: 'PUT',
    path: '/datasets/{prefix}/{number}/metadata',
    operationId: 'updateDatasetMetadata',
    tag: 'datasets',
    summary: 'Replace the metadata (metadata-write); If-Match makes it conditional (409 when stale)',
    params: handleParams,
    body: updateMetadataEnvelope,
    docBody: updateMetadataRequest,
    ifMatch: true,
    errors: [...DATASET_ERRORS, 409],
    success: {
      status: 200,
      description: 'The updated record; ETag: its new revision.',
      schema: datasetRecordSchema,
    },
    handler: async ({ params, body, principal, auth, ctx, request, reply }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'metadata-write');
      const expected = expectedRevision(request.headers['if-match'], body.expectedRevision);
      const record = await ctx.service.updateDatasetMetadata(id, body.reason, body.metadata, {
        ...actor(principal),
        ...(expected !== undefined ? { expectedRevision: expected } : {}),
      });
      return withEtag(reply, record);
    },
  }),
  route({
    method: 'GET',
    path: '/datasets/{prefix}/{number}/history',
    operationId: 'listDatasetHistory',
    tag: 'datasets',
    summary: 'Every metadata change, oldest first (metadata-read)',
    params: handleParams,
    auth: 'optional',
    errors: DATASET_ERRORS,
    success: {
      status: 200,
      description: '{ items: [{ id, timestamp, reason, username, snapshot }] }',
      schema: historySchema,
    },
    handler: async ({ params, principal, auth, ctx }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'metadata-read');
      return { items: await ctx.service.listHistory(id) };
    },
  }),
  route({
    method: 'POST',
    path: '/datasets/{prefix}/{number}/revert',
    operationId: 'revertDatasetMetadata',
    tag: 'datasets',
    summary: "Make a history entry's metadata current again, as a new entry (metadata-write)",
    params: handleParams,
    body: revertRequest,
    ifMatch: true,
    errors: [...DATASET_ERRORS, 409],
    success: { status: 200, description: 'The updated record.', schema: datasetRecordSchema },
    handler: async ({ params, body, principal, auth, ctx, request, reply }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'metadata-write');
      const expected = expectedRevision(request.headers['if-match'], body.expectedRevision);
      const record = await ctx.service.revertDatasetMetadata(id, body.historyId, body.reason, {
        ...actor(principal),
        ...(expected !== undefined ? { expectedRevision: expected } : {}),
      });
      return withEtag(reply, record);
    },
  }),
  route({
    method: 'POST',
    path: '/datasets/{prefix}/{number}/versions',
    operationId: 'versionDataset',
    tag: 'datasets',
    summary: 'Create the next version of the latest version (admin); it keeps the grants',
    params: handleParams,
    body: versionRequest,
    errors: [...DATASET_ERRORS, 409],
    success: {
      status: 201,
      description: '{ newVersionId, version, dataset, copied }',
      schema: versionResultSchema,
    },
    handler: async ({ params, body, principal, auth, ctx, reply }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'admin');
      const result = await ctx.service.versionDataset(id, body.reason, {
        ...actor(principal),
        copyFiles: body.copyFiles,
      });
      await ctx.access.copyDatasetAccess(id, result.newVersionId, principal!.username);
      reply.header('location', `/datasets/${result.newVersionId}`);
      return {
        newVersionId: result.newVersionId,
        version: result.version,
        dataset: result.record,
        copied: result.copied,
      };
    },
  }),
  route({
    method: 'GET',
    path: '/datasets/{prefix}/{number}/access',
    operationId: 'getDatasetAccess',
    tag: 'access',
    summary: "Owner, metadata-public flag, grants, and the caller's own role",
    params: handleParams,
    auth: 'optional',
    errors: DATASET_ERRORS,
    success: {
      status: 200,
      description: '{ owner, metadataPublic, yourRole, grants? } (grants for admins)',
      schema: datasetAccessSchema,
    },
    handler: async ({ params, principal, auth, ctx }) => {
      const id = handleId(params);
      const role = await auth.requireDatasetRole(principal, id, 'metadata-read');
      const facts = await ctx.access.datasetAccessFacts(id, principal?.username ?? null);
      return {
        owner: facts!.owner,
        metadataPublic: facts!.metadataPublic,
        yourRole: role,
        ...(role === 'admin' ? { grants: await ctx.access.listDatasetGrants(id) } : {}),
      };
    },
  }),
  route({
    method: 'PUT',
    path: '/datasets/{prefix}/{number}/access/grants',
    operationId: 'grantDatasetRole',
    tag: 'access',
    summary: 'Grant a role on the dataset to a user or group, replacing their previous one (admin)',
    params: handleParams,
    body: grantRequest,
    errors: DATASET_ERRORS,
    success: { status: 204, description: 'Granted.' },
    handler: async ({ params, body, principal, auth, ctx }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'admin');
      await ctx.access.grantDatasetRole(
        id,
        body.principalKind,
        body.principal,
        body.role,
        principal!.username,
      );
      await ctx.catalog.audit({
        actor: principal!.username,
        action: 'dataset.grant',
        target: id,
        outcome: 'ok',
        details: { ...body },
      });
    },
  }),
  route({
    method: 'DELETE',
    path: '/datasets/{prefix}/{number}/access/grants/{principalKind}/{principal}',
    operationId: 'revokeDatasetRole',
    tag: 'access',
    summary: "Remove a user's or group's role on the dataset (admin)",
    params: grantParams,
    errors: DATASET_ERRORS,
    success: { status: 204, description: 'Revoked.' },
    handler: async ({ params, principal, auth, ctx }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'admin');
      const removed = await ctx.access.revokeDatasetRole(id, params.principalKind, params.principal);
      if (!removed) {
        throw new NotFoundError(`${params.principalKind} ${params.principal} has no grant on dataset ${id}`);
      }
      await ctx.catalog.audit({
        actor: principal!.username,
        action: 'dataset.revoke',
        target: id,
        outcome: 'ok',
        details: { principalKind: params.principalKind, principal: params.principal },
      });
    },
  }),
  route({
    method: 'PUT',
    path: '/datasets/{prefix}/{number}/access/public',
    operationId: 'setDatasetMetadataPublic',
    tag: 'access',
    summary: 'Make the metadata readable by anyone, or not (admin)',
    params: handleParams,
    body: metadataPublicRequest,
    errors: DATASET_ERRORS,
    success: { status: 204, description: 'Changed.' },
    handler: async ({ params, body, principal, auth, ctx }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'admin');
      await ctx.access.setMetadataPublic(id, body.metadataPublic);
      await ctx.catalog.audit({
        actor: principal!.username,
        action: 'dataset.metadata-public',
        target: id,
        outcome: 'ok',
        details: { metadataPublic: body.metadataPublic },
      });
    },
  }),
];
