/**
 * Errors already recorded in the audit log (by the service's `audited`, or by a route that records its own
 * failure). The server's error handler records every other refusal of a mutating call, so that each such
 * call leaves exactly one entry.
 */
const audited = new WeakSet<object>();

export function markAudited(error: unknown): void {
  if (typeof error === 'object' && error !== null) audited.add(error);
}

export function wasAudited(error: unknown): boolean {
  return typeof error === 'object' && error !== null && audited.has(error);
}
