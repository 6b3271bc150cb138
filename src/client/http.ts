import { NetworkError, UsageError, isAbortLike, AbortedError } from '../core/errors.js';
import { errorFromResponse } from './errors.js';

/** The `fetch` the SDK calls (the global one by default); tests and proxies may pass their own. */
export type FetchFunction = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface HttpClientOptions {
  /** Base URL of the datastore, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  endpoint: string;
  /** Bearer token: an API token (`wharf_…`) or a dataset token (`wds_…`). Default: none (anonymous). */
  token?: string | undefined;
  fetch?: FetchFunction | undefined;
}

export interface RequestOptions {
  body?: unknown;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined> | undefined;
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
  /** Statuses returned as answers instead of thrown (e.g. 503 of /health). */
  accept?: number[] | undefined;
}

/** Checks and normalises an endpoint URL: http(s), no query or fragment, no trailing '/'. */
export function normaliseEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`invalid datastore URL ${JSON.stringify(endpoint)}`, {
      hint: 'give the URL wharf serve prints, e.g. http://127.0.0.1:8080',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`invalid datastore URL ${JSON.stringify(endpoint)}: expected http:// or https://`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new UsageError(`invalid datastore URL ${JSON.stringify(endpoint)}: no query or fragment, please`);
  }
  return url.toString().replace(/\/+$/, '');
}

/**
 * JSON over HTTP to the datastore: bearer token, JSON bodies, and every error answer turned into the
 * WharfError of its code (see errors.ts). An unreachable server is a retryable NetworkError naming the URL.
 */
export class HttpClient {
  readonly endpoint: string;
  readonly token: string | undefined;
  readonly fetch: FetchFunction;

  constructor(options: HttpClientOptions) {
    this.endpoint = normaliseEndpoint(options.endpoint);
    this.token = options.token === '' ? undefined : options.token;
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  url(path: string, query?: RequestOptions['query']): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.set(name, String(value));
    }
    const search = params.toString();
    return `${this.endpoint}${path}${search ? `?${search}` : ''}`;
  }

  /** Sends a request and returns the raw response, throwing only when the server cannot be reached. */
  async send(method: string, url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token && !headers.has('authorization')) headers.set('authorization', `Bearer ${this.token}`);
    try {
      return await this.fetch(url, { ...init, method, headers });
    } catch (error) {
      if (isAbortLike(error) || init.signal?.aborted) throw new AbortedError(undefined, { cause: error });
      const reason = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new NetworkError(
        `cannot reach the datastore at ${this.endpoint}${reason?.code ? ` (${reason.code})` : ''}`,
        {
          cause: error,
          hint: 'is `wharf serve` running there? Check the URL (wharf login, --server or WHARF_SERVER)',
        },
      );
    }
  }

  /** A JSON call: the parsed answer (undefined for 204), or the WharfError of the error answer. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.send(method, this.url(path, options.query), {
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    let json = true;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        json = false;
      }
    }
    if (response.ok) {
      if (!json) throw this.notWharf(response);
    } else if (!(options.accept?.includes(response.status) && json && typeof parsed === 'object')) {
      // A gateway's 502–504 page stays a retryable NetworkError (the datastore behind it may be down).
      if (!isErrorBody(parsed) && !GATEWAY_STATUSES.has(response.status)) throw this.notWharf(response);
      throw errorFromResponse(response.status, parsed, `${method} ${path}`);
    }
    return parsed as T;
  }

  /** The error for an answer that is not a Wharf datastore's: not JSON, or an error without its body. */
  private notWharf(response: Response): NetworkError {
    const type = response.headers.get('content-type')?.split(';')[0]?.trim() || 'no content type';
    return new NetworkError(
      `${this.endpoint} does not answer like a Wharf datastore (HTTP ${response.status}, ${type})`,
      {
        retryable: false,
        hint: 'check the URL: the one `wharf serve` prints (wharf login, --server or WHARF_SERVER)',
      },
    );
  }
}

const GATEWAY_STATUSES = new Set([502, 503, 504]);

/** Whether `body` is the datastore's error body `{ error: { code, message, … } }`. */
function isErrorBody(body: unknown): boolean {
  const error = (body as { error?: unknown } | null | undefined)?.error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}
