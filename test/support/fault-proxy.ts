import { randomBytes } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Writable } from 'node:stream';

/**
 * A fault-injecting HTTP proxy for integration tests: it sits in front of the real S3 server (path-style
 * requests only), forwards every request unchanged (the client's Host header too, which SigV4 signs) and
 * streams bodies both ways, while it can answer some requests with 503 SlowDown, reset connections before
 * or in the middle of a response, throttle response and request bodies, and hold requests unanswered.
 */
export interface FaultSettings {
  /** Share (0..1) of requests answered with 503 SlowDown (S3 XML error body) without reaching the server. */
  slowDownRate?: number;
  /**
   * Requests answered with 403 AccessDenied without reaching the server, as a bucket policy denying them would
   * (the test server has one user, so a real policy cannot deny the bucket's owner).
   */
  deny?: (r: ProxiedRequest) => boolean;
  /**
   * Share (0..1) of requests whose connection is destroyed: half before any response, half mid-body after
   * some bytes of the upstream response were sent. The two kinds alternate, starting with 'reset-before'.
   * 'reset-before' never reaches the server. 'reset-mid' does: the connection is reset after the response
   * head and about half the body, or, when the response has no body (HEAD, a PUT's answer), before the head.
   */
  resetRate?: number;
  /** Throttle response bodies to this many bytes per second per response (for tests that kill a process mid-download). */
  bytesPerSecond?: number;
  /**
   * Throttle request bodies (uploads) to this many bytes per second per request on their way to the server
   * (for tests that kill a process mid-upload). Applies to every forwarded request, like `bytesPerSecond`.
   */
  uploadBytesPerSecond?: number;
  /**
   * Requests matching this are held: their body is read and dropped, they never reach the server and are never
   * answered, until the client gives up (or is killed) or the proxy closes. For tests that kill a process while
   * it waits on one particular request (e.g. a commit). Checked before every other fault; independent of `match`.
   */
  hold?: (r: ProxiedRequest) => boolean;
  /**
   * Responses to requests matching this get one byte of their body flipped (the middle one), as a broken disk,
   * NIC or middlebox would: status, headers and length stay right, the content does not. Independent of `match`.
   */
  corrupt?: (r: ProxiedRequest) => boolean;
  /**
   * Called with each request as it arrives, before anything else is done with it; a returned promise holds the
   * request until it settles. For tests that change the world at a precise moment: after a client has passed
   * its checks and sent its first GET, before any byte of the answer reaches it (e.g. filling its disk).
   */
  beforeForward?: (r: ProxiedRequest) => Promise<void> | undefined;
  /** Only inject faults into requests matching this predicate (default: all). */
  match?: (r: ProxiedRequest) => boolean;
  /** Seed for the fault dice (a small PRNG); without one, Math.random. Rates 0 and 1 are exact either way. */
  seed?: number;
}

export interface ProxiedRequest {
  method: string;
  /** The path as sent on the wire (percent-encoded), e.g. `/bucket/some%20key`. */
  path: string;
  query: URLSearchParams;
  /** Decoded bucket name ('' for the service root). */
  bucket: string;
  /** Decoded object key ('' for bucket-level requests). */
  key: string;
  /** GET of an object listing (ListObjects v1/v2, ListObjectVersions). */
  isList: boolean;
  /** GET of an object body (not a listing) */
  isObjectGet: boolean;
  range?: string;
  fault?: 'slowdown' | 'denied' | 'reset-before' | 'reset-mid' | 'held' | 'corrupted';
  /** Status the client received (the upstream's, or 503 for 'slowdown'); unset when reset before the head. */
  status?: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Every request seen, in arrival order. */
  requests: ProxiedRequest[];
  count(filter?: (r: ProxiedRequest) => boolean): number;
  /** Clears `requests` (in place). */
  reset(): void;
  /** Replaces the fault settings (and restarts the dice and the reset alternation). */
  setFaults(settings: FaultSettings): void;
  close(): Promise<void>;
}

/** Query parameters an object listing may carry; any other one makes a bucket GET a sub-resource call. */
const LIST_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'marker',
  'max-keys',
  'encoding-type',
  'continuation-token',
  'start-after',
  'fetch-owner',
  'versions',
  'key-marker',
  'version-id-marker',
  'allow-unordered',
  'x-id',
]);

/** Query parameters a plain GetObject may carry (including presigned-URL ones). */
function isObjectGetParam(name: string): boolean {
  return (
    name === 'x-id' ||
    name === 'versionId' ||
    name === 'partNumber' ||
    name.startsWith('response-') ||
    name.toLowerCase().startsWith('x-amz-')
  );
}

