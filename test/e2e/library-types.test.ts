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
  type SyncSkippedChange, type SyncRefusedPath, type SyncLocalFile, type IngestSchemaChange, type IngestWindowBound,
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

// exactOptionalPropertyTypes: every optional field of the options users pass in also takes an explicit
// undefined (a value like process.env.X), so no conditional spreads are needed.
import * as W from 'wharf';
import * as C from 'wharf/client';
import * as D from 'wharf/datastore';
export const everyOptionUndefined = [
  { source: 's3://b/p', dest: undefined, include: undefined, exclude: undefined, datasetId: undefined, manifest: undefined, metaFiles: undefined, timestampToleranceHours: undefined, concurrency: undefined, partConcurrency: undefined, partSize: undefined, force: undefined, verify: undefined, delete: undefined, dryRun: undefined, attempts: undefined, storage: undefined, store: undefined, signal: undefined, onEvent: undefined } satisfies W.FetchOptions,
  { concurrency: undefined, partConcurrency: undefined, partSize: undefined, attempts: undefined, sha256Metadata: undefined, noClobber: undefined, signal: undefined, onEvent: undefined } satisfies W.CopyOptions,
  { s3: undefined, cwd: undefined } satisfies W.OpenStorageOptions,
  { bucket: 'b', endpoint: undefined, region: undefined, profile: undefined, forcePathStyle: undefined, maxSockets: undefined, checksumMode: undefined, maxAttempts: undefined, credentials: undefined, fastGet: undefined } satisfies W.S3DriverOptions,
  { source: 's3://b/p', name: undefined, include: undefined, exclude: undefined, format: undefined, metaFiles: undefined, to: undefined, dedupeOn: undefined, sourceColumn: undefined, skipBad: undefined, cache: undefined, datasetId: undefined, concurrency: undefined, timestampToleranceHours: undefined, batchFiles: undefined, storage: undefined, signal: undefined, onEvent: undefined } satisfies W.BuildTableOptions,
  { dest: 's3://b/p', source: undefined, store: undefined, storage: undefined, tables: undefined, all: undefined, schema: undefined, cursorColumn: undefined, lagSeconds: undefined, initial: undefined, until: undefined, maxFileSize: undefined, layout: undefined, dryRun: undefined, guardWaitSeconds: undefined, tempDir: undefined, logger: undefined, onEvent: undefined, signal: undefined } satisfies W.IngestOptions,
  { endpoint: 'http://x', fetch: undefined } satisfies C.DatastoreOptions,
  { expectedRevision: undefined } satisfies C.RevisionOptions,
  { copyFiles: undefined } satisfies C.VersionOptions,
  { method: undefined, expiresIn: undefined } satisfies C.PresignOptions,
  { durationSeconds: undefined } satisfies C.CredentialOptions,
  { concurrency: undefined, signal: undefined, onEvent: undefined } satisfies C.TransferOptions,
  { sortBy: undefined, ascending: undefined, pageSize: undefined, paginationKey: undefined, releaseStatus: undefined, approver: undefined } satisfies C.ListDatasetsOptions,
  { prefix: undefined, pageSize: undefined, paginationKey: undefined } satisfies C.ListDatasetFilesOptions,
  { totalLimit: undefined } satisfies C.ForAllDatasetsOptions,
  { dir: '.', store: undefined, storage: undefined, direction: undefined, prefer: undefined, maxDelete: undefined, force: undefined, dryRun: undefined, confirm: undefined, select: undefined, conflictNames: undefined, concurrency: undefined, partSize: undefined, partConcurrency: undefined, attempts: undefined, commitAttempts: undefined, signal: undefined, onEvent: undefined } satisfies W.SyncOptions,
  { dir: '.', remote: 's3://b/p', member: undefined, storage: undefined, store: undefined } satisfies W.InitOptions,
  { dir: '.', store: undefined, storage: undefined, dryRun: undefined, concurrency: undefined, signal: undefined, confirm: undefined, onObject: undefined } satisfies W.AdoptOptions,
  { actor: 'a', signal: undefined } satisfies D.ActorOptions,
  { actor: 'a', expectedRevision: undefined } satisfies D.UpdateOptions,
  { actor: 'a', copyFiles: undefined } satisfies D.VersionOptions,
  { actor: 'a', actorIsSysAdmin: undefined } satisfies D.ReleaseActionOptions,
  { connectionString: 'postgres://x', schema: undefined, poolSize: undefined } satisfies D.PgCatalogOptions,
  { dataDir: '.', port: undefined, database: undefined, onLog: undefined } satisfies D.EmbeddedPostgresOptions,
  { dataDir: undefined, store: undefined, database: undefined, port: undefined, host: undefined, idPrefix: undefined, adminToken: undefined, schema: undefined, storage: undefined, cwd: undefined, stsRoleArn: undefined, stsEndpoint: undefined, oidcJwksUrl: undefined, oidcIssuer: undefined, oidcAudience: undefined, oidcUsernameClaim: undefined, oidcGroupsClaim: undefined, oidcClientId: undefined, oidcAuthorizationUrl: undefined, oidcTokenUrl: undefined, oidcScopes: undefined, responseCacheMb: undefined } satisfies W.DatastoreServeOptions,
  { endpoint: 'http://x', fetch: undefined } satisfies C.HttpClientOptions,
  { query: undefined, headers: undefined, signal: undefined, accept: undefined } satisfies C.RequestOptions,
  { attempts: undefined, baseDelayMs: undefined, signal: undefined, onRetry: undefined } satisfies W.RetryOptions,
  { signal: undefined, delimiter: undefined, startAfter: undefined } satisfies W.ListOptions,
  { signal: undefined, range: undefined, ifMatch: undefined, onInfo: undefined } satisfies W.ReadOptions,
  { signal: undefined, contentType: undefined, metadata: undefined, ifMatch: undefined, ifNoneMatch: undefined, size: undefined, partSize: undefined, partConcurrency: undefined, onProgress: undefined } satisfies W.WriteOptions,
  { signal: undefined, metadata: undefined, contentType: undefined } satisfies W.ObjectCopyOptions,
  { method: 'GET', expiresIn: 60, signal: undefined, contentType: undefined } satisfies W.PresignOptions,
  { signal: undefined, probePrefix: undefined } satisfies W.DetectOptions,
  { signal: undefined, ifMatch: undefined } satisfies W.LayoutOptions,
  { storage: undefined, signal: undefined } satisfies W.TableInspectOptions,
  { storage: undefined, signal: undefined } satisfies W.ListTablesOptions,
  { from: undefined, datamartFolder: undefined, config: undefined, configPath: undefined } satisfies W.ResolveTableOptions,
  { prefix: '', include: undefined, exclude: undefined, manifest: undefined, metaFiles: undefined, bucket: undefined, display: undefined, signal: undefined } satisfies W.SelectOptions,
];
export async function fromEnv(store: StorageDriver, ds: Datastore, env: NodeJS.ProcessEnv): Promise<unknown[]> {
  const plan = await W.planTreeCopy(store, '', store, '', undefined);
  return [
    await fetchDataset({ source: 's3://b/p', dest: env['DEST'], datasetId: env['ID'], concurrency: undefined }),
    await W.copyObjects(store, store, plan, { attempts: undefined, signal: undefined, onEvent: undefined }),
    await openStorage('s3://b', { cwd: env['CWD'], s3: { endpoint: env['AWS_ENDPOINT_URL'], profile: env['AWS_PROFILE'] } }),
    await W.buildTable({ source: 's3://b/p', to: env['OUT'], cache: env['CACHE'], format: undefined }),
    await W.ingestTables({ dest: 's3://b/p', tempDir: env['TMPDIR'], all: true, layout: undefined }),
    await W.syncFolder({ dir: '.', direction: undefined, maxDelete: undefined, storage: undefined }),
    await ds.listDatasets({ approver: env['WHO'], paginationKey: undefined, sortBy: undefined }),
    await ds.searchDatasets('q', { limit: undefined }),
    await ds.generateDatasetPresignedUrl('10378.1/1', 'a.csv', { method: undefined, expiresIn: undefined }),
    new Datastore({ endpoint: 'http://x', token: env['WHARF_TOKEN'], fetch: undefined }),
    await D.openPgCatalog({ connectionString: 'postgres://x', schema: env['SCHEMA'], poolSize: undefined }),
  ];
}
export type Used = [S3Credentials, ChecksumMode, FetchRequestCounts, DatasetSelector, FileDigest, SyncConfig,
  SyncGuardTrip, SyncChangeRecord, SyncSkippedChange, SyncRefusedPath, SyncLocalFile, IngestSchemaChange, IngestWindowBound,
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
