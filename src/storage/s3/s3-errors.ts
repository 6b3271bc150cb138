import {
  AbortedError,
  AccessDeniedError,
  isAbortLike,
  NetworkError,
  NotFoundError,
  PreconditionFailedError,
  UnsupportedError,
  ValidationError,
  WharfError,
} from '../../core/errors.js';
import { keyTooLong } from './s3-encoding.js';

/** What an error message needs to know about the driver: names, not secrets. */
export interface S3ErrorContext {
  bucket: string;
  /** The endpoint URL, or `AWS S3 (region)`. */
  endpointLabel: string;
  /** The endpoint URL when it is a custom one (for the `--endpoint-url` in hints). */
  endpoint: string | undefined;
  /** Where the credentials came from, from `describeCredentialSource`. */
  credentialSource: string;
}

/** The operation that failed: a verb for messages and, for object operations, the key. */
export interface S3ErrorTarget {
  /** e.g. `read`, `write`, `list`, `delete`, `copy`. */
  action: string;
  key?: string;
  /** For listings: the prefix, named in messages (a 404 still means the bucket). */
  prefix?: string;
  /** For 412: what the condition was, e.g. `an object already exists`. */
  precondition?: string;
}

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const ACCESS_CODES = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidToken',
  'InvalidSecurity',
  'AllAccessDisabled',
  'AccountProblem',
  'RequestTimeTooSkewed',
]);

const THROTTLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequests',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
]);

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/;

/** The resource a message is about: `s3://bucket/key` or `s3://bucket`. */
export function s3Url(bucket: string, key?: string): string {
  return key === undefined ? `s3://${bucket}` : `s3://${bucket}/${key}`;
}

/** NotFoundError for a bucket that does not exist, with a hint to create it or fix the name/endpoint. */
export function bucketNotFound(ctx: S3ErrorContext, cause?: unknown): NotFoundError {
  const endpointFlag = ctx.endpoint ? ` --endpoint-url ${ctx.endpoint}` : '';
  return new NotFoundError(`bucket ${ctx.bucket} does not exist at endpoint ${ctx.endpointLabel}`, {
    cause,
    affectsAll: true,
    hint: `create it (e.g. aws s3 mb s3://${ctx.bucket}${endpointFlag}) or check the bucket name and the endpoint (AWS_ENDPOINT_URL or --endpoint-url)`,
  });
}

/** NotFoundError naming the missing object. */
export function objectNotFound(ctx: S3ErrorContext, key: string, cause?: unknown): NotFoundError {
  return new NotFoundError(`${s3Url(ctx.bucket, key)} does not exist`, { cause });
}

/**
 * What an answer that no S3 server gives was (an HTML page, or a body the SDK could not read as S3's XML), or
 * undefined for a normal S3 error. A wrong port or a web server at the endpoint answers like that, and a 404
 * from it must not read as "the bucket does not exist".
 */
function foreignResponse(error: unknown): string | undefined {
  const response = (error as { $response?: { headers?: Record<string, string | undefined> } } | null)
    ?.$response;
  const type = response?.headers?.['content-type'] ?? '';
  if (/^text\/html/i.test(type)) return 'an HTML page';
  if (/Deserialization error|XML parse error/i.test(messageOf(error)))
    return `a body that is not S3's XML${type ? ` (${type.split(';')[0]})` : ''}`;
  return undefined;
}

/** Whether an SDK error is an answer from a server that does not speak S3 (a web page, a body not S3's XML). */
export function isForeignAnswer(error: unknown): boolean {
  return foreignResponse(error) !== undefined;
}

