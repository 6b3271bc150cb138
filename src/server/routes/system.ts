import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { NotFoundError } from '../../core/errors.js';
import { healthSchema } from '../response-schemas.js';
import { route, type RouteSpec } from '../route.js';
import { probeStore } from '../../storage/probe.js';

const CHECK_TIMEOUT_MS = 5000;

async function check(work: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `unreachable: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
  } finally {
    clearTimeout(timer);
  }
}

const DETAIL_HIDDEN = 'unreachable (a sys-admin token shows why)';

function withoutDetail(state: string): string {
  return state === 'ok' ? state : DETAIL_HIDDEN;
}

/** Swagger UI's files, from the installed swagger-ui-dist package (no CDN). */
const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
};
const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const fileCache = new Map<string, Buffer>();

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Wharf datastore API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/svg+xml" href="/favicon.ico">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;
const DOCS_INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;

export function systemRoutes(openApi: () => Record<string, unknown>): RouteSpec[] {
  return [
    route({
      method: 'GET',
      path: '/health',
      operationId: 'getHealthCheck',
      tag: 'system',
      summary: 'Whether the database and the store are reachable (503 when not)',
      auth: 'optional',
      success: {
        status: 200,
        description: '{ status: "ok", database: "ok", store: "ok" }',
        schema: healthSchema,
      },
      errors: [503],
      handler: async ({ ctx, reply, principal, auth }) => {
        const [database, store] = await Promise.all([
          check(() => ctx.access.ping()),
          check(() => probeStore(ctx.store)),
        ]);
        const ok = database === 'ok' && store === 'ok';
        // Why a check failed names the bucket, endpoint or database host: for sys-admins, not for anyone.
        const shown = auth.isSysAdmin(principal) ? (state: string) => state : withoutDetail;
        reply.code(ok ? 200 : 503);
        return reply.send({
          status: ok ? 'ok' : 'unavailable',
          database: shown(database),
          store: shown(store),
        });
      },
    }),
    route({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'getOpenApi',
      tag: 'system',
      summary: 'This document',
      auth: 'optional',
      success: {
        status: 200,
        description: 'OpenAPI 3.1',
        schema: z.record(z.string(), z.unknown()).meta({ title: 'OpenApiDocument' }),
      },
      handler: async () => openApi(),
    }),
    route({
      method: 'GET',
      path: '/docs',
      operationId: 'getDocs',
      tag: 'system',
      summary: 'Browsable API documentation (Swagger UI, served locally)',
      auth: 'optional',
      success: { status: 200, description: 'HTML', mediaType: 'text/html' },
      handler: async ({ reply }) => reply.type('text/html; charset=utf-8').send(DOCS_HTML),
    }),
    route({
      method: 'GET',
      path: '/docs/{file}',
      operationId: 'getDocsAsset',
      tag: 'system',
      summary: 'Swagger UI assets',
      auth: 'optional',
      params: z.strictObject({ file: z.string() }),
      errors: [404],
      success: { status: 200, description: 'A static file (JavaScript, CSS)', mediaType: '*/*' },
      handler: async ({ params, reply }) => {
        if (params.file === 'init.js') return reply.type('text/javascript; charset=utf-8').send(DOCS_INIT);
        const type = SWAGGER_FILES[params.file];
        if (!type) throw new NotFoundError(`no documentation file ${params.file}`);
        let content = fileCache.get(params.file);
        if (!content) {
          content = await readFile(join(swaggerDir, params.file));
          fileCache.set(params.file, content);
        }
        return reply.type(type).header('cache-control', 'public, max-age=3600').send(content);
      },
    }),
  ];
}
