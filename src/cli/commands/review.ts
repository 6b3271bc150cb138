import type { Command } from 'commander';
import type { RunAction } from '../context.js';
import { CONNECTION_HELP, withServerOptions, type ServerFlags } from '../datastore-options.js';

export interface NotesFlags extends ServerFlags {
  notes?: string;
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
      const { request } = await import('./review-run.js');
      return request(ctx, id, flags);
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
        const { decide } = await import('./review-run.js');
        return decide(ctx, decision, id, flags);
      }),
    );
  }
}
