import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `import 'wharf'` stays light: the datastore's schemas (zod) load only through `wharf/datastore` or
// `wharf/client` (docs/architecture.md). Checked on the built package, with a loader hook that logs every module.

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

let work: string;
let hook: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wharf-library-import-'));
  await writeFile(
    join(work, 'log-loads.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  appendFileSync(process.env.WHARF_LOAD_LOG, url + '\\n');
  return nextLoad(url, context);
}
`,
  );
  hook = join(work, 'register.mjs');
  await writeFile(
    hook,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(work, 'log-loads.mjs')).href)});\n`,
  );
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Imports `entry` (a file under dist/) in a fresh node; returns its export names and the modules it loaded. */
async function importEntry(entry: string): Promise<{ exports: string[]; modules: string[] }> {
  const log = join(work, `${entry.replace(/\W/g, '_')}.log`);
  const script = `const m = await import(${JSON.stringify(pathToFileURL(join(DIST, entry)).href)}); console.log(JSON.stringify(Object.keys(m)));`;
  const r = spawnSync(process.execPath, ['--import', hook, '--input-type=module', '-e', script], {
    env: { ...process.env, WHARF_LOAD_LOG: log },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  const urls = (await readFile(log, 'utf8')).split('\n').filter((url) => url !== '');
  const modules = urls.map((url) => {
    if (!url.startsWith('file:')) return url;
    const path = fileURLToPath(url);
    return path.startsWith(DIST) ? relative(DIST, path).split('\\').join('/') : url;
  });
  return { exports: JSON.parse(r.stdout) as string[], modules };
}

describe('package entries', () => {
  it("import 'wharf' loads neither zod nor the datastore, and still offers fetch, storage and startDatastore", async () => {
    const { exports, modules } = await importEntry('index.js');
    expect(modules).toContain('index.js');
    expect(modules.filter((m) => /\/node_modules\/zod\//.test(m) || m.startsWith('datastore/'))).toEqual([]);
    expect(exports).toEqual(expect.arrayContaining(['fetchDataset', 'openStorage', 'startDatastore']));
    expect(exports).not.toContain('DatastoreService');
  });

  it("import 'wharf/datastore' offers the registry library", async () => {
    const { exports } = await importEntry('datastore-api.js');
    expect(exports).toEqual(
      expect.arrayContaining([
        'DatastoreService',
        'openPgCatalog',
        'startEmbeddedPostgres',
        'datastoreJsonSchemas',
        'validateDatastoreInput',
        'FieldValidationError',
        'startDatastore',
      ]),
    );
  });
});
