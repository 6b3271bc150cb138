import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { assertSafeRelativeKey } from '../../core/keys.js';
import { fileListSchema, filePutResultSchema } from '../../datastore/model/data-access-schemas.js';
import type { DatasetFile } from '../../datastore/model/data-access-schemas.js';
import { markAudited } from '../../datastore/service/audited-errors.js';
import { datasetFolder, METADATA_FILE } from '../../datastore/service/dataset-folder.js';
import type { ObjectInfo } from '../../storage/types.js';
import type { Principal } from '../auth.js';
import type { ServerContext } from '../context.js';
import { route, type RouteSpec } from '../route.js';
import {
  assertClientUploadable,
  assertClientWritable,
  expectedSha256,
  SHA256_HEADER,
  SHA256_HEADER_PARAMETER,
  sendObject,
  inDatasetTerms,
  writeRequestBody,
} from './object-io.js';
import { handleId, handleParams, nonEmpty, queryInt } from './params.js';

/** Files listing page sizes: default 1000, at most 10,000. */
export const FILES_DEFAULT_PAGE_SIZE = 1000;
export const FILES_MAX_PAGE_SIZE = 10_000;

export const filePathParams = handleParams.extend({
  path: nonEmpty
    .max(1024)
    .describe("The file's path inside the dataset's folder; may contain '/', e.g. raw/obs.csv (no '..')."),
});

export const listFilesQuery = z
  .strictObject({
    prefix: z
      .string()
      .max(1024)
      .optional()
      .describe("Only files whose path starts with this, e.g. raw/ (no '..', no leading '/')."),
    pageSize: queryInt(1, FILES_MAX_PAGE_SIZE).optional().describe('Default 1000, at most 10000.'),
    paginationKey: nonEmpty.max(4096).optional().describe('The nextPaginationKey of the previous page.'),
  })
  .meta({ title: 'ListFilesQuery' });

/** Opaque listing position: base64url JSON of the last path returned. */
function encodeKey(after: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after }), 'utf8').toString('base64url');
}

function decodeKey(key: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(key, 'base64url').toString('utf8')) as {
      v?: unknown;
      after?: unknown;
    };
    if (parsed.v === 1 && typeof parsed.after === 'string' && parsed.after.length > 0) return parsed.after;
  } catch {
    // fall through
  }
  throw new ValidationError('paginationKey is not a key this listing returned', {
    hint: 'start again without paginationKey',
  });
}

/** The store's listing of a dataset folder, its errors worded without the folder. */
async function* inDatasetListing(
  listing: AsyncIterable<ObjectInfo>,
  folder: string,
): AsyncIterable<ObjectInfo> {
  try {
    yield* listing;
  } catch (error) {
    throw inDatasetTerms(error, folder);
  }
}

/** A listing prefix is a path or the start of one: same rules, trailing '/' allowed. */
function assertSafePrefix(prefix: string): void {
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (prefix !== '') assertSafeRelativeKey(trimmed === '' ? prefix : trimmed);
}

async function audit(
  ctx: ServerContext,
  principal: Principal,
  action: string,
  target: string,
  outcome: 'ok' | 'error',
  details: Record<string, unknown>,
): Promise<void> {
  await ctx.catalog.audit({
    actor: principal.username,
    action,
    target,
    outcome,
    details: principal.scope ? { ...details, via: `scoped ${principal.scope.access} token` } : details,
  });
}

const FILE_ERRORS = [403, 404];

/**
 * The files of a dataset's folder: list, GET/HEAD (ranges), PUT (streamed, atomic, optional SHA-256 check)
 * and DELETE. `{path}` may contain '/' (registered as a wildcard: see `fileRoutesForFastify`).
 */
