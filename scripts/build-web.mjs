#!/usr/bin/env node
// Builds the datastore web UI (web/) into dist/web/: index.html, app.js, app.css, favicon.svg. Offline: esbuild bundles
// Preact from node_modules; nothing is fetched. `wharf serve` serves the result at / (src/server/routes/web-ui.ts).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'web');

const started = Date.now();
await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { app: 'web/src/main.tsx' },
  outdir: OUT,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  tsconfig: 'web/tsconfig.json',
});
if (result.errors.length > 0) process.exit(1);

const js = await readFile(join(OUT, 'app.js'));
const css = await readFile(join(OUT, 'app.css'));
const icon = await readFile(join(ROOT, 'web', 'favicon.svg'));
const hash = (b) => createHash('sha256').update(b).digest('hex').slice(0, 12);
// The icon goes into the page (the CSP allows data: images): no request, and no 404 for /favicon.ico.
const html = (await readFile(join(ROOT, 'web', 'index.html'), 'utf8'))
  .replace('/ui/favicon.svg', `data:image/svg+xml;base64,${icon.toString('base64')}`)
  .replace('/ui/app.css', `/ui/app.css?v=${hash(css)}`)
  .replace('/ui/app.js', `/ui/app.js?v=${hash(js)}`);
await writeFile(join(OUT, 'index.html'), html);
// The same icon at /favicon.ico (src/server/routes/web-ui.ts), for every other page a browser shows: /docs,
// and JSON answers opened directly (/openapi.json), which have no icon of their own.
await writeFile(join(OUT, 'favicon.svg'), icon);

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
process.stderr.write(
  `build-web: dist/web/ (app.js ${kb(js.length)}, app.css ${kb(css.length)}) in ${Date.now() - started} ms\n`,
);
