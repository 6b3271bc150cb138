import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { assertSafeRelativeKey } from '../../core/keys.js';
import { SERVICE_HMAC_KEY_SETTING, serviceHmacKey } from '../../datastore/access/service-key.js';
import type { AccessCatalog } from '../../datastore/catalog/types.js';
import { presignResultSchema } from '../../datastore/model/data-access-schemas.js';
import { markAudited } from '../../datastore/service/audited-errors.js';
import { datasetFolder } from '../../datastore/service/dataset-folder.js';
import { AuthorizationError } from '../http-errors.js';
import { route, type RouteSpec } from '../route.js';
import type { ServerContext } from '../context.js';
import {
  assertClientUploadable,
  expectedSha256,
  inDatasetTerms,
  SHA256_HEADER_PARAMETER,
  sendObject,
  writeRequestBody,
} from './object-io.js';
import { handleId, handleParams, nonEmpty } from './params.js';

/** Presigned URL lifetimes: 1 s to 24 h, default 3 h. */
export const PRESIGN_MIN_SECONDS = 1;
export const PRESIGN_MAX_SECONDS = 24 * 3600;
export const PRESIGN_DEFAULT_SECONDS = 3 * 3600;

/** `service_settings` key of the HMAC key of local presigned URLs (base64url, 32 random bytes). */
export const PRESIGN_KEY_SETTING = SERVICE_HMAC_KEY_SETTING;

export const presignRequest = z
  .strictObject({
    path: nonEmpty
      .max(1024)
      .describe("A relative path inside the dataset's folder, e.g. raw/obs.csv (no '..', no leading '/')."),
    method: z.enum(['GET', 'PUT']).describe('GET downloads the file, PUT uploads (replaces) it.'),
    expiresIn: z
      .number()
      .int()
      .min(PRESIGN_MIN_SECONDS)
      .max(PRESIGN_MAX_SECONDS)
      .default(PRESIGN_DEFAULT_SECONDS)
      .describe('Seconds until the URL stops working: 1 to 86400, default 10800 (3 h).'),
  })
  .meta({ title: 'PresignRequest' });

export const dataTokenParams = z.strictObject({
  token: nonEmpty.max(4096).describe('The signed token of a presigned URL.'),
});

const putResultSchema = z
  .strictObject({ datasetId: z.string(), path: z.string(), size: z.number(), etag: z.string().optional() })
  .meta({ title: 'PresignedUploadResult' });

/** What a local presigned URL grants: one method on one path of one dataset until `e` (Unix seconds). */
interface TokenPayload {
  m: 'GET' | 'PUT';
  d: string;
  p: string;
  e: number;
  /** Who asked for the URL (for the audit log). */
  u: string;
}

/** The deployment's HMAC key (shared by every replica through the catalog; see service-key.ts). */
const hmacKey = serviceHmacKey;

/** HMAC-SHA256 over method, dataset id, path, expiry and issuer, one per line (none may contain '\n'). */
function sign(key: Buffer, p: TokenPayload): Buffer {
  return createHmac('sha256', key)
    .update(['wharf-presign-v1', p.m, p.d, p.p, String(p.e), p.u].join('\n'))
    .digest();
}

