import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModuleLoadLog, type ModuleLoadLog } from '../support/module-load-log.js';
import { wharf } from '../support/run-cli.js';

// The CLI starts fast: registering the command tree (names, options, help) loads only light modules; each
// command's body and the feature modules behind it load when that command runs (docs/architecture.md).

/** Feature code, drivers, the bundled SDK and the command bodies: none of it is needed to show help. */
const HEAVY_DIST = [
  /^fetch\//,
  /^sync\//,
  /^tables\//,
  /^ingest\//,
  /^datastore\//,
  /^transfer\//,
  /^storage\//,
  /^server\//,
  /^client\//,
  /^vendor\//,
  /^cli\/commands\/.*-run\.js$/,
];
/** Constant modules of those layers that the help shows (defaults, the glob dialect, table names, CSV encodings). */
const HELP_CONSTANTS = new Set([
  'fetch/fetch-defaults.js',
  'fetch/glob-dialect.js',
  'transfer/download/ranged-download-defaults.js',
  'tables/presets.js',
  'tables/table-format.js',
  'tables/csv-encoding.js',
]);
const HEAVY_PACKAGES = /\/node_modules\/(pg|pg-copy-streams|@duckdb\/[^/]+|@aws-sdk\/[^/]+|@smithy\/[^/]+)\//;

let loads: ModuleLoadLog;
let work: string;

beforeAll(async () => {
  loads = await createModuleLoadLog();
  work = await mkdtemp(join(tmpdir(), 'wharf-cli-startup-'));
});

afterAll(async () => {
  await loads?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The modules `wharf ARGS` loads: ours relative to dist/, packages by their URL. */
async function modulesLoadedBy(args: string[]): Promise<string[]> {
  const log = loads.logFile(args.join('_'));
  const r = await wharf(args, { nodeArgs: ['--import', loads.hook], env: { WHARF_LOAD_LOG: log } });
  expect(r.code, r.stderr).toBe(0);
  return loads.modulesIn(log);
}

function heavy(module: string): boolean {
  if (HEAVY_PACKAGES.test(module)) return true;
  if (module.startsWith('file:') || module.startsWith('node:')) return false;
  return !HELP_CONSTANTS.has(module) && HEAVY_DIST.some((pattern) => pattern.test(module));
}

describe('wharf startup loads only what registering the commands needs', () => {
  it.each([
    [['--version']],
    [['--help']],
    [['fetch', '--help']],
    [['sync', '--help']],
    [['table', 'build', '--help']],
    [['ingest', '--help']],
    [['dataset', 'upload', '--help']],
  ])('wharf %j loads no feature module, driver, SDK or command body', async (args) => {
    const loaded = await modulesLoadedBy(args);
    // The hook saw the CLI itself (else an empty list would pass).
    expect(loaded).toEqual(
      expect.arrayContaining(['cli/main.js', 'cli/program.js', 'cli/commands/fetch.js']),
    );
    expect(loaded.filter(heavy)).toEqual([]);
  });

  it('a command that runs loads its body, and no other', async () => {
    const folder = join(work, 'folder');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'a.txt'), 'a');
    const loaded = await modulesLoadedBy(['ls', folder]);
    expect(loaded).toEqual(expect.arrayContaining(['cli/commands/ls-run.js', 'storage/registry.js']));
    expect(loaded).not.toContain('cli/commands/fetch-run.js');
  });
});
