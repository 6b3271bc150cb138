import { randomUUID } from 'node:crypto';
import { lstat, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PreconditionFailedError, throwIfAborted, type WharfError } from '../core/errors.js';
import { lockFolder } from '../core/folder-lock.js';
import { unsafeKeyReason } from '../core/keys.js';
import { openStorage, type OpenStorageOptions } from '../storage/registry.js';
import { sameEtag } from '../storage/etag.js';
import type { StorageDriver } from '../storage/types.js';
import { applyPlan, type ApplyResult } from './apply-plan.js';
import { IgnoreRules } from './ignore-rules.js';
import {
  appendBaseJournal,
  readBase,
  type BaseState,
  readConfig,
  syncPaths,
  trashStamp,
  writeBase,
  type SyncPaths,
} from './local-state.js';
import { planSync } from './plan-sync.js';
import { assertRemoteApart } from './remote-overlap.js';
import {
  commitRemoteIndex,
  readRemoteIndex,
  remoteIndexEtag,
  writeJournal,
  type IndexSnapshot,
} from './remote-index.js';
import { loadStatCache, saveStatCache, scanFolder, type StatCacheEntry } from './scan-folder.js';
import { checkGuards, type GuardTrip, type MaxDelete } from './sync-guards.js';
import { acquireLease, type Lease } from './sync-lease.js';
import type {
  CommitRecord,
  Direction,
  EntryMap,
  IndexEntry,
  LocalFile,
  LocalSnapshot,
  Prefer,
  RefusedPath,
  SyncIndex,
  SyncPlan,
} from './types.js';
import { makeDir } from '../core/make-dir.js';

export interface SyncOptions {
  /** The linked folder (see `initSync`). */
  dir: string;
  /** An open store rooted at the remote prefix (tests, library use); otherwise opened from the folder's config. */
  store?: StorageDriver | undefined;
  storage?: OpenStorageOptions | undefined;
  /** Default 'both'. */
  direction?: Direction | undefined;
  /** Edit-vs-edit conflicts: default keep both (the local copy under a conflict name). */
  prefer?: Prefer | undefined;
  /** Delete guard; default 50 % of tracked files or 1,000, whichever is smaller. */
  maxDelete?: MaxDelete | undefined;
  /** Go ahead even when a guard trips. */
  force?: boolean | undefined;
  /** Plan only: no writes anywhere (the local state included). */
  dryRun?: boolean | undefined;
  /**
   * Asked once with the plan before anything changes; resolve false to stop. Default: go ahead.
   * Not asked for an empty plan.
   */
  confirm?: ((plan: SyncPlan) => Promise<boolean>) | undefined;
  /**
   * Cuts each plan down before the guards and the confirmation (`sync apply`: only the saved plan's actions);
   * may throw to refuse it. `attempt` is 1 for the first plan, higher for re-plans after another member committed.
   */
  select?: ((plan: SyncPlan, attempt: number) => SyncPlan) | undefined;
  /** Conflict-copy names to reuse where still free (a saved plan's). */
  conflictNames?: ReadonlyMap<string, string> | undefined;
  /** Files transferred at once (default 16). */
  concurrency?: number | undefined;
  /** Default 8 MiB. */
  partSize?: number | undefined;
  /** Default 4. */
  partConcurrency?: number | undefined;
  /** Attempts per transfer (default 5). */
  attempts?: number | undefined;
  /** Commit attempts when other members commit in between (default 10). */
  commitAttempts?: number | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: SyncEvent) => void) | undefined;
}

export type SyncEvent =
  | { type: 'scanned'; files: number; hashed: number; warnings: string[] }
  | { type: 'planned'; plan: SyncPlan; attempt: number }
  | { type: 'bytes'; delta: number }
  | { type: 'file'; path: string; ok: boolean }
  | { type: 'retry'; attempt: number; reason: string };

/** Which concurrency guarantee the run had. */
export type SyncGuarantee = 'compare-and-swap' | 'lease';

export interface SyncResult {
  dir: string;
  remote: string;
  member: string;
  plan: SyncPlan;
  /** False when the plan was only shown (dry run, declined, a guard tripped, nothing to do). */
  applied: boolean;
  declined: boolean;
  guards: GuardTrip[];
  /** Remote index generation after the run. */
  generation: number;
  committed: boolean;
  guarantee: SyncGuarantee;
  failed: { path: string; error: WharfError }[];
  conflicts: { path: string; conflictPath: string }[];
  warnings: string[];
  attempts: number;
}

