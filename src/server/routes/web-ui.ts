import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The datastore web UI (issue 6): the static files `scripts/build-web.mjs` writes to `dist/web/`, served at
 * `/` (index.html), `/ui/<file>` and `/favicon.ico` (the UI's icon, for the service's other pages) on the
 * API's port. Not API routes, so not in the OpenAPI document. The UI uses hash routing
 * (`/#/datasets/10378.1/5`), so its paths never collide with the API's.
 */

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** Where the built UI is: `dist/web/` next to the compiled server, or from the sources (`src/…` in tests). */
export function defaultWebDir(): string {
  const candidates = [
    new URL('../../web/', import.meta.url), // dist/server/routes/web-ui.js -> dist/web/
    new URL('../../../dist/web/', import.meta.url), // src/server/routes/web-ui.ts -> dist/web/
  ].map((url) => fileURLToPath(url));
  return (
    candidates.find((dir) => existsSync(`${dir}index.html`) && existsSync(`${dir}app.js`)) ?? candidates[0]!
  );
}

const NOT_BUILT =
  'The Wharf web UI is not built: dist/web/ has no index.html and app.js.\n' +
  'Run `npm run build` (it runs scripts/build-web.mjs) and start `wharf serve` again.\n' +
  'The API works without it: see /docs and /openapi.json.\n';

interface Loaded {
  body: Buffer;
  etag: string;
}

/** Registers `GET /`, `GET /index.html`, `GET /ui/{app.js,app.css}` and `GET /favicon.ico` on the app. */
export function registerWebUi(app: FastifyInstance, options: { dir?: string } = {}): void {
  const dir = options.dir ?? defaultWebDir();
  // Files are read once and kept: dist/web changes only with a new build, which comes with a restart.
  const cache = new Map<string, Promise<Loaded | null>>();
  const load = (name: string): Promise<Loaded | null> => {
    let entry = cache.get(name);
    if (!entry) {
      entry = readFile(`${dir}${name}`).then(
        (body) => ({ body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }),
        () => null,
      );
      // A missing file is looked for again next time (the build may finish while the server runs).
      void entry.then((loaded) => loaded ?? cache.delete(name));
      cache.set(name, entry);
    }
    return entry;
  };

  const send = (
    reply: FastifyReply,
    ifNoneMatch: string | undefined,
    loaded: Loaded,
    type: string,
    cacheControl: string,
  ) => {
    reply
      .header('content-type', type)
      .header('cache-control', cacheControl)
      .header('etag', loaded.etag)
      .header('x-content-type-options', 'nosniff');
    if (ifNoneMatch === loaded.etag) return reply.code(304).send();
    return reply.code(200).send(loaded.body);
  };

  const index = async (
    request: { headers: Record<string, string | string[] | undefined> },
    reply: FastifyReply,
  ) => {
    const loaded = await load('index.html');
    if (!loaded) {
      return reply
        .code(503)
        .header('content-type', 'text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(NOT_BUILT);
    }
    reply.header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer').header(
      'content-security-policy',
      // Presigned URLs may point at the S3 endpoint, hence connect-src/img-src beyond 'self'.
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    const inm = request.headers['if-none-match'];
    // The page names its assets with a content hash (?v=…), so it must be revalidated, they need not be.
    return send(
      reply,
      typeof inm === 'string' ? inm : undefined,
      loaded,
      'text/html; charset=utf-8',
      'no-cache',
    );
  };
  app.get('/', index);
  app.get('/index.html', index);
  // Browsers ask for /favicon.ico on any page without an icon link (JSON opened directly, /openapi.json);
  // the UI's SVG icon answers it, as image/svg+xml.
  app.get('/favicon.ico', async (request, reply) => {
    const loaded = await load('favicon.svg');
    if (!loaded) {
      return reply.code(404).send({
        error: {
          code: 'NOT_FOUND',
          message: 'no icon: the web UI is not built',
          hint: 'run `npm run build` to build the web UI',
        },
      });
    }
    const inm = request.headers['if-none-match'];
    return send(
      reply,
      typeof inm === 'string' ? inm : undefined,
      loaded,
      'image/svg+xml',
      'public, max-age=86400',
    );
  });
  app.get<{ Params: { file: string }; Querystring: { v?: string } }>('/ui/:file', async (request, reply) => {
    const type = ASSETS[request.params.file];
    const loaded = type ? await load(request.params.file) : null;
    if (!type || !loaded) {
      return reply.code(404).send({
        error: {
          code: 'NOT_FOUND',
          message: `no web UI file ${request.params.file}`,
          hint: type ? 'run `npm run build` to build the web UI' : 'the UI has /ui/app.js and /ui/app.css',
        },
      });
    }
    const versioned = typeof request.query.v === 'string' && request.query.v.length > 0;
    const inm = request.headers['if-none-match'];
    return send(
      reply,
      typeof inm === 'string' ? inm : undefined,
      loaded,
      type,
      versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
  });
}
