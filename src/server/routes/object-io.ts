import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  InvalidKeyError,
  isWharfError,
  NotFoundError,
  PreconditionFailedError,
  UsageError,
  ValidationError,
  WharfError,
} from '../../core/errors.js';
import { METADATA_FILE } from '../../datastore/service/dataset-folder.js';
import { resolveRange } from '../../storage/range.js';
import type { ByteRange, ObjectInfo, StorageDriver } from '../../storage/types.js';

/**
 * Streaming objects over HTTP for the data routes (dataset files, local presigned URLs): ranged GET/HEAD
 * with the usual headers, and atomic streamed uploads with an optional SHA-256 check.
 */

/** Header carrying the hex SHA-256 an upload must have. */
export const SHA256_HEADER = 'x-wharf-sha256';

/** The OpenAPI header parameter of the upload routes. */
export const SHA256_HEADER_PARAMETER = {
  name: SHA256_HEADER,
  description: "The body's hex SHA-256: a mismatch is a 400 and nothing is stored.",
  pattern: '^[0-9a-fA-F]{64}$',
};

const statusOverrides = new WeakMap<FastifyReply, number>();

/**
 * The route layer sets the route's success status after the handler returns; a data route that answers
 * 206 or 416 records its status here and `registerStatusOverride` applies it just before sending.
 */
export function setReplyStatus(reply: FastifyReply, status: number): void {
  statusOverrides.set(reply, status);
}

/** Installs the hook that applies `setReplyStatus` (on the fastify context of the data routes). */
export function registerStatusOverride(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    const status = statusOverrides.get(reply);
    if (status !== undefined && reply.statusCode < 400) reply.code(status);
    return payload;
  });
}

/**
 * A `Range` header as a ByteRange: `bytes=a-b`, `bytes=a-`, `bytes=-n`. Undefined when absent, malformed,
 * or a multi-range request (the whole object is served then, as RFC 9110 allows).
 */
export function parseRangeHeader(header: string | undefined): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    return Number.isSafeInteger(suffix) && suffix > 0 ? { suffix } : undefined;
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return undefined;
  if (last === '') return { start };
  const end = Number(last);
  if (!Number.isSafeInteger(end) || end < start) return undefined;
  return { start, end };
}

/** A strong ETag as an HTTP header value (quoted). */
function quoted(etag: string): string {
  return etag.startsWith('"') || etag.startsWith('W/') ? etag : `"${etag}"`;
}

function setObjectHeaders(reply: FastifyReply, info: ObjectInfo): void {
  reply.header('accept-ranges', 'bytes');
  reply.type(info.contentType ?? 'application/octet-stream');
  if (info.etag) reply.header('etag', quoted(info.etag));
  if (info.lastModified) reply.header('last-modified', info.lastModified.toUTCString());
}

function notFound(what: string): NotFoundError {
  return new NotFoundError(`${what} does not exist`, {
    hint: 'list the files: GET /datasets/{prefix}/{number}/files',
  });
}

/** The 416 answer: `Content-Range: bytes * /size` and a JSON error body. */
function unsatisfiable(reply: FastifyReply, range: string, size: number, what: string): unknown {
  setReplyStatus(reply, 416);
  reply.header('content-range', `bytes */${size}`);
  reply.type('application/json; charset=utf-8');
  return {
    error: {
      code: 'RANGE_NOT_SATISFIABLE',
      message: `byte range ${range.trim()} is outside ${what} (${size} bytes)`,
      hint: `ask for bytes within 0-${Math.max(0, size - 1)}`,
    },
  };
}

/**
 * Answers GET or HEAD of one object: 200 with the body, or 206 + Content-Range for a satisfiable `Range`
 * (416 + `Content-Range: bytes * /size` otherwise); Content-Length, ETag, Last-Modified, Accept-Ranges.
 * `If-Range` with another ETag (or a date) serves the whole object. 404 when absent. `what` names the file in
 * messages. Returns the value for the route handler to return.
 */
