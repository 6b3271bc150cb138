/**
 * Every error Wharf raises is a WharfError with a stable `code` and a `retryable` flag.
 * Retry logic and the CLI's exit codes decide by those fields, never by class or message.
 */
export type ErrorCode =
  | 'USAGE'
  | 'VALIDATION'
  | 'INVALID_KEY'
  | 'NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'PRECONDITION_FAILED'
  | 'CONFLICT'
  | 'UNSUPPORTED'
  | 'NETWORK'
  | 'ABORTED'
  | 'IO'
  | 'INTERNAL';

export interface WharfErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** What the user can do about it, shown after the message. */
  hint?: string;
}

export class WharfError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: WharfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
  }
}

/** Bad command-line or option syntax: the caller must change how it calls us. */
export class UsageError extends WharfError {
  constructor(message: string, options?: WharfErrorOptions) {
    super('USAGE', message, options);
  }
}

/** Well-formed input that breaks a rule (schema, value range). */
export class ValidationError extends WharfError {
  constructor(message: string, options?: WharfErrorOptions) {
    super('VALIDATION', message, options);
  }
}

/** An object key that cannot be stored safely (path traversal, NUL, empty segment). */
export class InvalidKeyError extends WharfError {
  readonly key: string;
  constructor(key: string, reason: string, options?: WharfErrorOptions) {
    super('INVALID_KEY', `refusing object key ${JSON.stringify(key)}: ${reason}`, options);
    this.key = key;
  }
}

export class NotFoundError extends WharfError {
  constructor(message: string, options?: WharfErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}

export class AccessDeniedError extends WharfError {
  constructor(message: string, options?: WharfErrorOptions) {
    super('ACCESS_DENIED', message, options);
  }
}

/** A conditional request (If-Match / If-None-Match) did not hold. */
export class PreconditionFailedError extends WharfError {
  constructor(message: string, options?: WharfErrorOptions) {
    super('PRECONDITION_FAILED', message, options);
  }
}

export class ConflictError extends WharfError {
  constructor(message: string, options?: WharfErrorOptions) {
    super('CONFLICT', message, options);
  }
}

export class UnsupportedError extends WharfError {
  constructor(message: string, options?: WharfErrorOptions) {
    super('UNSUPPORTED', message, options);
  }
}

export class NetworkError extends WharfError {
  constructor(message: string, options?: WharfErrorOptions) {
    super('NETWORK', message, { retryable: true, ...options });
  }
}

export class AbortedError extends WharfError {
  constructor(message = 'operation aborted', options?: WharfErrorOptions) {
    super('ABORTED', message, options);
  }
}

export function isWharfError(error: unknown): error is WharfError {
  return error instanceof WharfError;
}

/** Throws AbortedError if the signal has fired; call at the start of each unit of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(abortReason(signal));
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return `operation aborted: ${reason.message}`;
  return 'operation aborted';
}

/** Maps any thrown value to a WharfError, keeping WharfErrors as they are. */
export function toWharfError(error: unknown, context?: string): WharfError {
  if (error instanceof WharfError) return error;
  if (isAbortLike(error)) return new AbortedError(undefined, { cause: error });
  const nodeCode = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const prefix = context ? `${context}: ` : '';
  switch (nodeCode) {
    case 'ENOENT':
      return new NotFoundError(`${prefix}${message}`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new AccessDeniedError(`${prefix}${message}`, { cause: error });
    case 'ENOSPC':
      return new WharfError('IO', `${prefix}no space left on device`, {
        cause: error,
        hint: 'free some disk space and run the command again; nothing was written at the final path',
      });
    default:
      return new WharfError('INTERNAL', `${prefix}${message}`, { cause: error });
  }
}

export function isAbortLike(error: unknown): boolean {
  if (error instanceof AbortedError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'AbortError';
}
