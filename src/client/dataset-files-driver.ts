import { Readable } from 'node:stream';
import {
  AbortedError,
  isAbortLike,
  isWharfError,
  NetworkError,
  UnsupportedError,
  type WharfError,
} from '../core/errors.js';
import { assertSafeRelativeKey } from '../core/keys.js';
import { runPool } from '../core/pool.js';
import { formatRange } from '../storage/range.js';
import type {
  DriverCapabilities,
  ListOptions,
  ObjectInfo,
  OpOptions,
  ReadInfo,
  ReadOptions,
  StorageDriver,
  WriteOptions,
} from '../storage/types.js';
import { SHA256_METADATA_KEY } from '../transfer/download/expectations.js';
import { errorFromResponse } from './errors.js';
import type { HttpClient } from './http.js';
import type { DatasetFileList } from './types.js';

/** Page size of `GET …/files` listings (the route's maximum is 10,000). */
const LIST_PAGE_SIZE = 1000;
/** DELETEs in flight for one `delete` call. */
const DELETE_CONCURRENCY = 8;

/**
 * One dataset's files through the datastore's `/datasets/{p}/{n}/files` routes, as a StorageDriver rooted at the
 * dataset's folder, so that Wharf's transfer engines (fetch, copy) work on a local store behind the server with a
 * dataset token. `stat` is HEAD, `list` pages through `GET …/files`, `read` is GET (with Range and If-Match),
 * `write` PUT (with `x-wharf-sha256` from the `wharf-sha256` metadata, which the server verifies), `delete` DELETE.
 *
 * Capabilities are what the routes offer: no server-side copy, presign, conditional writes or stored metadata;
 * keys must be safe relative paths; `lastModified` has HTTP-date (1 s) precision from `stat` and `read`.
 */
export class DatasetFilesDriver implements StorageDriver {
  readonly name: string;
  readonly capabilities: DriverCapabilities = {
    serverSideCopy: false,
    presign: false,
    conditionalWrite: false,
    metadata: false,
    pathKeys: true,
    checksumAlgorithms: [],
    mtimePrecisionMs: 1000,
  };
  readonly #http: HttpClient;
  readonly #base: string;

  /** `http` must carry a token that may use the dataset's files routes (an API token or a `wds_…` one). */
  constructor(http: HttpClient, datasetId: string) {
    this.#http = http;
    this.#base = `/datasets/${datasetId}/files`;
    this.name = `${http.endpoint}${this.#base}`;
  }

