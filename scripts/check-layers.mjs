#!/usr/bin/env node
// Enforces the layering in ../shared/design.md (and docs/architecture.md):
// core <- storage <- transfer <- features <- app <- {cli, server}; drivers never import each other;
// the AWS SDK only under storage/s3; process.exit only in cli/main.ts; command bodies (cli/commands/*-run.ts)
// are loaded lazily.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const SRC = resolve('src');
const LAYERS = {
  core: [],
  storage: ['core'],
  transfer: ['core', 'storage'],
  fetch: ['core', 'storage', 'transfer'],
  sync: ['core', 'storage', 'transfer'],
  ingest: ['core', 'storage', 'transfer'],
  tables: ['core', 'storage', 'transfer', 'fetch'],
  datastore: ['core', 'storage', 'transfer'],
  app: ['core', 'storage', 'transfer', 'fetch', 'sync', 'ingest', 'tables', 'datastore'],
  cli: ['core', 'storage', 'transfer', 'fetch', 'sync', 'ingest', 'tables', 'datastore', 'app', 'client'],
  server: ['core', 'storage', 'transfer', 'fetch', 'sync', 'ingest', 'tables', 'datastore', 'app'],
  // The SDK: core, the transfer engines (storage, transfer, fetch) and datastore/model only (checked below).
  client: ['core', 'storage', 'transfer', 'fetch', 'datastore'],
};
const PACKAGE_HOMES = [
  [/^@aws-sdk\/|^@smithy\//, ['storage/s3/', 'datastore/access/']],
  [/^pg$|^pg-copy-streams$/, ['ingest/postgres/', 'datastore/catalog/']],
  [/^@duckdb\//, ['ingest/parquet/', 'tables/']],
];

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts') && !path.endsWith('.test.ts')) files.push(path);
  }
};
walk(SRC);

const problems = [];
for (const file of files) {
  const rel = relative(SRC, file).split('\\').join('/');
  const layer = rel.split('/')[0];
  const text = readFileSync(file, 'utf8');
  const allowed = LAYERS[layer.replace(/\.ts$/, '')] ?? null;
  for (const match of text.matchAll(
    /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm,
  )) {
    const spec = match[1] ?? match[2] ?? match[3];
    if (spec.startsWith('.')) {
      const target = relative(SRC, resolve(dirname(file), spec))
        .split('\\')
        .join('/');
      const targetLayer = target.split('/')[0];
      // A command's body (cli/commands/NAME-run.ts) loads only when it runs: `await import` in the action.
      const isStatic = match[2] === undefined && !/^(?:import|export)\s+type\s/.test(match[0]);
      if (isStatic && /^cli\/commands\/.+-run\.js$/.test(target) && !rel.endsWith('-run.ts'))
        problems.push(`${rel}: imports the command body ${spec} statically; load it with await import()`);
      if (targetLayer === layer || rel === 'index.ts') continue;
      // `wharf serve` starts the HTTP server: the one place the CLI may reach the server (lazily).
      if (rel === 'cli/commands/serve-run.ts' && targetLayer === 'server') continue;
      if (allowed && !allowed.includes(targetLayer))
        problems.push(`${rel}: ${layer} may not import ${targetLayer} (${spec})`);
      if (layer === 'client' && targetLayer === 'datastore' && !target.startsWith('datastore/model/'))
        problems.push(`${rel}: client may import only datastore/model of the datastore (${spec})`);
      // storage drivers never import each other; the registry and conformance suite may.
      const [, driver] = rel.split('/');
      const [, targetDriver] = target.split('/');
      if (
        layer === 'storage' &&
        targetLayer === 'storage' &&
        ['local', 's3', 'memory'].includes(driver) &&
        ['local', 's3', 'memory'].includes(targetDriver) &&
        driver !== targetDriver
      ) {
        problems.push(`${rel}: driver ${driver} may not import driver ${targetDriver}`);
      }
    } else {
      for (const [pattern, homes] of PACKAGE_HOMES) {
        const isTypeOnly = /^import\s+type\s/.test(match[0]);
        if (pattern.test(spec) && !isTypeOnly && !homes.some((h) => rel.startsWith(h))) {
          problems.push(`${rel}: ${spec} may only be imported under ${homes.join(', ')}`);
        }
      }
    }
  }
  if (/process\.exit\s*\(/.test(text) && rel !== 'cli/main.ts')
    problems.push(`${rel}: process.exit outside cli/main.ts`);
}

// Relative imports within a layer are fine, but a storage driver importing another is caught above.
if (problems.length > 0) {
  console.error(`layer check: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.error(`layer check: ${files.length} files ok`);
