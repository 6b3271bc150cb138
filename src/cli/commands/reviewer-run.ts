import type { CommandContext } from '../context.js';
import { connect } from '../datastore-connection.js';
import type { ServerFlags } from '../datastore-options.js';
import { visible } from '../text-table.js';

export async function add(ctx: CommandContext, user: string, flags: ServerFlags): Promise<void> {
  await (await connect(flags)).review.addDatasetReviewer(user);
  if (ctx.output.json) ctx.output.record({ added: user });
  else ctx.output.info(`${user} is a reviewer`);
}

export async function rm(ctx: CommandContext, user: string, flags: ServerFlags): Promise<void> {
  await (await connect(flags)).review.deleteDatasetReviewer(user);
  if (ctx.output.json) ctx.output.record({ removed: user });
  else ctx.output.info(`${user} is no longer a reviewer`);
}

export async function list(ctx: CommandContext, flags: ServerFlags): Promise<void> {
  const users = await (await connect(flags)).review.listDatasetReviewers();
  for (const user of users) {
    if (ctx.output.json) ctx.output.record({ username: user });
    else ctx.output.line(visible(user));
  }
  if (users.length === 0) ctx.output.info('the reviewer pool is empty (wharf reviewer add USER)');
}
