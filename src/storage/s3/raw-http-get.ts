import type { IncomingHttpHeaders } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/**
 * HTTP/1.1 GETs whose response bodies are read into one reused buffer per connection (`net`'s `onread`) and handed
 * to a sink, instead of arriving as a new Buffer per socket read as `node:http` and undici deliver them. For a
 * large download that allocation, and the garbage collection it causes, cost more CPU than the transfer itself:
 * on the 2-core benchmark machine a 1 GiB ranged fetch took 3.9 s of client CPU through `node:http` and 0.4 s this
 * way (see docs/benchmarks.md). No maintained Node HTTP client reads into caller-provided memory, hence this one.
 *
 * It reads only what S3 GetObject answers carry: a status line, headers and a body framed by Content-Length. Any
 * other framing (chunked, close-delimited, 1xx) comes back as `unsupported` before a single body byte reached the
 * sink, so the caller can repeat the request with a general client. Connections are kept alive and reused; a
 * reused connection that the server closed while idle is replaced once, transparently (the GET is idempotent).
 */

/** Received body bytes, borrowed: valid only until the sink returns. A returned promise pauses the connection. */
export type BodySink = (bytes: Buffer) => void | Promise<void>;

export interface RawGetTarget {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number | undefined;
}

export interface RawResponseHead {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: IncomingHttpHeaders;
}

export type RawGetOutcome =
  /** The body went to the sink the caller chose for this head. */
  | { kind: 'body'; head: RawResponseHead; bytes: number }
  /** The caller wanted no sink for this head (an error status): its body as text, at most `MAX_ERROR_BODY` kept. */
  | { kind: 'error'; head: RawResponseHead; body: string }
  /** A response this client does not read; nothing reached the sink and the connection is closed. */
  | { kind: 'unsupported'; reason: string };

export interface RawGetRequest {
  target: RawGetTarget;
  /** Encoded path and query. */
  path: string;
  /** Every header to send, Host included. */
  headers: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Chooses where the body of this response goes: a sink, or undefined to read it as an error document. */
  sinkFor: (head: RawResponseHead) => BodySink | undefined;
}

export interface RawHttpGetOptions {
  connectTimeoutMs: number;
  /** A request fails when its connection has been silent this long. */
  socketTimeoutMs: number;
  /** TLS options for https targets (CA, client certificates), as the S3 client's agent has them. */
  tls?: ConnectionOptions;
  /** Idle connections kept per host. */
  maxIdlePerHost?: number;
  /** An idle connection is closed after this long (servers drop idle keep-alive connections after 5–20 s). */
  idleTimeoutMs?: number;
}

/** Error documents are small; read at most this much of one. */
export const MAX_ERROR_BODY = 64 * 1024;
/** A response head larger than this is refused. */
const MAX_HEAD = 64 * 1024;
/** Node error codes the SDK's HTTP handler renames to TimeoutError (retryable). */
const RETRYABLE_SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);
/** Bytes read per socket read; one buffer per connection. */
const READ_BUFFER = 256 * 1024;

