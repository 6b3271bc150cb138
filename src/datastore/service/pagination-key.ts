import { ValidationError } from '../../core/errors.js';
import type { KeysetPosition } from '../catalog/types.js';

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

export function decodePaginationKey(key: string, shape: ListingShape): KeysetPosition {
  let body: KeyBody;
  try {
    body = JSON.parse(Buffer.from(key, 'base64url').toString('utf8')) as KeyBody;
  } catch {
    throw invalid();
  }
  if (body?.v !== 1 || typeof body.k !== 'string' || typeof body.q !== 'string' || !/^\d+$/.test(body.q))
    throw invalid();
  if (
    body.s !== shape.sortBy ||
    body.a !== shape.ascending ||
    body.r !== (shape.releaseStatus ?? null) ||
    body.p !== (shape.approver ?? null)
  ) {
    throw new ValidationError('paginationKey belongs to a listing with another sort order or filter', {
      hint: 'pass the same sortBy, ascending, releaseStatus and approver as for the first page, or start again without paginationKey',
    });
  }
  return { value: body.k, seq: body.q };
}

function invalid(): ValidationError {
  return new ValidationError('paginationKey is not a key this service returned', {
    hint: 'pass the paginationKey of the previous page unchanged, or start again without it',
  });
}
