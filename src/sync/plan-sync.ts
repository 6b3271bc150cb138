/**
 * The sync planner: a pure 3-way diff of the local folder, this member's base and the remote index, on
 * SHA-256 only (mtimes never decide whether something changed). No I/O; the caller applies the plan.
 */
import { InvalidKeyError } from '../core/errors.js';
import type {
  Direction,
  EntryMap,
  IndexEntry,
  LocalFile,
  LocalSnapshot,
  Prefer,
  RefusedPath,
  SkippedChange,
  SyncAction,
  SyncPlan,
} from './types.js';

export interface PlanInput {
  /** Files in the folder now (already without ignored paths). */
  local: LocalSnapshot;
  /** This member's base: the index entries as of its last successful sync. */
  base: EntryMap;
  /** The remote index entries now. */
  remote: EntryMap;
  /** An ignored path is left alone on every side (never deleted anywhere because it is missing locally). */
  isIgnored: (path: string) => boolean;
  /** For conflict names. */
  member: string;
  /** For conflict names (UTC). */
  now: Date;
  /** Default 'both'. */
  direction?: Direction;
  /** Default undefined: keep both versions. */
  prefer?: Prefer;
  /** Conflict-copy names to reuse where still free (a saved plan's, so `sync apply` does what was shown). */
  conflictNames?: ReadonlyMap<string, string>;
  /**
   * Why the remote store cannot create a path (the store's `keyRefusal`): uploads, moves and conflict copies onto
   * such a path are left out as `refused`. Default: every path can be created.
   */
  keyRefusal?: ((path: string) => InvalidKeyError | undefined) | undefined;
  /** Local names the scan found no key for; reported as refused unless the direction is `pull`. */
  refused?: readonly RefusedPath[];
}

type ActionKind = SyncAction['kind'];
type ActionOf<K extends ActionKind> = Extract<SyncAction, { kind: K }>;
type ConflictAction = ActionOf<'conflict'>;

/** What one path looks like on the three sides; undefined means absent. */
interface PathSides {
  path: string;
  local: LocalFile | undefined;
  base: IndexEntry | undefined;
  remote: IndexEntry | undefined;
}

type ResolveConflict = (path: string, local: LocalFile, remote: IndexEntry) => ConflictAction;

export function planSync(input: PlanInput): SyncPlan {
  const resolveConflict = conflictResolver(input);
  const classified: SyncAction[] = [];
  for (const path of plannedPaths(input)) {
    const action = classifyPath(sidesOf(path, input), resolveConflict);
    if (action) classified.push(action);
  }
  const withMoves = pairMoves(classified, input.base).sort((a, b) =>
    comparePaths(actionPath(a), actionPath(b)),
  );
  const direction = input.direction ?? 'both';
  const { actions: carried, skipped } = filterByDirection(withMoves, direction);
  const { actions, refused } = refuseUncreatable(carried, input.keyRefusal);
  if (direction !== 'pull') refused.push(...(input.refused ?? []));
  refused.sort((a, b) => comparePaths(a.path, b.path));
  const tracked = [...input.base.keys()].filter((path) => !input.isIgnored(path)).length;
  return summarise(actions, skipped, tracked, refused);
}

/**
 * Takes out the actions that would create a key the remote refuses: an upload's path, a move's destination, a
 * keep-both conflict's copy. A refused move keeps its source where it is on the remote (nothing is deleted for a
 * file that cannot arrive), and a refused conflict leaves both versions as they are.
 */
function refuseUncreatable(
  actions: SyncAction[],
  keyRefusal: PlanInput['keyRefusal'],
): { actions: SyncAction[]; refused: RefusedPath[] } {
  if (!keyRefusal) return { actions, refused: [] };
  const kept: SyncAction[] = [];
  const refused: RefusedPath[] = [];
  for (const action of actions) {
    const error = refusalOf(action, keyRefusal);
    if (error) refused.push({ path: actionPath(action), error });
    else kept.push(action);
  }
  return { actions: kept, refused };
}