const DEFAULTS = {
  concurrency: 16,
  partSize: 8 * 1024 * 1024,
  partConcurrency: 4,
  attempts: 5,
  commitAttempts: 10,
};

/**
 * One sync of a linked folder with its remote prefix: scan (stat cache), read the remote index, 3-way plan
 * against this member's base, guards, confirmation, apply, then commit the new index with compare-and-swap.
 * When another member commits in between, everything is re-read and re-planned (uploads already made are
 * recognised by their SHA-256 and not repeated). Remote changes enter the base only after a successful commit;
 * local ones (downloads, local deletes) as soon as they are done.
 */
export async function syncFolder(options: SyncOptions): Promise<SyncResult> {
  const dir = resolve(options.dir);
  const paths = syncPaths(dir);
  const config = await readConfig(paths);
  // sync.json may have been edited by hand since `sync init` checked this.
  await assertRemoteApart(dir, config.remote);
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const store = options.store ?? (await openStorage(config.remote, options.storage ?? {}));
  const signal = options.signal;
  const emit = options.onEvent ?? (() => undefined);
  // Detected only when something is about to change: a no-change sync or a dry run writes nothing (the S3
  // probe for conditional writes PUTs a throw-away object).
  let guarantee: SyncGuarantee | undefined;
  const unlock = options.dryRun ? async () => undefined : await lockFolder(paths.stateDir, dir, 'wharf sync');
  let lease: Lease | undefined;
  try {
    let confirmed: SyncPlan | undefined;
    for (let attempt = 1; ; attempt++) {
      const state = await readState(dir, paths, store, signal);
      emit({ type: 'scanned', files: state.local.size, hashed: state.hashed, warnings: state.warnings });
      const planned = planSync({
        local: state.local,
        base: state.base,
        remote: state.remote.entries,
        isIgnored: state.isLeftAlone,
        member: config.member,
        now: new Date(),
        direction: options.direction ?? 'both',
        ...(options.prefer ? { prefer: options.prefer } : {}),
        ...(options.conflictNames ? { conflictNames: options.conflictNames } : {}),
        keyRefusal: store.keyRefusal?.bind(store),
        refused: state.refused,
      });
      const plan = options.select ? options.select(planned, attempt) : planned;
      emit({ type: 'planned', plan, attempt });
      const result: SyncResult = {
        dir,
        remote: config.remote,
        member: config.member,
        plan,
        applied: false,
        declined: false,
        guards: [],
        generation: state.remote.generation,
        committed: false,
        guarantee: guarantee ?? assumedGuarantee(store),
        // Paths the remote cannot hold are failures of every run that would have sent them.
        failed: options.dryRun ? [] : plan.refused.map(({ path, error }) => ({ path, error })),
        conflicts: [],
        warnings: state.warnings,
        attempts: attempt,
      };
      const folderExists = await lstat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      result.guards = checkGuards({
        plan,
        localFileCount: state.local.size,
        folderExists,
        ...(options.maxDelete ? { maxDelete: options.maxDelete } : {}),
      });
      if (result.guards.length > 0 && !options.force) return result;
      if (options.dryRun) return result;
      if (plan.actions.length === 0) {
        // Nothing to do: rewrite the state files only if they are out of date (a 100,000-file base is ~20 MB).
        if (state.statCacheChanged) await saveStatCache(paths.statCacheFile, state.statCache);
        if ((await fileExists(paths.baseJournalFile)) || state.baseIndexEtag === undefined) {
          const local = new Map([...state.local].map(([p, f]) => [p, f.sha256]));
          await updateBase(paths, state, state.remote, local);
        }
        return result;
      }
      if (guarantee === undefined) {
        guarantee = await guaranteeOf(store, signal);
        if (guarantee === 'lease') {
          // Without compare-and-swap the plan only holds if made while holding the lease: take it, plan again.
          lease = await acquireLease(store, config.member, signal);
          attempt -= 1;
          continue;
        }
      }
      if (confirmed === undefined) {
        if (options.confirm && !(await options.confirm(plan))) return { ...result, declined: true };
        confirmed = plan;
      } else if (widens(plan, confirmed)) {
        // Other members' commits changed the plan: deletions or conflicts nobody agreed to need a new yes.
        if (options.confirm && !(await options.confirm(plan))) return { ...result, declined: true };
        confirmed = plan;
      }
      throwIfAborted(signal);
      await makeDir(paths.partialDir);
      await removeTempFiles(paths.tempDir);
      const baseJournal = new BaseJournal(paths);
      let outcomeEtag: string | undefined;
      const applied = await applyPlan(plan.actions, state.local, {
        store,
        paths,
        member: config.member,
        stamp: trashStamp(new Date()),
        concurrency: settings.concurrency,
        partSize: settings.partSize,
        partConcurrency: settings.partConcurrency,
        attempts: settings.attempts,
        remotePaths: new Set(state.remote.entries.keys()),
        ...(signal ? { signal } : {}),
        onBytes: (delta) => emit({ type: 'bytes', delta }),
        onFileDone: (path, ok) => emit({ type: 'file', path, ok }),
        onLocalSettled: (path, entry) => baseJournal.record(path, entry),
      });
      await baseJournal.flushed();
      Object.assign(result, {
        applied: true,
        failed: [...result.failed, ...applied.failed],
        conflicts: applied.conflicts,
        warnings: [...result.warnings, ...applied.warnings],
      });
      const next = nextIndex(state.remote, applied, config.member, state.local);
      if (next !== undefined) {
        if (lease) await lease.renew();
        const outcome = await commitRemoteIndex(store, state.remote, withShortLastCommit(next), signal);
        if (outcome.committed) outcomeEtag = outcome.etag === '' ? undefined : outcome.etag;
        if (!outcome.committed) {
          // What this attempt changed locally (downloads, local deletes and moves) stays done: the base takes the
          // index entries the folder now matches, or the re-plan would take a downloaded file for a local edit
          // (a spurious conflict copy when its owner changed it again meanwhile). Uploads stay pending.
          await updateBase(paths, state, state.remote, applied.localAfter);
          if (attempt >= settings.commitAttempts) {
            throw new PreconditionFailedError(
              `other members kept committing to ${store.name}: gave up after ${attempt} attempts`,
              { hint: 'sync again; nothing was lost (uploads made so far are reused)' },
            );
          }
          emit({ type: 'retry', attempt, reason: 'another member committed first' });
          await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random()), signal);
          continue;
        }
        result.committed = true;
        result.generation = next.generation;
        await afterCommit(store, applied, next, signal, result);
      }
      const committed: IndexSnapshot = next
        ? {
            generation: next.generation,
            entries: new Map(Object.entries(next.entries)),
            etag: result.committed ? outcomeEtag : undefined,
            ...(next.lineage !== undefined ? { lineage: next.lineage } : {}),
          }
        : state.remote;
      await updateBase(paths, state, committed, applied.localAfter);
      await saveStatCache(paths.statCacheFile, await refreshStatCache(dir, state.statCache, applied));
      return result;
    }
  } finally {
    await lease?.release().catch(() => undefined);
    await unlock();
    if (!options.store) await store.close?.();
  }
}