export const fileRoutes: RouteSpec[] = [
  route({
    method: 'GET',
    path: '/datasets/{prefix}/{number}/files',
    operationId: 'listDatasetFiles',
    tag: 'data',
    summary: "List the dataset's files (data-read), ordered by path",
    description: `metadata.json at the folder's root (the service's copy of the record) is not listed. Page size default ${FILES_DEFAULT_PAGE_SIZE}, at most ${FILES_MAX_PAGE_SIZE}.`,
    params: handleParams,
    query: listFilesQuery,
    auth: 'optional',
    errors: FILE_ERRORS,
    success: {
      status: 200,
      description: '{ files: [{ path, size, lastModified, etag }], nextPaginationKey }',
      schema: fileListSchema,
    },
    handler: async ({ params, query, principal, auth, ctx }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'data-read');
      const prefix = query.prefix ?? '';
      assertSafePrefix(prefix);
      const pageSize = query.pageSize ?? FILES_DEFAULT_PAGE_SIZE;
      const folder = datasetFolder(id);
      const after = query.paginationKey === undefined ? undefined : decodeKey(query.paginationKey);
      const files: DatasetFile[] = [];
      let more = false;
      const listing = ctx.store.list(
        `${folder}${prefix}`,
        after !== undefined ? { startAfter: `${folder}${after}` } : {},
      );
      for await (const info of inDatasetListing(listing, folder)) {
        if (info.isPrefix) continue;
        const path = info.key.slice(folder.length);
        if (path === METADATA_FILE || path === '') continue;
        if (files.length === pageSize) {
          more = true;
          break;
        }
        files.push({
          path,
          size: info.size,
          lastModified: (info.lastModified ?? new Date(0)).toISOString(),
          etag: info.etag ?? null,
        });
      }
      return { files, nextPaginationKey: more ? encodeKey(files[files.length - 1]!.path) : null };
    },
  }),
  route({
    method: 'GET',
    path: '/datasets/{prefix}/{number}/files/{path}',
    operationId: 'downloadDatasetFile',
    tag: 'data',
    summary: 'Download one file (data-read); HEAD for its headers only',
    description:
      'Honours Range: bytes=a-b, bytes=a-, bytes=-n (206 with Content-Range; 416 when outside the file) and ' +
      'If-Range. Sends Content-Length, ETag, Last-Modified, Accept-Ranges: bytes. HEAD answers the same headers.',
    params: filePathParams,
    auth: 'optional',
    errors: [...FILE_ERRORS, 416],
    success: {
      status: 200,
      description: 'The bytes (206 for a range).',
      mediaType: 'application/octet-stream',
    },
    download: {
      headOperationId: 'statDatasetFile',
      headSummary: 'The headers of one file (data-read): size, ETag, Last-Modified, content type',
    },
    handler: async ({ params, principal, auth, ctx, request, reply }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'data-read');
      assertSafeRelativeKey(params.path);
      const folder = datasetFolder(id);
      return sendObject(
        ctx.store,
        `${folder}${params.path}`,
        `${params.path} of dataset ${id}`,
        request,
        reply,
      ).catch((error: unknown) => {
        throw inDatasetTerms(error, folder);
      });
    },
  }),
  route({
    method: 'PUT',
    path: '/datasets/{prefix}/{number}/files/{path}',
    operationId: 'uploadDatasetFile',
    tag: 'data',
    summary: 'Upload (replace atomically) one file (data-write)',
    description:
      `Any content type, streamed, no size limit. Optional header ${SHA256_HEADER}: the body's hex SHA-256; a ` +
      'mismatch is a 400 and nothing is stored. Refused (409) while the dataset is PENDING or RELEASED; ' +
      'metadata.json at the root and a path with a .wharf folder (reserved for local state) are refused (400).',
    params: filePathParams,
    headers: [SHA256_HEADER_PARAMETER],
    rawBody: { description: "The file's content (any content type; stored as sent)." },
    errors: [...FILE_ERRORS, 409],
    success: { status: 200, description: '{ datasetId, path, size, etag }', schema: filePutResultSchema },
    handler: async ({ params, principal, auth, ctx, request }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'data-write');
      assertSafeRelativeKey(params.path);
      assertClientUploadable(params.path);
      const sha256 = expectedSha256(request);
      await ctx.service.assertDataWritable(id);
      let info;
      try {
        info = await writeRequestBody(
          ctx.store,
          { folder: datasetFolder(id), path: params.path },
          request,
          sha256,
        );
      } catch (error) {
        await audit(ctx, principal!, 'dataset.file.put', id, 'error', {
          path: params.path,
          message: (error instanceof Error ? error.message : String(error)).slice(0, 500),
        }).catch(() => undefined);
        markAudited(error);
        throw error;
      }
      await audit(ctx, principal!, 'dataset.file.put', id, 'ok', {
        path: params.path,
        size: info.size,
        ...(sha256 !== undefined ? { sha256 } : {}),
      });
      return { datasetId: id, path: params.path, size: info.size, etag: info.etag ?? null };
    },
  }),
  route({
    method: 'DELETE',
    path: '/datasets/{prefix}/{number}/files/{path}',
    operationId: 'deleteDatasetFile',
    tag: 'data',
    summary: 'Delete one file (data-write); absent files are fine',
    description:
      'Refused (409) while the dataset is PENDING or RELEASED; metadata.json at the root is refused (400).',
    params: filePathParams,
    errors: [...FILE_ERRORS, 409],
    success: { status: 204, description: 'Deleted (or was absent).' },
    handler: async ({ params, principal, auth, ctx }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, 'data-write');
      assertSafeRelativeKey(params.path);
      assertClientWritable(params.path);
      await ctx.service.assertDataWritable(id);
      const folder = datasetFolder(id);
      await ctx.store.delete([`${folder}${params.path}`]).catch((error: unknown) => {
        throw inDatasetTerms(error, folder);
      });
      await audit(ctx, principal!, 'dataset.file.delete', id, 'ok', { path: params.path });
    },
  }),
];

/** The fastify path of a `{path}` file route: a wildcard, so the path may contain '/'. */
const WILDCARD_PATH = '/datasets/{prefix}/{number}/files/*';

/**
 * The file routes as fastify registers them: `{path}` becomes the wildcard `*` and the wildcard's value is
 * validated as `path`. The documented routes (`fileRoutes`) keep `{path}` for the OpenAPI document.
 */
export const fileRoutesForFastify: RouteSpec[] = fileRoutes.map((spec) =>
  spec.path.endsWith('/{path}')
    ? {
        ...spec,
        path: WILDCARD_PATH,
        params: z.preprocess((raw) => {
          if (typeof raw !== 'object' || raw === null) return raw;
          const { '*': path, ...rest } = raw as Record<string, unknown>;
          return { ...rest, path };
        }, filePathParams),
      }
    : spec,
);

/** Fastify route URLs (as `request.routeOptions.url`) a scoped token may call, with the methods. */
export const SCOPED_TOKEN_ROUTES: ReadonlyMap<string, readonly string[]> = new Map([
  ['/datasets/:prefix/:number', ['GET', 'HEAD']],
  ['/datasets/:prefix/:number/files', ['GET', 'HEAD']],
  ['/datasets/:prefix/:number/files/*', ['GET', 'HEAD', 'PUT', 'DELETE']],
]);