function refusalOf(
  action: SyncAction,
  keyRefusal: (path: string) => InvalidKeyError | undefined,
): InvalidKeyError | undefined {
  if (action.kind === 'upload') return keyRefusal(action.path);
  if (action.kind === 'move-remote') return keyRefusal(action.to);
  if (action.kind !== 'conflict' || action.resolution !== 'keep-both' || !action.conflictPath)
    return undefined;
  const error = keyRefusal(action.conflictPath);
  if (!error) return undefined;
  // The path itself fits; its conflict copy's longer name does not.
  return new InvalidKeyError(error.key, `${error.reason} (the copy of your version of ${action.path})`, {
    hint: 'keep one version with --prefer local or --prefer remote, or shorten the name',
  });
}

/** Every path on any side that is not ignored, sorted. */
function plannedPaths({ local, base, remote, isIgnored }: PlanInput): string[] {
  const all = new Set([...local.keys(), ...base.keys(), ...remote.keys()]);
  return [...all].filter((path) => !isIgnored(path)).sort(comparePaths);
}

function sidesOf(path: string, { local, base, remote }: PlanInput): PathSides {
  return { path, local: local.get(path), base: base.get(path), remote: remote.get(path) };
}

/** The 3-way table for one path; undefined when nothing is to be done. */
function classifyPath(sides: PathSides, resolveConflict: ResolveConflict): SyncAction | undefined {
  const baseSha = sides.base?.sha256;
  const localChanged = sides.local?.sha256 !== baseSha;
  const remoteChanged = sides.remote?.sha256 !== baseSha;
  if (localChanged && remoteChanged) return bothChanged(sides, resolveConflict);
  if (localChanged) return localOnlyChanged(sides);
  if (remoteChanged) return remoteOnlyChanged(sides);
  return undefined;
}

/** The remote still holds the base version (or nothing). */
function localOnlyChanged({ path, local, remote }: PathSides): SyncAction | undefined {
  if (local) return { kind: 'upload', path, reason: remote ? 'modified' : 'added', local, remote };
  // The local file is gone, so the base had it, and the remote still equals the base.
  return remote ? { kind: 'delete-remote', path, remote } : undefined;
}

/** The local folder still holds the base version (or nothing). */
function remoteOnlyChanged({ path, local, remote }: PathSides): SyncAction | undefined {
  if (remote) return { kind: 'download', path, reason: local ? 'modified' : 'added', remote, local };
  return local ? { kind: 'delete-local', path, local } : undefined;
}

function bothChanged(
  { path, local, remote }: PathSides,
  resolveConflict: ResolveConflict,
): SyncAction | undefined {
  const sameContent = local?.sha256 === remote?.sha256;
  if (sameContent) return remote ? { kind: 'adopt', path, remote } : { kind: 'forget', path };
  if (local && remote) return resolveConflict(path, local, remote);
  // Edit against delete: the edit wins, as a new file on the side that deleted it.
  if (local) return { kind: 'upload', path, reason: 'added', local };
  if (remote) return { kind: 'download', path, reason: 'added', remote };
  return undefined;
}

function conflictResolver(input: PlanInput): ResolveConflict {
  const { local, base, remote, member, now, prefer, conflictNames } = input;
  // Conflict copies must not land on any existing path, nor on each other.
  const taken = new Set([...local.keys(), ...base.keys(), ...remote.keys()]);
  return (path, localFile, remoteEntry) => {
    const conflict = { kind: 'conflict', path, local: localFile, remote: remoteEntry } as const;
    if (prefer === undefined) {
      const wanted = conflictNames?.get(path);
      const reuse = wanted !== undefined && !taken.has(wanted) && isConflictNameOf(wanted, path, member);
      if (reuse) taken.add(wanted);
      return {
        ...conflict,
        resolution: 'keep-both',
        conflictPath: reuse ? wanted : freeConflictPath(path, member, now, taken),
      };
    }
    return { ...conflict, resolution: preferredSide(prefer, localFile, remoteEntry) };
  };
}

/**
 * `newer`: the edit made later wins, by file modification times (the remote version's as recorded when it was
 * uploaded; for entries from before that was recorded, the commit time). A tie keeps the remote version.
 */
function preferredSide(prefer: Prefer, local: LocalFile, remote: IndexEntry): 'local' | 'remote' {
  if (prefer !== 'newer') return prefer;
  const remoteEdited = remote.mtimeMs ?? Date.parse(remote.modifiedAt);
  return local.mtimeMs > remoteEdited ? 'local' : 'remote';
}

