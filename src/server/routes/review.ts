import { z } from 'zod';
import { NotFoundError } from '../../core/errors.js';
import {
  datasetRecordSchema,
  releaseManifestSchema,
  releaseStateSchema,
  reviewQueuePageSchema,
  usernameListSchema,
} from '../response-schemas.js';
import { route, type RouteSpec } from '../route.js';
import { cachedJson, readScope } from './cached-listing.js';
import { handleId, handleParams, nonEmpty, queryInt, username } from './params.js';

export const approvalRequest = z
  .strictObject({
    approver: username.describe('A user from the reviewer pool who will approve or reject.'),
    notes: z.string().max(10_000).default(''),
  })
  .meta({ title: 'ApprovalRequest' });

export const approvalAction = z
  .strictObject({ notes: z.string().max(10_000).default('') })
  .meta({ title: 'ApprovalAction' });

const reviewerParams = z.strictObject({ username });

export const reviewQueueHttpQuery = z
  .strictObject({
    approver: username
      .optional()
      .describe('Whose queue: requests naming this approver. Default: the caller.'),
    pageSize: queryInt(1, 1000).optional().describe('Default 20.'),
    paginationKey: nonEmpty.optional().describe('The paginationKey of the previous page.'),
  })
  .meta({ title: 'ReviewQueueQuery' });

export const reviewRoutes: RouteSpec[] = [
  route({
    method: 'GET',
    path: '/reviewers',
    operationId: 'listDatasetReviewers',
    tag: 'review',
    summary: 'The reviewer pool',
    success: { status: 200, description: '{ items: [username] }', schema: usernameListSchema },
    handler: async ({ ctx }) => ({ items: await ctx.service.listDatasetReviewers() }),
  }),
  route({
    method: 'PUT',
    path: '/reviewers/{username}',
    operationId: 'addDatasetReviewer',
    tag: 'review',
    summary: 'Add a user to the reviewer pool (sys-admin)',
    params: reviewerParams,
    errors: [403],
    success: { status: 204, description: 'Added (or already there).' },
    handler: async ({ params, principal, auth, ctx }) => {
      auth.requireSysAdmin(principal, 'managing reviewers', params.username);
      await ctx.service.addDatasetReviewer(params.username, { actor: principal!.username });
    },
  }),
  route({
    method: 'DELETE',
    path: '/reviewers/{username}',
    operationId: 'deleteDatasetReviewer',
    tag: 'review',
    summary: 'Remove a user from the reviewer pool (sys-admin)',
    params: reviewerParams,
    errors: [403, 404],
    success: { status: 204, description: 'Removed.' },
    handler: async ({ params, principal, auth, ctx }) => {
      auth.requireSysAdmin(principal, 'managing reviewers', params.username);
      const removed = await ctx.service.deleteDatasetReviewer(params.username, {
        actor: principal!.username,
      });
      if (!removed) throw new NotFoundError(`${params.username} is not in the reviewer pool`);
    },
  }),
  route({
    method: 'GET',
    path: '/review-queue',
    operationId: 'listReviewQueue',
    tag: 'review',
    summary:
      "PENDING datasets awaiting the caller's (or `approver`'s) decision, oldest request first, each with its latest request (requester, time, notes)",
    query: reviewQueueHttpQuery,
    success: {
      status: 200,
      description:
        '{ items: [{ dataset, request }], paginationKey? }; pass paginationKey back for the next page.',
      schema: reviewQueuePageSchema,
    },
    handler: ({ query, principal, auth, ctx, reply }) => {
      const q = { ...query, approver: query.approver ?? principal!.username };
      const scope = readScope(principal, auth.isSysAdmin(principal));
      return cachedJson(reply, ctx, ['listReviewQueue', q, scope], () =>
        ctx.service.listReviewQueue(q, scope),
      );
    },
  }),
  route({
    method: 'POST',
    path: '/datasets/{prefix}/{number}/release/request',
    operationId: 'datasetApprovalRequest',
    tag: 'review',
    summary: 'Submit the dataset for release: NOT_RELEASED → PENDING (dataset admin)',
    params: handleParams,
    body: approvalRequest,
    errors: [403, 404, 409],
    success: { status: 200, description: 'The record, now PENDING.', schema: datasetRecordSchema },
    handler: async ({ params, body, principal, auth, ctx }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'admin');
      return ctx.service.datasetApprovalRequest(id, body.approver, body.notes, {
        actor: principal!.username,
      });
    },
  }),
  ...(['approve', 'reject'] as const).map((decision) =>
    route({
      method: 'POST',
      path: `/datasets/{prefix}/{number}/release/${decision}`,
      operationId: decision === 'approve' ? 'approveRelease' : 'rejectRelease',
      tag: 'review',
      summary:
        decision === 'approve'
          ? 'Approve the pending release: PENDING → RELEASED, records a content manifest (the named approver)'
          : 'Reject the pending release: PENDING → NOT_RELEASED (the named approver, or a sys-admin cancelling it)',
      params: handleParams,
      body: approvalAction,
      errors: [403, 404, 409],
      success: { status: 200, description: 'The record after the decision.', schema: datasetRecordSchema },
      handler: async ({ params, body, principal, auth, ctx }) =>
        // Only the named approver (still in the pool) or, to reject, a sys-admin: the service checks it.
        ctx.service.actionApprovalRequest(handleId(params), decision, body.notes, {
          actor: principal!.username,
          actorIsSysAdmin: auth.isSysAdmin(principal),
        }),
    }),
  ),
  route({
    method: 'GET',
    path: '/datasets/{prefix}/{number}/release',
    operationId: 'getReleaseHistory',
    tag: 'review',
    summary: 'Release state and every release action (metadata-read)',
    params: handleParams,
    auth: 'optional',
    errors: [403, 404],
    success: {
      status: 200,
      description: '{ status, approver, requester, timestamp, history }',
      schema: releaseStateSchema,
    },
    handler: async ({ params, principal, auth, ctx }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'metadata-read');
      const record = await ctx.service.fetchDataset(id);
      return { ...record.release, history: await ctx.service.listReleaseHistory(id) };
    },
  }),
  route({
    method: 'GET',
    path: '/datasets/{prefix}/{number}/release/manifest',
    operationId: 'getReleaseManifest',
    tag: 'review',
    summary: 'The content manifest (path, size, sha256) recorded at release (data-read)',
    params: handleParams,
    auth: 'optional',
    errors: [403, 404],
    success: {
      status: 200,
      description: '{ items: [{ path, size, sha256 }] }',
      schema: releaseManifestSchema,
    },
    handler: async ({ params, principal, auth, ctx }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'data-read');
      return { items: await ctx.service.releaseManifest(id) };
    },
  }),
];