  #url(key: string): string {
    assertSafeRelativeKey(key);
    return this.#http.url(`${this.#base}/${key.split('/').map(encodeURIComponent).join('/')}`);
  }

  async stat(key: string, options: OpOptions = {}): Promise<ObjectInfo | undefined> {
    const response = await this.#send('HEAD', this.#url(key), {}, options.signal);
    if (response.status === 404) return undefined;
    if (!response.ok) throw this.#error(response, undefined, `HEAD ${key}`);
    return infoFrom(key, response, Number(response.headers.get('content-length') ?? 0));
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let paginationKey: string | undefined;
    const seenFolders = new Set<string>();
    do {
      const page = await this.#http.request<DatasetFileList>('GET', this.#base, {
        query: { prefix, pageSize: LIST_PAGE_SIZE, paginationKey },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for (const file of page.files) {
        if (options.startAfter !== undefined && file.path <= options.startAfter) continue;
        if (options.delimiter === '/') {
          const slash = file.path.indexOf('/', prefix.length);
          if (slash >= 0) {
            const folder = file.path.slice(0, slash + 1);
            if (!seenFolders.has(folder)) {
              seenFolders.add(folder);
              yield { key: folder, size: 0, isPrefix: true };
            }
            continue;
          }
        }
        yield {
          key: file.path,
          size: file.size,
          ...(file.etag ? { etag: file.etag } : {}),
          ...(file.lastModified ? { lastModified: new Date(file.lastModified) } : {}),
        };
      }
      paginationKey = page.nextPaginationKey ?? undefined;
    } while (paginationKey !== undefined);
  }

  async read(key: string, options: ReadOptions = {}): Promise<Readable> {
    const headers: Record<string, string> = {};
    if (options.range) headers.range = formatRange(options.range);
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
    const response = await this.#send('GET', this.#url(key), { headers }, options.signal);
    if (!response.ok) {
      throw this.#error(response, await response.json().catch(() => undefined), `GET ${key}`);
    }
    const length = Number(response.headers.get('content-length') ?? NaN);
    const total = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '')?.[1];
    const info: ReadInfo = infoFrom(key, response, total !== undefined ? Number(total) : length);
    options.onInfo?.(info);
    if (!response.body) return Readable.from([]);
    return Readable.from(guardBody(response.body, key, options.signal), { objectMode: false });
  }

  async write(key: string, body: Readable | Uint8Array, options: WriteOptions = {}): Promise<ObjectInfo> {
    if (options.ifMatch !== undefined || options.ifNoneMatch !== undefined) {
      throw new UnsupportedError('conditional writes are not supported by the datastore files routes');
    }
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/octet-stream',
    };
    const sha256 = options.metadata?.[SHA256_METADATA_KEY];
    if (sha256 !== undefined) headers['x-wharf-sha256'] = sha256;
    let sent = 0;
    const counted = async function* (): AsyncGenerator<Uint8Array> {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        sent += chunk.length;
        yield chunk;
        options.onProgress?.(sent);
      }
    };
    const response = await this.#send(
      'PUT',
      this.#url(key),
      {
        headers,
        body: (body instanceof Uint8Array ? body : counted()) as unknown as RequestInit['body'],
        duplex: 'half',
      } as RequestInit,
      options.signal,
    );
    const answer = (await response.json().catch(() => undefined)) as
      { size?: number; etag?: string | null } | undefined;
    if (!response.ok) throw this.#error(response, answer, `PUT ${key}`);
    if (body instanceof Uint8Array) options.onProgress?.(body.length);
    return {
      key,
      size: answer?.size ?? sent,
      ...(answer?.etag ? { etag: answer.etag } : {}),
    };
  }

  async delete(keys: readonly string[], options: OpOptions = {}): Promise<void> {
    await runPool(
      keys,
      DELETE_CONCURRENCY,
      async (key) => {
        const response = await this.#send('DELETE', this.#url(key), {}, options.signal);
        if (!response.ok && response.status !== 404) {
          throw this.#error(response, await response.json().catch(() => undefined), `DELETE ${key}`);
        }
        await response.body?.cancel().catch(() => undefined);
      },
      options.signal,
    );
  }

  #send(method: string, url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<Response> {
    return this.#http.send(method, url, { ...init, ...(signal ? { signal } : {}) });
  }

  #error(response: Response, body: unknown, what: string): WharfError {
    return errorFromResponse(response.status, body, `${this.name}: ${what}`);
  }
}

function infoFrom(key: string, response: Response, size: number): ReadInfo {
  const etag = response.headers.get('etag');
  const modified = response.headers.get('last-modified');
  const type = response.headers.get('content-type');
  return {
    key,
    size: Number.isFinite(size) ? size : 0,
    ...(etag ? { etag } : {}),
    ...(modified && !Number.isNaN(Date.parse(modified)) ? { lastModified: new Date(modified) } : {}),
    ...(type ? { contentType: type } : {}),
  };
}

/** The response body, with a connection that breaks mid-body as a retryable NetworkError (abort stays abort). */
async function* guardBody(
  body: ReadableStream<Uint8Array>,
  key: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) yield chunk;
  } catch (error) {
    if (isWharfError(error)) throw error;
    if (signal?.aborted || isAbortLike(error)) throw new AbortedError(undefined, { cause: error });
    throw new NetworkError(`reading ${key} from the datastore failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