/** Error for a connection problem, named as the SDK's HTTP handler names them, so that retry strategies agree. */
function connectionError(message: string, code: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', code });
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

/** Thrown (internally) when a reused connection turned out to be closed before any answer arrived. */
class StaleConnection extends Error {}

/** Parses `HTTP/1.x NNN reason` and header lines; undefined for anything malformed. */
export function parseResponseHead(
  text: string,
): { head: RawResponseHead; version: '1.0' | '1.1' } | undefined {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!status) return undefined;
  const headers: IncomingHttpHeaders = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) return undefined;
    const value = line.slice(colon + 1).trim();
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${String(previous)}, ${value}`;
  }
  return { head: { status: Number(status[2]), headers }, version: status[1] === '0' ? '1.0' : '1.1' };
}

/** The body length when the response is framed by a single valid Content-Length and nothing else. */
export function contentLengthFraming(headers: IncomingHttpHeaders): number | undefined {
  if (headers['transfer-encoding'] !== undefined) return undefined;
  const value = headers['content-length'];
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return undefined;
  const length = Number(value);
  return Number.isSafeInteger(length) ? length : undefined;
}

class Connection {
  readonly socket: Socket;
  readonly poolKey: string;
  /** Whether an exchange has completed on it (a failure before any answer may then mean the server closed it). */
  reused = false;
  #onBytes: ((bytes: Buffer) => void) | undefined;
  #onEnd: ((error: Error) => void) | undefined;
  #ended: Error | undefined;
  /** What a socket timeout means now (one listener per socket; `setTimeout(ms, fn)` would add one per call). */
  onTimeout: (() => void) | undefined;

  constructor(socket: Socket, poolKey: string) {
    this.socket = socket;
    this.poolKey = poolKey;
    const end = (error: Error): void => {
      this.#ended ??= error;
      const onEnd = this.#onEnd;
      this.#onEnd = undefined;
      this.#onBytes = undefined;
      onEnd?.(this.#ended);
    };
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // As the SDK's HTTP handler: resets and refusals are retryable timeouts; others (a certificate the
      // machine does not trust, say) stay what they are.
      if (error.code !== undefined && RETRYABLE_SOCKET_CODES.has(error.code)) error.name = 'TimeoutError';
      end(error);
    });
    socket.on('end', () => end(connectionError('the server closed the connection', 'ECONNRESET')));
    socket.on('close', () => end(connectionError('the connection closed', 'ECONNRESET')));
    socket.on('timeout', () => this.onTimeout?.());
  }

  /** The `onread` callback: the bytes are only valid during this call. */
  received(bytes: Buffer): void {
    if (this.#onBytes) this.#onBytes(bytes);
    else this.socket.destroy(); // nothing was asked: a confused server or a late answer
  }

  get alive(): boolean {
    return this.#ended === undefined && !this.socket.destroyed;
  }

  attach(onBytes: (bytes: Buffer) => void, onEnd: (error: Error) => void): void {
    if (this.#ended) {
      onEnd(this.#ended);
      return;
    }
    this.#onBytes = onBytes;
    this.#onEnd = onEnd;
  }

  detach(): void {
    this.#onBytes = undefined;
    this.#onEnd = undefined;
  }
}

export class RawHttpGet {
  readonly #options: Required<Omit<RawHttpGetOptions, 'tls'>> & { tls: ConnectionOptions | undefined };
  readonly #idle = new Map<string, Connection[]>();
  #closed = false;

  constructor(options: RawHttpGetOptions) {
    this.#options = {
      maxIdlePerHost: 64,
      idleTimeoutMs: 4000,
      ...options,
      tls: options.tls,
    };
  }

  /**
   * Sends the GET and reads the answer. Rejects with an AbortError when `signal` fires, with errors named
   * `TimeoutError` (code ECONNRESET, ETIMEDOUT, …) for connection failures, and with whatever the sink threw.
   * `bodyStarted` on a rejection says whether bytes had reached the sink (then the caller must start over).
   */
  async get(request: RawGetRequest): Promise<RawGetOutcome> {
    if (this.#closed) throw new Error('the connection pool is closed');
    if (request.signal?.aborted) throw abortError();
    const key = poolKey(request.target);
    const idle = this.#takeIdle(key);
    if (idle) {
      try {
        return await this.#exchange(idle, request);
      } catch (error) {
        if (!(error instanceof StaleConnection)) throw error;
      }
    }
    return this.#exchange(this.#connect(request.target, key), request);
  }

  /** Closes every idle connection; connections in use close when their request ends. */
  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const c of list) c.socket.destroy();
    this.#idle.clear();
  }

  #takeIdle(key: string): Connection | undefined {
    const list = this.#idle.get(key);
    while (list && list.length > 0) {
      const connection = list.pop() as Connection;
      if (connection.alive) {
        connection.socket.setTimeout(0);
        connection.socket.ref();
        return connection;
      }
    }
    return undefined;
  }

  #release(connection: Connection): void {
    const list = this.#idle.get(connection.poolKey) ?? [];
    if (this.#closed || !connection.alive || list.length >= this.#options.maxIdlePerHost) {
      connection.socket.destroy();
      return;
    }
    connection.reused = true;
    connection.attach(
      () => connection.socket.destroy(),
      () => {
        const at = list.indexOf(connection);
        if (at >= 0) list.splice(at, 1);
      },
    );
    connection.socket.resume(); // a busy sink may have paused it; idle, it must see the server closing it
    connection.socket.unref();
    connection.onTimeout = () => connection.socket.destroy();
    connection.socket.setTimeout(this.#options.idleTimeoutMs);
    list.push(connection);
    this.#idle.set(connection.poolKey, list);
  }

  #connect(target: RawGetTarget, key: string): Connection {
    const buffer = Buffer.allocUnsafe(READ_BUFFER);
    const onread = {
      buffer,
      callback: (length: number, bytes: Uint8Array): boolean => {
        // Reads start after connecting, by when `connection` below exists.
        connection.received(Buffer.from(bytes.buffer, bytes.byteOffset, length));
        return true;
      },
    };
    const port = target.port ?? (target.protocol === 'https:' ? 443 : 80);
    const socket =
      target.protocol === 'https:'
        ? tlsConnect({
            ...this.#options.tls,
            host: target.hostname,
            port,
            ...(isIP(target.hostname) === 0 ? { servername: target.hostname } : {}),
            ALPNProtocols: ['http/1.1'],
            onread,
          } as ConnectionOptions)
        : netConnect({ host: target.hostname, port, onread });
    socket.setNoDelay(true);
    const connection = new Connection(socket, key);
    const connected = target.protocol === 'https:' ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => {
      socket.destroy(
        connectionError(
          `the request socket did not establish a connection with the server within ${this.#options.connectTimeoutMs} ms`,
          'ETIMEDOUT',
        ),
      );
    }, this.#options.connectTimeoutMs);
    socket.once(connected, () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return connection;
  }

  #exchange(connection: Connection, request: RawGetRequest): Promise<RawGetOutcome> {
    const { socket } = connection;
    const reused = connection.reused;
    return new Promise<RawGetOutcome>((resolve, reject) => {
      let headPart: Buffer = Buffer.alloc(0);
      let phase: 'head' | 'body' | 'error-body' = 'head';
      let head: RawResponseHead | undefined;
      let keepAlive = false;
      let remaining = 0;
      let total = 0;
      let anyByte = false;
      let bodyStarted = false;
      let sink: BodySink | undefined;
      const errorChunks: Buffer[] = [];
      let errorKept = 0;
      let settled = false;

      const cleanup = (): void => {
        settled = true;
        connection.detach();
        request.signal?.removeEventListener('abort', onAbort);
        socket.setTimeout(0);
      };
      const fail = (error: unknown): void => {
        if (settled) return;
        cleanup();
        socket.destroy();
        if (error !== null && typeof error === 'object') {
          Object.assign(error, { bodyStarted });
        }
        reject(error);
      };
      const finish = (outcome: RawGetOutcome): void => {
        if (settled) return;
        cleanup();
        if (keepAlive) this.#release(connection);
        else socket.destroy();
        resolve(outcome);
      };
      const complete = (): void => {
        if (head === undefined) return;
        if (phase === 'body') finish({ kind: 'body', head, bytes: total });
        else finish({ kind: 'error', head, body: Buffer.concat(errorChunks).toString('utf8') });
      };
      const onAbort = (): void => fail(abortError());

      const onHead = (text: string): void => {
        const parsed = parseResponseHead(text);
        if (!parsed) {
          fail(connectionError('the server sent a malformed HTTP response', 'EPROTO'));
          return;
        }
        head = parsed.head;
        const length = contentLengthFraming(head.headers);
        if (head.status < 200 || length === undefined) {
          cleanup();
          socket.destroy();
          resolve({
            kind: 'unsupported',
            reason: head.status < 200 ? `status ${head.status}` : 'a body not framed by Content-Length',
          });
          return;
        }
        const connectionHeader = String(head.headers['connection'] ?? '').toLowerCase();
        keepAlive = parsed.version === '1.1' && !/\bclose\b/.test(connectionHeader);
        remaining = length;
        sink = request.sinkFor(head);
        phase = sink ? 'body' : 'error-body';
      };

      const onBody = (bytes: Buffer): void => {
        if (bytes.length > remaining) {
          fail(connectionError('the server sent more bytes than its Content-Length', 'EPROTO'));
          return;
        }
        remaining -= bytes.length;
        total += bytes.length;
        if (phase === 'error-body') {
          if (errorKept < MAX_ERROR_BODY) {
            const keep = bytes.subarray(0, MAX_ERROR_BODY - errorKept);
            errorChunks.push(Buffer.from(keep));
            errorKept += keep.length;
          }
          if (remaining === 0) complete();
          return;
        }
        bodyStarted = true;
        const written = (sink as BodySink)(bytes);
        if (written instanceof Promise) {
          socket.pause();
          written.then(
            () => {
              if (settled) return;
              if (remaining === 0) complete();
              else socket.resume();
            },
            (error: unknown) => fail(error),
          );
        } else if (remaining === 0) complete();
      };

      const onBytes = (bytes: Buffer): void => {
        if (settled) return;
        anyByte = true;
        try {
          let body = bytes;
          if (phase === 'head') {
            // Only the head is decoded as text: the first read usually carries a large part of the body too.
            const joined = headPart.length > 0 ? Buffer.concat([headPart, bytes]) : bytes;
            const end = joined.indexOf('\r\n\r\n');
            if (end < 0) {
              if (joined.length > MAX_HEAD) fail(connectionError('the response head is too large', 'EPROTO'));
              else headPart = Buffer.from(joined); // `bytes` is about to be overwritten
              return;
            }
            body = joined.subarray(end + 4);
            onHead(joined.toString('latin1', 0, end));
            if (settled) return;
            if (remaining === 0 && body.length === 0) {
              complete();
              return;
            }
          }
          if (body.length > 0) onBody(body);
        } catch (error) {
          fail(error);
        }
      };

      const onEnd = (error: Error): void => {
        if (settled) return;
        if (reused && !anyByte) {
          cleanup();
          socket.destroy();
          reject(new StaleConnection('stale keep-alive connection'));
          return;
        }
        fail(
          phase === 'head'
            ? error
            : connectionError(
                `the connection closed after ${total} bytes, ${remaining} short of the answer's length`,
                'ECONNRESET',
              ),
        );
      };

      connection.attach(onBytes, onEnd);
      if (settled) return; // attach() reported a connection that had already ended
      request.signal?.addEventListener('abort', onAbort, { once: true });
      connection.onTimeout = () => {
        fail(
          connectionError(
            `the request socket timed out after ${this.#options.socketTimeoutMs} ms of inactivity`,
            'ETIMEDOUT',
          ),
        );
      };
      socket.setTimeout(this.#options.socketTimeoutMs);
      let text = `GET ${request.path} HTTP/1.1\r\n`;
      for (const [name, value] of Object.entries(request.headers)) text += `${name}: ${value}\r\n`;
      socket.write(`${text}\r\n`, 'latin1');
    });
  }
}

function poolKey(target: RawGetTarget): string {
  return `${target.protocol}//${target.hostname}:${target.port ?? ''}`;
}