interface ReadState {
  local: LocalSnapshot;
  /** The scan hashed files or found files gone: the stat cache on disk is out of date. */
  statCacheChanged: boolean;
  /** Ignored paths, and paths the scan could not read this time: no action, no base change. */
  isLeftAlone: (path: string) => boolean;
  statCache: Map<string, StatCacheEntry>;
  hashed: number;
  warnings: string[];
  /** Local names the scan found no object key for. */
  refused: RefusedPath[];
  rules: IgnoreRules;
  base: EntryMap;
  /** The index ETag base.json says it equals (see BaseState.indexEtag). */
  baseIndexEtag: string | undefined;
  remote: IndexSnapshot;
}

async function readState(
  dir: string,
  paths: SyncPaths,
  store: StorageDriver,
  signal: AbortSignal | undefined,
): Promise<ReadState> {
  const rules = await IgnoreRules.load(dir);
  let cacheSizeBefore = 0;
  const basePromise = readBase(paths);
  const [scan, remote, base] = await Promise.all([
    (async () => {
      const cache = await loadStatCache(paths.statCacheFile);
      cacheSizeBefore = cache.size;
      const exists = await lstat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!exists)
        return {
          files: new Map(),
          statCache: new Map(),
          hashed: 0,
          hashedBytes: 0,
          warnings: [],
          refused: [],
          incomplete: [],
        };
      return scanFolder(dir, { rules, statCache: cache, ...(signal ? { signal } : {}) });
    })(),
    basePromise.then((b) => readRemote(store, b, signal)),
    basePromise,
  ]);
  const baseHolds = baseDescribes(base, remote);
  const warnings = baseHolds
    ? [...scan.warnings]
    : [
        ...scan.warnings,
        'the remote index was reset or replaced since this folder last synced: files are compared by content, and no deletion is inferred',
      ];
  // An index entry whose name no folder can hold ('..', '//', a leading '/': another tool or a hand edit put it
  // there) would be written outside the folder, or onto another path: it is left alone, like an ignored path.
  const unsafePaths = new Set<string>();
  for (const path of remote.entries.keys()) {
    const unsafe = unsafeKeyReason(path);
    if (unsafe === undefined) continue;
    unsafePaths.add(path);
    warnings.push(`${path}: left alone: an entry of the remote index no folder can hold (${unsafe})`);
  }
  for (const path of base.entries.keys()) if (unsafeKeyReason(path) !== undefined) unsafePaths.add(path);
  // Unreadable files and folders (and files that kept changing) are unknown, not deleted.
  const unknownFiles = new Set(scan.incomplete.filter((p) => !p.endsWith('/')));
  const unknownFolders = scan.incomplete.filter((p) => p.endsWith('/'));
  const isLeftAlone = (path: string): boolean =>
    unsafePaths.has(path) ||
    rules.ignores(path) ||
    unknownFiles.has(path) ||
    unknownFolders.some((folder) => path.startsWith(folder));
  return {
    local: scan.files,
    statCacheChanged: scan.hashed > 0 || scan.statCache.size !== cacheSizeBefore,
    isLeftAlone,
    statCache: scan.statCache,
    hashed: scan.hashed,
    warnings,
    refused: scan.refused,
    rules,
    base: baseHolds ? base.entries : new Map(),
    baseIndexEtag: baseHolds ? base.indexEtag : undefined,
    // An index last committed by a Wharf without lineages has none: it keeps the base's, so that this
    // member's commit does not give it a new one that every other member would take for a reset.
    remote:
      baseHolds && remote.lineage === undefined && base.lineage !== undefined
        ? { ...remote, lineage: base.lineage }
        : remote,
  };
}

