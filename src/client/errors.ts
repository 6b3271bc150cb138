import {
  AccessDeniedError,
  ConflictError,
  InvalidKeyError,
  NetworkError,
  NotFoundError,
  PreconditionFailedError,
  UnsupportedError,
  UsageError,
  ValidationError,
  WharfError,
  type ErrorCode,
  type WharfErrorOptions,
} from '../core/errors.js';
import { FieldValidationError, type FieldIssue } from '../datastore/model/validation.js';

/** The JSON error body every datastore route answers with: `{ error: { code, message, hint?, issues?, key? } }`. */
export interface ApiErrorBody {
  error?: { code?: string; message?: string; hint?: string; issues?: FieldIssue[]; key?: string };
}

/** A VALIDATION answer that lists failing fields: a FieldValidationError with the server's own message. */
class RemoteFieldValidationError extends FieldValidationError {
  constructor(message: string, issues: readonly FieldIssue[], options: WharfErrorOptions) {
    super('request', issues, options);
    this.message = message;
  }
}

/** An INVALID_KEY answer: the server's message as is (it names the key), `key` when the body has it. */
class RemoteInvalidKeyError extends InvalidKeyError {
  override readonly key: string | undefined;
  constructor(message: string, key: string | undefined, options: WharfErrorOptions) {
    super(undefined, message, options);
    this.key = key;
  }
}

/**
 * Turns an error answer of the datastore API into the WharfError subclass of its code, with the server's
 * message and hint: 409 → ConflictError, 404 → NotFoundError, 401/403 → AccessDeniedError, 400 → ValidationError
 * (a FieldValidationError carrying `issues` when the server listed failing fields), 5xx → a retryable
 * NetworkError for 502/503/504 and an INTERNAL WharfError otherwise. `what` names the call for messages that
 * have no body (HEAD, proxies).
 */
export function errorFromResponse(status: number, body: unknown, what: string): WharfError {
  const error = (body as ApiErrorBody | undefined)?.error;
  const serverCode = typeof error?.code === 'string' ? error.code : undefined;
  const message =
    typeof error?.message === 'string' && error.message !== ''
      ? error.message
      : `${what}: HTTP ${status}${statusText(status)}`;
  const hint =
    error?.hint ??
    (serverCode === 'UNAUTHENTICATED' || status === 401
      ? 'log in with `wharf login URL --token TOKEN`, or set WHARF_TOKEN'
      : undefined);
  const options: WharfErrorOptions = hint ? { hint } : {};
  const code = codeFor(serverCode, status);
  switch (code) {
    case 'VALIDATION':
      return Array.isArray(error?.issues) && error.issues.length > 0
        ? new RemoteFieldValidationError(message, error.issues, options)
        : new ValidationError(message, options);
    case 'USAGE':
      return new UsageError(message, options);
    case 'INVALID_KEY':
      // The server's message names the key already; `key` only when the body has it.
      return new RemoteInvalidKeyError(
        message,
        typeof error?.key === 'string' ? error.key : undefined,
        options,
      );
    case 'NOT_FOUND':
      return new NotFoundError(message, options);
    case 'ACCESS_DENIED':
      return new AccessDeniedError(message, options);
    case 'CONFLICT':
      return new ConflictError(message, options);
    case 'PRECONDITION_FAILED':
      return new PreconditionFailedError(message, options);
    case 'UNSUPPORTED':
      return new UnsupportedError(message, options);
    case 'NETWORK':
      return new NetworkError(message, options);
    default:
      return new WharfError(code, message, { ...options, retryable: status >= 500 });
  }
}

const KNOWN_CODES = new Set<string>([
  'USAGE',
  'VALIDATION',
  'INVALID_KEY',
  'NOT_FOUND',
  'ACCESS_DENIED',
  'PRECONDITION_FAILED',
  'CONFLICT',
  'UNSUPPORTED',
  'NETWORK',
  'ABORTED',
  'IO',
  'INTERNAL',
]);

function codeFor(serverCode: string | undefined, status: number): ErrorCode {
  if (serverCode === 'UNAUTHENTICATED') return 'ACCESS_DENIED';
  if (serverCode !== undefined && KNOWN_CODES.has(serverCode)) return serverCode as ErrorCode;
  if (status === 400 || status === 413 || status === 416) return 'VALIDATION';
  if (status === 401 || status === 403) return 'ACCESS_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 412) return 'PRECONDITION_FAILED';
  if (status === 501) return 'UNSUPPORTED';
  if (status === 502 || status === 503 || status === 504) return 'NETWORK';
  return 'INTERNAL';
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: ' bad request',
    401: ' unauthenticated',
    403: ' forbidden',
    404: ' not found',
    409: ' conflict',
    412: ' precondition failed',
    416: ' range not satisfiable',
    500: ' internal server error',
    502: ' bad gateway',
    503: ' service unavailable',
    504: ' gateway timeout',
  };
  return texts[status] ?? '';
}

/** One file of a transfer that failed; the others were transferred. */
export interface FailedTransfer {
  /** Path inside the dataset. */
  path: string;
  error: WharfError;
}

/**
 * A download or upload in which some files failed after every file was attempted (the rest were transferred and
 * are in `result`). `code` is the failures' code when they share one, else `IO`.
 */
export class TransferFailedError<R extends { failed: FailedTransfer[] }> extends WharfError {
  readonly result: R;
  constructor(what: string, result: R) {
    const codes = new Set(result.failed.map((f) => f.error.code));
    const first = result.failed[0];
    super(
      codes.size === 1 && first ? first.error.code : 'IO',
      `${what}: ${result.failed.length} file${result.failed.length === 1 ? '' : 's'} failed` +
        (first ? ` (first: ${first.path}: ${first.error.message})` : ''),
      {
        hint: first?.error.hint ?? 'run it again once the cause is fixed',
        ...(first ? { cause: first.error } : {}),
      },
    );
    this.result = result;
  }
}
