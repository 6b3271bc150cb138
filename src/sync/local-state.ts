import { access, appendFile, readFile, rm } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { isIndexEntry } from './remote-index.js';
import type { EntryMap, IndexEntry } from './types.js';
import { jsonSyntaxReason } from '../core/json-syntax.js';

/** A member's state inside the synced folder (always ignored by the scan). */
export const LOCAL_STATE_FOLDER = '.wharf';

export interface SyncPaths {
  dir: string;
  stateDir: string;
  configFile: string;
  baseFile: string;
  /** Base changes made since base.json was written (local downloads, deletes, moves that finished). */
  baseJournalFile: string;
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
    baseJournalFile: join(stateDir, 'base.journal'),
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

/** The nearest folder above `dir` that is linked (has `.wharf/sync.json`), if any. */
export async function linkedAncestor(dir: string): Promise<string | undefined> {
  for (let current = dirname(dir); current !== dirname(current); current = dirname(current)) {
    if (
      await access(join(current, '.wharf', 'sync.json')).then(
        () => true,
        () => false,
      )
    )
      return current;
  }
  return undefined;
}

export async function readConfig(paths: SyncPaths): Promise<SyncConfig> {
  let text: string;
  try {
    text = await readFile(paths.configFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      // Inside a linked folder: the folder to sync is that one (linking this one would nest two links).
      const linked = await linkedAncestor(paths.dir);
      if (linked) {
        throw new NotFoundError(
          `${paths.dir} is inside the linked folder ${linked}, which syncs as a whole`,
          {
            hint: `run the command on ${linked} (e.g. wharf sync ${linked})`,
          },
        );
      }
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
  /** Lineage of the index the base was taken from (see SyncIndex.lineage). */
  lineage?: string;
  entries: EntryMap;
  /**
   * ETag of the remote index whose entries the base equals exactly, if it does. While the index still has
   * that ETag, a sync takes the base for the remote index instead of downloading it (a 100,000-file index is
   * ~20 MB). Unset when local work after the commit (base.journal) or pending changes make them differ.
   */
  indexEtag?: string;
}

export async function readBase(paths: SyncPaths): Promise<BaseState> {
  let text: string;
  try {
    text = await readFile(paths.baseFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const entries: EntryMap = new Map();
      await applyBaseJournal(paths, entries);
      return { generation: 0, entries };
    }
    throw error;
  }
  const parsed = parseJson(text, paths.baseFile) as {
    generation?: unknown;
    lineage?: unknown;
    entries?: unknown;
    indexEtag?: unknown;
  };
  const entries: EntryMap = new Map();
  if (typeof parsed.entries === 'object' && parsed.entries !== null) {
    for (const [path, entry] of Object.entries(parsed.entries)) {
      if (!isIndexEntry(entry)) throw corruptBase(paths);
      entries.set(path, entry);
    }
  } else throw corruptBase(paths);
  const journalled = await applyBaseJournal(paths, entries);
  const base: BaseState = {
    generation: typeof parsed.generation === 'number' ? parsed.generation : 0,
    entries,
  };
  if (typeof parsed.lineage === 'string') base.lineage = parsed.lineage;
  if (typeof parsed.indexEtag === 'string' && journalled === 0) base.indexEtag = parsed.indexEtag;
  return base;
}

/** One line of base.journal: a path the folder now agrees on with the remote index (or no longer has). */
type BaseJournalRecord = { set: string; entry: IndexEntry } | { remove: string };

/**
 * Records that local work finished (a download, a local delete or move) right away, so a sync killed before
 * its end does not take those files for local edits next time. Lines are appended; a torn last line is ignored.
 */
export async function appendBaseJournal(paths: SyncPaths, records: BaseJournalRecord[]): Promise<void> {
  if (records.length === 0) return;
  await appendFile(paths.baseJournalFile, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/** Applies base.journal to `entries`; returns how many lines it had. */
async function applyBaseJournal(paths: SyncPaths, entries: EntryMap): Promise<number> {
  const text = await readFile(paths.baseJournalFile, 'utf8').catch(() => '');
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    lines += 1;
    try {
      const record = JSON.parse(line) as Partial<{ set: string; entry: unknown; remove: string }>;
      if (typeof record.set === 'string' && isIndexEntry(record.entry)) entries.set(record.set, record.entry);
      else if (typeof record.remove === 'string') entries.delete(record.remove);
    } catch {
      // A line cut short by a crash: the records before it count.
    }
  }
  return lines;
}

export async function writeBase(paths: SyncPaths, base: BaseState): Promise<void> {
  const entries = Object.fromEntries([...base.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeFileAtomic(
    paths.baseFile,
    JSON.stringify({
      generation: base.generation,
      ...(base.lineage !== undefined ? { lineage: base.lineage } : {}),
      ...(base.indexEtag !== undefined ? { indexEtag: base.indexEtag } : {}),
      entries,
    }),
  );
  await rm(paths.baseJournalFile, { force: true });
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
    throw new ValidationError(`${where} is not valid JSON: ${jsonSyntaxReason(error)}`, {
      hint: 'restore it or run wharf sync reset',
    });
  }
}
