/** The datastore API as the UI uses it: same origin, bearer token from sessionStorage, readable errors. */
// The answers' types are the server's own (type-only imports: nothing of the server reaches the bundle).
import type {
  DatasetRecord,
  DatasetRole,
  HistoryEntry,
  ListPage as DatasetPage,
  ReleaseStatus,
  ReviewQueueItem,
  ReviewQueuePage,
  SearchHit,
} from '../../src/datastore/model/dataset.js';
import type {
  DatasetAccess,
  ReleaseState as ServerReleaseState,
  WhoAmI,
} from '../../src/datastore/model/api-schemas.js';
import type { ApiTokenInfo } from '../../src/datastore/model/api-token.js';
import type { DatasetFileList } from '../../src/datastore/model/data-access-schemas.js';

const TOKEN_KEY = 'wharf.token';

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export interface FieldIssue {
  path: string;
  message: string;
}

/** An API error as `{ error: { code, message, hint?, issues? } }`, or a network failure, made readable. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly issues: FieldIssue[] = [],
    /** The signed-in token was refused: the app has signed out and says so itself. */
    readonly endedSession = false,
  ) {
    super(message);
  }

  /**
   * One or two sentences for a person: the message's first line, the failing fields it lists (a form shows
   * them beside the fields too; elsewhere this is the only place they appear), and what to do about it.
   */
  get readable(): string {
    const first = this.message.split('\n')[0] ?? this.message;
    const shown = this.issues.slice(0, 3).map((i) => `${i.path || '(root)'}: ${i.message}`);
    if (this.issues.length > shown.length) shown.push(`and ${this.issues.length - shown.length} more`);
    const fields = shown.length > 0 ? ` ${shown.join('; ')}` : '';
    // The service's 401 hint is for API clients (an Authorization header); here the way out is signing in.
    const hint = this.status === 401 ? ' — sign in' : this.hint ? ` — ${this.hint}` : '';
    return `${first}${fields}${hint}`;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'The request was not accepted',
  401: 'You are not signed in, or your token is no longer valid',
  403: 'You may not do this',
  404: 'Not found',
  409: 'Conflict',
  412: 'Precondition failed',
  413: 'Too large',
  500: 'The server failed (see its log)',
  501: 'Not supported by this server',
  503: 'The service is unavailable',
};

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.readable;
  if (error instanceof Error) return error.message;
  return String(error);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  /** Send no Authorization header. */
  anonymous?: boolean;
}

/** Listeners told when the API answers 401 (the token was revoked or expired). */
const unauthenticated = new Set<() => void>();
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticated.add(listener);
  return () => unauthenticated.delete(listener);
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(options.query ?? {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = getToken();
  if (token && !options.anonymous) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (error) {
    throw new ApiError(
      0,
      'NETWORK',
      `Cannot reach the Wharf service (${error instanceof Error ? error.message : String(error)})`,
      // Not "reload the page": that would throw away a form being filled in.
      'check that wharf serve is running, then try again',
    );
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const err = (
      json as { error?: { code?: string; message?: string; hint?: string; issues?: FieldIssue[] } }
    )?.error;
    // Only the signed-in token going stale signs the user out (not a token being tried at sign-in).
    const ended = response.status === 401 && token !== null && !options.anonymous;
    if (ended) for (const l of unauthenticated) l();
    throw new ApiError(
      response.status,
      err?.code ?? `HTTP_${response.status}`,
      err?.message ?? STATUS_TEXT[response.status] ?? `The server answered ${response.status}`,
      err?.hint,
      Array.isArray(err?.issues) ? err.issues : [],
      ended,
    );
  }
  if (json === undefined && text) {
    throw new ApiError(response.status, 'BAD_RESPONSE', 'The server sent something that is not JSON');
  }
  return json as T;
}

// ------------------------------------------------------------------ types (the parts the UI reads)

export type { DatasetPage, DatasetRecord, HistoryEntry, ReleaseStatus };
export type { ReviewQueueItem, ReviewQueuePage };
export type { DatasetRole };
export const ROLE_ORDER: readonly DatasetRole[] = [
  'metadata-read',
  'metadata-write',
  'data-read',
  'data-write',
  'admin',
];
export interface SearchResults {
  items: SearchHit[];
}
export const hasRole = (role: DatasetRole | undefined, needed: DatasetRole): boolean =>
  role !== undefined && ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(needed);

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Metadata = { [key: string]: Json };

export type ReleaseState = ServerReleaseState;

export type { DatasetAccess, WhoAmI as Me };

export type { DatasetFileList as FileList };

export type { ApiTokenInfo as TokenInfo };

export interface RegistryEntry {
  id: string;
  kind: 'organisation' | 'person';
  displayName: string;
}

/** `10378.1/5` -> `/datasets/10378.1/5` (the id is two path segments; each is encoded). */
export const datasetPath = (id: string): string =>
  `/datasets/${id
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/')}`;

/** A file path inside a dataset, each segment encoded. */
export const filePath = (path: string): string =>
  path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
