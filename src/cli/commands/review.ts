import { Option, type Command } from 'commander';
import { positiveInt, type RunAction } from '../context.js';
import { CONNECTION_HELP, withServerOptions, type ServerFlags } from '../datastore-options.js';

export interface NotesFlags extends ServerFlags {
  notes?: string;
}

export interface QueueFlags extends ServerFlags {
  approver?: string;
  pageSize?: number;
  pageKey?: string;
  all?: boolean;
}

export function registerReview(program: Command, run: RunAction): void {
  const review = program
    .command('review')
    .description(
      'the release workflow: request a review, list your queue, approve or reject (talks to wharf serve)',
    )
    .addHelpText(
      'after',
      `
NOT_RELEASED -> request -> PENDING -> approve -> RELEASED (frozen: new versions only)
                                   -> reject  -> NOT_RELEASED

${CONNECTION_HELP}

Examples:
  wharf review request 10378.1/42 --approver rita --notes "ready for release"
  wharf review queue                                    # as rita: what waits for her
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

  withServerOptions(
    review
      .command('queue')
      .description(
        'the release requests waiting for you (or --approver USER), oldest first: who asked, when, their notes',
      )
      .option('--approver <user>', "another reviewer's queue (default: yours)")
      .addOption(
        new Option('--page-size <n>', 'requests per page (1-1000, default 20)').argParser(
          positiveInt('--page-size'),
        ),
      )
      .option('--page-key <key>', 'continue after the page that printed this key')
      .option('--all', 'every page')
      .addHelpText(
        'after',
        `
With --json: one {"dataset": RECORD, "request": {actor, timestamp, notes, ...}} per line; without --all a
last line {"paginationKey": KEY} when there are more pages (pass it to --page-key).

Examples:
  wharf review queue
  wharf review queue --approver rita --all --json`,
      ),
  ).action(
    run(async (ctx, flags: QueueFlags) => {
      const { queue } = await import('./review-run.js');
      return queue(ctx, flags);
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
