import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import {
  type WharfError,
  ConflictError,
  NotFoundError,
  toWharfError,
  UsageError,
  ValidationError,
} from '../../core/errors.js';
import { formatBytes, parseDurationSeconds } from '../../core/units.js';
import {
  initSync,
  listTrash,
  openLinked,
  purgeTrash,
  resetSync,
  restoreFromTrash,
  syncLog,
} from '../../sync/sync-admin.js';
import { syncFolder, type SyncResult } from '../../sync/sync-folder.js';
import {
  actionRecord,
  checkSavedPlan,
  savedConflictNames,
  type ActionRecord,
} from '../../sync/saved-plan.js';
import { parseMaxDelete } from '../../sync/sync-guards.js';
import type { Direction, Prefer, RefusedPath, SyncAction, SyncPlan } from '../../sync/types.js';
import { ask, requireTerminal } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { favourSmallHeap } from '../heap-tuning.js';
import { summariseFailures } from '../failure-summary.js';
import { visible } from '../text-table.js';
import type { Output } from '../output.js';
import { createProgress } from '../progress.js';
import type { SyncFlags } from './sync.js';

export async function init(
  ctx: CommandContext,
  dir: string,
  remote: string,
  flags: { member?: string },
): Promise<number> {
  const config = await initSync({
    dir,
    remote,
    storage: ctx.storage,
    ...(flags.member !== undefined ? { member: flags.member } : {}),
  });
  if (ctx.output.json) ctx.output.record({ dir, remote: config.remote, member: config.member });
  ctx.output.info(`linked ${dir} to ${config.remote} as ${config.member}; run \`wharf sync ${dir}\``);
  return EXIT.ok;
}

export async function log(
  ctx: CommandContext,
  path: string | undefined,
  flags: { dir: string },
): Promise<number> {
  const linked = await openLinked(flags.dir, ctx.storage);
  try {
    const records = await syncLog(linked, path, ctx.signal);
    if (ctx.output.json) ctx.output.record({ commits: records });
    else
      for (const r of records) {
        for (const c of r.changes) {
          const what =
            c.action === 'move'
              ? `move ${visible(c.from ?? '')} -> ${visible(c.path)}`
              : `${c.action} ${visible(c.path)}`;
          ctx.output.line(`${r.at}  #${r.generation}  ${visible(r.member)}  ${what}`);
        }
      }
    return EXIT.ok;
  } finally {
    await linked.close();
  }
}

export async function trashList(ctx: CommandContext, flags: { dir: string }): Promise<number> {
  const linked = await openLinked(flags.dir, ctx.storage);
  try {
    const items = await listTrash(linked, ctx.signal);
    if (ctx.output.json) ctx.output.record({ trash: items });
    else
      for (const i of items)
        ctx.output.line(
          `${i.stamp}  ${i.where.padEnd(6)}  ${formatBytes(i.size).padStart(9)}  ${visible(i.path)}`,
        );
    return EXIT.ok;
  } finally {
    await linked.close();
  }
}

export async function trashPurge(
  ctx: CommandContext,
  flags: { dir: string; olderThan: string; dryRun?: boolean },
): Promise<number> {
  const seconds = parseDurationSeconds(flags.olderThan, '--older-than');
  const linked = await openLinked(flags.dir, ctx.storage);
  try {
    const dryRun = flags.dryRun === true;
    const r = await purgeTrash(linked, seconds * 1000, { signal: ctx.signal, dryRun });
    const what =
      `${r.trashed} trashed file${r.trashed === 1 ? '' : 's'} and ${r.versions} replaced ` +
      `version${r.versions === 1 ? '' : 's'} (.wharf/versions/) older than ${flags.olderThan}`;
    if (ctx.output.json)
      ctx.output.record({ ...(dryRun ? { dryRun } : {}), purged: r.trashed, versions: r.versions });
    ctx.output.info(dryRun ? `dry run: ${what} would be deleted` : `purged ${what}`);
    return EXIT.ok;
  } finally {
    await linked.close();
  }
}

