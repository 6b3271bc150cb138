import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, errorText, type ReleaseStatus } from './api.js';

// ------------------------------------------------------------------ routing (hash based: #/datasets/10378.1/5)

export interface Route {
  path: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [pathPart = '', queryPart = ''] = raw.split('?', 2);
  return {
    path: pathPart
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s)),
    query: new URLSearchParams(queryPart),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export const navigate = (hash: string): void => {
  location.hash = hash;
};

/** `#/datasets/10378.1/5` for a dataset id. */
export const datasetHref = (id: string): string => `#/datasets/${id}`;

// ------------------------------------------------------------------ formatting

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const STATUS_LABEL: Record<ReleaseStatus, string> = {
  NOT_RELEASED: 'Not released',
  PENDING: 'Pending approval',
  RELEASED: 'Released',
};

export function StatusBadge({ status }: { status: ReleaseStatus }) {
  return (
    <span class={`badge badge-${status.toLowerCase()}`} data-status={status}>
      {STATUS_LABEL[status] ?? status}
    </span>
  );
}

// ------------------------------------------------------------------ feedback

export function ErrorMessage({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <div class="error" role="alert">
      {errorText(error)}
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <div class="notice" role="status">
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/**
 * Loads something when the dependencies change; `reload()` loads again. `loading` is true from the render in
 * which the dependencies change (not one render later), while `data` still holds the previous answer.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [tick, setTick] = useState(0);
  const key = [...deps, tick];
  const [state, setState] = useState<{ data: T | undefined; error: unknown; of: unknown[] | null }>({
    data: undefined,
    error: null,
    of: null,
  });
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data, error: null, of: key }),
      (error: unknown) => live && setState({ data: undefined, error, of: key }),
    );
    return () => {
      live = false;
    };
  }, key);
  const loading =
    state.of === null || state.of.length !== key.length || state.of.some((v, i) => !Object.is(v, key[i]));
  return { data: state.data, error: state.error, loading, reload: () => setTick((t) => t + 1) };
}

/** Runs an action, keeping its busy flag and error for the view. */
export function useAction(): {
  busy: boolean;
  error: unknown;
  run: (work: () => Promise<void>) => Promise<boolean>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return {
    busy,
    error,
    clear: () => setError(null),
    run: async (work) => {
      setBusy(true);
      setError(null);
      try {
        await work();
        return true;
      } catch (e) {
        // A session that ended is said by the sign-in form; kept here it would still show after signing in.
        setError(e instanceof ApiError && e.endedSession ? null : e);
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}
