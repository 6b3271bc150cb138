import { readFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { isIndexEntry } from './remote-index.js';
import type { EntryMap } from './types.js';

/** A member's state inside the synced folder (always ignored by the scan). */
export const LOCAL_STATE_FOLDER = '.wharf';

export interface SyncPaths {
  dir: string;
  stateDir: string;
  configFile: string;
  baseFile: string;
  statCacheFile: string;
  /** `.wharf/trash/<timestamp>/<path>`: local copies a sync removed or replaced. */
  trashDir: string;
  /** Downloads land here first (same file system as the folder, so the final rename is atomic). */
  tempDir: string;
  partialDir: string;
}

export function syncPaths(dir: string): SyncPaths {
  const stateDir = join(dir, LOCAL_STATE_FOLDER);
  return {
    dir,
    stateDir,
    configFile: join(stateDir, 'sync.json'),
    baseFile: join(stateDir, 'base.json'),
    statCacheFile: join(stateDir, 'stat-cache.json'),
    trashDir: join(stateDir, 'trash'),
    tempDir: join(stateDir, 'tmp'),
    partialDir: join(stateDir, 'partial'),
  };
}

/** `.wharf/sync.json`: what this folder is linked to and as whom. */
export interface SyncConfig {
  format: 'wharf-sync-config';
  version: 1;
  /** The remote location as given to `wharf sync init` (normalised). */
  remote: string;
  member: string;
  createdAt: string;
}

export function defaultMemberName(): string {
  let user = process.env.USER ?? process.env.USERNAME ?? '';
  if (user === '') {
    try {
      user = userInfo().username;
    } catch {
      user = 'user';
    }
  }
  return `${user}@${hostname()}`;
}

export async function readConfig(paths: SyncPaths): Promise<SyncConfig> {
  let text: string;
  try {
    text = await readFile(paths.configFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`${paths.dir} is not linked to a remote (no ${paths.configFile})`, {
        hint: `link it first: wharf sync init ${paths.dir} s3://bucket/prefix`,
      });
    }
    throw error;
  }
  const config = parseJson(text, paths.configFile) as Partial<SyncConfig>;
  if (
    config.format !== 'wharf-sync-config' ||
    typeof config.remote !== 'string' ||
    typeof config.member !== 'string'
  )
    throw new ValidationError(`${paths.configFile} is not a Wharf sync configuration`, {
      hint: `run wharf sync init ${paths.dir} REMOTE again`,
    });
  return config as SyncConfig;
}

export async function writeConfig(paths: SyncPaths, config: SyncConfig): Promise<void> {
  await writeFileAtomic(paths.configFile, `${JSON.stringify(config, null, 2)}\n`);
}

/** `.wharf/base.json`: the remote index entries as of this member's last successful sync. */
export interface BaseState {
  generation: number;
  entries: EntryMap;
}

export async function readBase(paths: SyncPaths): Promise<BaseState> {
  let text: string;
  try {
    text = await readFile(paths.baseFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { generation: 0, entries: new Map() };
    throw error;
  }
  const parsed = parseJson(text, paths.baseFile) as { generation?: unknown; entries?: unknown };
  const entries: EntryMap = new Map();
  if (typeof parsed.entries === 'object' && parsed.entries !== null) {
    for (const [path, entry] of Object.entries(parsed.entries)) {
      if (!isIndexEntry(entry)) throw corruptBase(paths);
      entries.set(path, entry);
    }
  } else throw corruptBase(paths);
  return { generation: typeof parsed.generation === 'number' ? parsed.generation : 0, entries };
}

export async function writeBase(paths: SyncPaths, base: BaseState): Promise<void> {
  const entries = Object.fromEntries([...base.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeFileAtomic(paths.baseFile, JSON.stringify({ generation: base.generation, entries }));
}

/** `20261123T165500.123Z`: sortable, and safe as a folder name everywhere. */
export function trashStamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '');
}

function corruptBase(paths: SyncPaths): ValidationError {
  return new ValidationError(`${paths.baseFile} is damaged`, {
    hint: `run wharf sync reset ${paths.dir} and sync again (files are compared by content, nothing is lost)`,
  });
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValidationError(`${where} is not valid JSON: ${(error as Error).message}`, {
      hint: 'restore it or run wharf sync reset',
    });
  }
}
