import { isWharfError, UsageError } from '../core/errors.js';
import { asFolderPrefix } from '../core/keys.js';
import { parseLocation, type Location } from '../core/location.js';
import { createKeyFilter } from '../fetch/key-filter.js';
import { openStorageRoot, type OpenStorageOptions } from '../storage/registry.js';
import type { StorageDriver } from '../storage/types.js';
import {
  knownTableNames,
  resolveTable,
  type ResolveTableOptions,
  type ResolvedTable,
} from './table-config.js';
import { DEFAULT_TABLE_INCLUDE } from './table-format.js';

export interface KnownTable {
  name: string;
  origin: ResolvedTable['origin'];
  /** Where its files are; undefined when the name needs `--from` and none was given. */
  source?: string;
  /** Whether at least one readable file is there (undefined when `source` is). */
  hasFiles?: boolean;
}

export interface ListTablesOptions extends ResolveTableOptions {
  storage?: OpenStorageOptions | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Every known table name (the config's, then the `pega-datamart` preset's) with its location and whether it
 * has files: each prefix is listed only until the first file the table would read.
 */
export async function listTables(options: ListTablesOptions = {}): Promise<KnownTable[]> {
  // A mistyped base fails here: below, a name whose location cannot be made is shown as "needs --from".
  const from = options.from ?? options.config?.from;
  if (from !== undefined) parseLocation(from, options.storage?.cwd);
  const stores = new Map<string, Promise<StorageDriver>>();
  const out: KnownTable[] = [];
  try {
    for (const name of knownTableNames(options.config)) {
      let table: ResolvedTable;
      try {
        table = resolveTable(name, options);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        out.push({ name, origin: options.config?.define?.[name] ? 'config' : 'pega-datamart' });
        continue;
      }
      const location = parseLocation(table.source, options.storage?.cwd);
      const hasFiles = await firstFile(
        location,
        table.include ?? [...DEFAULT_TABLE_INCLUDE],
        stores,
        options,
      );
      out.push({ name, origin: table.origin, source: table.source, hasFiles });
    }
  } finally {
    for (const store of stores.values()) await (await store.catch(() => undefined))?.close?.();
  }
  return out;
}

async function firstFile(
  location: Location,
  include: string[],
  stores: Map<string, Promise<StorageDriver>>,
  options: ListTablesOptions,
): Promise<boolean> {
  const root: Location =
    location.kind === 's3' ? { ...location, key: '' } : { ...location, trailingSlash: true };
  const id = location.kind === 's3' ? `s3://${location.bucket}` : location.path;
  let store = stores.get(id);
  if (!store) {
    store = openStorageRoot(root, options.storage ?? {});
    stores.set(id, store);
  }
  const prefix = location.kind === 's3' ? asFolderPrefix(location.key) : '';
  const matches = createKeyFilter({ include });
  try {
    for await (const object of (await store).list(prefix, options.signal ? { signal: options.signal } : {})) {
      if (object.size > 0 && matches(object.key.slice(prefix.length))) return true;
    }
  } catch (error) {
    // A missing local folder holds no files; a missing bucket is a mistake to report.
    if (isWharfError(error) && error.code === 'NOT_FOUND' && location.kind !== 's3') return false;
    throw error;
  }
  return false;
}
