/**
 * Safety checks on a sync plan, evaluated before anything changes: they catch the plans that follow from a
 * broken folder (unmounted disk, mass rewrite) rather than from what the member meant to do.
 */
import { UsageError } from '../core/errors.js';
import type { SyncAction, SyncPlan } from './types.js';

export type MaxDelete = { kind: 'count'; value: number } | { kind: 'percent'; value: number };

export const DEFAULT_MAX_DELETE_PERCENT = 50;
export const DEFAULT_MAX_DELETE_COUNT = 1000;

/** Below this many tracked files, "every file changed" is too likely to be real to stop for. */
const ALL_CHANGED_MIN_TRACKED = 10;

/** Parses `--max-delete`: `25` (files) or `10%`, `12.5%` (of the tracked files). */
export function parseMaxDelete(text: string): MaxDelete {
  const trimmed = text.trim();
  const invalid = (why: string): UsageError =>
    new UsageError(`invalid --max-delete ${JSON.stringify(text)}: ${why}`);
  if (trimmed.startsWith('-')) throw invalid('must not be negative');
  const match = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(trimmed);
  if (!match) throw invalid('expected a number of files (e.g. 25) or a percentage (e.g. 10%)');
  const value = Number(match[1]);
  if (match[2] === '%') {
    if (value > 100) throw invalid('a percentage must be at most 100%');
    return { kind: 'percent', value };
  }
  if (!Number.isInteger(value)) throw invalid('a number of files must be a whole number');
  return { kind: 'count', value };
}

export interface GuardInput {
  plan: SyncPlan;
  localFileCount: number;
  folderExists: boolean;
  /** Undefined: the default limits (50 % of the tracked files, or 1,000 files). */
  maxDelete?: MaxDelete;
}

export interface GuardTrip {
  guard: 'max-delete' | 'empty-folder' | 'all-changed';
  message: string;
}

/** Every guard the plan trips; empty when it is safe to go on. */
export function checkGuards(input: GuardInput): GuardTrip[] {
  return [emptyFolderTrip(input), maxDeleteTrip(input), allChangedTrip(input)].filter(
    (trip): trip is GuardTrip => trip !== undefined,
  );
}

/** A missing or empty folder with a non-empty base is far more often an unmounted disk than a wish to delete. */
function emptyFolderTrip({ plan, localFileCount, folderExists }: GuardInput): GuardTrip | undefined {
  if (plan.tracked === 0 || (folderExists && localFileCount > 0)) return undefined;
  const state = folderExists ? 'is empty' : 'does not exist';
  return {
    guard: 'empty-folder',
    message:
      `the folder ${state} but the last sync tracked ${files(plan.tracked)}; ` +
      'if it is on a removable or network disk, check that it is mounted, ' +
      'or pass --force if the files really were deleted',
  };
}

function maxDeleteTrip({ plan, maxDelete }: GuardInput): GuardTrip | undefined {
  const { deletions, tracked } = plan;
  if (tracked === 0 || deletions === 0) return undefined;
  const limits: MaxDelete[] = maxDelete
    ? [maxDelete]
    : [
        { kind: 'percent', value: DEFAULT_MAX_DELETE_PERCENT },
        { kind: 'count', value: DEFAULT_MAX_DELETE_COUNT },
      ];
  const exceeded = limits.find((limit) => exceedsLimit(deletions, tracked, limit));
  if (!exceeded) return undefined;
  const limitText = `${maxDelete ? '' : 'the default '}--max-delete ${formatLimit(exceeded)}`;
  return {
    guard: 'max-delete',
    message:
      `the plan deletes ${deletions} of ${files(tracked, 'tracked')} ` +
      `(${formatPercent((deletions / tracked) * 100)}), more than ${limitText}; ` +
      'check the folder, or pass --max-delete N / --force',
  };
}

function exceedsLimit(deletions: number, tracked: number, limit: MaxDelete): boolean {
  // Cross-multiplied rather than divided, so that a share exactly at the limit never trips by rounding.
  return limit.kind === 'count' ? deletions > limit.value : deletions * 100 > limit.value * tracked;
}

/**
 * Every tracked path changed locally at once: more likely a line-ending converter, a re-encoding tool or a
 * restore from an old backup than real edits, and pushing it would overwrite everyone's versions.
 */
function allChangedTrip({ plan }: GuardInput): GuardTrip | undefined {
  if (plan.tracked < ALL_CHANGED_MIN_TRACKED) return undefined;
  if (locallyChangedTrackedPaths(plan.actions).size < plan.tracked) return undefined;
  return {
    guard: 'all-changed',
    message:
      `every one of the ${plan.tracked} tracked files changed locally, as happens when a line-ending ` +
      'converter, a re-encoding tool or a restore from a backup touches the whole folder; ' +
      'check the folder, or pass --force to send the local versions to everyone',
  };
}

/** Tracked paths whose local copy was modified, deleted or moved away. */
function locallyChangedTrackedPaths(actions: SyncAction[]): Set<string> {
  const paths = new Set<string>();
  for (const action of actions) {
    if (action.kind === 'upload' && action.reason === 'modified') paths.add(action.path);
    else if (action.kind === 'delete-remote' || action.kind === 'conflict') paths.add(action.path);
    else if (action.kind === 'move-remote') paths.add(action.from);
  }
  return paths;
}

function formatLimit(limit: MaxDelete): string {
  return limit.kind === 'percent' ? formatPercent(limit.value) : String(limit.value);
}

function formatPercent(percent: number): string {
  return `${Number.isInteger(percent) ? percent : percent.toFixed(1)} %`;
}

function files(count: number, adjective?: string): string {
  const noun = count === 1 ? 'file' : 'files';
  return adjective ? `${count} ${adjective} ${noun}` : `${count} ${noun}`;
}
