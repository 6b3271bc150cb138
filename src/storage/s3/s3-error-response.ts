import type { IncomingHttpHeaders } from 'node:http';

/**
 * S3 error responses read without the SDK (the lean GetObject path), turned into errors shaped like the SDK's
 * service exceptions so that s3-errors.ts maps them, and the SDK's retry rules classify them, exactly as they
 * would an SDK error.
 */

/** What the SDK puts on a service exception, as far as s3-errors.ts and the retry rules read it. */
export interface S3ResponseError extends Error {
  Code?: string;
  $fault: 'client' | 'server';
  $metadata: {
    httpStatusCode: number;
    requestId?: string;
    extendedRequestId?: string;
    attempts?: number;
    totalRetryDelay?: number;
    clockSkewCorrected?: boolean;
  };
  /** The response head (no body), as the SDK keeps it; its Retry-After headers feed the retry delay. */
  $response: { statusCode: number; headers: IncomingHttpHeaders };
  [field: string]: unknown;
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity: string, name: string) => {
    if (name[0] === '#') {
      const point =
        name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isInteger(point) && point >= 0 && point <= 0x10ffff
        ? String.fromCodePoint(point)
        : entity;
    }
    return XML_ENTITIES[name] ?? entity;
  });
}

/**
 * The simple elements of an S3 error document (`<Error><Code>NoSuchKey</Code><Message>…</Message>…</Error>`) as
 * name → text (entities decoded). Returns `{}` for an empty or non-XML body.
 */
export function parseS3ErrorXml(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of body.matchAll(/<([A-Za-z][\w.-]*)(?:\s[^>]*)?>([^<]*)<\/\1\s*>/g)) {
    const [, name, text] = match;
    if (name === undefined || text === undefined || name === 'Error' || name in out) continue;
    out[name] = decodeXmlText(text);
  }
  return out;
}

/**
 * The error the SDK would throw for this S3 error response: `name` is the error code (`NotFound` for a 404 without
 * one, else `Unknown`), `message` the server's Message (`UnknownError` without one), `Code` and the document's other
 * fields as properties, `$metadata.httpStatusCode`, `$fault`, and the response head as `$response`.
 */
export function s3ResponseError(status: number, headers: IncomingHttpHeaders, body: string): S3ResponseError {
  const data = parseS3ErrorXml(body);
  const { Code: code, Message: message, ...rest } = data;
  const error = new Error(message || 'UnknownError') as S3ResponseError;
  error.name = code ?? (status === 404 ? 'NotFound' : 'Unknown');
  for (const [field, value] of Object.entries(rest)) {
    if (!(field in error) && field !== '__proto__') error[field] = value;
  }
  if (code !== undefined) error.Code = code;
  error.$fault = status < 500 ? 'client' : 'server';
  error.$metadata = { httpStatusCode: status };
  const requestId = headerValue(headers, 'x-amz-request-id') ?? data['RequestId'];
  const extendedRequestId = headerValue(headers, 'x-amz-id-2');
  if (requestId !== undefined) error.$metadata.requestId = requestId;
  if (extendedRequestId !== undefined) error.$metadata.extendedRequestId = extendedRequestId;
  error.$response = { statusCode: status, headers };
  return error;
}

/** A response header as one string (repeated headers joined with `, `, as Node joins most). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
