import type { DatasetRecord } from '../../datastore/model/dataset.js';
import type { CommandContext } from '../context.js';
import { connect } from '../datastore-connection.js';
import { visible } from '../text-table.js';
import type { NotesFlags } from './review.js';

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
