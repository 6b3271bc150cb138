import type {
  CopyOptions,
  DetectOptions,
  LayoutOptions,
  ListOptions,
  MultipartLayout,
  ObjectInfo,
  OpOptions,
  PresignOptions,
  ReadInfo,
  ReadOptions,
  StorageDriver,
  WriteOptions,
} from './types.js';
import type { Readable } from 'node:stream';

/**
 * A view of a driver under a folder prefix: key `k` means `prefix + k` underneath, and listed keys come back
 * relative to the prefix. `openStorage('s3://bucket/team/data')` returns one of these.
 */
export class PrefixedDriver implements StorageDriver {
  readonly name: string;

  constructor(
    private readonly inner: StorageDriver,
    private readonly prefix: string,
  ) {
    this.name = inner.name.endsWith('/') ? `${inner.name}${prefix}` : `${inner.name}/${prefix}`;
  }

  get capabilities(): StorageDriver['capabilities'] {
    return this.inner.capabilities;
  }

  stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined> {
    return this.inner.stat(this.prefix + key, options).then((info) => info && this.strip(info));
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const inner: ListOptions = { ...options };
    if (options.startAfter !== undefined) inner.startAfter = this.prefix + options.startAfter;
    for await (const info of this.inner.list(this.prefix + prefix, inner)) yield this.strip(info);
  }

  /** The inner read of `prefix + key`; `onInfo` receives the info with the key relative to the view. */
  read(key: string, options?: ReadOptions): Promise<Readable> {
    const onInfo = options?.onInfo;
    if (!onInfo) return this.inner.read(this.prefix + key, options);
    return this.inner.read(this.prefix + key, { ...options, onInfo: (info) => onInfo(this.strip(info)) });
  }

  write(key: string, body: Readable | Uint8Array, options?: WriteOptions): Promise<ObjectInfo> {
    return this.inner.write(this.prefix + key, body, options).then((info) => this.strip(info));
  }

  delete(keys: readonly string[], options?: OpOptions): Promise<void> {
    return this.inner.delete(
      keys.map((k) => this.prefix + k),
      options,
    );
  }

  /** The inner store's `readInto` of `prefix + key` (onInfo as in `read`); absent when the inner store has none. */
  get readInto(): StorageDriver['readInto'] {
    const readInto = this.inner.readInto?.bind(this.inner);
    if (!readInto) return undefined;
    return (key, options, sink) => {
      const onInfo = options.onInfo;
      const inner = onInfo ? { ...options, onInfo: (info: ReadInfo) => onInfo(this.strip(info)) } : options;
      return readInto(this.prefix + key, inner, sink);
    };
  }

  /** The inner store's `multipartLayout` of `prefix + key`; absent when the inner store has none. */
  get multipartLayout(): StorageDriver['multipartLayout'] {
    const layout = this.inner.multipartLayout?.bind(this.inner);
    if (!layout) return undefined;
    return (key: string, options?: LayoutOptions): Promise<MultipartLayout | undefined> =>
      layout(this.prefix + key, options);
  }

  get copy(): StorageDriver['copy'] {
    const copy = this.inner.copy?.bind(this.inner);
    if (!copy) return undefined;
    return (src: string, dst: string, options?: CopyOptions) =>
      copy(this.prefix + src, this.prefix + dst, options).then((info) => this.strip(info));
  }

  get localPath(): StorageDriver['localPath'] {
    const localPath = this.inner.localPath?.bind(this.inner);
    if (!localPath) return undefined;
    return (key: string) => localPath(this.prefix + key);
  }

  /** The inner store's refusal of `prefix + key` (the limit on key length counts the prefix). */
  get keyRefusal(): StorageDriver['keyRefusal'] {
    const keyRefusal = this.inner.keyRefusal?.bind(this.inner);
    if (!keyRefusal) return undefined;
    return (key: string) => keyRefusal(this.prefix + key);
  }

  get presign(): StorageDriver['presign'] {
    const presign = this.inner.presign?.bind(this.inner);
    if (!presign) return undefined;
    return (key: string, options: PresignOptions) => presign(this.prefix + key, options);
  }

  detectCapabilities(options: DetectOptions = {}): Promise<StorageDriver['capabilities']> {
    const inner = { ...options, probePrefix: this.prefix + (options.probePrefix ?? '') };
    return this.inner.detectCapabilities?.(inner) ?? Promise.resolve(this.inner.capabilities);
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }

  private strip<T extends ObjectInfo>(info: T): T {
    return { ...info, key: info.key.slice(this.prefix.length) };
  }
}
