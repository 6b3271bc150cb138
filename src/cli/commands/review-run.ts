import type { DatasetRecord, ReviewQueueItem } from '../../datastore/model/dataset.js';
import type { CommandContext } from '../context.js';
import { connect } from '../datastore-connection.js';
import { REVIEW_QUEUE_HEADER, reviewQueueRows, shellQuote } from '../datastore-render.js';
import { renderTable, visible } from '../text-table.js';
import type { NotesFlags, QueueFlags } from './review.js';

function report(ctx: CommandContext, record: DatasetRecord, what: string): void {
  if (ctx.output.json) ctx.output.record(record);
  else {
    ctx.output.line(`${visible(record.id)}\t${visible(record.release.status)}`);
    ctx.output.info(what);
  }
}

export async function request(
  ctx: CommandContext,
  id: string,
  flags: NotesFlags & { approver: string },
): Promise<void> {
  const record = await (
    await connect(flags)
  ).review.datasetApprovalRequest(id, flags.approver, flags.notes ?? '');
  report(ctx, record, `${id} is PENDING review by ${flags.approver}; data and metadata are frozen meanwhile`);
}

export async function decide(
  ctx: CommandContext,
  decision: 'approve' | 'reject',
  id: string,
  flags: NotesFlags,
): Promise<void> {
  const record = await (await connect(flags)).review.actionApprovalRequest(id, decision, flags.notes ?? '');
  report(ctx, record, decision === 'approve' ? `${id} is RELEASED` : `${id} is back to NOT_RELEASED`);
}

export async function queue(ctx: CommandContext, flags: QueueFlags): Promise<void> {
  const ds = await connect(flags);
  const query = {
    ...(flags.approver !== undefined ? { approver: flags.approver } : {}),
    ...(flags.pageSize !== undefined ? { pageSize: flags.pageSize } : {}),
  };
  if (flags.all) {
    const items: ReviewQueueItem[] = [];
    for await (const item of ds.review.forAllReviewQueue(query)) {
      if (ctx.output.json) ctx.output.record(item);
      else items.push(item);
    }
    if (!ctx.output.json) printQueue(ctx, items, flags);
    return;
  }
  const page = await ds.review.listReviewQueue({
    ...query,
    ...(flags.pageKey !== undefined ? { paginationKey: flags.pageKey } : {}),
  });
  if (ctx.output.json) {
    for (const item of page.items) ctx.output.record(item);
    if (page.paginationKey) ctx.output.record({ paginationKey: page.paginationKey });
    return;
  }
  printQueue(ctx, page.items, flags);
  if (page.paginationKey) {
    // The key belongs to this approver's queue: the command printed must name the same one.
    const again = [
      'wharf review queue',
      ...(flags.approver !== undefined ? [`--approver ${shellQuote(flags.approver)}`] : []),
      ...(flags.pageSize !== undefined ? [`--page-size ${flags.pageSize}`] : []),
      `--page-key ${page.paginationKey}`,
    ];
    ctx.output.info(`more: ${again.join(' ')} (or --all)`);
  }
}

function printQueue(ctx: CommandContext, items: ReviewQueueItem[], flags: QueueFlags): void {
  if (items.length > 0) ctx.output.line(renderTable(REVIEW_QUEUE_HEADER, reviewQueueRows(items)));
  else if (flags.pageKey !== undefined) ctx.output.info('no more requests');
  else
    ctx.output.info(
      flags.approver !== undefined
        ? `nothing waits for review by ${visible(flags.approver)}`
        : 'nothing waits for your review',
    );
}
