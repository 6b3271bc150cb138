import type { InvalidKeyError } from '../core/errors.js';

/**
 * Shared shapes of `wharf sync`: the remote index every member commits to, a member's local view of its
 * folder, and the plan a 3-way diff produces. Paths are '/'-separated, relative to the synced folder and to
 * the remote prefix alike.
 */

/** One file as the shared remote index (and a member's base) records it. */
export interface IndexEntry {
  size: number;
  /** Hex SHA-256 of the content: what every comparison uses. */
  sha256: string;
  /** ETag of the data object at PREFIX/<path> holding this content. */
  etag: string;
  /** Starts at 1 when the path is added; +1 on each committed change of the path. */
  version: number;
  /** Member name of whoever committed this version. */
  modifiedBy: string;
  /** ISO 8601 time of that commit. */
  modifiedAt: string;
  /**
   * Modification time (ms since the epoch, the committer's clock) of the file this version was uploaded from:
   * when the edit was made, which `--prefer newer` compares. Absent in indexes written before it was recorded.
   */
  mtimeMs?: number;
}

/** What one commit changed, kept in the index (the latest) and in the journal (all of them). */
export interface ChangeRecord {
  path: string;
  action: 'add' | 'modify' | 'delete' | 'move';
  /** For `move`: where the content was before. */
  from?: string;
  /** For add/modify/move: the new content. */
  sha256?: string;
  /** For `delete`: the trash key the content was kept under, relative to the prefix. */
  trashKey?: string;
}

export interface CommitRecord {
  generation: number;
  member: string;
  /** ISO 8601. */
  at: string;
  changes: ChangeRecord[];
  /** In the index only, for commits too big to list there: how many changes the journal record has. */
  changeCount?: number;
}

/** `PREFIX/.wharf/index.json`. */
export interface SyncIndex {
  format: 'wharf-sync-index';
  version: 1;
  /** 0 for an index that was never committed; +1 on every commit. */
  generation: number;
  /**
   * Random id given at the index's first commit and kept by every later one. A member's base from an index of
   * another lineage (after `reset --remote`, or a folder relinked elsewhere) says nothing about deletions.
   */
  lineage?: string;
  entries: Record<string, IndexEntry>;
  /** The commit that produced this generation (its change list only when short; the journal has it all). */
  lastCommit?: CommitRecord;
}

/** A file found in the local folder by the scan (ignored files are never in a snapshot). */
export interface LocalFile {
  size: number;
  /** Hex SHA-256, from the stat cache when size, mtime and inode are unchanged. */
  sha256: string;
  mtimeMs: number;
}

/** Local folder contents: path -> file. */
export type LocalSnapshot = Map<string, LocalFile>;

/** What a member's view of the three sides is for a path; absent means "no file". */
export type EntryMap = Map<string, IndexEntry>;

export type Direction = 'both' | 'push' | 'pull';
/** How an edit-vs-edit conflict is resolved; undefined: keep both (the local one under a conflict name). */
export type Prefer = 'local' | 'remote' | 'newer';

/** One step of a plan. */
export type SyncAction =
  /** Local file is new or changed; the remote has the base version (or nothing). */
  | { kind: 'upload'; path: string; reason: 'added' | 'modified'; local: LocalFile; remote?: IndexEntry }
  /** Remote file is new or changed; the local folder has the base version (or nothing). */
  | { kind: 'download'; path: string; reason: 'added' | 'modified'; remote: IndexEntry; local?: LocalFile }
  /** Deleted locally, unchanged remotely: the remote copy moves to the remote trash. */
  | { kind: 'delete-remote'; path: string; remote: IndexEntry }
  /** Deleted remotely, unchanged locally: the local copy moves to the local trash. */
  | { kind: 'delete-local'; path: string; local: LocalFile }
  /** Renamed locally (same content at a new path): server-side copy to `to`, then the old key goes. */
  | { kind: 'move-remote'; from: string; to: string; remote: IndexEntry; local: LocalFile }
  /** Renamed remotely: rename the local file. */
  | { kind: 'move-local'; from: string; to: string; remote: IndexEntry; local: LocalFile }
  /**
   * Changed on both sides with different content. `resolution` says what happens:
   * keep-both: local file renamed to `conflictPath` and uploaded, the remote version downloaded to `path`;
   * local: the local version replaces the remote one (which goes to the remote trash);
   * remote: the remote version replaces the local one (which goes to the local trash).
   * `remote` undefined means the remote deleted the path; then the local change simply wins (an upload).
   */
  | {
      kind: 'conflict';
      path: string;
      local: LocalFile;
      remote: IndexEntry;
      resolution: 'keep-both' | 'local' | 'remote';
      conflictPath?: string;
    }
  /** Both sides hold the same content (identical edits, or a download that finished before a crash): only the base changes. */
  | { kind: 'adopt'; path: string; remote: IndexEntry }
  /** The base forgets a path that is gone on both sides. */
  | { kind: 'forget'; path: string };

/** A change the chosen direction does not carry out this time (it stays pending for a later sync). */
export interface SkippedChange {
  path: string;
  /** e.g. 'remote change (pull to get it)'. */
  reason: string;
}

/**
 * A local file (a folder ends with '/') that cannot be synced under its name: no object key at all (a backslash,
 * not UTF-8), or one the remote store refuses (S3: over 1,024 bytes with the prefix). Never uploaded; reported as
 * failed on every sync until it is renamed or ignored.
 */
export interface RefusedPath {
  path: string;
  /** What the store would throw; `reason` and `hint` say why and what to do. */
  error: InvalidKeyError;
}

export interface SyncPlan {
  actions: SyncAction[];
  skipped: SkippedChange[];
  /** Changes left out because the remote cannot hold the path they need (see RefusedPath). */
  refused: RefusedPath[];
  /** Files in the base that are not ignored (the tracked set the delete guard's percentage is taken of). */
  tracked: number;
  counts: Record<SyncAction['kind'], number>;
  /** delete-remote + delete-local (moves are not deletions). */
  deletions: number;
}