export function encodeToken(key: Buffer, payload: TokenPayload): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${sign(key, payload).toString('base64url')}`;
}

const payloadSchema = z.strictObject({
  m: z.enum(['GET', 'PUT']),
  d: z.string().min(1),
  p: z.string().min(1),
  e: z.number().int(),
  u: z.string().min(1),
});

/** The payload of a token whose signature is right, whose method matches and which has not expired; else 403. */
async function verifyToken(
  access: AccessCatalog,
  token: string,
  method: 'GET' | 'PUT',
): Promise<TokenPayload> {
  const refuse = (why: string) =>
    new AuthorizationError(`presigned URL refused: ${why}`, null, {
      hint: 'ask for a new presigned URL (POST /datasets/{prefix}/{number}/presign)',
    });
  const [body, signature, extra] = token.split('.');
  if (body === undefined || signature === undefined || extra !== undefined) throw refuse('malformed token');
  let payload: TokenPayload;
  try {
    const parsed = payloadSchema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    if (!parsed.success) throw refuse('malformed token');
    payload = parsed.data;
  } catch {
    throw refuse('malformed token');
  }
  const expected = sign(await hmacKey(access), payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refuse('bad signature');
  if (payload.m !== method) throw refuse(`the URL is for ${payload.m}, not ${method}`);
  if (Date.now() / 1000 > payload.e) throw refuse(`expired at ${new Date(payload.e * 1000).toISOString()}`);
  // Signed paths were checked when the URL was made; check again so a key change can never widen them.
  assertSafeRelativeKey(payload.p);
  return payload;
}

async function localUrl(ctx: ServerContext, origin: string, payload: TokenPayload): Promise<string> {
  return `${origin}/data/${encodeToken(await hmacKey(ctx.access), payload)}`;
}

const DATA_ERRORS = [403, 404];

/** `POST …/presign` (in the route table with the dataset routes). */
export const presignRoutes: RouteSpec[] = [
  route({
    method: 'POST',
    path: '/datasets/{prefix}/{number}/presign',
    operationId: 'generateDatasetPresignedUrl',
    tag: 'data',
    summary: 'A URL that GETs (data-read) or PUTs (data-write) one file of the dataset without a token',
    description:
      'S3 store: an S3 presigned URL. Local store: a URL to /data/{token}, HMAC-signed with the ' +
      "deployment's key. PUT is refused (409) while the dataset is PENDING or RELEASED, and (400) for metadata.json " +
      'and for a path with a .wharf folder.',
    params: handleParams,
    body: presignRequest,
    errors: [...DATA_ERRORS, 409],
    success: {
      status: 200,
      description: '{ url, method, datasetId, path, expiresAt }',
      schema: presignResultSchema,
    },
    handler: async ({ params, body, principal, auth, ctx, request }) => {
      const id = handleId(params);
      await auth.requireDatasetRole(principal, id, body.method === 'GET' ? 'data-read' : 'data-write');
      assertSafeRelativeKey(body.path);
      if (body.method === 'PUT') {
        assertClientUploadable(body.path);
        await ctx.service.assertDataWritable(id);
      }
      const key = `${datasetFolder(id)}${body.path}`;
      const expiresAt = new Date(Date.now() + body.expiresIn * 1000);
      const url =
        ctx.store.capabilities.presign && ctx.store.presign
          ? await ctx.store.presign(key, { method: body.method, expiresIn: body.expiresIn })
          : await localUrl(ctx, `${request.protocol}://${request.host}`, {
              m: body.method,
              d: id,
              p: body.path,
              e: Math.floor(expiresAt.getTime() / 1000),
              u: principal!.username,
            });
      await ctx.catalog.audit({
        actor: principal!.username,
        action: 'dataset.presign',
        target: id,
        outcome: 'ok',
        details: { method: body.method, path: body.path, expiresIn: body.expiresIn },
      });
      return { url, method: body.method, datasetId: id, path: body.path, expiresAt: expiresAt.toISOString() };
    },
  }),
];

/**
 * `GET|PUT /data/{token}`: the local store's presigned download and upload. Registered in their own fastify
 * context (any content type, streamed, no body limit).
 */
export const dataRoutes: RouteSpec[] = [
  route({
    method: 'GET',
    path: '/data/{token}',
    operationId: 'presignedDownload',
    tag: 'data',
    summary: 'Download the file a presigned GET URL names (local store)',
    params: dataTokenParams,
    auth: 'optional',
    errors: [...DATA_ERRORS, 416],
    success: {
      status: 200,
      description: 'The file (application/octet-stream unless stored otherwise).',
      mediaType: 'application/octet-stream',
    },
    download: {
      headOperationId: 'presignedStat',
      headSummary: 'The headers of the file a presigned GET URL names (local store)',
    },
    handler: async ({ params, ctx, request, reply }) => {
      const payload = await verifyToken(ctx.access, params.token, 'GET');
      const folder = datasetFolder(payload.d);
      return sendObject(ctx.store, `${folder}${payload.p}`, payload.p, request, reply).catch(
        (error: unknown) => {
          throw inDatasetTerms(error, folder);
        },
      );
    },
  }),
  route({
    method: 'PUT',
    path: '/data/{token}',
    operationId: 'presignedUpload',
    tag: 'data',
    summary: 'Upload (replace atomically) the file a presigned PUT URL names (local store)',
    description: 'Refused (409) if the dataset became PENDING or RELEASED after the URL was made.',
    params: dataTokenParams,
    headers: [SHA256_HEADER_PARAMETER],
    rawBody: { description: "The file's content (any content type; stored as sent)." },
    auth: 'optional',
    errors: [...DATA_ERRORS, 409],
    success: { status: 200, description: '{ datasetId, path, size, etag }', schema: putResultSchema },
    handler: async ({ params, ctx, request }) => {
      const payload = await verifyToken(ctx.access, params.token, 'PUT');
      let info;
      try {
        assertClientUploadable(payload.p);
        await ctx.service.assertDataWritable(payload.d);
        info = await writeRequestBody(
          ctx.store,
          { folder: datasetFolder(payload.d), path: payload.p },
          request,
          expectedSha256(request),
        );
      } catch (error) {
        // A refusal after the token checked out: the audit names who made the URL and the dataset, which the
        // generic entry (anonymous, no target: the URL carries no credentials) could not.
        await ctx.catalog
          .audit({
            actor: payload.u,
            action: 'dataset.presigned-upload',
            target: payload.d,
            outcome: 'error',
            details: {
              path: payload.p,
              message: (error instanceof Error ? error.message : String(error)).slice(0, 500),
            },
          })
          .catch(() => undefined);
        markAudited(error);
        throw error;
      }
      await ctx.catalog.audit({
        actor: payload.u,
        action: 'dataset.presigned-upload',
        target: payload.d,
        outcome: 'ok',
        details: { path: payload.p, size: info.size },
      });
      return {
        datasetId: payload.d,
        path: payload.p,
        size: info.size,
        ...(info.etag !== undefined ? { etag: info.etag } : {}),
      };
    },
  }),
];
