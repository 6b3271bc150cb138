import type { Command } from 'commander';
import type { RunAction } from '../context.js';
import { CONNECTION_HELP, withServerOptions, type ServerFlags } from '../datastore-options.js';

export function registerReviewer(program: Command, run: RunAction): void {
  const reviewer = program
    .command('reviewer')
    .description('the reviewer pool: who may approve releases (changes: sys-admins)')
    .addHelpText(
      'after',
      `
${CONNECTION_HELP}

Examples:
  wharf reviewer add rita
  wharf reviewer list
  wharf reviewer rm rita`,
    );

  withServerOptions(
    reviewer
      .command('add')
      .description('add a user to the reviewer pool (sys-admins)')
      .argument('<user>', 'user name')
      .addHelpText('after', '\nExamples:\n  wharf reviewer add rita'),
  ).action(
    run(async (ctx, user: string, flags: ServerFlags) => {
      const { add } = await import('./reviewer-run.js');
      return add(ctx, user, flags);
    }),
  );

  withServerOptions(
    reviewer
      .command('rm')
      .description('remove a user from the reviewer pool (sys-admins)')
      .argument('<user>', 'user name')
      .addHelpText('after', '\nExamples:\n  wharf reviewer rm rita'),
  ).action(
    run(async (ctx, user: string, flags: ServerFlags) => {
      const { rm } = await import('./reviewer-run.js');
      return rm(ctx, user, flags);
    }),
  );

  withServerOptions(
    reviewer
      .command('list')
      .description('the reviewer pool, one user per line')
      .addHelpText('after', '\nExamples:\n  wharf reviewer list\n  wharf reviewer list --json'),
  ).action(
    run(async (ctx, flags: ServerFlags) => {
      const { list } = await import('./reviewer-run.js');
      return list(ctx, flags);
    }),
  );
}
