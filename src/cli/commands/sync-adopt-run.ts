import { formatBytes } from '../../core/units.js';
import type { AdoptResult, UntrackedObject } from '../../sync/adopt-untracked.js';
import { ask, requireTerminal } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { visible } from '../text-table.js';
import { createProgress } from '../progress.js';
import type { AdoptFlags } from './sync-adopt.js';

export async function runAdopt(ctx: CommandContext, dir: string, flags: AdoptFlags): Promise<number> {
  const { output } = ctx;
  const { adoptUntracked } = await import('../../sync/adopt-untracked.js');
  const progress = await createProgress(output, 'adopt');
  let total = 0;
  let done = 0;
  let failed = 0;
  let result: AdoptResult;
  try {
    result = await adoptUntracked({
      dir,
      storage: ctx.storage,
      signal: ctx.signal,
      dryRun: flags.dryRun ?? false,
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
      confirm: async (found) => {
        total = found.length;
        if (flags.yes) return true;
        listFound(output, found, true);
        requireTerminal('sync adopt', { dryRun: true });
        const answer = await ask(`Adopt these ${describe(found)} into the shared index? [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      },
      onObject: (_path, ok) => {
        done += 1;
        if (!ok) failed += 1;
        progress.update({
          bytes: 0,
          totalBytes: undefined,
          files: done,
          totalFiles: total,
          failedFiles: failed,
        });
      },
    });
  } finally {
    progress.stop();
  }
  return report(output, result, flags);
}

function report(output: Output, r: AdoptResult, flags: AdoptFlags): number {
  if (output.json) {
    output.record({
      dir: r.dir,
      remote: r.remote,
      member: r.member,
      dryRun: flags.dryRun ?? false,
      found: r.found,
      skipped: r.skipped,
      adopted: r.adopted,
      failed: r.failed.map((f) => ({ path: f.path, code: f.error.code, message: f.error.message })),
      declined: r.declined,
      committed: r.committed,
      generation: r.generation,
    });
  } else if (flags.dryRun || flags.yes) {
    listFound(output, r.found, false);
  }
  for (const s of r.skipped) output.warn(`left alone: ${visible(s.path)}: ${s.reason}`);
  for (const f of r.failed) output.error(f.error);
  if (flags.dryRun) {
    output.info(
      `dry run: ${r.found.length === 0 ? 'no untracked objects' : describe(r.found)}; nothing changed`,
    );
    return EXIT.ok;
  }
  if (r.declined) {
    output.info('not adopted; nothing changed');
    return EXIT.conflict;
  }
  if (r.found.length === 0) {
    output.info(`no untracked objects under ${r.remote} (generation ${r.generation})`);
    return EXIT.ok;
  }
  if (r.committed) {
    output.info(
      `adopted ${describe(r.adopted)} into generation ${r.generation}${r.failed.length ? `; ${r.failed.length} failed` : ''}; ` +
        `run \`wharf sync ${r.dir}\` to bring them into the folder`,
    );
  } else {
    output.info(`nothing adopted${r.failed.length ? `; ${r.failed.length} failed` : ''}`);
  }
  return r.failed.length > 0 ? EXIT.failure : EXIT.ok;
}

function listFound(output: Output, found: UntrackedObject[], forConfirmation: boolean): void {
  if (output.json || (output.quiet && !forConfirmation)) return;
  const lines = found.map((o) => `  adopt     ${visible(o.path)} (${formatBytes(o.size)})`);
  process.stderr.write(`${[`Untracked: ${describe(found)}`, ...lines].join('\n')}\n`);
}

function describe(objects: { size: number }[]): string {
  const bytes = objects.reduce((sum, o) => sum + o.size, 0);
  return `${objects.length} object${objects.length === 1 ? '' : 's'} (${formatBytes(bytes)})`;
}
