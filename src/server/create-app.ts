import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { isWharfError, ValidationError } from '../core/errors.js';
import type { OidcVerifier } from '../datastore/access/oidc.js';
import type { AccessCatalog, Catalog } from '../datastore/catalog/types.js';
import { wasAudited } from '../datastore/service/audited-errors.js';
import type { DatastoreService } from '../datastore/service/datastore-service.js';
import type { StorageDriver } from '../storage/types.js';
import { Authorizer, type Principal } from './auth.js';
import type { ScopedS3CredentialIssuer, ServerContext } from './context.js';
import { AuthorizationError, JSON_BODY_LIMIT, toHttpError, UnauthenticatedError } from './http-errors.js';
import { buildOpenApiDocument } from './openapi.js';
import { ResponseCache } from './response-cache.js';
import { registerRoutes, type RouteSpec } from './route.js';
import { authConfigRoutes } from './routes/auth-config.js';
import { credentialRoutes } from './routes/credentials.js';
import { datasetRoutes } from './routes/datasets.js';
import { fileRoutes, fileRoutesForFastify, SCOPED_TOKEN_ROUTES } from './routes/files.js';
import { registerStatusOverride } from './routes/object-io.js';
import { dataRoutes, presignRoutes } from './routes/presign.js';
import { registryRoutes } from './routes/registry.js';
import { reviewRoutes } from './routes/review.js';
import { systemRoutes } from './routes/system.js';
import { tokenRoutes } from './routes/tokens.js';
import { registerWebUi } from './routes/web-ui.js';

export interface CreateAppOptions {
  service: DatastoreService;
  catalog: Catalog;
  access: AccessCatalog;
  store: StorageDriver;
  /** STS credentials for dataset folders (S3 store + `--sts-role-arn`); without it, scoped wds_ tokens. */
  sts?: ScopedS3CredentialIssuer;
  /** Accept OIDC JWTs verified against this JWKS (`--oidc-jwks-url`). */
  oidc?: OidcVerifier;
  /** Memory for cached list and search answers (JSON text), in bytes; 0 turns the cache off. Default 32 MiB. */
  responseCacheBytes?: number;
  /** Receives unexpected (5xx) errors with their stack; clients never see those details. Default: stderr. */
  onInternalError?: (error: unknown, where: string) => void;
}

/**
 * JSON request bodies only: fastify would also hand a text/plain body to the routes as a string, which
 * their validation then calls "must be an object, not a string"; without a parser it is a 415 saying to
 * send JSON, as for any other type. A key fastify refuses for safety (`__proto__`, `constructor.prototype`)
 * is named, not reported as invalid JSON.
 */
function acceptOnlyJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = String(body);
    parse(request, text, (error, value) => {
      if (!error) return done(null, value);
      const key = refusedKey(text);
      if (key !== undefined) {
        return done(
          new ValidationError(`the body has a key ${key}, which is not accepted`, {
            hint: 'rename or remove that key',
          }),
          undefined,
        );
      }
      done(notJson(text) ?? error, undefined);
    });
  });
}

/** fastify's "Body is not valid JSON but content-type is set to …" in the words of the other errors. */
function notJson(text: string): ValidationError | undefined {
  if (text.trim() === '') {
    return new ValidationError('the request body is empty, but its Content-Type says application/json', {
      hint: 'send a JSON document, or leave out the Content-Type header when there is nothing to send',
    });
  }
  try {
    JSON.parse(text);
    return undefined;
  } catch (cause) {
    return new ValidationError(
      `the request body is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`,
      { hint: 'send a JSON document with the header Content-Type: application/json' },
    );
  }
}

/** In valid JSON, the key fastify's safe parser refuses; undefined for text that is not JSON. */
function refusedKey(text: string): string | undefined {
  let found: string | undefined;
  try {
    JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__') found ??= '__proto__';
      else if (key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value)
        found ??= 'constructor.prototype';
      return value;
    });
  } catch {
    return undefined;
  }
  return found;
}

/**
 * For the server log: the deepest Wharf error behind `error` (the store's own answer behind the service's 503,
 * which names the bucket and the credentials the client is not shown), or else its direct cause.
 */
function causeLine(error: unknown): string {
  let shown: unknown = error instanceof Error ? error.cause : undefined;
  for (let cause = shown; cause instanceof Error; cause = cause.cause) if (isWharfError(cause)) shown = cause;
  return shown instanceof Error ? `\n  caused by: ${shown.message}` : '';
}

function badUrl(path: string): ValidationError {
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return new ValidationError(
    `the path ${JSON.stringify(shown)} is not a valid URL: a % escape is not UTF-8`,
    {
      hint: 'percent-encode every byte of the UTF-8 path (é is %C3%A9), and % itself as %25',
    },
  );
}

/** The dataset a route's path names (`/datasets/{prefix}/{number}/…`), for the audit entry's target. */
function datasetIdOf(params: unknown): string | null {
  const { prefix, number } = (params ?? {}) as { prefix?: unknown; number?: unknown };
  if (typeof prefix !== 'string' || typeof number !== 'string') return null;
  const id = `${prefix}/${number}`;
  return id.includes('\u0000') ? null : id;
}

export const DEFAULT_RESPONSE_CACHE_BYTES = 32 * 1024 * 1024;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

/**
 * The datastore's HTTP API on fastify: every route of `routes/`, JSON errors
 * `{ error: { code, message, hint?, issues? } }` (never a stack trace), `/openapi.json` generated from the
 * routes' zod schemas, Swagger UI at `/docs`. Not listening yet: call `listen()` (or `inject()` in tests).
 */
