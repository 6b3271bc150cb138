import { UsageError } from '../core/errors.js';
import type { OpenStorageOptions } from '../storage/registry.js';

/** Connection flags every command accepts; each falls back to the usual AWS environment and files. */
export interface ConnectionFlags {
  endpointUrl?: string;
  region?: string;
  profile?: string;
  /** Use path-style S3 URLs (default: on for custom endpoints). */
  pathStyle?: boolean;
  /** Most concurrent HTTP connections per endpoint. */
  maxSockets?: number;
}

export function storageOptionsFrom(flags: ConnectionFlags): OpenStorageOptions {
  const s3: NonNullable<OpenStorageOptions['s3']> = {};
  if (flags.endpointUrl !== undefined) {
    try {
      const url = new URL(flags.endpointUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch (error) {
      throw new UsageError(
        `invalid --endpoint-url ${JSON.stringify(flags.endpointUrl)}: expected http(s)://HOST[:PORT], e.g. http://127.0.0.1:7480`,
        { cause: error },
      );
    }
    s3.endpoint = flags.endpointUrl;
  }
  if (flags.region !== undefined) s3.region = flags.region;
  if (flags.profile !== undefined) s3.profile = flags.profile;
  if (flags.pathStyle !== undefined) s3.forcePathStyle = flags.pathStyle;
  if (flags.maxSockets !== undefined) s3.maxSockets = flags.maxSockets;
  return { s3 };
}