/** Hop-by-hop headers the proxy handles itself (on each side). `expect` is not signed by SigV4. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function describe(req: IncomingMessage): ProxiedRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const slash = path.indexOf('/', 1);
  const bucket = safeDecode(slash < 0 ? path.slice(1) : path.slice(1, slash));
  const key = slash < 0 ? '' : safeDecode(path.slice(slash + 1));
  const method = req.method ?? 'GET';
  const names = [...query.keys()];
  const xId = query.get('x-id');
  const isList =
    method === 'GET' &&
    bucket !== '' &&
    key === '' &&
    (query.get('list-type') === '2' || names.every((n) => LIST_PARAMS.has(n)));
  const isObjectGet =
    method === 'GET' &&
    bucket !== '' &&
    key !== '' &&
    (xId === null || xId === 'GetObject') &&
    names.every(isObjectGetParam);
  const record: ProxiedRequest = { method, path, query, bucket, key, isList, isObjectGet };
  const range = req.headers.range;
  if (range !== undefined) record.range = range;
  return record;
}

function forwardableHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** mulberry32: a tiny deterministic PRNG in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A real TCP reset (RST) where the platform has one, so the client sees ECONNRESET. */
function resetSocket(socket: Socket | null | undefined): void {
  if (!socket || socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Lets what was written so far reach the client, then resets the connection. */
function flushThenReset(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) return;
  res.flushHeaders(); // the head may still sit in the response (an empty cut)
  // Poll: 'drain' only fires after a write that returned false.
  const started = Date.now();
  const poll = (): void => {
    if (socket.destroyed) return;
    if (socket.writableLength > 0 && Date.now() - started < 5_000) setTimeout(poll, 5);
    else setTimeout(() => resetSocket(socket), 25);
  };
  poll();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `stream` (a response to the client, or a request to the server) can take more data, or has closed. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** Copies a request body to the server at most `bytesPerSecond`; a client that goes away cuts the upstream request. */
async function pumpRequest(
  req: IncomingMessage,
  upstreamReq: Writable,
  bytesPerSecond: number,
): Promise<void> {
  const sliceSize = Math.max(1, Math.floor(bytesPerSecond / 20));
  const start = Date.now();
  let sent = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      let rest = chunk;
      while (rest.length > 0) {
        const n = Math.min(rest.length, sliceSize);
        const slice = rest.subarray(0, n);
        rest = rest.subarray(n);
        const wait = start + ((sent + n) / bytesPerSecond) * 1000 - Date.now();
        if (wait > 0) await sleep(wait);
        if (upstreamReq.destroyed) return;
        sent += n;
        if (!upstreamReq.write(slice)) await drained(upstreamReq);
      }
    }
    upstreamReq.end();
  } catch {
    upstreamReq.destroy();
  }
}

