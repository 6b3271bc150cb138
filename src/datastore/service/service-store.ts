import type { Readable } from 'node:stream';
import { isWharfError, WharfError } from '../../core/errors.js';
import type {
  CopyOptions,
  DetectOptions,
  LayoutOptions,
  ListOptions,
  MultipartLayout,
  ObjectInfo,
  OpOptions,
  PresignOptions,
  ReadOptions,
  StorageDriver,
  WriteOptions,
} from '../../storage/types.js';

/**
 * The dataset store as the datastore service uses it. Callers of the service never use the store's credentials
 * themselves, so the store refusing them is the service's problem, not the caller's: an AccessDeniedError of the
 * store (whose message names the bucket, the endpoint and where the credentials came from, and whose hint tells
 * the reader to set AWS variables) becomes a NETWORK error (HTTP 503) that says only which key and operation,
 * with the store's own error as its `cause` for the server log. Everything else passes through unchanged.
 */
export class ServiceStore implements StorageDriver {
  readonly name: string;

  constructor(private readonly inner: StorageDriver) {
    this.name = inner.name;
  }

  get capabilities(): StorageDriver['capabilities'] {
    return this.inner.capabilities;
  }

  stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined> {
    return guard(this.inner.stat(key, options), 'stat', key);
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    try {
      yield* this.inner.list(prefix, options);
    } catch (error) {
      throw refusedService(error, 'list', prefix === '' ? '/' : prefix);
    }
  }

  read(key: string, options?: ReadOptions): Promise<Readable> {
    return guard(this.inner.read(key, options), 'read', key);
  }

  write(key: string, body: Readable | Uint8Array, options?: WriteOptions): Promise<ObjectInfo> {
    return guard(this.inner.write(key, body, options), 'write', key);
  }

  delete(keys: readonly string[], options?: OpOptions): Promise<void> {
    return guard(this.inner.delete(keys, options), 'delete', keys[0] ?? '');
  }

  get readInto(): StorageDriver['readInto'] {
    const readInto = this.inner.readInto?.bind(this.inner);
    if (!readInto) return undefined;
    return (key, options, sink) => guard(readInto(key, options, sink), 'read', key);
  }

  get multipartLayout(): StorageDriver['multipartLayout'] {
    const layout = this.inner.multipartLayout?.bind(this.inner);
    if (!layout) return undefined;
    return (key: string, options?: LayoutOptions): Promise<MultipartLayout | undefined> =>
      guard(layout(key, options), 'stat', key);
  }

  get copy(): StorageDriver['copy'] {
    const copy = this.inner.copy?.bind(this.inner);
    if (!copy) return undefined;
    return (src: string, dst: string, options?: CopyOptions) => guard(copy(src, dst, options), 'copy', dst);
  }

  get copierFrom(): StorageDriver['copierFrom'] {
    return this.inner.copierFrom?.bind(this.inner);
  }

  get presign(): StorageDriver['presign'] {
    const presign = this.inner.presign?.bind(this.inner);
    if (!presign) return undefined;
    return (key: string, options: PresignOptions) => guard(presign(key, options), 'presign', key);
  }

  get localPath(): StorageDriver['localPath'] {
    return this.inner.localPath?.bind(this.inner);
  }

  detectCapabilities(options?: DetectOptions): Promise<StorageDriver['capabilities']> {
    return this.inner.detectCapabilities?.(options) ?? Promise.resolve(this.inner.capabilities);
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

function guard<T>(work: Promise<T>, action: string, key: string): Promise<T> {
  return work.catch((error: unknown) => {
    throw refusedService(error, action, key);
  });
}

function refusedService(error: unknown, action: string, key: string): unknown {
  if (!isWharfError(error) || error.code !== 'ACCESS_DENIED') return error;
  return new WharfError(
    'NETWORK',
    `the dataset store refused the service's own access to ${key} (${action})`,
    {
      cause: error,
      affectsAll: error.affectsAll,
      hint: "the service's storage credentials or the bucket's policy do not allow it; the server log has the store's answer",
    },
  );
}
