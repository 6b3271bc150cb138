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
  /**
   * Every request of the run would fail the same way (rejected credentials, a missing bucket, an endpoint that
   * cannot be reached): work over many objects stops at the first, and says it once, not once per object.
   */
  affectsAll?: boolean;
}

export class WharfError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  readonly affectsAll: boolean;

  constructor(code: ErrorCode, message: string, options: WharfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
    this.affectsAll = options.affectsAll ?? false;
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
  /** The refused key; undefined when it is not known apart from the message (a datastore answer without it). */
  readonly key: string | undefined;
  /** Why the key is refused, without the key (for callers that name the file their own way). */
  readonly reason: string;
  /** With `key` the message is `refusing object key "KEY": REASON`; without, `reason` is the whole message. */
  constructor(key: string | undefined, reason: string, options?: WharfErrorOptions) {
    super(
      'INVALID_KEY',
      key === undefined ? reason : `refusing object key ${quoteKeyForMessage(key)}: ${reason}`,
      options,
    );
    this.key = key;
    this.reason = reason;
  }
}

/** Longer keys are shown as their start and end, so that the reason stays on the user's screen. */
const KEY_SHOWN_WHOLE = 200;

/** A key quoted for an error line: whole when short, otherwise its first and last 80 characters and its size. */
export function quoteKeyForMessage(key: string): string {
  if (key.length <= KEY_SHOWN_WHOLE) return JSON.stringify(key);
  const bytes = new TextEncoder().encode(key).length;
  return `${JSON.stringify(key.slice(0, 80))}…${JSON.stringify(key.slice(-80))} (${bytes} bytes)`;
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
  const prefix = context ? `${context}: ` : '';
  if (nodeCode === 'ENOSPC') {
    return new WharfError('IO', `${prefix}no space left on device`, {
      cause: error,
      hint: 'free some disk space and run the command again; a file being written when the disk filled was not put in place',
    });
  }
  const fs = describeFileSystemError(error);
  // A caller's context names what was being done (`reading the stat cache F`); then the reason alone follows it.
  const message = fs
    ? context
      ? `${context}: ${fs.reason}`
      : `${fs.action} ${fs.target}: ${fs.reason}`
    : `${prefix}${error instanceof Error ? error.message : String(error)}`;
  const options = { cause: error, ...(fs?.hint ? { hint: fs.hint } : {}) };
  switch (nodeCode) {
    case 'ENOENT':
      return new NotFoundError(message, options);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new AccessDeniedError(message, options);
    default:
      return new WharfError(fs ? 'IO' : 'INTERNAL', message, options);
  }
}

const FS_ACTIONS: Record<string, string> = {
  mkdir: 'cannot create the folder',
  open: 'cannot open',
  read: 'cannot read',
  write: 'cannot write',
  rename: 'cannot move',
  link: 'cannot link',
  copyfile: 'cannot copy',
  unlink: 'cannot delete',
  rmdir: 'cannot remove the folder',
  scandir: 'cannot list the folder',
  opendir: 'cannot list the folder',
  stat: 'cannot read',
  lstat: 'cannot read',
  fstat: 'cannot read',
  fsync: 'cannot flush to disk',
  fdatasync: 'cannot flush to disk',
  ftruncate: 'cannot resize',
  utime: 'cannot set the time of',
  futime: 'cannot set the time of',
  access: 'cannot access',
  realpath: 'cannot resolve',
  statfs: 'cannot read the free space of',
};

const PERMISSION_HINT = 'choose a path you may write to, or change its permissions';
const FS_REASONS: Record<string, { reason: string; hint: string }> = {
  ENOENT: {
    reason: 'no such file or folder',
    hint: 'check the path; its parent folder must exist and hold files',
  },
  EACCES: { reason: 'permission denied', hint: PERMISSION_HINT },
  EPERM: { reason: 'operation not permitted', hint: PERMISSION_HINT },
  EROFS: { reason: 'the file system is read-only', hint: 'choose a path on a writable disk' },
  ENOTDIR: {
    reason: 'part of the path is a file, not a folder',
    hint: 'move the file out of the way or choose another path',
  },
  EISDIR: { reason: 'it is a folder', hint: 'move the folder out of the way or choose another path' },
  EEXIST: { reason: 'something is already there', hint: 'move it out of the way or choose another path' },
  EMFILE: {
    reason: 'too many open files',
    hint: 'raise the open-file limit (ulimit -n) or lower --concurrency',
  },
  EXDEV: { reason: 'the two paths are on different disks', hint: 'keep both on one file system' },
  EIO: {
    reason: 'the disk reported an I/O error',
    hint: 'check the disk; a file being written when it failed was not put in place',
  },
  ENAMETOOLONG: { reason: 'the name is too long for the file system', hint: 'choose a shorter path' },
};

/** Node's errno code (`ENOSPC`, `EACCES`, ...) in words, where Wharf has words for it. */
export function errnoReason(code: string): string | undefined {
  if (code === 'ENOSPC') return 'no space left on device';
  return FS_REASONS[code]?.reason;
}

/**
 * Node's file-system errors say `ENOENT: no such file or directory, mkdir '/x'`; this gives `cannot create the
 * folder`, `/x` and `no such file or folder`, with what to do. Undefined for errors not from a file-system call.
 */
function describeFileSystemError(
  error: unknown,
): { action: string; target: string; reason: string; hint?: string } | undefined {
  const e = error as { code?: unknown; syscall?: unknown; path?: unknown; dest?: unknown } | null;
  if (typeof e?.code !== 'string' || typeof e.syscall !== 'string' || typeof e.path !== 'string')
    return undefined;
  const known = FS_REASONS[e.code];
  return {
    action: FS_ACTIONS[e.syscall] ?? `${e.syscall} failed on`,
    target: typeof e.dest === 'string' ? `${e.path} to ${e.dest}` : e.path,
    reason: known?.reason ?? e.code,
    ...(known ? { hint: known.hint } : {}),
  };
}
export function isAbortLike(error: unknown): boolean {
  if (error instanceof AbortedError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'AbortError';
}

/** `SUBJECT: message`, unless the message already starts with the subject (a verification failure names its object). */
export function aboutSubject(subject: string, message: string): string {
  return message.startsWith(`${subject}:`) ? message : `${subject}: ${message}`;
}
