import { WharfError } from '../core/errors.js';

/** Failures of one error code shown one by one before the rest of them become one line. */
export const FAILURES_SHOWN_PER_CODE = 5;

/**
 * The error lines to print for per-file failures: each error code's first `perCode` failures as they are, then
 * one line counting the rest of that code. A folder nobody may write to fails every download the same way; the
 * user needs a few examples and the count, not thousands of lines (`--json` still lists every failure).
 */
export function summariseFailures(
  failures: readonly { path: string; error: WharfError }[],
  perCode = FAILURES_SHOWN_PER_CODE,
): WharfError[] {
  const byCode = new Map<string, WharfError[]>();
  for (const { error } of failures) {
    const group = byCode.get(error.code);
    if (group) group.push(error);
    else byCode.set(error.code, [error]);
  }
  const lines: WharfError[] = [];
  for (const [code, errors] of byCode) {
    // One more line costs no more than the summary line would.
    if (errors.length <= perCode + 1) {
      lines.push(...errors);
      continue;
    }
    lines.push(...errors.slice(0, perCode));
    const rest = errors.length - perCode;
    const first = errors[0]!;
    lines.push(
      new WharfError(first.code, `${rest} more files failed with ${code} like the ones above`, {
        hint: `${first.hint ? `${first.hint}; ` : ''}--json lists every failure`,
      }),
    );
  }
  return lines;
}
