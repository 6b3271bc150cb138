import type { Route } from './ui.js';

// Paging of the API's keyset listings (GET /datasets, GET /review-queue): the address holds the current page's
// number and key (`page=2&after=KEY`, so reload, back and forward stay on it); this tab's sessionStorage keeps
// the keys of the pages seen, so "Previous page" knows where to go.

const PAGE_KEYS = 'wharf.pageKeys';
type PageKeys = Record<string, Record<string, string>>;

/** The page (2, 3, ...) and its pagination key from the address; page 1 has neither. */
export function pageFromRoute(route: Route): { after: string; pageNumber: number } {
  const after = route.query.get('after') ?? '';
  const pageNumber = after ? Math.max(2, Number.parseInt(route.query.get('page') ?? '', 10) || 2) : 1;
  return { after, pageNumber };
}

function pageKeys(): PageKeys {
  try {
    const all: unknown = JSON.parse(sessionStorage.getItem(PAGE_KEYS) ?? '{}');
    return all && typeof all === 'object' ? (all as PageKeys) : {};
  } catch {
    return {};
  }
}

function rememberPageKey(listing: string, page: number, key: string): void {
  const all = pageKeys();
  const keys = { ...all[listing], [page]: key };
  delete all[listing];
  // The latest listings only: sessionStorage is small.
  const kept = Object.entries(all).slice(-19);
  try {
    sessionStorage.setItem(PAGE_KEYS, JSON.stringify(Object.fromEntries([...kept, [listing, keys]])));
  } catch {
    // storage full or blocked: "Previous page" then falls back to the first page
  }
}

/**
 * "Previous page", the page number and "Next page" of a keyset listing. `listing` names the listing and its
 * filters (a key belongs to them); `go` puts `{ page, after }` into the address, `{}` for the first page.
 * Disabled while a page loads: a second click would pair the next page number with the shown page's key.
 */
export function Pager({
  listing,
  pageNumber,
  next,
  loading,
  go,
}: {
  listing: string;
  pageNumber: number;
  /** The shown page's paginationKey: there are more. */
  next: string | undefined;
  loading: boolean;
  go: (change: Record<string, string>) => void;
}) {
  const previousKey = pageNumber > 2 ? pageKeys()[listing]?.[pageNumber - 1] : undefined;
  return (
    <nav class="pager" aria-label="Pages">
      <button
        type="button"
        class="secondary"
        disabled={pageNumber === 1 || loading}
        onClick={() =>
          go(
            previousKey ? { page: String(pageNumber - 1), after: previousKey } : {}, // page 2, or a link from elsewhere whose earlier pages this tab has not seen
          )
        }
      >
        {pageNumber > 2 && !previousKey ? 'First page' : 'Previous page'}
      </button>
      <span class="muted">Page {pageNumber}</span>
      <button
        type="button"
        class="secondary"
        disabled={!next || loading}
        onClick={() => {
          if (!next) return;
          rememberPageKey(listing, pageNumber + 1, next);
          go({ page: String(pageNumber + 1), after: next });
        }}
      >
        Next page
      </button>
    </nav>
  );
}
