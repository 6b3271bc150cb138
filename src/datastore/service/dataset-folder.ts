import { createHash } from 'node:crypto';
import { InvalidKeyError, WharfError, quoteKeyForMessage } from '../../core/errors.js';
import { runPool } from '../../core/pool.js';
import { copyObjects, planTreeCopy } from '../../transfer/copy-objects.js';
import type { StorageDriver } from '../../storage/types.js';
import type { DatasetRecord } from '../model/dataset.js';
import type { ManifestEntry } from '../catalog/types.js';

/** Name of the record copy kept in every dataset folder. */
export const METADATA_FILE = 'metadata.json';

/**
 * The folder (a key prefix ending in '/') that holds a dataset's files: the id with every character other
 * than letters, digits, '.', '_' and '-' replaced by '-'. `10378.1/1451860` → `10378.1-1451860/`. Ids are
 * `PREFIX/N` with a prefix free of '/', so the last '-' separates prefix and number and folders never clash.
 */
export function datasetFolder(id: string): string {
  return `${id.replace(/[^A-Za-z0-9._-]/g, '-')}/`;
}

/** Writes `<folder>metadata.json`: the record as `fetchDataset` returns it, pretty-printed. */
export async function writeMetadataFile(store: StorageDriver, record: DatasetRecord): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
  await store.write(`${record.folder}${METADATA_FILE}`, body, {
    contentType: 'application/json',
    size: body.length,
  });
}

export interface FolderCopyResult {
  files: number;
  bytes: number;
  serverSide: boolean;
}

/**
 * Copies every file of `fromFolder` to the same relative path under `toFolder` (except `metadata.json`,
 * which the new dataset writes itself). Server-side copy where the store has it, else streamed through
 * this process. Throws if any file failed, naming the first failures.
 */
export async function copyDatasetFiles(
  store: StorageDriver,
  fromFolder: string,
  toFolder: string,
  signal?: AbortSignal,
): Promise<FolderCopyResult> {
  const plan = await planTreeCopy(store, fromFolder, store, toFolder, signal).catch((error: unknown) => {
    throw uncopyableFileError(error, fromFolder, toFolder);
  });
  const skip = `${fromFolder}${METADATA_FILE}`;
  const items = plan.items.filter((i) => i.sourceKey !== skip);
  const totalBytes = items.reduce((sum, i) => sum + i.size, 0);
  const result = await copyObjects(store, store, { items, totalBytes }, signal ? { signal } : {});
  if (result.failed.length > 0) {
    const first = result.failed
      .slice(0, 3)
      .map((f) => `${f.sourceKey}: ${f.error.message}`)
      .join('; ');
    throw new WharfError(
      result.failed[0]!.error.code,
      `copying the previous version's files failed for ${result.failed.length} of ${items.length} file(s): ${first}`,
      {
        hint: 'the new version was not created; fix the store problem and version again, or version with copyFiles: false',
      },
    );
  }
  return {
    files: result.done.length,
    bytes: result.bytes,
    serverSide: store.capabilities.serverSideCopy && store.copy !== undefined,
  };
}

/**
 * The planner refuses a key no store may create (a '.' or '..' segment, which S3 write credentials can make),
 * naming the source object (or the new folder's key); the caller needs the path of the previous version's file
 * and a way out.
 */
function uncopyableFileError(error: unknown, fromFolder: string, toFolder: string): unknown {
  if (!(error instanceof InvalidKeyError) || error.key === undefined) return error;
  const folder = [fromFolder, toFolder].find((f) => error.key!.startsWith(f));
  if (folder === undefined) return error;
  const path = error.key.slice(folder.length);
  const segment = path.split('/').includes('..') ? '..' : '.';
  return new InvalidKeyError(
    undefined,
    `cannot copy the file ${quoteKeyForMessage(path)} into the new version: its path has a '${segment}' segment, which no store may create`,
    {
      hint: 'version with copyFiles: false and upload the files under safe paths, or (while the dataset is not PENDING or RELEASED) delete that file with write credentials (aws s3 rm)',
    },
  );
}

/** path (relative to the folder), size and SHA-256 of every file in the folder except metadata.json, by path. */
export async function folderManifest(
  store: StorageDriver,
  folder: string,
  signal?: AbortSignal,
): Promise<ManifestEntry[]> {
  const keys: { key: string; size: number }[] = [];
  for await (const info of store.list(folder, signal ? { signal } : {})) {
    if (info.isPrefix || info.key === `${folder}${METADATA_FILE}`) continue;
    keys.push({ key: info.key, size: info.size });
  }
  const entries: ManifestEntry[] = [];
  await runPool(
    keys,
    8,
    async ({ key }) => {
      const hash = createHash('sha256');
      let size = 0;
      const body = await store.read(key, signal ? { signal } : {});
      for await (const chunk of body) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      entries.push({ path: key.slice(folder.length), size, sha256: hash.digest('hex') });
    },
    signal,
  );
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
