import { z } from 'zod';
import { organisationInputSchema, personInputSchema } from '../datastore/model/dataset.js';
import { refuseNul } from '../datastore/model/json-schema.js';
import { collectionFormatSchema } from '../datastore/model/metadata.js';
import { errorBodySchema } from './http-errors.js';
import type { RouteSpec } from './route.js';

type JsonSchema = Record<string, unknown>;

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request: error.issues lists every failing field.',
  401: 'No API token, or an unknown, revoked or expired one.',
  403: 'The caller lacks the role this call needs.',
  404: 'No such dataset, entry or token.',
  409: 'Conflict: a stale revision (If-Match), or the dataset is PENDING/RELEASED, or not the latest version.',
  413: 'The JSON body is over 4 MiB (files go up through the file routes, which have no limit).',
  415: 'The body is not JSON: send it with Content-Type: application/json.',
  500: 'Internal error (no details are given; the server logs it).',
};

/**
 * The OpenAPI 3.1 document of the routes, generated from the zod schemas the routes validate requests
 * with (`z.toJSONSchema`, input side): named request bodies and the error body become components, path and
 * query schemas become parameters.
 */
export function buildOpenApiDocument(routes: readonly RouteSpec[], version: string): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  registry.add(collectionFormatSchema, { id: 'DatasetMetadata' });
  registry.add(organisationInputSchema, { id: 'Organisation' });
  registry.add(personInputSchema, { id: 'Person' });
  registry.add(errorBodySchema, { id: 'Error' });
  for (const spec of routes) {
    const response = spec.success.schema;
    if (response && !registry.has(response)) {
      const title = (response.meta() as { title?: string } | undefined)?.title;
      registry.add(response, {
        id: title ?? `${spec.operationId[0]!.toUpperCase()}${spec.operationId.slice(1)}Response`,
      });
    }
    const body = docBody(spec);
    if (body && !registry.has(body)) {
      const title = (body.meta() as { title?: string } | undefined)?.title;
      registry.add(body, {
        id: title ?? `${spec.operationId[0]!.toUpperCase()}${spec.operationId.slice(1)}Body`,
      });
    }
  }
  const uri = (id: string) => `#/components/schemas/${id}`;
  const { schemas } = z.toJSONSchema(registry, {
    io: 'input',
    uri,
    unrepresentable: 'any',
    override: refuseNul,
  }) as {
    schemas: Record<string, JsonSchema>;
  };
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }

  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes) {
    const parameters = [
      ...parametersOf(spec.params, 'path'),
      ...parametersOf(spec.query, 'query'),
      ...(spec.headers ?? []).map((h) => ({
        name: h.name,
        in: 'header',
        required: false,
        description: h.description,
        schema: { type: 'string', ...(h.pattern ? { pattern: h.pattern } : {}) },
      })),
      ...(spec.ifMatch
        ? [
            {
              name: 'If-Match',
              in: 'header',
              required: false,
              description: 'The ETag last read ("<revision>"): a stale one gets 409 and changes nothing.',
              schema: { type: 'string' },
            },
          ]
        : []),
    ];
    const body = docBody(spec);
    const responses: Record<string, unknown> = {
      [String(spec.success.status)]: {
        description: spec.success.description,
        ...(spec.success.status === 204
          ? {}
          : spec.success.mediaType
            ? { content: { [spec.success.mediaType]: { schema: rawSchema(spec.success.mediaType) } } }
            : {
                content: {
                  'application/json': {
                    schema: spec.success.schema ? { $ref: uri(registry.get(spec.success.schema)!.id) } : {},
                  },
                },
              }),
      },
    };
    const errorStatuses = new Set([
      400,
      ...(spec.auth === 'optional' ? [] : [401]),
      ...(spec.errors ?? []),
      ...(docBody(spec) ? [413, 415] : []),
      500,
    ]);
    if (spec.auth === 'optional' && (spec.errors ?? []).includes(403)) errorStatuses.add(401);
    if (spec.download && spec.success.mediaType) {
      responses['206'] = {
        description: 'The requested byte range (Range: bytes=a-b, a-, -n), with Content-Range.',
        content: { [spec.success.mediaType]: { schema: rawSchema(spec.success.mediaType) } },
        headers: { 'Content-Range': { schema: { type: 'string' }, description: 'bytes a-b/size' } },
      };
    }
    for (const status of [...errorStatuses].sort()) {
      responses[String(status)] = {
        description: ERROR_TEXT[status] ?? 'Error.',
        content: { 'application/json': { schema: { $ref: uri('Error') } } },
      };
    }
    (paths[spec.path] ??= {})[spec.method.toLowerCase()] = {
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: { $ref: uri(registry.get(body)!.id) } } },
            },
          }
        : spec.rawBody
          ? {
              requestBody: {
                required: true,
                description: spec.rawBody.description,
                content: { 'application/octet-stream': { schema: rawSchema('application/octet-stream') } },
              },
            }
          : {}),
      responses,
      security: spec.auth === 'optional' ? [{}, { bearerAuth: [] }] : [{ bearerAuth: [] }],
    };
    if (spec.download) paths[spec.path]!.head = headOperation(spec, spec.download, parameters, responses);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Wharf datastore',
      version,
      description:
        'A dataset registry modelled on CSIRO Provena: persistent ids, CollectionFormat metadata, history, ' +
        'versions, a release workflow and per-dataset roles. Authenticate with `Authorization: Bearer <token>`. ' +
        'A dataset id PREFIX/N is two path segments: /datasets/PREFIX/N.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    paths,
    components: {
      schemas,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A Wharf API token.' } },
    },
  };
}

/** The HEAD a download route also answers: the GET's headers, no body (errors have no body either). */
function headOperation(
  spec: RouteSpec,
  download: NonNullable<RouteSpec['download']>,
  parameters: unknown[],
  getResponses: Record<string, unknown>,
): Record<string, unknown> {
  const header = (description: string) => ({ schema: { type: 'string' }, description });
  const responses: Record<string, unknown> = {
    '200': {
      description: 'The headers a GET would send, without the body.',
      headers: {
        'Content-Length': header('Size of the file in bytes.'),
        'Content-Type': header('The stored content type.'),
        ETag: header('The quoted ETag of the stored object.'),
        'Last-Modified': header('When the file was last written.'),
        'Accept-Ranges': header('bytes'),
      },
    },
  };
  for (const [status, response] of Object.entries(getResponses)) {
    if (status === '200' || status === '206' || status === '416') continue;
    responses[status] = { description: (response as { description: string }).description };
  }
  return {
    operationId: download.headOperationId,
    summary: download.headSummary,
    tags: [spec.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    responses,
    security: spec.auth === 'optional' ? [{}, { bearerAuth: [] }] : [{ bearerAuth: [] }],
  };
}

/** Bytes (a file) or text (HTML) in a request or answer that is not JSON. */
function rawSchema(mediaType: string): JsonSchema {
  return mediaType.startsWith('text/') ? { type: 'string' } : { type: 'string', format: 'binary' };
}

/** The schema the docs show for the body (a route that validates its body itself documents `docBody`). */
function docBody(spec: RouteSpec): z.ZodType | undefined {
  return spec.docBody ?? spec.body;
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): Record<string, unknown>[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', override: refuseNul }) as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property as { description?: string } & JsonSchema;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}
