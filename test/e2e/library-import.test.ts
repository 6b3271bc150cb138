import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModuleLoadLog, DIST, type ModuleLoadLog } from '../support/module-load-log.js';

// `import 'wharf'` stays light: the datastore's schemas (zod) load only through `wharf/datastore` or
// `wharf/client` (docs/architecture.md). Checked on the built package, with a loader hook that logs every module.

let loads: ModuleLoadLog;

beforeAll(async () => {
  loads = await createModuleLoadLog();
});

afterAll(async () => {
  await loads?.dispose();
});

/** Imports `entry` (a file under dist/) in a fresh node; returns its export names and the modules it loaded. */
async function importEntry(entry: string): Promise<{ exports: string[]; modules: string[] }> {
  const log = loads.logFile(entry);
  const script = `const m = await import(${JSON.stringify(pathToFileURL(join(DIST, entry)).href)}); console.log(JSON.stringify(Object.keys(m)));`;
  const r = spawnSync(process.execPath, ['--import', loads.hook, '--input-type=module', '-e', script], {
    env: { ...process.env, WHARF_LOAD_LOG: log },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return { exports: JSON.parse(r.stdout) as string[], modules: await loads.modulesIn(log) };
}

describe('package entries', () => {
  it("import 'wharf' loads neither zod nor the datastore, and still offers fetch, storage and startDatastore", async () => {
    const { exports, modules } = await importEntry('index.js');
    expect(modules).toContain('index.js');
    expect(modules.filter((m) => /\/node_modules\/zod\//.test(m) || m.startsWith('datastore/'))).toEqual([]);
    expect(exports).toEqual(expect.arrayContaining(['fetchDataset', 'openStorage', 'startDatastore']));
    expect(exports).not.toContain('DatastoreService');
  });

  it("import 'wharf' loads neither the AWS SDK, pg nor DuckDB (they load when a store, catalog or table needs them)", async () => {
    const { modules } = await importEntry('index.js');
    const heavy = modules.filter((m) =>
      /\/node_modules\/(@aws-sdk|@smithy|pg|pg-[\w-]+|@duckdb)\/|^vendor\//.test(m),
    );
    expect(heavy).toEqual([]);
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
