import type { Command } from 'commander';
import type { RunAction } from '../context.js';
import { CONNECTION_HELP, connect, withServerOptions, type ServerFlags } from '../datastore-connection.js';
import { visible } from '../text-table.js';

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
      await (await connect(flags)).review.addDatasetReviewer(user);
      if (ctx.output.json) ctx.output.record({ added: user });
      else ctx.output.info(`${user} is a reviewer`);
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
      await (await connect(flags)).review.deleteDatasetReviewer(user);
      if (ctx.output.json) ctx.output.record({ removed: user });
      else ctx.output.info(`${user} is no longer a reviewer`);
    }),
  );

  withServerOptions(
    reviewer
      .command('list')
      .description('the reviewer pool, one user per line')
      .addHelpText('after', '\nExamples:\n  wharf reviewer list\n  wharf reviewer list --json'),
  ).action(
    run(async (ctx, flags: ServerFlags) => {
      const users = await (await connect(flags)).review.listDatasetReviewers();
      for (const user of users) {
        if (ctx.output.json) ctx.output.record({ username: user });
        else ctx.output.line(visible(user));
      }
      if (users.length === 0) ctx.output.info('the reviewer pool is empty (wharf reviewer add USER)');
    }),
  );
}
