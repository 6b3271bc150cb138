import { describe, expect, it } from 'vitest';
import { WharfError } from '../../core/errors.js';
import { mapS3Error, mapServerError } from './s3-errors.js';

const ctx = {
  bucket: 'data',
  endpointLabel: 'http://127.0.0.1:7480',
  endpoint: 'http://127.0.0.1:7480',
  credentialSource: 'environment variables AWS_ACCESS_KEY_ID (TEST…0001)/AWS_SECRET_ACCESS_KEY',
};
const sdk = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error('UnknownError'), {
    name,
    ...(status ? { $metadata: { httpStatusCode: status } } : {}),
    ...extra,
  });

describe('mapS3Error', () => {
  it('names a missing bucket and a missing key', () => {
    const bucket = mapS3Error(sdk('NoSuchBucket', 404, { Code: 'NoSuchBucket' }), ctx, {
      action: 'read',
      key: 'k',
    });
    expect(bucket).toMatchObject({
      code: 'NOT_FOUND',
      message: 'bucket data does not exist at endpoint http://127.0.0.1:7480',
    });
    expect(bucket.hint).toMatch(/aws s3 mb s3:\/\/data --endpoint-url http:\/\/127.0.0.1:7480/);
    expect(mapS3Error(sdk('NoSuchKey', 404), ctx, { action: 'read', key: 'a b' }).message).toBe(
      's3://data/a b does not exist',
    );
    expect(mapS3Error(sdk('NotFound', 404), ctx, { action: 'list', prefix: 'p/' }).code).toBe('NOT_FOUND');
  });

  it('an endpoint that answers with a web page is not taken for a missing bucket', () => {
    const html = { $response: { headers: { 'content-type': 'text/html;charset=utf-8' } } };
    const listed = mapS3Error(sdk('Error', 404, html), ctx, { action: 'list', prefix: 'p/' });
    expect(listed).toMatchObject({ code: 'NETWORK', affectsAll: true });
    expect(listed.message).toBe(
      'http://127.0.0.1:7480 did not answer like an S3 server (HTTP 404, an HTML page)',
    );
    expect(listed.hint).toMatch(/--endpoint-url/);
    const unreadable = Object.assign(sdk('Error', 501), {
      message: '@aws-sdk XML parse error: mismatched tags. Deserialization error: to see the raw response…',
    });
    expect(mapS3Error(unreadable, ctx, { action: 'write', key: 'k' }).message).toMatch(
      /did not answer like an S3 server \(HTTP 501, a body that is not S3's XML\)/,
    );
  });

  it('says which credentials were refused and how to change them', () => {
    const e = mapS3Error(sdk('SignatureDoesNotMatch', 403), ctx, { action: 'write', key: 'k' });
    expect(e.code).toBe('ACCESS_DENIED');
    expect(e.message).toBe(
      'the secret key does not match the access key id for write s3://data/k at http://127.0.0.1:7480 (SignatureDoesNotMatch, HTTP 403) using credentials from environment variables AWS_ACCESS_KEY_ID (TEST…0001)/AWS_SECRET_ACCESS_KEY',
    );
    expect(e.hint).toMatch(/AWS_PROFILE/);
    expect(mapS3Error(sdk('Unknown', 403), ctx, { action: 'stat', key: 'k' }).message).toMatch(
      /^access denied for stat/,
    );
    const none = mapS3Error(sdk('CredentialsProviderError'), ctx, { action: 'read', key: 'k' });
    expect(none.code).toBe('ACCESS_DENIED');
    expect(none.message).toMatch(/^no usable AWS credentials for s3:\/\/data: looked in /);
  });

  it('maps preconditions, throttling, server errors and network failures', () => {
    expect(
      mapS3Error(sdk('PreconditionFailed', 412), ctx, { action: 'write', key: 'k', precondition: 'x' })
        .message,
    ).toBe('precondition failed for write s3://data/k: x');
    expect(mapS3Error(sdk('ConditionalRequestConflict', 409), ctx, { action: 'write', key: 'k' }).code).toBe(
      'PRECONDITION_FAILED',
    );
    expect(mapS3Error(sdk('SlowDown', 503), ctx, { action: 'write', key: 'k' })).toMatchObject({
      code: 'NETWORK',
      retryable: true,
    });
    expect(mapS3Error(sdk('InternalError', 500), ctx, { action: 'write', key: 'k' })).toMatchObject({
      code: 'INTERNAL',
      retryable: true,
    });
    expect(mapS3Error(sdk('MissingContentLength', 411), ctx, { action: 'write', key: 'k' }).hint).toMatch(
      /when_required/,
    );
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(mapS3Error(refused, ctx, { action: 'read', key: 'k' })).toMatchObject({
      code: 'NETWORK',
      retryable: true,
      message: 'cannot reach endpoint http://127.0.0.1:7480: connect ECONNREFUSED 127.0.0.1:1',
      hint: 'check --endpoint-url / AWS_ENDPOINT_URL and that the server is running and reachable from here',
    });
    const onAws = { ...ctx, endpointLabel: 'AWS S3 (eu-west-1)', endpoint: undefined };
    const noDns = Object.assign(new Error('getaddrinfo ENOTFOUND s3.eu-west-1.amazonaws.com'), {
      code: 'ENOTFOUND',
    });
    expect(mapS3Error(noDns, onAws, { action: 'list', prefix: '' }).hint).toMatch(/network.*--region/);
    expect(mapS3Error(sdk('TimeoutError'), ctx, { action: 'read', key: 'k' }).code).toBe('NETWORK');
    expect(mapS3Error(sdk('AbortError'), ctx, { action: 'read', key: 'k' }).code).toBe('ABORTED');
  });

  it('keeps the cause, passes WharfErrors through and keeps messages on one line', () => {
    const cause = sdk('AccessDenied', 403, { message: 'line one\nline two' });
    const e = mapS3Error(cause, ctx, { action: 'read', key: 'k' });
    expect(e.cause).toBe(cause);
    expect(e.message).not.toContain('\n');
    const w = new WharfError('IO', 'x');
    expect(mapS3Error(w, ctx, { action: 'read' })).toBe(w);
    expect(
      mapServerError({ code: 'AccessDenied', status: undefined }, ctx, { action: 'delete', key: 'k' }).code,
    ).toBe('ACCESS_DENIED');
  });
});