function errorBody(code: string, message: string, resource: string, requestId: string): string {
  const escaped = resource.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message>` +
    `<Resource>${escaped}</Resource><RequestId>${requestId}</RequestId></Error>`
  );
}

export async function startFaultProxy(target: string, settings: FaultSettings = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  if (upstream.protocol !== 'http:') throw new Error(`fault proxy: only http:// targets (got ${target})`);
  const upstreamHost = upstream.hostname.replace(/^\[|\]$/g, '');
  const upstreamPort = upstream.port === '' ? 80 : Number(upstream.port);
  const agent = new Agent({ keepAlive: true });

  const requests: ProxiedRequest[] = [];
  let faults: FaultSettings = {};
  let random: () => number = Math.random;
  let resets = 0;
  const setFaults = (next: FaultSettings): void => {
    faults = { ...next };
    random = next.seed === undefined ? Math.random : seededRandom(next.seed);
    resets = 0;
  };
  setFaults(settings);

  const chooseFault = (record: ProxiedRequest): ProxiedRequest['fault'] => {
    if (faults.deny?.(record)) return 'denied';
    const slowDown = faults.slowDownRate ?? 0;
    const reset = faults.resetRate ?? 0;
    if (slowDown <= 0 && reset <= 0) return undefined;
    if (faults.match && !faults.match(record)) return undefined;
    const roll = random();
    if (roll < slowDown) return 'slowdown';
    if (roll < slowDown + reset) return resets++ % 2 === 0 ? 'reset-before' : 'reset-mid';
    return undefined;
  };

  const answerError = (
    req: IncomingMessage,
    res: ServerResponse,
    record: ProxiedRequest,
    status: number,
    code: string,
    message: string,
  ): void => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const body = req.method === 'HEAD' ? '' : errorBody(code, message, record.path, requestId);
    const respond = (): void => {
      if (res.destroyed) return;
      record.status = status;
      res.writeHead(status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
        'x-amz-request-id': requestId,
      });
      res.end(body);
    };
    // Read the whole upload first, as a server would, so the client is never cut off mid-write.
    if (req.complete) respond();
    else {
      req.once('end', respond);
      req.resume();
    }
  };

  /** Copies the upstream body to the client: throttled, cut short and reset for 'reset-mid', one byte flipped for 'corrupted'. */
  const pump = async (
    upstreamRes: IncomingMessage,
    res: ServerResponse,
    bytesPerSecond: number | undefined,
    resetMid: boolean,
    corrupt: boolean,
  ): Promise<void> => {
    const length = Number(upstreamRes.headers['content-length']);
    const flipAt = corrupt ? (Number.isFinite(length) ? Math.floor(length / 2) : 0) : -1;
    let cutAt: number | undefined = resetMid && Number.isFinite(length) ? Math.floor(length / 2) : undefined;
    const sliceSize = bytesPerSecond ? Math.max(1, Math.floor(bytesPerSecond / 20)) : Infinity;
    const start = Date.now();
    let sent = 0;
    try {
      for await (const chunk of upstreamRes as AsyncIterable<Buffer>) {
        if (resetMid && cutAt === undefined) cutAt = sent + Math.ceil(chunk.length / 2);
        let rest = chunk;
        while (rest.length > 0) {
          if (cutAt !== undefined && sent >= cutAt) {
            flushThenReset(res);
            return;
          }
          let n = Math.min(rest.length, sliceSize);
          if (cutAt !== undefined) n = Math.min(n, cutAt - sent);
          let slice = rest.subarray(0, n);
          rest = rest.subarray(n);
          if (flipAt >= sent && flipAt < sent + n) {
            slice = Buffer.from(slice);
            slice[flipAt - sent] = (slice[flipAt - sent] ?? 0) ^ 0xff;
          }
          if (bytesPerSecond) {
            const wait = start + ((sent + n) / bytesPerSecond) * 1000 - Date.now();
            if (wait > 0) await sleep(wait);
          }
          if (res.destroyed) return;
          sent += n;
          if (!res.write(slice)) await drained(res);
          if (res.destroyed) return;
        }
      }
      if (resetMid) flushThenReset(res);
      else res.end();
    } catch {
      // The upstream response broke off (or the client went away and we dropped it): the client sees a reset.
      resetSocket(res.socket);
    }
  };

  const server = createServer((req, res) => {
    const record = describe(req);
    requests.push(record);
    const waiting = faults.beforeForward?.(record);
    if (waiting)
      void waiting.then(
        () => handle(req, res, record),
        () => handle(req, res, record),
      );
    else handle(req, res, record);
  });
  const handle = (req: IncomingMessage, res: ServerResponse, record: ProxiedRequest): void => {
    if (faults.hold?.(record)) {
      // Never forwarded, never answered: the client waits until it gives up, is killed, or the proxy closes.
      record.fault = 'held';
      req.resume();
      return;
    }
    const fault = chooseFault(record);
    if (fault !== undefined) record.fault = fault;
    if (fault === 'slowdown') {
      return answerError(req, res, record, 503, 'SlowDown', 'Please reduce your request rate.');
    }
    if (fault === 'denied') return answerError(req, res, record, 403, 'AccessDenied', 'Access Denied');
    if (fault === 'reset-before') return resetSocket(req.socket);
    const bytesPerSecond =
      faults.bytesPerSecond && faults.bytesPerSecond > 0 ? faults.bytesPerSecond : undefined;

    const upstreamReq = httpRequest({
      host: upstreamHost,
      port: upstreamPort,
      method: record.method,
      path: req.url ?? '/',
      headers: forwardableHeaders(req.headers),
      agent,
    });
    upstreamReq.on('response', (upstreamRes) => {
      if (res.destroyed) {
        upstreamRes.destroy();
        return;
      }
      const status = upstreamRes.statusCode ?? 502;
      const noBody =
        record.method === 'HEAD' ||
        status === 204 ||
        status === 304 ||
        upstreamRes.headers['content-length'] === '0';
      if (fault === 'reset-mid' && noBody) {
        // Nothing to cut in half: the server did the work, the client never hears of it.
        upstreamRes.destroy();
        resetSocket(res.socket);
        return;
      }
      record.status = status;
      const corrupt = !noBody && status < 300 && faults.corrupt?.(record) === true;
      if (corrupt && fault === undefined) record.fault = 'corrupted';
      res.writeHead(status, upstreamRes.statusMessage, forwardableHeaders(upstreamRes.headers));
      void pump(upstreamRes, res, bytesPerSecond, fault === 'reset-mid', corrupt);
    });
    upstreamReq.on('error', (error) => {
      if (res.headersSent || res.destroyed) {
        resetSocket(res.socket);
        return;
      }
      const body = `fault proxy: upstream request failed: ${error.message}\n`;
      record.status = 502;
      res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    // The client went away before its response was complete: drop the upstream exchange too.
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    res.on('error', () => resetSocket(res.socket));
    req.on('error', () => upstreamReq.destroy());
    const uploadBytesPerSecond =
      faults.uploadBytesPerSecond && faults.uploadBytesPerSecond > 0
        ? faults.uploadBytesPerSecond
        : undefined;
    if (uploadBytesPerSecond) void pumpRequest(req, upstreamReq, uploadBytesPerSecond);
    else req.pipe(upstreamReq);
  };
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (filter) => (filter ? requests.filter(filter).length : requests.length),
    reset: () => {
      requests.length = 0;
    },
    setFaults,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      agent.destroy();
    },
  };
}