export async function restore(
  ctx: CommandContext,
  path: string,
  flags: { dir: string; from?: string },
): Promise<number> {
  const linked = await openLinked(flags.dir, ctx.storage);
  try {
    const item = await restoreFromTrash(linked, path, {
      ...(flags.from ? { stamp: flags.from } : {}),
      signal: ctx.signal,
    });
    if (ctx.output.json) ctx.output.record({ restored: item });
    ctx.output.info(`restored ${path} from the ${item.where} trash of ${item.stamp}; sync to share it`);
    return EXIT.ok;
  } finally {
    await linked.close();
  }
}

export async function reset(
  ctx: CommandContext,
  dir: string,
  flags: { remote?: boolean; yes?: boolean },
): Promise<number> {
  const linked = await openLinked(dir, ctx.storage);
  try {
    const what = flags.remote
      ? `the sync state of ${linked.paths.dir} AND the shared index and journal under ${linked.config.remote}`
      : `the sync state of ${linked.paths.dir}`;
    if (!flags.yes) {
      requireTerminal('sync reset', { dryRun: false });
      const answer = await ask(`This removes ${what}.\nType ${linked.config.remote} to confirm: `);
      if (answer.trim() !== linked.config.remote) {
        ctx.output.info('not confirmed; nothing changed');
        return EXIT.conflict;
      }
    }
    const r = await resetSync(linked, { remote: flags.remote ?? false, signal: ctx.signal });
    if (ctx.output.json)
      ctx.output.record({
        reset: true,
        remote: flags.remote ?? false,
        removedRemoteKeys: r.removedRemoteKeys,
      });
    ctx.output.info(`reset ${what}; the next sync compares by content`);
    return EXIT.ok;
  } finally {
    await linked.close();
  }
}

