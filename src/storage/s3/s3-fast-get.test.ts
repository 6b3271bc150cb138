import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WharfError } from '../../core/errors.js';
import type { ReadInfo, ReadOptions, StorageDriver } from '../types.js';
import { S3Driver } from './s3-driver.js';
import { parseS3ErrorXml, s3ResponseError } from './s3-error-response.js';
import { getObjectHeaders, PROBE_KEY, targetFromPresignedUrl } from './s3-fast-get.js';
import { resolveS3Options } from './s3-options.js';
import type { S3DriverOptions } from './s3-options.js';
import { encodeKeyPath } from './s3-sigv4-request.js';

const PRESIGN_QUERY =
  'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=AK%2F20260101%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-Signature=abc&X-Amz-SignedHeaders=host&x-id=GetObject';

describe('lean GetObject helpers', () => {
  it("encodes keys per segment as the SDK does (RFC 3986 plus !'()*), keeping empty and dot segments", () => {
    expect(encodeKeyPath("a b/+%/é/🐳/!'()*~._-/x?y#z&=;,[]{}")).toBe(
      'a%20b/%2B%25/%C3%A9/%F0%9F%90%B3/%21%27%28%29%2A~._-/x%3Fy%23z%26%3D%3B%2C%5B%5D%7B%7D',
    );
    expect(encodeKeyPath('/a//b/./../c/')).toBe('/a//b/./../c/');
    expect(() => encodeKeyPath('bad\ud800')).toThrow(URIError);
  });

  it('takes the endpoint, base path and signing region from a URL the SDK presigned', () => {
    const key = encodeKeyPath(PROBE_KEY);
    expect(
      targetFromPresignedUrl(`http://127.0.0.1:7480/bkt/${key}?${PRESIGN_QUERY}`, 'bkt', PROBE_KEY),
    ).toEqual({
      protocol: 'http:',
      hostname: '127.0.0.1',
      host: '127.0.0.1:7480',
      port: 7480,
      basePath: '/bkt',
      region: 'eu-west-1',
    });
    expect(
      targetFromPresignedUrl(
        `https://bkt.s3.eu-west-1.amazonaws.com/${key}?${PRESIGN_QUERY}`,
        'bkt',
        PROBE_KEY,
      ),
    ).toMatchObject({ host: 'bkt.s3.eu-west-1.amazonaws.com', port: undefined, basePath: '' });
    expect(
      targetFromPresignedUrl(`http://[::1]:9000/base/bkt/${key}?${PRESIGN_QUERY}`, 'bkt', PROBE_KEY),
    ).toMatchObject({ hostname: '::1', host: '[::1]:9000', basePath: '/base/bkt' });
    // Anything unusual: the SDK keeps the request.
    const unusual = [
      `http://h/bkt/${key}?${PRESIGN_QUERY}&x-amz-checksum-mode=ENABLED`,
      `http://h/bkt/${key}?${PRESIGN_QUERY.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256')}`,
      `http://h/bkt/${key}?${PRESIGN_QUERY.replace('SignedHeaders=host', 'SignedHeaders=host%3Bx-amz-x')}`,
      `http://h/bkt/${key}?${PRESIGN_QUERY.replace('%2Fs3%2F', '%2Fs3express%2F')}`,
      `http://h/bkt/${encodeURI(PROBE_KEY)}?${PRESIGN_QUERY}`,
      `http://h/other/${key}?${PRESIGN_QUERY}`,
      `ftp://h/bkt/${key}?${PRESIGN_QUERY}`,
    ];
    for (const url of unusual) expect(targetFromPresignedUrl(url, 'bkt', PROBE_KEY)).toBeUndefined();
  });

  it('decodes GetObject headers as the SDK does', () => {
    const headers: IncomingHttpHeaders = {
      'content-length': '4',
      'content-range': 'bytes 2-5/10',
      etag: '"abc"',
      'last-modified': 'Wed, 01 Jan 2025 10:00:00 GMT',
      'content-type': 'text/plain',
      'x-amz-meta-owner': 'Team A',
      'x-amz-meta-note': '=?UTF-8?B?w6k=?=',
      'x-amz-server-side-encryption': 'AES256',
      'x-amz-checksum-crc32': 'AAAAAA==',
      'x-amz-request-id': 'r1',
    };
    expect(getObjectHeaders(headers)).toEqual({
      ContentLength: 4,
      ContentRange: 'bytes 2-5/10',
      ETag: '"abc"',
      LastModified: new Date('2025-01-01T10:00:00Z'),
      ContentType: 'text/plain',
      Metadata: { owner: 'Team A', note: '=?UTF-8?B?w6k=?=' },
      ServerSideEncryption: 'AES256',
      ChecksumCRC32: 'AAAAAA==',
    });
  });

  it('reads S3 error documents into SDK-shaped errors', () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The key &quot;a&amp;b&quot; &#233;</Message><Key>a&amp;b</Key><RequestId>tx1</RequestId></Error>';
    expect(parseS3ErrorXml(xml)).toEqual({
      Code: 'NoSuchKey',
      Message: 'The key "a&b" é',
      Key: 'a&b',
      RequestId: 'tx1',
    });
    const error = s3ResponseError(404, { 'x-amz-request-id': 'tx1' }, xml);
    expect(error).toMatchObject({
      name: 'NoSuchKey',
      Code: 'NoSuchKey',
      message: 'The key "a&b" é',
      Key: 'a&b',
      $fault: 'client',
      $metadata: { httpStatusCode: 404, requestId: 'tx1' },
    });
    expect(s3ResponseError(404, {}, '')).toMatchObject({ name: 'NotFound', message: 'UnknownError' });
    expect(s3ResponseError(502, {}, '<html>bad gateway</html>')).toMatchObject({
      name: 'Unknown',
      message: 'UnknownError',
      $fault: 'server',
    });
  });
});