/**
 * Whether the base was taken from this remote index's history. After `sync reset --remote`, or with a folder
 * relinked to another remote, a path in the base but not in the index was never deleted by a member: taking it
 * for a deletion would delete the member's file. (A base written before lineages existed has none: then only a
 * generation going back gives the reset away.)
 */
function baseDescribes(base: BaseState, remote: IndexSnapshot): boolean {
  if (base.entries.size === 0 && base.generation === 0) return true;
  if (remote.generation < base.generation) return false;
  // Either side from a Wharf without lineages (a member not upgraded yet committed last): the generation is
  // all there is to go by.
  if (base.lineage === undefined || remote.lineage === undefined) return true;
  return base.lineage === remote.lineage;
}

/**
 * The remote index; when it still has the ETag the base was taken from, the base itself (one HEAD instead of
 * downloading and parsing the whole index: what keeps a no-change sync of 100,000 files fast and small).
 */
async function readRemote(
  store: StorageDriver,
  base: BaseState,
  signal: AbortSignal | undefined,
): Promise<IndexSnapshot> {
  if (base.indexEtag !== undefined) {
    const etag = await remoteIndexEtag(store, signal);
    if (etag !== undefined && sameEtag(etag, base.indexEtag))
      return {
        generation: base.generation,
        entries: base.entries,
        etag,
        ...(base.lineage !== undefined ? { lineage: base.lineage } : {}),
      };
  }
  return readRemoteIndex(store, signal);
}

/**
 * The remote index with this run's remote-side changes, or undefined when there are none. An entry whose content
 * is the scanned local file's records that file's mtime (when the edit was made, for `--prefer newer`).
 */
