import { describe, expect, it } from 'vitest';
import { NotFoundError, type WharfError } from '../core/errors.js';
import { HttpClient } from './http.js';

/** A client whose every call gets this answer. */
function answering(status: number, body: string, contentType: string): HttpClient {
  return new HttpClient({
    endpoint: 'http://datastore.test',
    fetch: () => Promise.resolve(new Response(body, { status, headers: { 'content-type': contentType } })),
  });
}

const failure = (client: HttpClient): Promise<WharfError> =>
  client.request('GET', '/me').then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as WharfError,
  );

describe('HttpClient answers that are not a Wharf datastore', () => {
  it.each([
    [400, '<?xml version="1.0"?><Error><Code>InvalidArgument</Code></Error>', 'application/xml'],
    [404, '<html><body>Not Found</body></html>', 'text/html; charset=utf-8'],
    [404, '{"message":"Not Found"}', 'application/json'],
    [200, '<html>a web site</html>', 'text/html'],
  ])(
    'HTTP %i %s: one line saying the URL is not a datastore, NETWORK, not retried',
    async (status, body, type) => {
      const error = await failure(answering(status, body, type));
      expect(error.code).toBe('NETWORK');
      expect(error.retryable).toBe(false);
      expect(error.message).toBe(
        `http://datastore.test does not answer like a Wharf datastore (HTTP ${status}, ${type.split(';')[0]})`,
      );
      expect(error.hint).toMatch(/^check the URL/);
    },
  );

  it("a Wharf error body is the error of its code; a gateway's 503 page stays a retryable NetworkError", async () => {
    const notFound = await failure(
      answering(404, '{"error":{"code":"NOT_FOUND","message":"no such thing"}}', 'application/json'),
    );
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound.message).toBe('no such thing');
    const gateway = await failure(answering(503, '<html>down</html>', 'text/html'));
    expect(gateway.code).toBe('NETWORK');
    expect(gateway.retryable).toBe(true);
  });
});
