import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A user's TypeScript project that depends on the built package (node_modules/wharf -> this repo) and names the
// types its code needs, compiled with the strictest common settings and the package's .d.ts files checked too.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let project: string;

const CONSUMER = `
import {
  openStorage, syncLog, openLinked, purgeTrash, fetchDataset, showTable,
  type StorageDriver, type DetectOptions, type S3Credentials, type ChecksumMode, type ProgressListener,
  type FetchEvent, type FetchRequestCounts, type DatasetSelector, type FileDigest,
  type LinkedStore, type PurgeResult, type SyncConfig, type SyncGuardTrip, type SyncChangeRecord,
  type SyncSkippedChange, type SyncLocalFile, type IngestSchemaChange, type IngestWindowBound,
  type TableInspectOptions, type RowFormat,
} from 'wharf';
import {
  DatastoreService, openPgCatalog,
  type PgCatalog, type MigrationReport, type ActorOptions, type UpdateOptions, type VersionOptions,
  type VersionResult, type ReleaseActionOptions, type ReleaseDecision, type ReadScope, type ValidationResult,
  type OrganisationInput, type PersonInput, type SortField, type ReleaseAction, type DatasetRole,
} from 'wharf/datastore';
import { Datastore, type ProgressSnapshot, type RequestOptions, type TransferEvent } from 'wharf/client';

export async function logOf(dir: string): Promise<number> {
  const linked: LinkedStore = await openLinked(dir);
  const purged: PurgeResult = await purgeTrash(linked, 30 * 86_400_000);
  return (await syncLog(linked)).length + Object.keys(purged).length;
}
export async function catalog(url: string): Promise<PgCatalog> {
  return openPgCatalog({ connectionString: url });
}
export function org(ds: DatastoreService, input: OrganisationInput, actor: ActorOptions) {
  return ds.registerOrganisation(input, actor);
}
export const onFetch: ProgressListener<FetchEvent> = (e) => void e;
export const onTransfer = (e: TransferEvent): ProgressSnapshot | undefined => ('snapshot' in e ? e.snapshot : undefined);
export async function view(store: StorageDriver, o: DetectOptions): Promise<boolean> {
  const caps = await store.detectCapabilities?.(o);
  return caps !== undefined && (await openStorage('.')) !== store && fetchDataset !== undefined && showTable !== undefined;
}
export const client = Datastore;
export type Used = [S3Credentials, ChecksumMode, FetchRequestCounts, DatasetSelector, FileDigest, SyncConfig,
  SyncGuardTrip, SyncChangeRecord, SyncSkippedChange, SyncLocalFile, IngestSchemaChange, IngestWindowBound,
  TableInspectOptions, RowFormat, MigrationReport, UpdateOptions, VersionOptions, VersionResult,
  ReleaseActionOptions, ReleaseDecision, ReadScope, ValidationResult<unknown>, PersonInput, SortField, ReleaseAction,
  DatasetRole, RequestOptions];
`;

/**
 * The TypeScript examples of the README and docs/, each as a module of the same project, so an example that no
 * longer compiles (a renamed option, a field a strict project cannot pass) fails here. The values an example
 * only names (the metadata to mint, another user's client) are declared.
 */
const EXAMPLE_PREAMBLE = `declare const metadata: any, draft: any, changed: any;
declare const asRita: import('wharf/client').Datastore;
`;

async function docExamples(): Promise<{ name: string; code: string }[]> {
  const docs = ['README.md', ...(await readdir(join(ROOT, 'docs'))).map((f) => `docs/${f}`)];
  const examples: { name: string; code: string }[] = [];
  for (const doc of docs.filter((d) => d.endsWith('.md'))) {
    const text = await readFile(join(ROOT, doc), 'utf8');
    let n = 0;
    for (const match of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
      n += 1;
      const name = `example-${doc.replace(/\W+/g, '-')}-${n}.ts`;
      examples.push({ name, code: `${EXAMPLE_PREAMBLE}${match[1] as string}\nexport {};\n` });
    }
  }
  return examples;
}

let exampleNames: string[] = [];

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'wharf-consumer-'));
  await mkdir(join(project, 'node_modules'));
  await symlink(ROOT.replace(/\/$/, ''), join(project, 'node_modules/wharf'), 'dir');
  await symlink(join(ROOT, 'node_modules/@types'), join(project, 'node_modules/@types'), 'dir');
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', type: 'module', private: true }),
  );
  await writeFile(join(project, 'consumer.ts'), CONSUMER);
  const examples = await docExamples();
  for (const example of examples) await writeFile(join(project, example.name), example.code);
  exampleNames = examples.map((e) => e.name);
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
      },
      files: ['consumer.ts', ...exampleNames],
    }),
  );
});

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe('the package as a TypeScript dependency', () => {
  it('offers the types its API names, its .d.ts files and the examples of the docs compile under exactOptionalPropertyTypes', () => {
    expect(exampleNames.length).toBeGreaterThanOrEqual(6);
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
});
