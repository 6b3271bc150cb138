import { once } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  contentLengthFraming,
  parseResponseHead,
  RawHttpGet,
  type RawGetRequest,
  type RawGetTarget,
} from './raw-http-get.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

/** Listens on a free loopback port (returned) and closes the server, connections and all, after the test. */
async function listenUntilTeardown(server: HttpServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  return (server.address() as AddressInfo).port;
}

/** A local HTTP server; counts the TCP connections it accepted. */
async function serve(handler: Handler): Promise<{ target: RawGetTarget; connections: () => number }> {
  const server = createServer(handler);
  let connections = 0;
  server.on('connection', () => (connections += 1));
  const port = await listenUntilTeardown(server);
  return { target: { protocol: 'http:', hostname: '127.0.0.1', port }, connections: () => connections };
}

/** A TCP server that answers every request with `answer(requestText)` written raw. */
async function serveRaw(answer: (socket: Socket) => void): Promise<RawGetTarget> {
  const server = createTcpServer((socket) => {
    socket.once('data', () => answer(socket));
    socket.on('error', () => undefined);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => sockets.add(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, 'close');
  });
  const { port } = server.address() as AddressInfo;
  return { protocol: 'http:', hostname: '127.0.0.1', port };
}

function newClient(options: { socketTimeoutMs?: number } = {}): RawHttpGet {
  const client = new RawHttpGet({ connectTimeoutMs: 2000, socketTimeoutMs: options.socketTimeoutMs ?? 5000 });
  closers.push(() => Promise.resolve(client.close()));
  return client;
}

function request(
  target: RawGetTarget,
  sink: (b: Buffer) => void | Promise<void>,
  extra: Partial<RawGetRequest> = {},
): RawGetRequest {
  return {
    target,
    path: '/object?x=1',
    headers: { host: `127.0.0.1:${target.port}`, range: 'bytes=0-9' },
    sinkFor: (head) => (head.status < 300 ? sink : undefined),
    ...extra,
  };
}

