import { z } from 'zod';
import {
  AccessDeniedError,
  InvalidKeyError,
  isWharfError,
  type ErrorCode,
  type WharfErrorOptions,
} from '../core/errors.js';
import { formatBytes } from '../core/units.js';
import { FieldValidationError } from '../datastore/model/validation.js';

/** The largest JSON request body the service reads (metadata documents are far smaller). */
export const JSON_BODY_LIMIT = 4 * 1024 * 1024;

/** No or an invalid bearer token: HTTP 401 (an AccessDeniedError to everything else). */
export class UnauthenticatedError extends AccessDeniedError {
  constructor(message: string, options?: WharfErrorOptions) {
    super(message, { hint: 'send Authorization: Bearer <token> (wharf token create)', ...options });
  }
}

/**
 * Refusal by the server's authorisation (not by the service): the error handler records it in the audit
 * log with outcome `denied` when the call was mutating.
 */
export class AuthorizationError extends AccessDeniedError {
  readonly auditTarget: string | null;
  constructor(message: string, target: string | null, options?: WharfErrorOptions) {
    super(message, options);
    this.auditTarget = target;
  }
}

export const errorBodySchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().describe('Stable error code, e.g. VALIDATION, NOT_FOUND, CONFLICT, UNAUTHENTICATED.'),
      message: z.string(),
      hint: z.string().optional().describe('What the caller can do about it.'),
      issues: z
        .array(z.strictObject({ path: z.string(), message: z.string() }))
        .optional()
        .describe('Every failing field (VALIDATION only).'),
      key: z.string().optional().describe('The refused path or key (INVALID_KEY only, when known).'),
    }),
  })
  .meta({ title: 'Error' });
export type ErrorBody = z.output<typeof errorBodySchema>;

const STATUS: Record<ErrorCode, number> = {
  USAGE: 400,
  VALIDATION: 400,
  INVALID_KEY: 400,
  NOT_FOUND: 404,
  ACCESS_DENIED: 403,
  PRECONDITION_FAILED: 412,
  CONFLICT: 409,
  UNSUPPORTED: 501,
  NETWORK: 503,
  ABORTED: 503,
  IO: 500,
  INTERNAL: 500,
};

export interface HttpErrorResponse {
  status: number;
  body: ErrorBody;
  /** A 5xx: the server should log it (the client sees only a generic message). */
  internal: boolean;
}

/**
 * Maps any error to a status and the JSON body `{ error: { code, message, hint?, issues? } }` (`contentType`,
 * the request's, names the refused type of a 415). Never
 * includes a stack trace; unexpected errors (not WharfErrors, not client errors fastify reports) say only
 * "internal error".
 */
export function toHttpError(error: unknown, contentType?: string): HttpErrorResponse {
  if (error instanceof UnauthenticatedError)
    return respond(401, 'UNAUTHENTICATED', error.message, error.hint);
  if (isWharfError(error)) {
    const status = STATUS[error.code] ?? 500;
    if (status >= 500 && error.code !== 'NETWORK' && error.code !== 'UNSUPPORTED') {
      return { ...respond(status, error.code, 'internal error'), internal: true };
    }
    const body = respond(status, error.code, error.message, error.hint);
    if (error instanceof FieldValidationError) body.body.error.issues = [...error.issues];
    if (error instanceof InvalidKeyError && error.key !== undefined) body.body.error.key = error.key;
    return { ...body, internal: status >= 500 };
  }
  // Fastify's own client errors: malformed JSON, wrong content type, body too large, ...
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const message =
      statusCode === 415 && contentType
        ? `a request body of type ${contentType.split(';')[0]!.trim()} is not accepted`
        : error instanceof Error
          ? error.message
          : 'bad request';
    const code = statusCode === 404 ? 'NOT_FOUND' : statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION';
    return respond(statusCode, code, message, CLIENT_ERROR_HINTS[statusCode]);
  }
  return { ...respond(500, 'INTERNAL', 'internal error'), internal: true };
}

/** What to do about fastify's own refusals, which say only what happened. */
const CLIENT_ERROR_HINTS: Record<number, string> = {
  413: `JSON request bodies may be at most ${formatBytes(JSON_BODY_LIMIT)}; files go up through the file routes, which have no limit`,
  415: 'send the body as JSON with the header Content-Type: application/json',
};

function respond(status: number, code: string, message: string, hint?: string): HttpErrorResponse {
  const error: ErrorBody['error'] = { code, message };
  if (hint) error.hint = hint;
  return { status, body: { error }, internal: false };
}
