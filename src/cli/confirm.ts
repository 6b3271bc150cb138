import { createInterface } from 'node:readline/promises';
import { UsageError } from '../core/errors.js';

/** Refuses (exit 2) to ask on a non-terminal stdin: a script without --yes must not hang or guess. */
export function requireTerminal(what: string, options: { dryRun: boolean }): void {
  if (!process.stdin.isTTY) {
    throw new UsageError(
      `wharf ${what} needs confirmation, but stdin is not a terminal; nothing was changed`,
      {
        hint: options.dryRun
          ? 'pass --yes to apply without asking, or --dry-run to only see the plan'
          : 'pass --yes to go ahead without asking',
      },
    );
  }
}

/** One line typed at the terminal, the question on stderr. */
export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}
