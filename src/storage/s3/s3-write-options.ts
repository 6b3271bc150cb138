import { ValidationError } from '../../core/errors.js';
import { normaliseEtag } from '../etag.js';
import type { WriteOptions } from '../types.js';

/** Checking `write` options and turning its conditions into request headers and messages. */

export function validateWriteOptions(options: WriteOptions): void {
  if (options.ifNoneMatch !== undefined && options.ifNoneMatch !== '*') {
    throw new ValidationError(
      `invalid ifNoneMatch ${JSON.stringify(options.ifNoneMatch)}: only '*' is supported`,
    );
  }
  if (
    options.ifMatch !== undefined &&
    (typeof options.ifMatch !== 'string' || normaliseEtag(options.ifMatch) === '')
  ) {
    throw new ValidationError('invalid ifMatch: expected a non-empty ETag');
  }
  if (options.ifMatch !== undefined && options.ifNoneMatch !== undefined) {
    throw new ValidationError('ifMatch and ifNoneMatch cannot be combined in one write');
  }
  if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) {
    throw new ValidationError(`invalid size ${String(options.size)}: expected a whole number of bytes >= 0`);
  }
  positiveInt(options.partConcurrency, 1, 'partConcurrency');
}

export function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(`invalid ${name} ${String(value)}: expected a whole number >= 1`);
  }
  return value;
}

/** If-None-Match / If-Match for PUT and CompleteMultipartUpload; the ETag goes unquoted (Ceph RGW needs it, AWS accepts it). */
export function conditionHeaders(options: WriteOptions): { IfNoneMatch?: string; IfMatch?: string } {
  if (options.ifNoneMatch === '*') return { IfNoneMatch: '*' };
  if (options.ifMatch !== undefined) return { IfMatch: normaliseEtag(options.ifMatch) };
  return {};
}

export function preconditionText(options: WriteOptions): string | undefined {
  if (options.ifNoneMatch === '*') return 'an object already exists there';
  if (options.ifMatch !== undefined) return `its ETag is not ${options.ifMatch}`;
  return undefined;
}

export function toBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';
}
