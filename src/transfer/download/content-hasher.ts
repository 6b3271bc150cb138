import { createHash, type Hash } from 'node:crypto';

/**
 * What a download must hash to check the object against what the store said about it, and to leave a digest
 * in the cache index that `--verify` can recompute from the local file later.
 */
export interface HashNeeds {
  /**
   * MD5 in the multipart-ETag form `md5(md5(part1) ‖ … ‖ md5(partN))-N`, once per candidate part size. Without
   * candidates, the plain MD5 of the whole content. Either way every file gets an MD5-family digest.
   */
  md5PartSizes?: readonly number[];
  sha256?: boolean;
  sha1?: boolean;
}

/** A digest as the cache index stores it. `partSize` set: the multipart-ETag form `hex-N`. */
export interface FileDigest {
  algorithm: 'md5';
  partSize?: number;
  value: string;
}

export interface HashResult {
  /** One digest per candidate part size (in order), or one plain MD5. */
  md5: FileDigest[];
  /** Hex. */
  sha256?: string;
  /** Hex. */
  sha1?: string;
}

/** Incremental hashing of a byte stream fed in order. */
export class ContentHasher {
  readonly #md5: Md5Stream[];
  readonly #sha256: Hash | undefined;
  readonly #sha1: Hash | undefined;

  constructor(needs: HashNeeds) {
    const sizes = needs.md5PartSizes ?? [];
    this.#md5 = sizes.length === 0 ? [new Md5Stream(undefined)] : sizes.map((size) => new Md5Stream(size));
    this.#sha256 = needs.sha256 ? createHash('sha256') : undefined;
    this.#sha1 = needs.sha1 ? createHash('sha1') : undefined;
  }

  update(chunk: Uint8Array): void {
    this.#sha256?.update(chunk);
    this.#sha1?.update(chunk);
    for (const md5 of this.#md5) md5.update(chunk);
  }

  digest(): HashResult {
    const result: HashResult = { md5: this.#md5.map((m) => m.digest()) };
    if (this.#sha256) result.sha256 = this.#sha256.digest('hex');
    if (this.#sha1) result.sha1 = this.#sha1.digest('hex');
    return result;
  }
}

/** MD5 of a stream, whole or split at part boundaries (the multipart ETag). */
class Md5Stream {
  readonly #partSize: number | undefined;
  #md5: Hash = createHash('md5');
  readonly #partDigests: Buffer[] = [];
  #inPart = 0;

  constructor(partSize: number | undefined) {
    if (partSize !== undefined && !(Number.isSafeInteger(partSize) && partSize > 0)) {
      throw new RangeError(`md5 part size must be a positive integer, got ${partSize}`);
    }
    this.#partSize = partSize;
  }

  update(chunk: Uint8Array): void {
    const partSize = this.#partSize;
    if (partSize === undefined) {
      this.#md5.update(chunk);
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(partSize - this.#inPart, chunk.length - offset);
      this.#md5.update(chunk.subarray(offset, offset + take));
      this.#inPart += take;
      offset += take;
      if (this.#inPart === partSize) this.#closePart();
    }
  }

  digest(): FileDigest {
    if (this.#partSize === undefined) return { algorithm: 'md5', value: this.#md5.digest('hex') };
    if (this.#inPart > 0 || this.#partDigests.length === 0) this.#closePart();
    const combined = createHash('md5').update(Buffer.concat(this.#partDigests)).digest('hex');
    return { algorithm: 'md5', partSize: this.#partSize, value: `${combined}-${this.#partDigests.length}` };
  }

  #closePart(): void {
    this.#partDigests.push(this.#md5.digest());
    this.#md5 = createHash('md5');
    this.#inPart = 0;
  }
}

export function sameDigest(a: FileDigest, b: FileDigest): boolean {
  return a.algorithm === b.algorithm && a.partSize === b.partSize && a.value === b.value;
}

/** Human form for messages: `md5 9e10…` or `md5/8MiB-parts 1f3a…-4`. */
export function describeDigest(d: FileDigest): string {
  return d.partSize === undefined ? `md5 ${d.value}` : `md5 of ${d.partSize}-byte parts ${d.value}`;
}
