import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { NotFoundError, PreconditionFailedError, throwIfAborted } from '../../core/errors.js';
import { assertCreatableKey, compareKeys } from '../../core/keys.js';
import { quoteEtag, sameEtag } from '../etag.js';
import { resolveRange } from '../range.js';
import type {
  CopyOptions,
  DriverCapabilities,
  ListOptions,
  ObjectInfo,
  OpOptions,
  ReadOptions,
  StorageDriver,
  WriteOptions,
} from '../types.js';

interface StoredObject {
  data: Buffer;
  etag: string;
  lastModified: Date;
  contentType: string | undefined;
  metadata: Record<string, string>;
}

/**
 * The reference driver: every contract of StorageDriver, held in a Map. Fast unit tests of higher layers
 * use it; its behaviour is the one the conformance suite pins down for all drivers.
 */
export class MemoryDriver implements StorageDriver {
  readonly name: string;
  readonly capabilities: DriverCapabilities = {
    serverSideCopy: true,
    presign: false,
    conditionalWrite: true,
    metadata: true,
    pathKeys: false,
    checksumAlgorithms: [],
    mtimePrecisionMs: 1,
  };
  private readonly objects = new Map<string, StoredObject>();

  constructor(name = `memory://${randomUUID().slice(0, 8)}`) {
    this.name = name;
  }

  async stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined> {
    throwIfAborted(options?.signal);
    const object = this.objects.get(key);
    return object && this.info(key, object, true);
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    throwIfAborted(options.signal);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    const seenPrefixes = new Set<string>();
    for (const key of keys) {
      throwIfAborted(options.signal);
      if (options.startAfter !== undefined && compareKeys(key, options.startAfter) <= 0) continue;
      if (options.delimiter) {
        const cut = key.indexOf(options.delimiter, prefix.length);
        if (cut >= 0) {
          const folder = key.slice(0, cut + 1);
          if (!seenPrefixes.has(folder)) {
            seenPrefixes.add(folder);
            yield { key: folder, size: 0, isPrefix: true };
          }
          continue;
        }
      }
      const object = this.objects.get(key);
      if (object) yield this.info(key, object, false);
    }
  }

  /**
   * The object's bytes, whole or a range (resolved as `resolveRange` does). `onInfo` gets the object's full info
   * (as `stat` returns it) before this resolves; if it throws, `read` rejects with that error.
   * Throws NotFoundError if absent, PreconditionFailedError if `ifMatch` fails, ValidationError for a bad range.
   */
  async read(key: string, options: ReadOptions = {}): Promise<Readable> {
    throwIfAborted(options.signal);
    const object = this.require(key);
    if (options.ifMatch !== undefined && !sameEtag(options.ifMatch, object.etag)) {
      throw new PreconditionFailedError(`${this.name}/${key} changed (ETag is no longer ${options.ifMatch})`);
    }
    const { start, end } = resolveRange(options.range, object.data.length);
    options.onInfo?.(this.info(key, object, true));
    return Readable.from([object.data.subarray(start, end + 1)]);
  }

  async write(key: string, body: Readable | Uint8Array, options: WriteOptions = {}): Promise<ObjectInfo> {
    assertCreatableKey(key);
    throwIfAborted(options.signal);
    const data = body instanceof Uint8Array ? Buffer.from(body) : await collect(body, options);
    throwIfAborted(options.signal);
    return this.#store(key, data, options);
  }

  /**
   * Stores an object as another tool could have written it to S3, without Wharf's key rules (a key with '..'),
   * for tests of how readers treat what a bucket may already hold.
   */
  putForeign(key: string, data: Uint8Array): ObjectInfo {
    return this.#store(key, Buffer.from(data), {});
  }

  #store(key: string, data: Buffer, options: WriteOptions): ObjectInfo {
    // Preconditions are checked after the body arrived, as S3 does at completion time.
    const existing = this.objects.get(key);
    if (options.ifNoneMatch === '*' && existing) {
      throw new PreconditionFailedError(`${this.name}/${key} already exists`);
    }
    if (options.ifMatch !== undefined && !(existing && sameEtag(options.ifMatch, existing.etag))) {
      throw new PreconditionFailedError(`${this.name}/${key} is not at ETag ${options.ifMatch}`);
    }
    const object: StoredObject = {
      data,
      etag: quoteEtag(createHash('md5').update(data).digest('hex')),
      lastModified: new Date(),
      contentType: options.contentType,
      metadata: lowerCaseKeys(options.metadata ?? {}),
    };
    this.objects.set(key, object);
    options.onProgress?.(data.length);
    return this.info(key, object, true);
  }

  async delete(keys: readonly string[], options?: OpOptions): Promise<void> {
    throwIfAborted(options?.signal);
    for (const key of keys) this.objects.delete(key);
  }

  async copy(src: string, dst: string, options: CopyOptions = {}): Promise<ObjectInfo> {
    assertCreatableKey(dst);
    throwIfAborted(options.signal);
    const source = this.require(src);
    const replace = options.metadata !== undefined || options.contentType !== undefined;
    const object: StoredObject = {
      ...source,
      lastModified: new Date(),
      contentType: replace ? options.contentType : source.contentType,
      metadata: replace ? lowerCaseKeys(options.metadata ?? {}) : { ...source.metadata },
    };
    this.objects.set(dst, object);
    return this.info(dst, object, true);
  }

  private require(key: string): StoredObject {
    const object = this.objects.get(key);
    if (!object) throw new NotFoundError(`${this.name}/${key} does not exist`);
    return object;
  }

  private info(key: string, object: StoredObject, full: boolean): ObjectInfo {
    const info: ObjectInfo = {
      key,
      size: object.data.length,
      etag: object.etag,
      lastModified: object.lastModified,
    };
    if (full) {
      if (object.contentType !== undefined) info.contentType = object.contentType;
      info.metadata = { ...object.metadata };
    }
    return info;
  }
}

async function collect(body: Readable, options: WriteOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    throwIfAborted(options.signal);
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buffer);
    total += buffer.length;
    options.onProgress?.(total);
  }
  return Buffer.concat(chunks);
}

function lowerCaseKeys(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), v]));
}
