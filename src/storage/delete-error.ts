import { WharfError } from '../core/errors.js';

/** Some keys of a batched delete failed; the others were deleted. */
export class DeleteError extends WharfError {
  readonly failed: readonly { key: string; error: WharfError }[];

  constructor(failed: readonly { key: string; error: WharfError }[]) {
    const first = failed[0];
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
    super(first?.error.code ?? 'INTERNAL', `could not delete ${first?.key}${more}: ${first?.error.message}`, {
      retryable: failed.every((f) => f.error.retryable),
      cause: first?.error,
    });
    this.failed = failed;
  }
}