// ---- the lean path and the SDK path against one fake S3 server: same answers, same errors, same retries ----

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

type Handler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;

const OBJECT = Buffer.from('0123456789');
const OK_HEADERS = {
  etag: '"0123"',
  'last-modified': 'Wed, 01 Jan 2025 10:00:00 GMT',
  'content-type': 'application/json',
  'x-amz-meta-owner': 'Team A',
  'x-amz-meta-note': `=?UTF-8?B?${Buffer.from('é ü').toString('base64')}?=`,
  'x-amz-server-side-encryption': 'aws:kms',
  'x-amz-checksum-crc32': 'AAAAAA==',
};

const errorXml = (code: string, message?: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code>${message ? `<Message>${message}</Message>` : ''}<RequestId>tx</RequestId></Error>`;

function serveObject(req: IncomingMessage, res: ServerResponse): void {
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (!range) {
    res.writeHead(200, { ...OK_HEADERS, 'content-length': OBJECT.length });
    res.end(OBJECT);
    return;
  }
  const [, from = '', to = ''] = range;
  let start = from === '' ? OBJECT.length - Number(to) : Number(from);
  const end = from === '' || to === '' ? OBJECT.length - 1 : Math.min(Number(to), OBJECT.length - 1);
  start = Math.max(0, start);
  if (start >= OBJECT.length) {
    res.writeHead(416, { 'content-type': 'application/xml' });
    res.end(errorXml('InvalidRange'));
    return;
  }
  const slice = OBJECT.subarray(start, end + 1);
  res.writeHead(206, {
    ...OK_HEADERS,
    'content-length': slice.length,
    'content-range': `bytes ${start}-${end}/${OBJECT.length}`,
  });
  res.end(slice);
}

function sendError(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/xml', ...headers });
  res.end(body);
}

describe('S3Driver.read: the lean path answers exactly as the SDK path', () => {
  let server: Server;
  let endpoint: string;
  let handler: Handler = serveObject;
  let seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const drivers: StorageDriver[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      handler(req, res, seen.length);
    });
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    handler = serveObject;
    seen = [];
  });

  afterAll(async () => {
    for (const driver of drivers) await driver.close?.();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  async function open(fastGet: boolean, options: Partial<S3DriverOptions> = {}): Promise<S3Driver> {
    const resolved = await resolveS3Options(
      {
        bucket: 'bkt',
        endpoint,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
        fastGet,
        ...options,
      },
      { AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' },
    );
    const driver = new S3Driver(resolved);
    drivers.push(driver);
    return driver;
  }

  interface Outcome {
    body?: string;
    info?: ReadInfo[];
    error?: { type: string; code: string; message: string; retryable: boolean; hint: string | undefined };
    bodyError?: { code: string; message: string };
    requests: number;
  }

  async function outcome(driver: StorageDriver, key: string, options: ReadOptions = {}): Promise<Outcome> {
    seen = [];
    const info: ReadInfo[] = [];
    try {
      const stream = await driver.read(key, { ...options, onInfo: (i) => info.push(i) });
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of stream) chunks.push(chunk as Buffer);
      } catch (error) {
        const e = error as WharfError;
        return { info, bodyError: { code: e.code, message: e.message }, requests: seen.length };
      }
      return { body: Buffer.concat(chunks).toString('utf8'), info, requests: seen.length };
    } catch (error) {
      expect(error).toBeInstanceOf(WharfError);
      const e = error as WharfError;
      expect(info).toEqual([]);
      return {
        error: {
          type: e.constructor.name,
          code: e.code,
          message: e.message,
          retryable: e.retryable,
          hint: e.hint,
        },
        requests: seen.length,
      };
    }
  }

  /** Runs the same read on both paths (fresh drivers, so no shared retry quota) and returns the lean outcome. */
  async function same(
    key: string,
    options: ReadOptions = {},
    driverOptions: Partial<S3DriverOptions> = {},
  ): Promise<Outcome> {
    const sdk = await outcome(await open(false, driverOptions), key, options);
    const sdkRequests = seen;
    const fastDriver = await open(true, driverOptions);
    const fast = await outcome(fastDriver, key, options);
    expect(fast).toEqual(sdk);
    // The lean path really ran: the SDK tags every GetObject with x-id=GetObject and its user agent.
    const fastGets = seen.filter((r) => r.method === 'GET');
    expect(fastGets.length).toBeGreaterThan(0);
    for (const r of fastGets) {
      expect(r.url).not.toContain('x-id=');
      expect(r.headers['user-agent']).toBeUndefined();
    }
    // Same path, Range and If-Match as the SDK sent.
    const pick = (r: Seen) => [
      r.url.replace(/[?&]x-id=GetObject/, ''),
      r.headers.range,
      r.headers['if-match'],
    ];
    expect(fastGets.map(pick)).toEqual(sdkRequests.filter((r) => r.method === 'GET').map(pick));
    return fast;
  }

  it('whole and ranged reads: same body and onInfo (size, ETag, dates, metadata, encryption, checksums)', async () => {
    const whole = await same('dir/info.json');
    expect(whole.body).toBe('0123456789');
    expect(whole.info).toEqual([
      {
        key: 'dir/info.json',
        size: 10,
        etag: '"0123"',
        lastModified: new Date('2025-01-01T10:00:00Z'),
        contentType: 'application/json',
        metadata: { owner: 'Team A', note: 'é ü' },
        encryption: 'aws:kms',
        checksums: { CRC32: 'AAAAAA==' },
      },
    ]);
    for (const range of [{ start: 2, end: 5 }, { start: 7 }, { suffix: 3 }, { start: 0, end: 100 }]) {
      const ranged = await same('dir/info.json', { range });
      expect(ranged.info?.[0]).toMatchObject({ size: 10, etag: '"0123"' });
      expect(ranged.info?.[0]?.checksums).toBeUndefined();
    }
    expect((await same('dir/info.json', { range: { start: 2, end: 5 } })).body).toBe('2345');
    expect((await same('dir/info.json', { range: { start: 10 } })).error).toMatchObject({
      code: 'VALIDATION',
    });
  });

  it('sends awkward keys and If-Match exactly as the SDK does', async () => {
    for (const key of [
      'with space.txt',
      'plus+sign.csv',
      'percent%20literal.txt',
      'question?mark.txt',
      'hash#tag.txt',
      "quote'single(1)*!.txt",
      'unicode/日本語/ファイル.txt',
      'emoji/🐳.bin',
      'a//b/./c/../d',
      '/leading',
    ]) {
      expect((await same(key)).body).toBe('0123456789');
    }
    handler = (req, res) =>
      req.headers['if-match'] === '"0123"'
        ? serveObject(req, res)
        : sendError(
            res,
            412,
            errorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'),
          );
    expect((await same('k', { ifMatch: '0123' })).body).toBe('0123456789');
    expect((await same('k', { ifMatch: '"0123"' })).body).toBe('0123456789');
    expect((await same('k', { ifMatch: 'other' })).error).toMatchObject({ code: 'PRECONDITION_FAILED' });
  });

  it('maps error answers identically', async () => {
    const cases: [number, string, Record<string, string>?][] = [
      [404, errorXml('NoSuchKey', 'The specified key does not exist.')],
      [404, errorXml('NoSuchBucket', 'The specified bucket does not exist')],
      [404, ''],
      [403, errorXml('AccessDenied', 'Access Denied')],
      [403, errorXml('SignatureDoesNotMatch')],
      [403, ''],
      [400, errorXml('InvalidArgument', 'bad &amp; worse')],
      [416, errorXml('InvalidRange', 'The requested range is not satisfiable')],
      [301, errorXml('PermanentRedirect', 'Use the other endpoint')],
      [307, errorXml('TemporaryRedirect')],
      [501, errorXml('NotImplemented', 'nope')],
    ];
    for (const [status, body, headers] of cases) {
      handler = (_req, res) => sendError(res, status, body, headers);
      const result = await same('missing.txt');
      expect(result.error, `${status} ${body}`).toBeDefined();
      expect(result.requests).toBe(1);
    }
  });

  it('retries 5xx and throttling as the SDK does, then maps the last error', async () => {
    handler = (_req, res) =>
      sendError(res, 500, errorXml('InternalError', 'We encountered an internal error.'));
    const internal = await same('k');
    expect(internal).toMatchObject({ error: { code: 'INTERNAL', retryable: true }, requests: 3 });

    handler = (_req, res) => sendError(res, 502, '<html>Bad Gateway</html>', { 'content-type': 'text/html' });
    expect(await same('k')).toMatchObject({ requests: 3 });

    handler = (_req, res) => sendError(res, 503, errorXml('SlowDown', 'Please reduce your request rate.'));
    expect(await same('k', {}, { maxAttempts: 2 })).toMatchObject({
      error: { code: 'NETWORK' },
      requests: 2,
    });

    // Recovers after transient failures.
    handler = (req, res, attempt) =>
      attempt === 1 ? sendError(res, 503, errorXml('SlowDown')) : serveObject(req, res);
    expect(await same('k')).toMatchObject({ body: '0123456789', requests: 2 });
  }, 30_000);

  it('retries a connection reset before the response; reports one mid-body as a NETWORK stream error', async () => {
    handler = (req, res, attempt) => (attempt === 1 ? req.socket.destroy() : serveObject(req, res));
    expect(await same('k')).toMatchObject({ body: '0123456789', requests: 2 });

    handler = (_req, res) => {
      res.writeHead(200, { ...OK_HEADERS, 'content-length': 1000 });
      res.write(OBJECT);
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const broken = await same('k');
    expect(broken.bodyError).toMatchObject({ code: 'NETWORK' });
    expect(broken.bodyError?.message).toContain('lost the connection to');
  });

  it('names the endpoint and ECONNREFUSED when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = `http://127.0.0.1:${port}`;
    const sdk = await outcome(await open(false, { endpoint: refused }), 'k');
    const fast = await outcome(await open(true, { endpoint: refused }), 'k');
    expect(fast).toEqual(sdk);
    expect(fast.error?.code).toBe('NETWORK');
    expect(fast.error?.message).toContain(refused);
    expect(fast.error?.message).toContain('ECONNREFUSED');
  });

  it('aborts a pending request and a streaming body', async () => {
    handler = (req, res) => setTimeout(() => serveObject(req, res), 2000);
    for (const fastGet of [false, true]) {
      const driver = await open(fastGet);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const started = Date.now();
      await expect(driver.read('k', { signal: controller.signal })).rejects.toMatchObject({
        code: 'ABORTED',
      });
      expect(Date.now() - started).toBeLessThan(1500);
    }
    handler = (_req, res) => {
      res.writeHead(200, { ...OK_HEADERS, 'content-length': 1000 });
      res.write(OBJECT);
    };
    for (const fastGet of [false, true]) {
      const driver = await open(fastGet);
      const controller = new AbortController();
      const stream = await driver.read('k', { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(
        (async () => {
          for await (const _ of stream) void _;
        })(),
      ).rejects.toMatchObject({ code: 'ABORTED' });
    }
  });

  describe('listings', () => {
    const entry = (key: string, etag: string, size: number): string =>
      `<Contents><Key>${key}</Key><LastModified>2025-01-01T10:00:00.123Z</LastModified><ETag>${etag}</ETag><Size>${size}</Size><Owner><ID>o</ID><DisplayName>Team &amp; Co</DisplayName></Owner><StorageClass>STANDARD</StorageClass><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumAlgorithm>SHA256</ChecksumAlgorithm></Contents>`;
    const page = (body: string, next?: string): string =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>d%2F</Prefix><EncodingType>url</EncodingType><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>${next ? 'true' : 'false'}</IsTruncated>${body}${next ? `<NextContinuationToken>${next}</NextContinuationToken>` : ''}</ListBucketResult>`;
    /** Two pages: awkward keys (url-encoded), entities, a common prefix, checksums and owners to skip. */
    const servePages: Handler = (req, res) => {
      const query = new URL(req.url ?? '', 'http://x').searchParams;
      res.writeHead(200, { 'content-type': 'application/xml', 'transfer-encoding': 'chunked' });
      if (query.get('continuation-token') === null) {
        res.end(
          page(
            entry('d%2Fa%20b%2B%26%3C%3E.txt', '&quot;aa&quot;', 10) +
              '<CommonPrefixes><Prefix>d%2Fsub%2F</Prefix></CommonPrefixes>' +
              entry('d%2F%E6%97%A5%E6%9C%AC.csv', '&#34;bb-2&#x22;', 123456789012),
            'token/with+chars=',
          ),
        );
      } else {
        res.end(page(entry('d%2Fz', '"cc"', 0)));
      }
    };

    async function listed(driver: StorageDriver, prefix: string, options = {}): Promise<unknown> {
      seen = [];
      try {
        const out = [];
        for await (const o of driver.list(prefix, options)) out.push(o);
        return { out, requests: seen.length };
      } catch (error) {
        const e = error as WharfError;
        return { error: { type: e.constructor.name, code: e.code, message: e.message, hint: e.hint } };
      }
    }
    const viaSdk = (r: Seen): boolean => r.url.includes('x-id=') || r.headers['user-agent'] !== undefined;

    it('lists the same entries as the SDK, with the same requests', async () => {
      handler = servePages;
      for (const options of [{}, { delimiter: '/' }, { startAfter: 'd/a b+&<>.txt' }]) {
        const sdk = await listed(await open(false), 'd/', options);
        const sdkRequests = seen;
        const fast = await listed(await open(true), 'd/', options);
        expect(fast).toEqual(sdk);
        expect(seen.some(viaSdk)).toBe(false);
        const query = (r: Seen) => {
          const params = new URL(r.url, 'http://x').searchParams;
          params.delete('x-id');
          return [new URL(r.url, 'http://x').pathname, [...params].sort()];
        };
        expect(seen.map(query)).toEqual(sdkRequests.map(query));
      }
      expect(await listed(await open(true), 'd/')).toMatchObject({
        out: [
          { key: 'd/a b+&<>.txt', size: 10, etag: '"aa"', lastModified: new Date('2025-01-01T10:00:00Z') },
          { key: 'd/sub/', size: 0, isPrefix: true },
          { key: 'd/日本.csv', size: 123456789012, etag: '"bb-2"' },
          { key: 'd/z', size: 0, etag: '"cc"' },
        ],
        requests: 2,
      });
    });

    it('an error answer is asked again through the SDK, which reports it; later listings go to the SDK', async () => {
      handler = (_req, res) =>
        sendError(res, 404, errorXml('NoSuchBucket', 'The specified bucket does not exist'));
      const sdk = await listed(await open(false), 'd/');
      const driver = await open(true);
      expect(await listed(driver, 'd/')).toEqual(sdk);
      expect(seen.map(viaSdk)).toEqual([false, true]);
      handler = servePages;
      await listed(driver, 'd/');
      expect(seen.every(viaSdk)).toBe(true);
    });

    it('a 503 goes to the SDK (which retries) without switching lean listings off', async () => {
      handler = (req, res, attempt) =>
        attempt === 1 ? sendError(res, 503, errorXml('SlowDown')) : servePages(req, res, attempt);
      const driver = await open(true);
      const first = (await listed(driver, 'd/')) as { out: unknown[] };
      expect(first.out).toHaveLength(4);
      expect(seen.map(viaSdk)).toEqual([false, true, false]);
    });

    it('a document the lean reader does not expect is read by the SDK', async () => {
      handler = (req, res, attempt) => {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0"?><!-- a comment --><ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>',
        );
        void req;
        void attempt;
      };
      const driver = await open(true);
      expect(await listed(driver, '')).toEqual({ out: [{ key: 'k', size: 1 }], requests: 2 });
      expect(seen.map(viaSdk)).toEqual([false, true]);
    });

    it('a web page answered with 200 is an error naming the endpoint, not an empty listing', async () => {
      for (const [type, body] of [
        ['text/html', '<!doctype html><html><body>console</body></html>'],
        ['application/json', '{"status":"ok"}'],
      ] as const) {
        handler = (_req, res) => {
          res.writeHead(200, { 'content-type': type });
          res.end(body);
        };
        const result = (await listed(await open(true), 'd/')) as {
          error?: { code: string; message: string };
        };
        expect(result.error?.code).toBe('NETWORK');
        expect(result.error?.message).toContain('did not answer like an S3 server (HTTP 200');
        expect(result.error?.message).toContain(
          type === 'text/html' ? 'an HTML page' : "a body that is not S3's XML",
        );
        // The SDK alone (lean path off) would read the page as an empty listing: refused the same way.
        const viaSdk = (await listed(await open(false), 'd/')) as {
          error?: { code: string; message: string };
        };
        expect(viaSdk.error?.code).toBe('NETWORK');
        expect(viaSdk.error?.message).toContain('did not answer like an S3 server (HTTP 200');
      }
    });

    it('aborts a pending lean listing', async () => {
      handler = (req, res, attempt) => setTimeout(() => servePages(req, res, attempt), 2000);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const started = Date.now();
      const driver = await open(true);
      await expect(
        (async () => {
          for await (const _ of driver.list('d/', { signal: controller.signal })) void _;
        })(),
      ).rejects.toMatchObject({ code: 'ABORTED' });
      expect(Date.now() - started).toBeLessThan(1500);
    });
  });

  it('uses the SDK when checksums are wanted or validated, or when switched off', async () => {
    // (Without a checksum header: with when_supported the SDK would validate the fake one and fail.)
    handler = (_req, res) => {
      res.writeHead(200, { etag: '"0123"', 'content-length': OBJECT.length });
      res.end(OBJECT);
    };
    const viaSdk = async (driver: StorageDriver, options: ReadOptions = {}): Promise<boolean> => {
      seen = [];
      for await (const _ of await driver.read('k', options)) void _;
      return seen.some((r) => r.url.includes('x-id=GetObject'));
    };
    expect(await viaSdk(await open(false))).toBe(true);
    expect(await viaSdk(await open(true))).toBe(false);
    // when_supported: the SDK validates response checksums (and asks for them), so it keeps every GET.
    expect(await viaSdk(await open(true, { checksumMode: 'when_supported' }))).toBe(true);
    expect(await viaSdk(await open(true, { checksumMode: 'when_supported' }), { range: { start: 1 } })).toBe(
      true,
    );
  });
});
