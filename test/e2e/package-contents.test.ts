import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What `npm publish` would ship (`npm pack --dry-run` on the built package): what a user needs, nothing else.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// What `npm run bundle:lambda` and docs/ingest.md's zip step leave in dist/: a deployment artifact, not the package.
const LAMBDA_LEFTOVERS = ['dist/lambda/h9-lib-probe.mjs', 'dist/h9-lib-probe-lambda.zip'];

let files: string[];
let madeLambdaDir: string | undefined;

beforeAll(async () => {
  madeLambdaDir = await mkdir(join(ROOT, 'dist/lambda'), { recursive: true });
  for (const f of LAMBDA_LEFTOVERS) await writeFile(join(ROOT, f), '');
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}, 60_000);

afterAll(async () => {
  for (const f of LAMBDA_LEFTOVERS) await rm(join(ROOT, f), { force: true });
  if (madeLambdaDir !== undefined) await rm(madeLambdaDir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the entries, their types, the web UI, the hash worker and the catalog migrations', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/cli/main.js',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/client/index.js',
        'dist/client/index.d.ts',
        'dist/datastore-api.js',
        'dist/datastore-api.d.ts',
        'dist/web/index.html',
        'dist/web/app.js',
        'dist/web/app.css',
        'dist/web/favicon.svg',
        'dist/transfer/download/hash-worker.js',
        'dist/datastore/catalog/migrations.js',
        'dist/vendor/client-s3.js',
      ]),
    );
  });

  it('leaves out tests, benchmarks, local data and a Lambda bundle built into dist/', () => {
    const unwanted = files.filter(
      (f) =>
        !f.startsWith('dist/') ||
        /\.test\.|\/conformance\/|(^|\/)\.wharf-data\/|(^|\/)\.env|^dist\/lambda\/|\.zip$/.test(f),
    );
    expect(unwanted.filter((f) => f !== 'package.json' && f !== 'README.md')).toEqual([]);
  });

  it('source maps carry their sources (the package has no src/ for them to point at)', async () => {
    const maps = files.filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(50);
    const incomplete: string[] = [];
    for (const f of maps) {
      const map = JSON.parse(await readFile(join(ROOT, f), 'utf8')) as {
        sources: string[];
        sourcesContent?: unknown[];
      };
      if (map.sourcesContent?.length !== map.sources.length) incomplete.push(f);
    }
    expect(incomplete).toEqual([]);
  });
});