export async function sendObject(
  store: StorageDriver,
  key: string,
  what: string,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const rangeHeader = request.headers.range;
  let range = parseRangeHeader(rangeHeader);
  const ifRangeHeader = request.headers['if-range'];
  const ifRange = Array.isArray(ifRangeHeader) ? ifRangeHeader[0] : ifRangeHeader;
  // If-Range with a date cannot be checked against S3-precision mtimes reliably: serve the whole object.
  let ifMatch: string | undefined;
  if (range && ifRange !== undefined) {
    if (ifRange.startsWith('"')) ifMatch = ifRange;
    else range = undefined;
  }

  if (request.method === 'HEAD') {
    const info = await store.stat(key);
    if (!info) throw notFound(what);
    setObjectHeaders(reply, info);
    if (range && !(ifMatch && info.etag && quoted(info.etag) !== ifMatch)) {
      let span;
      try {
        span = resolveRange(range, info.size);
      } catch {
        return unsatisfiable(reply, rangeHeader!, info.size, what);
      }
      setReplyStatus(reply, 206);
      reply.header('content-range', `bytes ${span.start}-${span.end}/${info.size}`);
      reply.header('content-length', String(span.end - span.start + 1));
    } else {
      reply.header('content-length', String(info.size));
    }
    // An empty stream: fastify's HEAD handling keeps the Content-Length set here.
    return Readable.from([]);
  }

  let info: ObjectInfo | undefined;
  const read = (r: ByteRange | undefined, etag: string | undefined) =>
    store.read(key, {
      ...(r ? { range: r } : {}),
      ...(etag ? { ifMatch: etag } : {}),
      onInfo: (i) => {
        info = i;
      },
    });
  let body: Readable;
  try {
    body = await read(range, ifMatch);
  } catch (error) {
    if (error instanceof NotFoundError) throw notFound(what);
    if (range && error instanceof PreconditionFailedError) {
      range = undefined; // If-Range did not match: the whole (current) object.
      body = await read(undefined, undefined).catch((e: unknown) => {
        throw e instanceof NotFoundError ? notFound(what) : e;
      });
    } else if (range && error instanceof ValidationError) {
      const stat = await store.stat(key);
      if (!stat) throw notFound(what);
      return unsatisfiable(reply, rangeHeader!, stat.size, what);
    } else {
      throw error;
    }
  }
  if (!info) {
    body.destroy();
    throw new Error(`the store did not report ${what}'s size`);
  }
  setObjectHeaders(reply, info);
  if (range) {
    const span = resolveRange(range, info.size);
    setReplyStatus(reply, 206);
    reply.header('content-range', `bytes ${span.start}-${span.end}/${info.size}`);
    reply.header('content-length', String(span.end - span.start + 1));
  } else {
    reply.header('content-length', String(info.size));
  }
  return body;
}

/** `metadata.json` at a dataset folder's root is the service's copy of the record: never written by clients. */
export function assertClientWritable(path: string): void {
  if (path === METADATA_FILE) {
    throw new UsageError(`${METADATA_FILE} is written by the service and cannot be uploaded or deleted`, {
      hint: 'change the metadata with PUT /datasets/{prefix}/{number}/metadata',
    });
  }
}

/** Wharf's local state folder in a download's destination; downloads refuse stored keys inside one. */
const STATE_FOLDER = '.wharf';

/**
 * What a client may upload: writable (above) and with no `.wharf` segment. Every Wharf download refuses a key
 * under `.wharf/` relative to the folder it downloads, so a `.wharf` segment anywhere would break downloads of
 * the folder above it. Reading and deleting such keys stays possible, so existing ones can be cleaned up.
 */
export function assertClientUploadable(path: string): void {
  assertClientWritable(path);
  if (path.split('/').includes(STATE_FOLDER)) {
    throw new InvalidKeyError(
      path,
      `the ${STATE_FOLDER}/ folder is reserved for Wharf's local state and every Wharf download refuses it`,
      { hint: `choose a path without a ${STATE_FOLDER} folder` },
    );
  }
}

