import { ValidationError } from '../../core/errors.js';
import type { KeysetPosition } from '../catalog/types.js';
import type { SortField } from '../model/dataset.js';

/** What a listing's pagination key is bound to: a key from one sort/filter cannot continue another. */
export interface ListingShape {
  sortBy: string;
  ascending: boolean;
  releaseStatus?: string | undefined;
  approver?: string | undefined;
}

interface KeyBody {
  v: 1;
  s: string;
  a: boolean;
  r: string | null;
  p: string | null;
  k: string;
  q: string;
}

/** An opaque key: base64url of the sort/filter it belongs to and the last row's position. */
export function encodePaginationKey(shape: ListingShape, position: KeysetPosition): string {
  const body: KeyBody = {
    v: 1,
    s: shape.sortBy,
    a: shape.ascending,
    r: shape.releaseStatus ?? null,
    p: shape.approver ?? null,
    k: position.value,
    q: position.seq,
  };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** What a caller passing a key from another listing is told. */
export interface KeyMismatch {
  message: string;
  hint: string;
}

const LISTING_MISMATCH: KeyMismatch = {
  message: 'paginationKey belongs to a listing with another sort order or filter',
  hint: 'pass the same sortBy, ascending, releaseStatus and approver as for the first page, or start again without paginationKey',
};

/** The review queue has no sort or status to choose: only its approver can differ. */
export const REVIEW_QUEUE_MISMATCH: KeyMismatch = {
  message: "paginationKey belongs to another approver's review queue or to another listing",
  hint: 'pass the same approver as for the first page, or start again without paginationKey',
};

export function decodePaginationKey(
  key: string,
  shape: ListingShape,
  mismatch: KeyMismatch = LISTING_MISMATCH,
): KeysetPosition {
  let body: KeyBody;
  try {
    body = JSON.parse(Buffer.from(key, 'base64url').toString('utf8')) as KeyBody;
  } catch {
    throw invalid();
  }
  if (body?.v !== 1 || typeof body.k !== 'string' || !isSeq(body.q)) throw invalid();
  if (
    body.s !== shape.sortBy ||
    body.a !== shape.ascending ||
    body.r !== (shape.releaseStatus ?? null) ||
    body.p !== (shape.approver ?? null)
  ) {
    throw new ValidationError(mismatch.message, { hint: mismatch.hint });
  }
  // The position goes into SQL as a typed parameter: a forged value would fail there (a 500), not here.
  if (!isSortValue(shape.sortBy, body.k)) throw invalid();
  return { value: body.k, seq: body.q };
}

/** What the catalog returns as a sort value (`(expr)::text`, sessions in UTC with DateStyle ISO). */
const SORT_VALUE_KINDS: Record<SortField, 'timestamp' | 'text'> = {
  created: 'timestamp',
  updated: 'timestamp',
  releaseTime: 'timestamp',
  displayName: 'text',
};

const MAX_BIGINT = 2n ** 63n - 1n;

/** A row sequence number: a decimal bigint. */
function isSeq(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,19}$/.test(value) && BigInt(value) <= MAX_BIGINT;
}

function isSortValue(sortBy: string, value: string): boolean {
  const kind = SORT_VALUE_KINDS[sortBy as SortField] as 'timestamp' | 'text' | undefined;
  if (kind === 'text') return !value.includes('\u0000');
  return kind === 'timestamp' && isTimestamp(value);
}

/** `2026-01-01 10:00:00.123456+00` (a real date and time), or ±infinity (releaseTime of unreleased datasets). */
function isTimestamp(value: string): boolean {
  if (value === '-infinity' || value === 'infinity') return true;
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?\+00$/.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

function invalid(): ValidationError {
  return new ValidationError('paginationKey is not a key this service returned', {
    hint: 'pass the paginationKey of the previous page unchanged, or start again without it',
  });
}
