import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors.js';
import { asFolderPrefix, compareKeys } from '../core/keys.js';

/** Everything that decides which objects a fetch takes; equal inputs give equal dataset ids. */
export interface DatasetSelector {
  /** Custom S3 endpoint URL, if any (AWS when omitted). */
  endpoint?: string;
  /** The store: `s3://bucket`, or a local store's absolute path. */
  store: string;
  /** Dataset prefix inside the store ('' or a folder). */
  prefix: string;
  include: readonly string[];
  exclude: readonly string[];
  /** Manifest key relative to the prefix. */
  manifest?: string;
  metaFiles: boolean;
}

const NAME_MAX = 40;
const ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * A stable id for a dataset selection, usable as a folder name in the cache:
 * `<last prefix segment (or store name), sanitised, ≤ 40 chars>-<12 hex of sha256 of the canonical selector>`.
 * Pattern order and repeats do not change which keys match, so patterns are sorted and de-duplicated
 * before hashing; a trailing '/' on endpoint or store and a missing one on the prefix do not matter either.
 */
export function datasetFingerprint(input: DatasetSelector): string {
  const canonical = {
    endpoint: input.endpoint === undefined ? null : trimTrailingSlashes(input.endpoint),
    store: trimTrailingSlashes(input.store),
    prefix: asFolderPrefix(input.prefix),
    include: canonicalPatterns(input.include),
    exclude: canonicalPatterns(input.exclude),
    manifest: input.manifest ?? null,
    metaFiles: input.metaFiles,
  };
  const hash = createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 12);
  const name = sanitiseName(lastSegment(canonical.prefix) || lastSegment(canonical.store)) || 'dataset';
  return `${name}-${hash}`;
}

/** Throws UsageError unless `id` is one safe path segment: 1–128 of [A-Za-z0-9._-], not starting with '.'. */
export function assertValidDatasetId(id: string): void {
  if (typeof id === 'string' && ID_PATTERN.test(id) && !id.startsWith('.')) return;
  throw new UsageError(`dataset id ${JSON.stringify(id)} is not valid`, {
    hint: "use 1-128 letters, digits, '.', '_' or '-', not starting with '.'",
  });
}

function canonicalPatterns(patterns: readonly string[]): string[] {
  return [...new Set(patterns)].sort(compareKeys);
}

function trimTrailingSlashes(value: string): string {
  const trimmed = value.replace(/\/+$/, '');
  return trimmed === '' || trimmed.endsWith(':') ? value : trimmed;
}

function lastSegment(path: string): string {
  const parts = path.split('/').filter((part) => part !== '');
  return parts[parts.length - 1] ?? '';
}

function sanitiseName(segment: string): string {
  return segment
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, NAME_MAX)
    .replace(/[.-]+$/, '');
}