/** The hex SHA-256 an upload announced in `x-wharf-sha256`, lower-cased; 400 when malformed. */
export function expectedSha256(request: FastifyRequest): string | undefined {
  const value = request.headers[SHA256_HEADER];
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || !/^[0-9a-fA-F]{64}$/.test(text.trim())) {
    throw new ValidationError(`${SHA256_HEADER} must be 64 hex digits (the SHA-256 of the body)`);
  }
  return text.trim().toLowerCase();
}

/**
 * Passes a body through while hashing it, holding back the latest chunk until the end: only when the
 * digest matches does the last chunk go on, so a store never receives the complete body of a mismatching
 * upload (an atomic write fails instead of committing it).
 */
class Sha256Gate extends Transform {
  readonly #hash = createHash('sha256');
  #held: Buffer | undefined;
  mismatch: string | undefined;

  constructor(private readonly expected: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    const previous = this.#held;
    this.#held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    const actual = this.#hash.digest('hex');
    if (actual !== this.expected) {
      this.mismatch = actual;
      callback(new ValidationError(`the body's SHA-256 is ${actual}, not ${this.expected}`));
      return;
    }
    callback(null, this.#held);
  }
}

/**
 * A store's error about a key in a dataset's folder, worded with the path as the client named it: the folder
 * the service keeps the dataset in is not the client's business.
 */
export function inDatasetTerms(error: unknown, folder: string): unknown {
  if (!isWharfError(error) || folder === '') return error;
  const strip = (text: string): string => text.split(folder).join('');
  if (!error.message.includes(folder) && !error.hint?.includes(folder)) return error;
  return new WharfError(error.code, strip(error.message), {
    retryable: error.retryable,
    cause: error,
    ...(error.hint !== undefined ? { hint: strip(error.hint) } : {}),
  });
}

/**
 * Streams the request body to `path` in the dataset `folder` through the store's atomic `write` (temp +
 * rename locally, a single or multipart PUT on S3): Content-Length and Content-Type are passed on; with
 * `sha256` the body is verified and a mismatch is a 400 with nothing written. Errors name `path`, not the key.
 */
export async function writeRequestBody(
  store: StorageDriver,
  file: { folder: string; path: string },
  request: FastifyRequest,
  sha256: string | undefined,
): Promise<ObjectInfo> {
  try {
    return await writeBody(store, `${file.folder}${file.path}`, request, sha256);
  } catch (error) {
    throw inDatasetTerms(error, file.folder);
  }
}

async function writeBody(
  store: StorageDriver,
  key: string,
  request: FastifyRequest,
  sha256: string | undefined,
): Promise<ObjectInfo> {
  const length = Number(request.headers['content-length']);
  const size =
    request.headers['content-length'] !== undefined && Number.isSafeInteger(length) && length >= 0
      ? length
      : undefined;
  const contentType = request.headers['content-type'];
  const options = { ...(size !== undefined ? { size } : {}), ...(contentType ? { contentType } : {}) };
  if (sha256 === undefined) return store.write(key, request.raw, options);
  if (size === 0) {
    // An empty body may be sent without reading the stream: check it up front.
    const actual = createHash('sha256').digest('hex');
    if (actual !== sha256) throw new ValidationError(`the body's SHA-256 is ${actual}, not ${sha256}`);
    return store.write(key, Buffer.alloc(0), options);
  }
  const gate = new Sha256Gate(sha256);
  // The store sees the failure through the stream it reads; `gate.mismatch` says why afterwards.
  gate.on('error', () => undefined);
  request.raw.on('error', (error) => gate.destroy(error));
  request.raw.pipe(gate);
  try {
    return await store.write(key, gate, options);
  } catch (error) {
    if (gate.mismatch !== undefined) {
      throw new ValidationError(`the body's SHA-256 is ${gate.mismatch}, not ${sha256} (${SHA256_HEADER})`, {
        hint: 'nothing was stored; upload the file again',
      });
    }
    throw error;
  }
}