function freeConflictPath(path: string, member: string, now: Date, taken: Set<string>): string {
  for (let attempt = 1; ; attempt++) {
    const candidate = conflictPathVariant(path, member, now, attempt);
    if (!taken.has(candidate)) {
      taken.add(candidate);
      return candidate;
    }
  }
}

/**
 * `a/b/report.csv` -> `a/b/report.conflict-alice-20261123-101500.csv` (UTC). The extension is what follows
 * the last dot of the file name; a name without one (`README`) or a dotfile (`.env`) gets the suffix at the end.
 * A name that would pass 255 bytes is shortened before the suffix (the extension and the suffix stay whole).
 */
export function conflictName(path: string, member: string, now: Date): string {
  return conflictPathVariant(path, member, now, 1);
}

/** `candidate` is a name `conflictPathVariant` gives `path` for `member` at some time and attempt. */
function isConflictNameOf(candidate: string, path: string, member: string): boolean {
  const tag = `.conflict-${safeMemberName(member)}-`;
  const at = candidate.lastIndexOf(tag);
  if (at < 0) return false;
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\d+))?/.exec(candidate.slice(at + tag.length));
  if (!m) return false;
  const when = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  if (Number.isNaN(when.getTime())) return false;
  return conflictPathVariant(path, member, when, m[7] ? Number(m[7]) : 1) === candidate;
}

/** Attempt 2, 3, … add `-2`, `-3`, … after the time stamp. */
function conflictPathVariant(path: string, member: string, now: Date, attempt: number): string {
  const slash = path.lastIndexOf('/');
  const folder = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  const counter = attempt > 1 ? `-${attempt}` : '';
  const tag = `.conflict-${safeMemberName(member)}-${utcStamp(now)}${counter}`;
  const dot = name.lastIndexOf('.');
  const hasExtension = dot > 0 && dot < name.length - 1;
  const extension = hasExtension ? name.slice(dot) : '';
  // A name near the limit would make a copy no file system can hold: the base name gives way, not the tag.
  if (hasExtension && utf8Bytes(tag + extension) + 4 <= MAX_NAME_BYTES)
    return `${folder}${cutToBytes(name.slice(0, dot), MAX_NAME_BYTES - utf8Bytes(tag + extension))}${tag}${extension}`;
  return `${folder}${cutToBytes(name, MAX_NAME_BYTES - utf8Bytes(tag))}${tag}`;
}

/** The longest file name (in UTF-8 bytes) ext4, XFS, APFS and NTFS all take. */
const MAX_NAME_BYTES = 255;

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The longest start of `text` that fits in `bytes` UTF-8 bytes, never splitting a character. */
function cutToBytes(text: string, bytes: number): string {
  if (utf8Bytes(text) <= bytes) return text;
  let out = '';
  let used = 0;
  for (const char of text) {
    used += utf8Bytes(char);
    if (used > bytes) break;
    out += char;
  }
  return out;
}

function safeMemberName(member: string): string {
  return member.replace(/[^A-Za-z0-9._@-]/g, '_');
}

