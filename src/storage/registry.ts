import { UsageError } from '../core/errors.js';
import { asFolderPrefix } from '../core/keys.js';
import { parseLocation, type Location } from '../core/location.js';
import { PrefixedDriver } from './prefixed-driver.js';
import type { StorageDriver } from './types.js';
import type { S3DriverOptions } from './s3/s3-options.js';

/** Connection settings for S3 locations; every field falls back to the usual AWS places (env, profile). */
export type S3ConnectionOptions = Omit<S3DriverOptions, 'bucket'>;

export interface OpenStorageOptions {
  s3?: S3ConnectionOptions | undefined;
  /** Resolve relative local paths against this folder (default: the working directory). */
  cwd?: string | undefined;
}

/**
 * Opens the store a location names: `s3://bucket[/prefix]`, `file:///dir` or a local folder path.
 * A prefix makes the returned driver a view of that folder (keys relative to it). Drivers load lazily,
 * so opening a local folder never loads the AWS SDK.
 *
 * ```ts
 * const store = await openStorage('s3://my-bucket/datasets/');
 * for await (const object of store.list('')) console.log(object.key, object.size);
 * ```
 */
export async function openStorage(
  location: string | Location,
  options: OpenStorageOptions = {},
): Promise<StorageDriver> {
  const parsed = typeof location === 'string' ? parseLocation(location, options.cwd) : location;
  const root = await openStorageRoot(parsed, options);
  const prefix = parsed.kind === 's3' ? asFolderPrefix(parsed.key) : '';
  return prefix === '' ? root : new PrefixedDriver(root, prefix);
}

/** The driver for a location's root: the bucket for S3, the folder itself for local paths. */
export async function openStorageRoot(
  location: Location,
  options: OpenStorageOptions = {},
): Promise<StorageDriver> {
  switch (location.kind) {
    case 's3': {
      const { openS3Driver } = await import('./s3/s3-driver.js');
      return openS3Driver({ ...options.s3, bucket: location.bucket });
    }
    case 'local': {
      const { openLocalDriver } = await import('./local/local-driver.js');
      return openLocalDriver({ root: location.path });
    }
    default:
      throw new UsageError(`unsupported location ${JSON.stringify(location satisfies never)}`);
  }
}

/**
 * The endpoint URL that opening `bucket` with `options` talks to (from the options, AWS_ENDPOINT_URL(_S3) or the
 * profile's endpoint_url, as the S3 driver resolves it); undefined for AWS S3 itself. Throws UsageError for
 * options the driver would refuse.
 */
export async function s3EndpointFor(
  bucket: string,
  options: OpenStorageOptions = {},
): Promise<string | undefined> {
  const { resolveS3Options } = await import('./s3/s3-options.js');
  return (await resolveS3Options({ ...options.s3, bucket })).endpoint;
}