// A self-signed certificate for 127.0.0.1 (P-256, valid until 2126), made with
// openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost -days 36500 \
//   -addext "subjectAltName=IP:127.0.0.1,DNS:localhost"
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSmTO64LI4LjBaxin
4fTpt3kCXaIIYfDi+VjzpGInL8qhRANCAAR2RGxJ6CYj3eyMu0clSLyNKdfwGNb0
XiRYxWQ4LB+AkCFu9UQ9ekj9M82q+/0VtS9ooo0/7pXHkZNyCXjJc7yw
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUDu1eS42ocx1GooLMYeikWt7cO74wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNDAzMzA1NVoYDzIxMjYxMDMx
MDMzMDU1WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAR2RGxJ6CYj3eyMu0clSLyNKdfwGNb0XiRYxWQ4LB+AkCFu9UQ9ekj9
M82q+/0VtS9ooo0/7pXHkZNyCXjJc7ywo28wbTAdBgNVHQ4EFgQUKLyYCzcSu5OB
GmD1+HRVe8LmbBkwHwYDVR0jBBgwFoAUKLyYCzcSu5OBGmD1+HRVe8LmbBkwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSAAwRQIgORH4XTiTvr6FBe4WcjU4k/DjH5wfi11+jCpE8Z8y6GkCIQDL
JtfOWA1zkkFkH3k4oKaHn3yKHHy3pUVkJDkCP4frjg==
-----END CERTIFICATE-----`;

const payload = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7) % 251));

describe('parseResponseHead', () => {
  it('reads the status, lower-cases names and joins repeated headers', () => {
    const parsed = parseResponseHead(
      'HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nX-A: 1\r\nx-a: 2',
    );
    expect(parsed?.version).toBe('1.1');
    expect(parsed?.head.status).toBe(206);
    expect(parsed?.head.headers).toEqual({ 'content-length': '10', 'x-a': '1, 2' });
  });

  it('refuses malformed heads', () => {
    expect(parseResponseHead('HTTP/2 200 OK')).toBeUndefined();
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nno colon here')).toBeUndefined();
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nbad name: x')).toBeUndefined();
  });
});

describe('contentLengthFraming', () => {
  it('takes a single numeric Content-Length and nothing else', () => {
    expect(contentLengthFraming({ 'content-length': '42' })).toBe(42);
    expect(contentLengthFraming({ 'content-length': '42', 'transfer-encoding': 'chunked' })).toBeUndefined();
    expect(contentLengthFraming({ 'content-length': '4, 4' })).toBeUndefined();
    expect(contentLengthFraming({})).toBeUndefined();
  });
});

describe('RawHttpGet', () => {
  it('hands a body to the sink in borrowed buffers and reuses the connection', async () => {
    const seen: string[] = [];
    const { target, connections } = await serve((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.range}`);
      res.writeHead(206, { 'content-length': payload.length, etag: '"e"' });
      res.end(payload);
    });
    const client = newClient();
    for (let round = 0; round < 2; round++) {
      const copies: Buffer[] = [];
      const outcome = await client.get(request(target, (b) => void copies.push(Buffer.from(b))));
      expect(outcome.kind).toBe('body');
      if (outcome.kind === 'body') {
        expect(outcome.head.headers['etag']).toBe('"e"');
        expect(outcome.bytes).toBe(payload.length);
      }
      expect(Buffer.concat(copies).equals(payload)).toBe(true);
    }
    expect(seen).toEqual(['GET /object?x=1 bytes=0-9', 'GET /object?x=1 bytes=0-9']);
    expect(connections()).toBe(1);
  });

  it('does not keep a connection the server said it will close', async () => {
    const { target, connections } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 2, connection: 'close' });
      res.end('ok');
    });
    const client = newClient();
    for (let round = 0; round < 2; round++) {
      expect((await client.get(request(target, () => undefined))).kind).toBe('body');
    }
    expect(connections()).toBe(2);
  });

  it('pauses while the sink is busy and still delivers every byte in order', async () => {
    const { target } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': payload.length });
      res.end(payload);
    });
    const copies: Buffer[] = [];
    const client = newClient();
    const outcome = await client.get(
      request(target, async (b) => {
        const copy = Buffer.from(b);
        await new Promise((resolve) => setTimeout(resolve, 2));
        copies.push(copy);
      }),
    );
    expect(outcome.kind).toBe('body');
    expect(Buffer.concat(copies).equals(payload)).toBe(true);
    // The connection goes back to the pool reading again, although the sink paused it at the last chunk.
    expect((await client.get(request(target, () => undefined))).kind).toBe('body');
  });

  it('reads an error answer as text without calling the sink', async () => {
    const { target } = await serve((_req, res) => {
      const body = '<Error><Code>PreconditionFailed</Code></Error>';
      res.writeHead(412, { 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    const outcome = await newClient().get(
      request(target, () => {
        throw new Error('the sink must not be called');
      }),
    );
    expect(outcome).toMatchObject({ kind: 'error', head: { status: 412 } });
    if (outcome.kind === 'error') expect(outcome.body).toContain('PreconditionFailed');
  });

  it('declines a chunked answer before any byte reaches the sink', async () => {
    const { target } = await serve((_req, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end('hello');
    });
    let called = false;
    const outcome = await newClient().get(request(target, () => void (called = true)));
    expect(outcome.kind).toBe('unsupported');
    expect(called).toBe(false);
  });

  it('replaces a kept-alive connection the server closed while it was idle', async () => {
    let requests = 0;
    const { target, connections } = await serve((req, res) => {
      requests += 1;
      res.writeHead(200, { 'content-length': 2 });
      res.end('ok');
      // Close the connection after answering, as a server does when its keep-alive timeout runs out.
      res.on('finish', () => setTimeout(() => req.socket.destroy(), 20));
    });
    const client = newClient();
    expect((await client.get(request(target, () => undefined))).kind).toBe('body');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await client.get(request(target, () => undefined))).kind).toBe('body');
    expect(requests).toBe(2);
    expect(connections()).toBe(2);
  });

  it('fails with a retryable connection error when the body is cut short, saying bytes reached the sink', async () => {
    const target = await serveRaw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
      setTimeout(() => socket.destroy(), 20);
    });
    let got = 0;
    const error = await newClient()
      .get(request(target, (b) => void (got += b.length)))
      .catch((e: unknown) => e);
    expect(got).toBe(10);
    expect(error).toMatchObject({ name: 'TimeoutError', code: 'ECONNRESET', bodyStarted: true });
    expect(String((error as Error).message)).toMatch(/closed after 10 bytes, 90 short/);
  });

  it('reads a head that arrives in pieces, the terminator split between reads', async () => {
    const target = await serveRaw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r');
      setTimeout(() => socket.write('\nabc'), 30);
    });
    const copies: Buffer[] = [];
    const outcome = await newClient().get(request(target, (b) => void copies.push(Buffer.from(b))));
    expect(outcome).toMatchObject({ kind: 'body', bytes: 3, head: { status: 200 } });
    expect(Buffer.concat(copies).toString()).toBe('abc');
  });

  it('refuses more bytes than the Content-Length', async () => {
    const target = await serveRaw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n0123456789');
    });
    await expect(newClient().get(request(target, () => undefined))).rejects.toMatchObject({ code: 'EPROTO' });
  });

  it('stops at once when the signal fires and passes on what the sink throws', async () => {
    const target = await serveRaw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nabc');
    });
    const controller = new AbortController();
    const aborted = newClient().get(request(target, () => controller.abort(), { signal: controller.signal }));
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });

    const disk = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    await expect(
      newClient().get(
        request(target, () => {
          throw disk;
        }),
      ),
    ).rejects.toBe(disk);
  });

  it('speaks TLS to https targets, verifying the certificate against the CA it is given', async () => {
    const server = createHttpsServer({ key: TEST_KEY, cert: TEST_CERT }, (_req, res) => {
      res.writeHead(200, { 'content-length': payload.length });
      res.end(payload);
    });
    const port = await listenUntilTeardown(server);
    const target: RawGetTarget = { protocol: 'https:', hostname: '127.0.0.1', port };
    const trusting = new RawHttpGet({
      connectTimeoutMs: 2000,
      socketTimeoutMs: 5000,
      tls: { ca: TEST_CERT },
    });
    closers.push(() => Promise.resolve(trusting.close()));
    const copies: Buffer[] = [];
    const outcome = await trusting.get(request(target, (b) => void copies.push(Buffer.from(b))));
    expect(outcome.kind).toBe('body');
    expect(Buffer.concat(copies).equals(payload)).toBe(true);
    // Without that CA the self-signed certificate is refused, as node:https refuses it.
    const refused = await newClient()
      .get(request(target, () => undefined))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect((refused as Error).name).not.toBe('TimeoutError'); // not retried as a network hiccup
  });

  it('times out a silent server', async () => {
    const target = await serveRaw(() => undefined);
    await expect(
      newClient({ socketTimeoutMs: 100 }).get(request(target, () => undefined)),
    ).rejects.toMatchObject({
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });
  });
});