export function nextIndex(
  current: Pick<IndexSnapshot, 'generation' | 'entries' | 'lineage'>,
  applied: Pick<ApplyResult, 'remoteChanges'>,
  member: string,
  local?: LocalSnapshot,
): SyncIndex | undefined {
  if (applied.remoteChanges.length === 0) return undefined;
  const at = new Date().toISOString();
  const entries = Object.fromEntries(current.entries);
  for (const { change, entry } of applied.remoteChanges) {
    if (change.action === 'delete') delete entries[change.path];
    if (change.action === 'move' && change.from !== undefined) delete entries[change.from];
    if (entry) {
      const before =
        current.entries.get(change.path) ?? (change.from ? current.entries.get(change.from) : undefined);
      const edited = editTimeOf(entry.sha256, local?.get(change.path), before);
      entries[change.path] = {
        ...entry,
        version: (before?.version ?? 0) + 1,
        modifiedBy: member,
        modifiedAt: at,
        ...(edited !== undefined ? { mtimeMs: edited } : {}),
      };
    }
  }
  const generation = current.generation + 1;
  const lastCommit: CommitRecord = {
    generation,
    member,
    at,
    changes: applied.remoteChanges.map((c) => c.change),
  };
  const lineage = current.lineage ?? randomUUID();
  return { format: 'wharf-sync-index', version: 1, generation, lineage, entries, lastCommit };
}

/** The uploaded file's mtime when it holds the committed content; else the previous entry's, for the same content. */
function editTimeOf(
  sha256: string,
  file: LocalFile | undefined,
  before: IndexEntry | undefined,
): number | undefined {
  if (file?.sha256 === sha256) return file.mtimeMs;
  return before?.sha256 === sha256 ? before.mtimeMs : undefined;
}

/** Changes kept in the index's `lastCommit` at most; the journal record always has them all. */
const INDEX_CHANGES_LIMIT = 1000;

/**
 * The index as written: a big commit's change list (100,000 paths on a first push) would make every member
 * read it on every sync, so only its size is kept there; `wharf sync log` reads the journal.
 */
export function withShortLastCommit(index: SyncIndex): SyncIndex {
  const commit = index.lastCommit;
  if (!commit || commit.changes.length <= INDEX_CHANGES_LIMIT) return index;
  return { ...index, lastCommit: { ...commit, changes: [], changeCount: commit.changes.length } };
}

/** Once committed: remove deleted and moved-away keys (their content is in the trash or at the new key) and journal it. */
async function afterCommit(
  store: StorageDriver,
  applied: ApplyResult,
  committed: SyncIndex,
  signal: AbortSignal | undefined,
  result: SyncResult,
): Promise<void> {
  const keys = applied.remoteChanges
    .map((c) => c.deleteAfterCommit)
    .filter((k): k is string => k !== undefined && committed.entries[k] === undefined);
  try {
    if (keys.length > 0) await store.delete(keys, signal ? { signal } : {});
  } catch (error) {
    result.warnings.push(
      `could not remove ${keys.length} deleted objects (they are no longer in the index): ${(error as Error).message}`,
    );
  }
  if (committed.lastCommit) {
    await writeJournal(store, committed.lastCommit, signal).catch((error: Error) => {
      result.warnings.push(`could not write the journal entry: ${error.message}`);
    });
  }
}

/**
 * The new base: a path whose local content now equals the committed index's takes the index entry; every other
 * path keeps its old base entry (skipped, failed or ignored changes stay pending for the next sync).
 */
async function updateBase(
  paths: SyncPaths,
  state: ReadState,
  index: IndexSnapshot,
  localAfter: Map<string, string>,
): Promise<void> {
  const base: EntryMap = new Map(state.base);
  const all = new Set([...base.keys(), ...index.entries.keys(), ...localAfter.keys()]);
  for (const path of all) {
    if (state.isLeftAlone(path)) continue;
    const remote = index.entries.get(path);
    const local = localAfter.get(path);
    if (remote === undefined && local === undefined) base.delete(path);
    else if (remote !== undefined && local === remote.sha256) base.set(path, remote);
  }
  const exact = index.etag !== undefined && sameEntries(base, index.entries);
  await writeBase(paths, {
    generation: index.generation,
    ...(index.lineage !== undefined ? { lineage: index.lineage } : {}),
    entries: base,
    ...(exact ? { indexEtag: index.etag } : {}),
  });
}

