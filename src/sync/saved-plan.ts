/**
 * Plans saved with `wharf sync --plan-out` and checked again by `wharf sync apply`: each action is recorded
 * with what it touches (kind, paths, the content hashes it was planned against).
 */
import { restrictPlan } from './plan-sync.js';
import type { SyncAction, SyncPlan } from './types.js';

/** One action as `--json` and plan files show it. */
export interface ActionRecord {
  kind: SyncAction['kind'];
  path?: string;
  from?: string;
  to?: string;
  reason?: string;
  resolution?: string;
  conflictPath?: string;
  localSha256?: string;
  remoteSha256?: string;
}

export function actionRecord(a: SyncAction): ActionRecord {
  const out: ActionRecord = { kind: a.kind };
  if ('path' in a) out.path = a.path;
  if ('from' in a) Object.assign(out, { from: a.from, to: a.to });
  if ('reason' in a) out.reason = a.reason;
  if (a.kind === 'conflict') Object.assign(out, { resolution: a.resolution, conflictPath: a.conflictPath });
  if ('local' in a && a.local) out.localSha256 = a.local.sha256;
  if ('remote' in a && a.remote) out.remoteSha256 = a.remote.sha256;
  return out;
}

/** Why an action of the current plan is not carried out by `sync apply`. */
export const LEFT_FOR_NEXT_SYNC = 'new since the plan was saved; the next sync takes it';

export interface SavedPlanCheck {
  /** The current plan cut down to the saved actions; the rest are skipped with LEFT_FOR_NEXT_SYNC. */
  plan: SyncPlan;
  /** Saved actions the current plan no longer has as they were, and new actions on paths the saved plan touches. */
  stale: string[];
  /** New actions on paths the saved plan does not touch: left for the next sync. */
  leftOut: number;
}

/**
 * Matches the plan made now against a saved one. A saved action still holds when the current plan has the same
 * kind on the same paths against the same content hashes; the conflict copy's name does not count (it carries
 * the time of planning; the saved name is reused where still free). Anything the saved plan touches that now
 * differs makes it stale; changes on other paths (another member's unrelated commit) wait for the next sync.
 */
export function checkSavedPlan(saved: readonly ActionRecord[], plan: SyncPlan): SavedPlanCheck {
  const savedKeys = new Set(saved.map(matchKey));
  const touched = new Set(saved.flatMap(pathsOf));
  const current = new Map(plan.actions.map((a) => [a, actionRecord(a)] as const));
  const currentKeys = new Set([...current.values()].map(matchKey));
  const stale = saved.filter((r) => !currentKeys.has(matchKey(r))).map(describe);
  for (const record of current.values()) {
    if (!savedKeys.has(matchKey(record)) && pathsOf(record).some((p) => touched.has(p)))
      stale.push(describe(record));
  }
  const keep = (a: SyncAction): boolean => savedKeys.has(matchKey(current.get(a) ?? actionRecord(a)));
  const narrowed = restrictPlan(plan, keep, LEFT_FOR_NEXT_SYNC);
  return { plan: narrowed, stale, leftOut: plan.actions.length - narrowed.actions.length };
}

/** Keep-both conflicts of a saved plan: path -> the conflict copy's name it showed. */
export function savedConflictNames(saved: readonly ActionRecord[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const r of saved)
    if (r.kind === 'conflict' && typeof r.path === 'string' && typeof r.conflictPath === 'string')
      names.set(r.path, r.conflictPath);
  return names;
}

function matchKey(r: ActionRecord): string {
  return JSON.stringify([
    r.kind,
    r.path ?? null,
    r.from ?? null,
    r.to ?? null,
    r.reason ?? null,
    r.resolution ?? null,
    r.localSha256 ?? null,
    r.remoteSha256 ?? null,
  ]);
}

function pathsOf(r: ActionRecord): string[] {
  return [r.path, r.from, r.to].filter((p): p is string => typeof p === 'string');
}

function describe(r: ActionRecord): string {
  return `${r.kind} ${r.path ?? `${r.from} -> ${r.to}`}`;
}