/** YYYYMMDD-hhmmss in UTC. */
function utcStamp(now: Date): string {
  return now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

/**
 * Turns a new upload plus a remote delete of the same content into a move-remote, and a new download plus a
 * local delete of the same content into a move-local. Each source pairs at most once, in path order.
 */
function pairMoves(actions: SyncAction[], base: EntryMap): SyncAction[] {
  const isNewPath = (action: { path: string; reason: 'added' | 'modified' }): boolean =>
    action.reason === 'added' && !base.has(action.path);
  const remoteMoves = pairBySha(
    actions.filter(isKind('upload')).filter(isNewPath),
    (upload) => upload.local.sha256,
    actions.filter(isKind('delete-remote')),
    (deletion) => deletion.remote.sha256,
    (upload, deletion): ActionOf<'move-remote'> => ({
      kind: 'move-remote',
      from: deletion.path,
      to: upload.path,
      remote: deletion.remote,
      local: upload.local,
    }),
  );
  const localMoves = pairBySha(
    actions.filter(isKind('download')).filter(isNewPath),
    (download) => download.remote.sha256,
    actions.filter(isKind('delete-local')),
    (deletion) => deletion.local.sha256,
    (download, deletion): ActionOf<'move-local'> => ({
      kind: 'move-local',
      from: deletion.path,
      to: download.path,
      remote: download.remote,
      local: deletion.local,
    }),
  );
  const paired = new Set([...remoteMoves.paired, ...localMoves.paired]);
  return [...actions.filter((action) => !paired.has(action)), ...remoteMoves.moves, ...localMoves.moves];
}

/** Matches each target (in the given order) with the first unused source of the same content. */
function pairBySha<T extends SyncAction, S extends SyncAction>(
  targets: T[],
  targetSha: (target: T) => string,
  sources: S[],
  sourceSha: (source: S) => string,
  makeMove: (target: T, source: S) => SyncAction,
): { moves: SyncAction[]; paired: SyncAction[] } {
  const sourcesBySha = new Map<string, S[]>();
  for (const source of sources) {
    const sha = sourceSha(source);
    sourcesBySha.set(sha, [...(sourcesBySha.get(sha) ?? []), source]);
  }
  const moves: SyncAction[] = [];
  const paired: SyncAction[] = [];
  for (const target of targets) {
    const source = sourcesBySha.get(targetSha(target))?.shift();
    if (!source) continue;
    moves.push(makeMove(target, source));
    paired.push(target, source);
  }
  return { moves, paired };
}

function isKind<K extends ActionKind>(kind: K): (action: SyncAction) => action is ActionOf<K> {
  return (action): action is ActionOf<K> => action.kind === kind;
}

const CHANGES_REMOTE: ReadonlySet<ActionKind> = new Set(['upload', 'delete-remote', 'move-remote']);
const CHANGES_LOCAL: ReadonlySet<ActionKind> = new Set(['download', 'delete-local', 'move-local']);
const SKIP_REMOTE_CHANGE = 'remote change (pull to get it)';
const SKIP_LOCAL_CHANGE = 'local change (push to send it)';
const SKIP_CONFLICT = 'conflict (sync both ways to resolve)';

function filterByDirection(
  planned: SyncAction[],
  direction: Direction,
): { actions: SyncAction[]; skipped: SkippedChange[] } {
  const actions: SyncAction[] = [];
  const skipped: SkippedChange[] = [];
  for (const action of planned) {
    const reason = skipReason(action, direction);
    if (reason === undefined) actions.push(action);
    else skipped.push({ path: actionPath(action), reason });
  }
  return { actions, skipped };
}

/** Why `direction` leaves the action for a later sync; undefined when it is carried out. */
function skipReason(action: SyncAction, direction: Direction): string | undefined {
  if (direction === 'both') return undefined;
  if (action.kind === 'conflict') {
    // push may only overwrite the remote, pull only the local copy.
    const allowed = direction === 'push' ? 'local' : 'remote';
    return action.resolution === allowed ? undefined : SKIP_CONFLICT;
  }
  if (direction === 'push' && CHANGES_LOCAL.has(action.kind)) return SKIP_REMOTE_CHANGE;
  if (direction === 'pull' && CHANGES_REMOTE.has(action.kind)) return SKIP_LOCAL_CHANGE;
  return undefined;
}

/** `plan` with only the actions `keep` accepts; the others become skipped changes with `reason`. */
export function restrictPlan(
  plan: SyncPlan,
  keep: (action: SyncAction) => boolean,
  reason: string,
): SyncPlan {
  const kept = plan.actions.filter(keep);
  const left = plan.actions
    .filter((action) => !keep(action))
    .map((action) => ({ path: actionPath(action), reason }));
  return summarise(kept, [...plan.skipped, ...left], plan.tracked, plan.refused);
}

function summarise(
  actions: SyncAction[],
  skipped: SkippedChange[],
  tracked: number,
  refused: RefusedPath[],
): SyncPlan {
  const counts = emptyCounts();
  for (const action of actions) counts[action.kind]++;
  return {
    actions,
    skipped,
    refused,
    tracked,
    counts,
    deletions: counts['delete-remote'] + counts['delete-local'],
  };
}

function emptyCounts(): Record<ActionKind, number> {
  return {
    upload: 0,
    download: 0,
    'delete-remote': 0,
    'delete-local': 0,
    'move-remote': 0,
    'move-local': 0,
    conflict: 0,
    adopt: 0,
    forget: 0,
  };
}

/** The path an action is listed under: a move's destination. */
function actionPath(action: SyncAction): string {
  return 'to' in action ? action.to : action.path;
}

/** Code-unit order, the same on every machine (unlike localeCompare). */
function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
