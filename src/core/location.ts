import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors.js';

/**
 * A place Wharf reads from or writes to, parsed once at the edge (CLI flag, config, API call).
 * - `s3://bucket/key-or-prefix`: an S3-compatible bucket; the key part is kept verbatim (no URL decoding),
 *   as aws-cli does, so keys with '%', '+' or spaces mean what they say, and `s3://bucket//x` is the key `/x`
 *   (other tools create such keys, and `formatLocation` prints them so).
 * - `file:///abs/dir` or a plain path: a folder on this machine used as a store.
 */
export type Location = S3Location | LocalLocation;

export interface S3Location {
  readonly kind: 's3';
  readonly bucket: string;
  /** Key or prefix inside the bucket, everything after the bucket's '/' ('//x' is the key '/x'); '' for the whole bucket. */
  readonly key: string;
  readonly raw: string;
}

export interface LocalLocation {
  readonly kind: 'local';
  /** Absolute path. */
  readonly path: string;
  /** The input ended with a path separator: it names a folder even if it does not exist yet. */
  readonly trailingSlash: boolean;
  readonly raw: string;
}

const S3_FORM = 's3://BUCKET[/PREFIX]';
// S3 bucket naming rules: 3-63 characters, lower-case letters, digits, dots and hyphens,
// starting and ending with a letter or digit. Underscores are accepted for legacy and Ceph buckets.
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

export function parseLocation(input: string, cwd: string = process.cwd()): Location {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new UsageError('empty location: expected s3://BUCKET[/PREFIX], file:///DIR or a local path');
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(input)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // `s3:/bucket`, `s3:bucket`: a URL with a slash missing, not a folder named "s3:" (write ./s3:… for that).
    const typo = /^(s3|file|https?):/i.exec(input)?.[1]?.toLowerCase();
    if (typo !== undefined) {
      const example = typo === 's3' ? S3_FORM : typo === 'file' ? 'file:///DIR' : `${typo}://HOST/PATH`;
      throw new UsageError(
        `malformed location ${JSON.stringify(input)}: expected ${example} (with '//' after '${typo}:'); for a local folder whose name starts with '${typo}:', write ./${input}`,
      );
    }
    return parseLocalPath(input, cwd);
  }
  if (scheme === 's3') return parseS3(input);
  if (scheme === 'file') return parseFileUrl(input);
  throw new UsageError(
    `unsupported location ${JSON.stringify(input)}: scheme '${scheme}://' is not known; use ${S3_FORM}, file:///DIR or a local path`,
  );
}

function parseS3(input: string): S3Location {
  const rest = input.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '') {
    throw new UsageError(
      `missing bucket name in ${JSON.stringify(input)}: expected ${S3_FORM}, e.g. s3://my-bucket/data/`,
    );
  }
  if (!BUCKET_NAME.test(bucket)) {
    throw new UsageError(
      `invalid bucket name ${JSON.stringify(bucket)} in ${JSON.stringify(input)}: bucket names are 3-63 lower-case letters, digits, dots or hyphens`,
    );
  }
  return { kind: 's3', bucket, key, raw: input };
}

function parseFileUrl(input: string): LocalLocation {
  // In a URL '?' starts a query and '#' a fragment, which fileURLToPath drops: file:///d/report?.txt would be
  // /d/report, another file. Refused rather than guessed; a plain path keeps every character.
  const cut = /[?#]/.exec(input);
  if (cut) {
    throw new UsageError(
      `file URL ${JSON.stringify(input)} has a '${cut[0]}', which ends the path in a URL`,
      {
        hint: `write it as a plain path (${input.slice('file://'.length)}), or encode '?' as %3F and '#' as %23`,
      },
    );
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(input)) {
    throw new UsageError(`file URL ${JSON.stringify(input)} has a '%' that is not a %XX escape`, {
      hint: `write it as a plain path (${input.slice('file://'.length)}), or encode '%' as %25`,
    });
  }
  let path: string;
  try {
    path = fileURLToPath(input);
  } catch (error) {
    throw new UsageError(
      `invalid file URL ${JSON.stringify(input)}: expected file:///ABSOLUTE/PATH (three slashes, no host)`,
      { cause: error },
    );
  }
  return { kind: 'local', path: resolve(path), trailingSlash: input.endsWith('/'), raw: input };
}

function parseLocalPath(input: string, cwd: string): LocalLocation {
  if (input.includes('\0')) throw new UsageError('a local path may not contain a NUL character');
  const path = isAbsolute(input) ? resolve(input) : resolve(cwd, input);
  return { kind: 'local', path, trailingSlash: input.endsWith('/') || input.endsWith(sep), raw: input };
}

/** Renders a location (plus an optional key under it) the way a user would type it. */
export function formatLocation(location: Location, key = ''): string {
  if (location.kind === 's3') return `s3://${location.bucket}/${key}`;
  return key === '' ? location.path : `${location.path}/${key}`;
}