function sameEntries(a: EntryMap, b: EntryMap): boolean {
  if (a.size !== b.size) return false;
  for (const [path, x] of a) {
    const y = b.get(path);
    if (
      y === undefined ||
      (x !== y &&
        (x.sha256 !== y.sha256 ||
          x.size !== y.size ||
          x.etag !== y.etag ||
          x.version !== y.version ||
          x.modifiedBy !== y.modifiedBy ||
          x.modifiedAt !== y.modifiedAt ||
          x.mtimeMs !== y.mtimeMs))
    )
      return false;
  }
  return true;
}

/** Adds the files a sync wrote (downloads, renames) to the stat cache so the next scan does not re-hash them. */
/**
 * The stat cache after a sync: a file keeps (or gets) an entry only while its size, mtime and inode are still
 * those at which its SHA-256 was known: the scan's for files the sync left alone, the ones it wrote for
 * downloads and moves. A file saved while the sync ran has no entry, so the next scan reads it again: an entry
 * pairing its new stat with its old hash would make the next sync take the edit for the old content
 * (download over it, or upload it under the wrong hash).
 */
async function refreshStatCache(
  dir: string,
  scanned: Map<string, StatCacheEntry>,
  applied: Pick<ApplyResult, 'localAfter' | 'written'>,
): Promise<Map<string, StatCacheEntry>> {
  const next = new Map<string, StatCacheEntry>();
  for (const [path, sha256] of applied.localAfter) {
    const known: { size: number; mtimeMs: number; sha256: string; ino?: number } | undefined =
      applied.written.get(path) ?? scanned.get(path);
    if (known?.sha256 !== sha256) continue;
    const s = await lstat(join(dir, ...path.split('/'))).catch(() => undefined);
    if (!s?.isFile() || s.size !== known.size || s.mtimeMs !== known.mtimeMs) continue;
    if (known.ino !== undefined && known.ino !== s.ino) continue;
    next.set(path, { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, sha256 });
  }
  return next;
}

function assumedGuarantee(store: StorageDriver): SyncGuarantee {
  return store.capabilities.conditionalWrite === false ? 'lease' : 'compare-and-swap';
}

/** Compare-and-swap where the store honours conditional writes (probed once), else the lease. */
export async function guaranteeOf(
  store: StorageDriver,
  signal: AbortSignal | undefined,
): Promise<SyncGuarantee> {
  let conditional = store.capabilities.conditionalWrite;
  if (conditional === 'unknown' && store.detectCapabilities) {
    conditional = (await store.detectCapabilities(signal ? { signal } : {})).conditionalWrite;
  }
  return conditional === true ? 'compare-and-swap' : 'lease';
}

/** A re-plan that deletes or conflicts on paths the user did not confirm needs a new confirmation. */
function widens(plan: SyncPlan, confirmed: SyncPlan): boolean {
  const risky = (p: SyncPlan) =>
    new Set(
      p.actions
        .filter((a) => a.kind === 'delete-local' || a.kind === 'delete-remote' || a.kind === 'conflict')
        .map((a) => `${a.kind}:${'path' in a ? a.path : ''}`),
    );
  const before = risky(confirmed);
  return [...risky(plan)].some((k) => !before.has(k));
}

async function fileExists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** Appends base changes as local work finishes; records arriving during a write go out in the next one. */
class BaseJournal {
  #pending: Parameters<typeof appendBaseJournal>[1] = [];
  #writing: Promise<void> = Promise.resolve();

  constructor(private readonly paths: SyncPaths) {}

  record(path: string, entry: IndexEntry | undefined): Promise<void> {
    this.#pending.push(entry ? { set: path, entry } : { remove: path });
    this.#writing = this.#writing.then(async () => {
      const records = this.#pending;
      this.#pending = [];
      await appendBaseJournal(this.paths, records);
    });
    return this.#writing;
  }

  flushed(): Promise<void> {
    return this.#writing;
  }
}

/** Temp files of downloads a killed run left behind (resumable partials live in partial/ and stay). */
async function removeTempFiles(tempDir: string): Promise<void> {
  await rm(tempDir, { recursive: true, force: true });
  await makeDir(tempDir);
}

function definedOnly(o: SyncOptions): Partial<typeof DEFAULTS> {
  const out: Partial<typeof DEFAULTS> = {};
  for (const k of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolveSleep, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolveSleep();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