export async function runSync(ctx: CommandContext, dir: string, flags: SyncFlags): Promise<number> {
  favourSmallHeap();
  const { output } = ctx;
  const planOnly = flags.dryRun === true || flags.planOut !== undefined;
  const progress = await createProgress(output, 'sync');
  let bytes = 0;
  let files = 0;
  let total = 0;
  let totalBytes = 0;
  let planShown = false;
  const warned = new Set<string>();
  let result: SyncResult;
  try {
    result = await syncFolder({
      dir,
      storage: ctx.storage,
      signal: ctx.signal,
      direction: flags.direction ?? 'both',
      ...(flags.prefer ? { prefer: flags.prefer } : {}),
      ...(flags.maxDelete !== undefined ? { maxDelete: parseMaxDelete(flags.maxDelete) } : {}),
      force: flags.force ?? false,
      dryRun: planOnly,
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
      confirm: async (plan) => {
        if (flags.yes) return true;
        planShown = showPlan(output, plan, true);
        requireTerminal('sync', { dryRun: true });
        const answer = await ask(`Apply these ${plan.actions.length} changes? [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      },
      onEvent: (event) => {
        if (event.type === 'planned') {
          total = event.plan.actions.filter((a) => a.kind !== 'adopt' && a.kind !== 'forget').length;
          totalBytes = event.plan.actions.reduce((n, a) => n + bytesToMove(a), 0);
        } else if (event.type === 'bytes') {
          bytes += event.delta;
          progress.update({ bytes, totalBytes, files, totalFiles: total, failedFiles: 0 });
        } else if (event.type === 'file') {
          files += 1;
          progress.update({ bytes, totalBytes, files, totalFiles: total, failedFiles: 0 });
        } else if (event.type === 'retry') {
          output.info(`${event.reason}; re-reading and re-planning (attempt ${event.attempt + 1})`);
        } else if (event.type === 'scanned') {
          for (const w of event.warnings) {
            output.warn(w);
            warned.add(w);
          }
        }
      },
    });
  } finally {
    progress.stop();
  }
  const force = flags.force ?? false;
  // A plan the real run would refuse (a guard tripped, no --force) is shown but not saved.
  if (flags.planOut !== undefined && (result.guards.length === 0 || force)) {
    await writeFile(flags.planOut, `${JSON.stringify(savedPlan(result, flags), null, 2)}\n`);
  }
  return report(output, result, {
    planOnly,
    planOut: flags.planOut,
    yes: flags.yes ?? false,
    force,
    planShown,
    warned,
  });
}

function report(
  output: Output,
  result: SyncResult,
  o: {
    planOnly: boolean;
    planOut?: string | undefined;
    yes: boolean;
    force: boolean;
    /** The plan was shown already (to confirm it). */
    planShown?: boolean;
    /** Warnings printed already (the scan's). */
    warned?: ReadonlySet<string>;
  },
): number {
  if (output.json) output.record(resultRecord(result));
  const stopped = result.guards.length > 0 && !o.force;
  let planShown = o.planShown === true;
  // The plan comes first, so a tripped guard's message can be checked against it.
  if (!output.json && (o.planOnly || stopped || ((o.yes || result.declined) && result.applied)))
    planShown = showPlan(output, result.plan) || planShown;
  for (const g of result.guards) {
    if (stopped) output.error(new ValidationError(`guard ${g.guard}: ${g.message}`));
    else output.warn(`guard ${g.guard} overridden by --force: ${withoutAdvice(g.message)}`);
  }
  if (stopped) {
    if (o.planOnly)
      output.info(
        `${o.planOut ? `plan not written to ${o.planOut}` : 'dry run'}: a sync would stop here; nothing changed`,
      );
    return EXIT.conflict;
  }
  // Paths the remote cannot hold are failures too (exit 1), said once: in the plan when it was shown.
  const refused = new Set<WharfError>(result.plan.refused.map((r) => r.error));
  const unshown = planShown ? result.failed.filter((f) => !refused.has(f.error)) : result.failed;
  for (const error of output.json ? result.failed.map((f) => f.error) : summariseFailures(unshown))
    output.error(error);
  for (const w of result.warnings) if (!o.warned?.has(w) && !output.json) output.warn(w);
  for (const c of result.conflicts)
    output.warn(`conflict on ${visible(c.path)}: your version is kept as ${visible(c.conflictPath)}`);
  const guarantee =
    result.guarantee === 'compare-and-swap'
      ? 'index committed with compare-and-swap'
      : 'store has no conditional writes: commits serialised by a lease (weaker; see docs/sync.md)';
  if (o.planOnly) {
    output.info(
      `${o.planOut ? `plan written to ${o.planOut}` : 'dry run'}: ${summary(result.plan)}; nothing changed`,
    );
    return EXIT.ok;
  }
  if (result.declined) {
    output.info('not applied; nothing changed');
    return EXIT.conflict;
  }
  if (result.plan.actions.length === 0) {
    const notSynced = result.plan.refused.length;
    output.info(
      notSynced === 0
        ? `up to date with ${result.remote} (generation ${result.generation})`
        : `up to date with ${result.remote} (generation ${result.generation}) but for ${notSynced} not syncable`,
    );
    return result.failed.length > 0 ? EXIT.failure : EXIT.ok;
  }
  const failed = result.failed.filter((f) => !refused.has(f.error)).length;
  output.info(
    `${summary(result.plan)}${failed ? `, ${failed} failed` : ''}; ` +
      `${result.committed ? `generation ${result.generation}, ${guarantee}` : 'nothing to commit'}`,
  );
  return result.failed.length > 0 ? EXIT.failure : EXIT.ok;
}

/** A guard's finding without its advice (`…; check the folder, or pass --force`), once --force was given. */
function withoutAdvice(message: string): string {
  const end = message.indexOf('; ');
  return end < 0 ? message : message.slice(0, end);
}

/**
 * The plan on stderr (paged on a terminal); true when it was shown. `--quiet` hides it, except when the user is
 * asked to confirm it.
 */
function showPlan(output: Output, plan: SyncPlan, forConfirmation = false): boolean {
  if (output.json || (output.quiet && !forConfirmation)) return false;
  const lines = plan.actions.filter((a) => a.kind !== 'adopt' && a.kind !== 'forget').map(describeAction);
  for (const s of plan.skipped) lines.push(`  skip      ${visible(s.path)} (${s.reason})`);
  for (const r of plan.refused) lines.push(`  refused   ${visible(r.path)}: ${refusalText(r)}`);
  const text = [`Plan: ${summary(plan)}`, ...lines].join('\n');
  const rows = process.stdout.rows ?? 0;
  if (process.stdout.isTTY && process.stdin.isTTY && rows > 0 && lines.length > rows - 3) {
    const pager = process.env.PAGER || 'less';
    const r = spawnSync(pager, pager === 'less' ? ['-FRX'] : [], {
      input: `${text}\n`,
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    if (r.status === 0) return true;
  }
  process.stderr.write(`${text}\n`);
  return true;
}

/** Why a path cannot be synced and what to do, as an error line says it. */
function refusalText({ error }: RefusedPath): string {
  return `${error.reason}${error.hint ? ` (${error.hint})` : ''}`;
}

/** One plan line; names come from other members and tools, so their control characters are shown, not sent. */
function describeAction(a: SyncAction): string {
  switch (a.kind) {
    case 'upload':
      return `  upload    ${visible(a.path)} (${a.reason}, ${formatBytes(a.local.size)})`;
    case 'download':
      return `  download  ${visible(a.path)} (${a.reason} by ${visible(a.remote.modifiedBy)}, ${formatBytes(a.remote.size)})`;
    case 'delete-remote':
      return `  delete    ${visible(a.path)} on the remote (to the remote trash)`;
    case 'delete-local':
      return `  delete    ${visible(a.path)} here (to .wharf/trash; deleted by a member)`;
    case 'move-remote':
      return `  move      ${visible(a.from)} -> ${visible(a.to)} on the remote`;
    case 'move-local':
      return `  move      ${visible(a.from)} -> ${visible(a.to)} here`;
    case 'conflict':
      return a.resolution === 'keep-both'
        ? `  CONFLICT  ${visible(a.path)}: both changed; yours becomes ${visible(a.conflictPath ?? '')}`
        : `  CONFLICT  ${visible(a.path)}: both changed; keeping the ${a.resolution} version (the other goes to the trash)`;
    case 'adopt':
      return `  same      ${visible(a.path)}`;
    case 'forget':
      return `  gone      ${visible(a.path)}`;
  }
}

function summary(plan: SyncPlan): string {
  const c = plan.counts;
  const parts = [
    c.upload ? `${c.upload} to upload` : '',
    c.download ? `${c.download} to download` : '',
    c['delete-remote'] ? `${c['delete-remote']} to delete remotely` : '',
    c['delete-local'] ? `${c['delete-local']} to delete locally` : '',
    c['move-remote'] + c['move-local'] ? `${c['move-remote'] + c['move-local']} moved` : '',
    c.conflict ? `${c.conflict} conflicts` : '',
    plan.skipped.length ? `${plan.skipped.length} skipped` : '',
    plan.refused.length ? `${plan.refused.length} not syncable` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'nothing to do';
}

function resultRecord(r: SyncResult): Record<string, unknown> {
  return {
    dir: r.dir,
    remote: r.remote,
    member: r.member,
    plan: planRecord(r.plan),
    applied: r.applied,
    declined: r.declined,
    committed: r.committed,
    generation: r.generation,
    guarantee: r.guarantee,
    guards: r.guards,
    conflicts: r.conflicts,
    failed: r.failed.map((f) => ({ path: f.path, code: f.error.code, message: f.error.message })),
    warnings: r.warnings,
    attempts: r.attempts,
  };
}

function planRecord(plan: SyncPlan): Record<string, unknown> {
  return {
    counts: plan.counts,
    tracked: plan.tracked,
    deletions: plan.deletions,
    actions: plan.actions.map(actionRecord),
    skipped: plan.skipped,
    refused: plan.refused.map(({ path, error }) => ({
      path,
      reason: error.reason,
      ...(error.hint ? { hint: error.hint } : {}),
    })),
  };
}

/** A plan file: the folder and the actions, each with the content hashes it was planned against. */
interface SavedPlan {
  format: 'wharf-sync-plan';
  dir: string;
  direction: Direction;
  prefer?: Prefer;
  /** The guard options the plan was made with: `apply` goes ahead exactly when the planning run would have. */
  maxDelete?: string;
  force?: boolean;
  actions: ActionRecord[];
}

function savedPlan(r: SyncResult, flags: SyncFlags): SavedPlan {
  return {
    format: 'wharf-sync-plan',
    dir: r.dir,
    direction: flags.direction ?? 'both',
    ...(flags.prefer ? { prefer: flags.prefer } : {}),
    ...(flags.maxDelete !== undefined ? { maxDelete: flags.maxDelete } : {}),
    ...(flags.force ? { force: true } : {}),
    actions: r.plan.actions.map(actionRecord),
  };
}

async function readSavedPlan(file: string): Promise<SavedPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT')
      throw new NotFoundError(`plan file ${file} does not exist`, {
        hint: 'write one with wharf sync DIR --plan-out FILE',
      });
    if (code === 'EISDIR') throw new UsageError(`${file} is a folder, not a plan file`);
    throw toWharfError(error, `cannot read the plan file ${file}`);
  }
  let saved: Partial<SavedPlan> | null;
  try {
    saved = JSON.parse(text) as Partial<SavedPlan> | null;
  } catch {
    saved = null;
  }
  if (saved?.format !== 'wharf-sync-plan' || !Array.isArray(saved.actions))
    throw new UsageError(`${file} is not a plan written by wharf sync --plan-out`);
  return saved as SavedPlan;
}

export async function applySaved(
  ctx: CommandContext,
  file: string,
  flags: { concurrency?: number },
): Promise<number> {
  favourSmallHeap();
  const saved = await readSavedPlan(file);
  let leftOut = 0;
  const result = await syncFolder({
    dir: saved.dir,
    storage: ctx.storage,
    signal: ctx.signal,
    direction: saved.direction,
    ...(saved.prefer ? { prefer: saved.prefer } : {}),
    ...(typeof saved.maxDelete === 'string' ? { maxDelete: parseMaxDelete(saved.maxDelete) } : {}),
    force: saved.force === true,
    conflictNames: savedConflictNames(saved.actions),
    ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
    // Only the saved actions are carried out, and only while nothing they touch has changed. A re-plan after
    // another member's commit (attempt 2+) keeps what is still as saved; the rest waits for the next sync.
    select: (plan, attempt) => {
      const check = checkSavedPlan(saved.actions, plan);
      if (attempt === 1 && check.stale.length > 0) {
        const shown = check.stale.slice(0, 3).join(', ') + (check.stale.length > 3 ? ', …' : '');
        throw new ConflictError(
          `the folder or the remote changed since ${file} was written (${check.stale.length} planned changes differ: ${shown}); nothing was applied`,
          { hint: 'make a new plan with wharf sync --plan-out' },
        );
      }
      leftOut = check.leftOut;
      return check.plan;
    },
  });
  if (leftOut > 0)
    ctx.output.info(
      `${leftOut} change${leftOut === 1 ? '' : 's'} made since ${file} was written ${leftOut === 1 ? 'was' : 'were'} left for the next sync`,
    );
  return report(ctx.output, result, { planOnly: false, yes: true, force: saved.force === true });
}

/** Bytes an action sends or receives (a keep-both conflict does both), for the progress bar's total. */
function bytesToMove(action: SyncAction): number {
  switch (action.kind) {
    case 'upload':
      return action.local.size;
    case 'download':
      return action.remote.size;
    case 'conflict':
      return action.resolution === 'keep-both'
        ? action.local.size + action.remote.size
        : action.resolution === 'local'
          ? action.local.size
          : action.remote.size;
    default:
      return 0;
  }
}
