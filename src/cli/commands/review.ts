import type { Command } from 'commander';
import type { DatasetRecord } from '../../datastore/model/dataset.js';
import type { RunAction, CommandContext } from '../context.js';
import { visible } from '../text-table.js';
import { CONNECTION_HELP, connect, withServerOptions, type ServerFlags } from '../datastore-connection.js';

interface NotesFlags extends ServerFlags {
  notes?: string;
}

function report(ctx: CommandContext, record: DatasetRecord, what: string): void {
  if (ctx.output.json) ctx.output.record(record);
  else {
    ctx.output.line(`${visible(record.id)}\t${visible(record.release.status)}`);
    ctx.output.info(what);
  }
}

export function registerReview(program: Command, run: RunAction): void {
  const review = program
    .command('review')
    .description('the release workflow: request a review, approve or reject a release (talks to wharf serve)')
    .addHelpText(
      'after',
      `
NOT_RELEASED -> request -> PENDING -> approve -> RELEASED (frozen: new versions only)
                                   -> reject  -> NOT_RELEASED

${CONNECTION_HELP}

Examples:
  wharf review request 10378.1/42 --approver rita --notes "ready for release"
  wharf review approve 10378.1/42 --notes "checked"     # as rita`,
    );

  withServerOptions(
    review
      .command('request')
      .description('ask a reviewer to release the dataset (dataset admins): NOT_RELEASED -> PENDING')
      .argument('<id>', 'dataset id PREFIX/N')
      .requiredOption('--approver <user>', 'a user from the reviewer pool (wharf reviewer list)')
      .option('--notes <text>', 'for the reviewer', '')
      .addHelpText(
        'after',
        '\nExamples:\n  wharf reviewer list                # who may approve\n  wharf review request 10378.1/42 --approver rita --notes "ready for release"',
      ),
  ).action(
    run(async (ctx, id: string, flags: NotesFlags & { approver: string }) => {
      const record = await (
        await connect(flags)
      ).review.datasetApprovalRequest(id, flags.approver, flags.notes ?? '');
      report(
        ctx,
        record,
        `${id} is PENDING review by ${flags.approver}; data and metadata are frozen meanwhile`,
      );
    }),
  );

  for (const decision of ['approve', 'reject'] as const) {
    withServerOptions(
      review
        .command(decision)
        .description(
          decision === 'approve'
            ? 'release the dataset you were asked to review: PENDING -> RELEASED (records a content manifest)'
            : 'send the dataset back: PENDING -> NOT_RELEASED (a sys-admin may reject any pending request)',
        )
        .argument('<id>', 'dataset id PREFIX/N')
        .option('--notes <text>', 'for the requester', '')
        .addHelpText(
          'after',
          `\nExamples:\n  wharf review ${decision} 10378.1/42 --notes "${decision === 'approve' ? 'checked' : 'the licence is missing'}"`,
        ),
    ).action(
      run(async (ctx, id: string, flags: NotesFlags) => {
        const record = await (
          await connect(flags)
        ).review.actionApprovalRequest(id, decision, flags.notes ?? '');
        report(ctx, record, decision === 'approve' ? `${id} is RELEASED` : `${id} is back to NOT_RELEASED`);
      }),
    );
  }
}
