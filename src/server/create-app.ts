import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { isWharfError } from '../core/errors.js';
import type { AccessCatalog, Catalog } from '../datastore/catalog/types.js';
import type { DatastoreService } from '../datastore/service/datastore-service.js';
import type { StorageDriver } from '../storage/types.js';
import { Authorizer, type Principal } from './auth.js';
import type { ServerContext } from './context.js';
import { AuthorizationError, toHttpError, UnauthenticatedError } from './http-errors.js';
import { buildOpenApiDocument } from './openapi.js';
import { registerRoutes, requestErrors, type RouteSpec } from './route.js';
import { datasetRoutes } from './routes/datasets.js';
import { dataRoutes, presignRoutes } from './routes/presign.js';
import { registryRoutes } from './routes/registry.js';
import { reviewRoutes } from './routes/review.js';
import { systemRoutes } from './routes/system.js';
import { tokenRoutes } from './routes/tokens.js';

export interface CreateAppOptions {
  service: DatastoreService;
  catalog: Catalog;
  access: AccessCatalog;
  store: StorageDriver;
  /** Receives unexpected (5xx) errors with their stack; clients never see those details. Default: stderr. */
  onInternalError?: (error: unknown, where: string) => void;
}

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
  const auth = new Authorizer(options.access, options.catalog);
  const ctx: ServerContext = {
    service: options.service,
    catalog: options.catalog,
    access: options.access,
    store: options.store,
    auth,
  };
  const onInternalError =
    options.onInternalError ??
    ((error: unknown, where: string) =>
      process.stderr.write(
        `wharf serve: internal error in ${where}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      ));
  const app = Fastify({
    logger: false,
    bodyLimit: 4 * 1024 * 1024,
    return503OnClosing: true,
    // Presigned-URL tokens (/data/{token}) are one path segment of a few hundred characters.
    routerOptions: { maxParamLength: 4096 },
  });

  let openApi: Record<string, unknown> | undefined;
  const routes: RouteSpec[] = [
    ...systemRoutes(() => (openApi ??= buildOpenApiDocument(routes, packageVersion()))),
    ...datasetRoutes,
    ...presignRoutes,
    ...dataRoutes,
    ...reviewRoutes,
    ...registryRoutes,
    ...tokenRoutes,
  ];

  app.setErrorHandler(async (error, request, reply) => {
    const mapped = toHttpError(error);
    const where = `${request.method} ${request.routeOptions.url ?? request.url}`;
    if (mapped.internal) onInternalError(error, where);
    // Mutating calls the server refused before the service ran go to the audit log: denied (401/403 from
    // the server's checks) or error (invalid request: path, query, body, malformed JSON). The service
    // records its own outcomes.
    const denied = error instanceof AuthorizationError || error instanceof UnauthenticatedError;
    const invalid =
      (typeof error === 'object' && error !== null && requestErrors.has(error)) ||
      (!isWharfError(error) && mapped.status < 500);
    if (request.method !== 'GET' && request.method !== 'HEAD' && (denied || invalid)) {
      const principal = (request as { principal?: Principal | null }).principal;
      await options.catalog
        .audit({
          actor: principal?.username ?? 'anonymous',
          action: `http ${where}`,
          target: error instanceof AuthorizationError ? error.auditTarget : null,
          outcome: denied ? 'denied' : 'error',
          details: {
            status: mapped.status,
            code: mapped.body.error.code,
            message: mapped.body.error.message.slice(0, 500),
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
  registerRoutes(
    app,
    ctx,
    routes.filter((r) => !dataRoutes.includes(r)),
  );
  // Presigned uploads and downloads: any content type, the body streamed to the store (no body limit).
  await app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', (_request, _payload, done) => done(null));
    registerRoutes(child, ctx, dataRoutes);
  });
  await app.ready();
  return app;
}
