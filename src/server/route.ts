import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { FieldValidationError, validateWith } from '../datastore/model/validation.js';
import type { Authorizer, Principal } from './auth.js';
import type { ServerContext } from './context.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The caller, or null when anonymous (only routes with `auth: 'optional'` see null). */
  principal: Principal | null;
  auth: Authorizer;
  ctx: ServerContext;
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * One HTTP operation: what it accepts (zod schemas, used both to validate the request and to generate the
 * OpenAPI document), who may call it, and what it does.
 */
export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** OpenAPI-style path: `/datasets/{prefix}/{number}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** The body schema the OpenAPI document shows when `body` is looser (a handler that validates itself). */
  docBody?: z.ZodType;
  /** The route honours `If-Match` (documented as a header parameter). */
  ifMatch?: boolean;
  /** Other request headers the route reads (documented as header parameters). */
  headers?: { name: string; description: string; pattern?: string }[];
  /** The body is not JSON but bytes streamed to the store (documented as application/octet-stream). */
  rawBody?: { description: string };
  /** How a 400 names the body, e.g. "dataset metadata". Default "request body". */
  bodyName?: string;
  /** 'required' (default): anonymous callers get 401 before the handler runs. */
  auth?: 'required' | 'optional';
  /** Success status and what the response is. */
  success: {
    status: 200 | 201 | 204;
    description: string;
    schema?: z.ZodType;
    /** An answer that is not JSON: `application/octet-stream` (bytes), `text/html`, `*\/*` (static files). */
    mediaType?: string;
  };
  /** Error statuses this route can answer with (400/401/500 are implied). */
  errors?: number[];
  /**
   * A download (GET, bytes): honours `Range` (206) and also answers HEAD (fastify's automatic HEAD route,
   * the SDK's stat), which the OpenAPI document lists as its own operation with these response headers.
   */
  download?: { headOperationId: string; headSummary: string };
  handler(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>): Promise<unknown>;
}

/** Helps TypeScript infer a route's schema types. */
export function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec {
  return spec as unknown as RouteSpec;
}

/**
 * Registers routes on fastify. Requests are validated by the route's zod schemas (not by fastify's ajv), so
 * a 400 lists every failing field with the same wording as the service's own validation.
 */
export function registerRoutes(app: FastifyInstance, ctx: ServerContext, routes: readonly RouteSpec[]): void {
  for (const spec of routes) {
    app.route({
      method: spec.method,
      url: spec.path.replace(/\{([^}]+)\}/g, ':$1'),
      handler: async (request, reply) => {
        const principal = await ctx.auth.authenticate(request.headers.authorization);
        (request as { principal?: Principal | null }).principal = principal;
        if (spec.auth !== 'optional') ctx.auth.requireUser(principal);
        const params = check(spec.params, request.params, 'path parameters');
        const query = check(spec.query, request.query ?? {}, 'query parameters');
        // No body at all is an empty object, so optional-only bodies (`{ notes? }`) need none and required
        // fields are named one by one.
        const body = check(spec.body, request.body ?? {}, spec.bodyName ?? 'request body');
        const result = await spec.handler({
          params,
          query,
          body,
          principal,
          auth: ctx.auth,
          ctx,
          request,
          reply,
        });
        if (reply.sent) return reply;
        reply.code(spec.success.status);
        if (spec.success.status === 204) return reply.send();
        return result;
      },
    });
  }
}

function check(schema: z.ZodType | undefined, input: unknown, what: string): never {
  if (!schema) return undefined as never;
  // `z.unknown()`: the handler validates (and words) the input itself, e.g. metadata checked by the service.
  if (schema.def.type === 'unknown') return input as never;
  const result = validateWith(schema, input);
  if (!result.ok) {
    throw new FieldValidationError(what, result.issues);
  }
  return result.value as never;
}