export async function createApp(options: CreateAppOptions): Promise<FastifyInstance> {
  const auth = new Authorizer(options.access, options.catalog, options.oidc ? { oidc: options.oidc } : {});
  const ctx: ServerContext = {
    service: options.service,
    catalog: options.catalog,
    access: options.access,
    store: options.store,
    auth,
    responses: new ResponseCache(
      () => options.catalog.generation(),
      options.responseCacheBytes ?? DEFAULT_RESPONSE_CACHE_BYTES,
    ),
    ...(options.sts ? { sts: options.sts } : {}),
  };
  const onInternalError =
    options.onInternalError ??
    ((error: unknown, where: string) =>
      process.stderr.write(
        `wharf serve: internal error in ${where}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}${causeLine(error)}\n`,
      ));
  const app = Fastify({
    logger: false,
    bodyLimit: JSON_BODY_LIMIT,
    return503OnClosing: true,
    // Presigned-URL tokens (/data/{token}) are one path segment of a few hundred characters.
    routerOptions: { maxParamLength: 4096 },
    // Refusals of the router (a % escape that is not UTF-8, an overlong parameter) in the API's error format.
    frameworkErrors: (error, request, reply) => {
      const mapped = toHttpError(
        error.code === 'FST_ERR_BAD_URL' ? badUrl(request.url.split('?')[0] ?? '') : error,
        request.headers['content-type'],
      );
      void (reply as FastifyReply)
        .code(mapped.status)
        .type('application/json; charset=utf-8')
        .send(mapped.body);
    },
  });

  acceptOnlyJsonBodies(app);

  let openApi: Record<string, unknown> | undefined;
  const routes: RouteSpec[] = [
    ...systemRoutes(() => (openApi ??= buildOpenApiDocument(routes, packageVersion()))),
    ...datasetRoutes,
    ...presignRoutes,
    ...dataRoutes,
    ...fileRoutes,
    ...credentialRoutes,
    ...reviewRoutes,
    ...registryRoutes,
    ...tokenRoutes,
    ...authConfigRoutes(options.oidc?.options.browser),
  ];

  app.setErrorHandler(async (error, request, reply) => {
    const mapped = toHttpError(error, request.headers['content-type']);
    const where = `${request.method} ${request.routeOptions.url ?? request.url}`;
    if (mapped.internal) onInternalError(error, where);
    // Every refused or failed mutating call goes to the audit log once: the service and routes that record
    // their own failures mark those errors; everything else is recorded here, denied (401/403) or error
    // (an invalid request, a dataset not writable, a token or grant that is not there, ...).
    if (request.method !== 'GET' && request.method !== 'HEAD' && !wasAudited(error)) {
      const denied =
        error instanceof AuthorizationError ||
        error instanceof UnauthenticatedError ||
        mapped.body.error.code === 'ACCESS_DENIED';
      let principal = (request as { principal?: Principal | null }).principal;
      // Refused before the route authenticated the caller (a malformed body, say): say who sent it all the same.
      const header = request.headers.authorization;
      if (principal === undefined && header) principal = await auth.authenticate(header).catch(() => null);
      await options.catalog
        .audit({
          actor: principal?.username ?? 'anonymous',
          action: `http ${where}`,
          target: error instanceof AuthorizationError ? error.auditTarget : datasetIdOf(request.params),
          outcome: denied ? 'denied' : 'error',
          details: {
            status: mapped.status,
            code: mapped.body.error.code,
            message: mapped.body.error.message.replaceAll('\u0000', '').slice(0, 500),
          },
        })
        .catch(() => undefined);
    }
    return reply.code(mapped.status).type('application/json; charset=utf-8').send(mapped.body);
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        hint: 'see /docs or /openapi.json for the routes',
      },
    }),
  );
  // A scoped (wds_) token may call only its dataset's file routes and GET of its record: 403 elsewhere.
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const url = request.routeOptions.url;
    if (!header || !/^Bearer\s+wds_/i.test(header) || url === undefined) return;
    const principal = await auth.authenticate(header);
    (request as { principal?: Principal | null }).principal = principal;
    const scope = principal?.scope;
    if (!scope) return;
    const params = request.params as { prefix?: string; number?: string };
    if (!SCOPED_TOKEN_ROUTES.get(url)?.includes(request.method)) {
      throw new AuthorizationError(
        `a scoped token may only use the file routes of dataset ${scope.datasetId} (and GET its record), not ${request.method} ${url.replace(/:(\w+)/g, '{$1}')}`,
        scope.datasetId,
        { hint: 'use an API token (or OIDC sign-in) for other calls' },
      );
    }
    if (`${params.prefix}/${params.number}` !== scope.datasetId) {
      throw new AuthorizationError(
        `this scoped token is valid only for dataset ${scope.datasetId}, not ${params.prefix}/${params.number}`,
        scope.datasetId,
        { hint: 'ask for credentials of that dataset: POST /datasets/{prefix}/{number}/credentials' },
      );
    }
  });
  registerRoutes(
    app,
    ctx,
    routes.filter((r) => !dataRoutes.includes(r) && !fileRoutes.includes(r)),
  );
  // Presigned uploads and downloads and dataset files: any content type, the body streamed to the store
  // (no body limit); 206/416 answers set their status through registerStatusOverride.
  await app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', (_request, _payload, done) => done(null));
    registerStatusOverride(child);
    registerRoutes(child, ctx, [...dataRoutes, ...fileRoutesForFastify]);
  });
  // The web UI (issue 6): `/` and `/ui/*`, the static files of dist/web.
  registerWebUi(app);
  await app.ready();
  return app;
}