/** HTTP status of an SDK error, if it got as far as a response. */
export function httpStatus(error: unknown): number | undefined {
  return (error as SdkErrorShape | null)?.$metadata?.httpStatusCode;
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`, ...) of an SDK error, if the server sent one. */
export function s3ErrorCode(error: unknown): string | undefined {
  const e = error as SdkErrorShape | null;
  if (typeof e?.Code === 'string' && e.Code) return e.Code;
  if (httpStatus(error) !== undefined && typeof e?.name === 'string' && e.name !== 'Unknown') return e.name;
  return undefined;
}

/**
 * Maps anything the AWS SDK throws to a WharfError with a one-line message a person can act on, keeping the
 * original as `cause`. WharfErrors pass through unchanged.
 */
export function mapS3Error(error: unknown, ctx: S3ErrorContext, target: S3ErrorTarget): WharfError {
  if (error instanceof WharfError) return error;
  if (isAbortLike(error)) return new AbortedError(undefined, { cause: error });

  const e = (error ?? {}) as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'CredentialsProviderError' || name === 'ProviderError' || name === 'TokenProviderError') {
    return new AccessDeniedError(
      `no usable AWS credentials for ${s3Url(ctx.bucket)}: looked in ${ctx.credentialSource} (${oneLine(messageOf(error))})`,
      { cause: error, hint: CREDENTIAL_HINT },
    );
  }

  const status = httpStatus(error);
  const code = s3ErrorCode(error);
  if (status === undefined && code === undefined) return mapTransportError(error, ctx, target);
  const foreign = foreignResponse(error);
  if (foreign !== undefined) {
    return new NetworkError(
      `${ctx.endpointLabel} did not answer like an S3 server (HTTP ${status ?? '?'}, ${foreign})`,
      {
        cause: error,
        retryable: false,
        affectsAll: true,
        hint: 'check --endpoint-url / AWS_ENDPOINT_URL: its host and port must be the S3 service, not a web page',
      },
    );
  }
  return mapServerError({ code, status, message: serverMessage(error), cause: error }, ctx, target);
}

/** Server-side failure described by code/status (also used for per-key errors of DeleteObjects). */
export function mapServerError(
  failure: { code: string | undefined; status: number | undefined; message?: string; cause?: unknown },
  ctx: S3ErrorContext,
  target: S3ErrorTarget,
): WharfError {
  const { code, status, cause } = failure;
  const what = s3Url(ctx.bucket, target.key ?? target.prefix);
  const detail = describeCode(code, status, failure.message);

  if (code === 'NoSuchBucket') return bucketNotFound(ctx, cause);
  if (code === 'NoSuchKey' || (status === 404 && target.key !== undefined && code !== 'NoSuchUpload')) {
    return objectNotFound(ctx, target.key ?? '', cause);
  }
  if (status === 404 && target.key === undefined) return bucketNotFound(ctx, cause);

  if ((code && ACCESS_CODES.has(code)) || status === 403) {
    return new AccessDeniedError(
      `${accessReason(code)} for ${target.action} ${what} at ${ctx.endpointLabel} (${detail}) using credentials from ${ctx.credentialSource}`,
      {
        cause,
        // Plain AccessDenied may concern one key (a policy); the others reject the credentials themselves.
        affectsAll: code !== undefined && code !== 'AccessDenied' && code !== 'Forbidden',
        hint:
          code === 'RequestTimeTooSkewed'
            ? "fix this machine's clock (requests are signed with the current time)"
            : CREDENTIAL_HINT,
      },
    );
  }
  if (code === 'PreconditionFailed' || status === 412) {
    const condition = target.precondition ? `: ${target.precondition}` : '';
    return new PreconditionFailedError(`precondition failed for ${target.action} ${what}${condition}`, {
      cause,
    });
  }
  if (code === 'ConditionalRequestConflict' || (status === 409 && code !== 'BucketNotEmpty')) {
    return new PreconditionFailedError(
      `a concurrent write to ${what} conflicted with this ${target.action} (${detail}); read it again and retry`,
      { cause },
    );
  }
  if ((code && THROTTLE_CODES.has(code)) || status === 429 || status === 503) {
    return new NetworkError(
      `endpoint ${ctx.endpointLabel} is throttling requests (${detail}) during ${target.action} ${what}`,
      {
        cause,
        hint: 'lower the concurrency or try again later',
      },
    );
  }
  if (code === 'RequestTimeout' || code === 'IncompleteBody') {
    return new NetworkError(
      `endpoint ${ctx.endpointLabel} timed out waiting for the request body of ${target.action} ${what} (${detail})`,
      {
        cause,
      },
    );
  }
  if (code === 'NotImplemented' || status === 501) {
    return new UnsupportedError(
      `endpoint ${ctx.endpointLabel} does not support ${target.action} ${what} (${detail})`,
      {
        cause,
      },
    );
  }
  if (code === 'MissingContentLength' || status === 411) {
    return new UnsupportedError(
      `endpoint ${ctx.endpointLabel} refused the streamed upload for ${target.action} ${what} (${detail})`,
      {
        cause,
        hint: 'set checksumMode when_required (or AWS_REQUEST_CHECKSUM_CALCULATION=when_required) for this endpoint',
      },
    );
  }
  if (code === 'KeyTooLongError' && target.key !== undefined) {
    return keyTooLong(target.key, undefined, cause);
  }
  if (code === 'BadDigest' || code === 'InvalidDigest' || code === 'XAmzContentSHA256Mismatch') {
    return new WharfError('IO', `the data of ${target.action} ${what} was corrupted in transit (${detail})`, {
      cause,
      retryable: true,
    });
  }
  if ((status !== undefined && status >= 500) || code === 'InternalError' || code === 'ServiceUnavailable') {
    return new WharfError(
      'INTERNAL',
      `server error from ${ctx.endpointLabel} during ${target.action} ${what} (${detail})`,
      {
        cause,
        retryable: true,
      },
    );
  }
  if (status !== undefined && status >= 400) {
    return new ValidationError(`endpoint ${ctx.endpointLabel} refused ${target.action} ${what} (${detail})`, {
      cause,
    });
  }
  return new WharfError('INTERNAL', `${target.action} ${what} failed at ${ctx.endpointLabel} (${detail})`, {
    cause,
  });
}

function mapTransportError(error: unknown, ctx: S3ErrorContext, target: S3ErrorTarget): WharfError {
  const e = (error ?? {}) as SdkErrorShape;
  const nodeCode = typeof e.code === 'string' ? e.code : '';
  const name = typeof e.name === 'string' ? e.name : '';
  const message = oneLine(messageOf(error));
  if (TLS_CODE.test(nodeCode)) {
    return new NetworkError(`cannot reach endpoint ${ctx.endpointLabel}: TLS failed: ${message}`, {
      cause: error,
      retryable: false,
      affectsAll: true,
      hint: 'check the endpoint URL; for a private CA set NODE_EXTRA_CA_CERTS to its certificate file',
    });
  }
  if (
    NETWORK_CODES.has(nodeCode) ||
    name === 'TimeoutError' ||
    /socket hang up|ECONNRESET|network|timed? ?out/i.test(message)
  ) {
    return new NetworkError(`cannot reach endpoint ${ctx.endpointLabel}: ${message}`, {
      cause: error,
      hint: unreachableHint(ctx),
      // A refused connection or an unknown host fails every request; a reset or a timeout may be one.
      affectsAll: UNREACHABLE_CODES.has(nodeCode),
    });
  }
  return new WharfError(
    'INTERNAL',
    `${target.action} ${s3Url(ctx.bucket, target.key ?? target.prefix)} failed: ${message}`,
    {
      cause: error,
    },
  );
}

/** What to check when no connection could be made or kept: the endpoint named, or the network to AWS. */
function unreachableHint(ctx: S3ErrorContext): string {
  return ctx.endpoint
    ? 'check --endpoint-url / AWS_ENDPOINT_URL and that the server is running and reachable from here'
    : "check this machine's network (proxy, firewall, DNS) and the region (--region / AWS_REGION)";
}

const CREDENTIAL_HINT =
  'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile NAME, or set AWS_PROFILE to a profile in ~/.aws/credentials';

function accessReason(code: string | undefined): string {
  switch (code) {
    case 'InvalidAccessKeyId':
      return 'the access key id is not known to the server';
    case 'SignatureDoesNotMatch':
      return 'the secret key does not match the access key id';
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
      return 'the session token has expired';
    case 'InvalidToken':
      return 'the session token is invalid';
    case 'RequestTimeTooSkewed':
      return "this machine's clock is too far from the server's";
    default:
      return 'access denied';
  }
}

function describeCode(
  code: string | undefined,
  status: number | undefined,
  message: string | undefined,
): string {
  const parts = [code, status === undefined ? undefined : `HTTP ${status}`].filter(Boolean).join(', ');
  return message ? `${parts}: ${message}` : parts || 'no details';
}

/** The server's own message, unless the SDK only filled in its placeholder. */
function serverMessage(error: unknown): string | undefined {
  const message = messageOf(error);
  if (!message || message === 'UnknownError' || message === 'Unknown' || message === s3ErrorCode(error))
    return undefined;
  return oneLine(message);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  const m = (error as SdkErrorShape | null)?.message;
  return typeof m === 'string' ? m : String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
