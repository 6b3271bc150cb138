import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, type DatasetPage, type DatasetRecord, type SearchResults } from '../api.js';
import {
  datasetHref,
  ErrorMessage,
  formatTime,
  Loading,
  navigate,
  StatusBadge,
  useLoad,
  type Route,
} from '../ui.js';
import { pageFromRoute, Pager } from '../pager.js';

const SORTS: [string, string][] = [
  ['created', 'Created'],
  ['updated', 'Updated'],
  ['displayName', 'Name'],
  ['releaseTime', 'Release time'],
];
const STATUSES: [string, string][] = [
  ['', 'Any'],
  ['NOT_RELEASED', 'Not released'],
  ['PENDING', 'Pending approval'],
  ['RELEASED', 'Released'],
];

function listHash(params: Record<string, string>): string {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));
  const s = q.toString();
  return `#/datasets${s ? `?${s}` : ''}`;
}

/** How many search matches a page shows at first, and how many more each "Show more matches" adds. */
const SEARCH_STEP = 50;
/** The API's most search results at once. */
const SEARCH_MAX = 1000;

/** Dataset list: search, sort, release-status filter, paging with the API's pagination keys. */
export function DatasetsPage({ route, signedIn }: { route: Route; signedIn: boolean }) {
  const q = route.query.get('q') ?? '';
  const sortBy = route.query.get('sortBy') ?? 'created';
  const order = route.query.get('order') === 'asc' ? 'asc' : 'desc';
  const status = route.query.get('status') ?? '';
  const { after, pageNumber } = pageFromRoute(route);
  const limit = Math.min(
    SEARCH_MAX,
    Math.max(SEARCH_STEP, Number.parseInt(route.query.get('limit') ?? '', 10) || SEARCH_STEP),
  );
  const [search, setSearch] = useState(q);
  const filterKey = `${q}|${sortBy}|${order}|${status}`;
  const [lastQ, setLastQ] = useState(q);
  if (lastQ !== q) {
    setLastQ(q);
    setSearch(q);
  }

  const result = useLoad<{
    items: DatasetRecord[];
    next?: string;
    search: boolean;
    more: boolean;
  }>(async () => {
    if (q) {
      // One more than shown tells whether there are more matches.
      const found = await api<SearchResults>('/datasets/search', {
        query: { query: q, limit: Math.min(limit + 1, SEARCH_MAX) },
      });
      const items = found.items.map((h) => h.dataset);
      // At the API's most, a full answer may well have more behind it.
      const more = items.length > limit || items.length === SEARCH_MAX;
      return { items: items.slice(0, limit), search: true, more };
    }
    const page = await api<DatasetPage>('/datasets', {
      query: {
        sortBy,
        ascending: order === 'asc',
        pageSize: 20,
        releaseStatus: status || undefined,
        paginationKey: after || undefined,
      },
    });
    return { items: page.items, next: page.paginationKey, search: false, more: false };
  }, [filterKey, after, limit]);

  // A change of search, sort or filter starts again at page 1.
  const set = (change: Record<string, string>) =>
    navigate(listHash({ q, sortBy, order: order === 'asc' ? 'asc' : '', status, ...change }));

  return (
    // Busy while a page loads (the previous one stays shown until then): the pager waits for it, so a second
    // click cannot use the shown page's key for the next page number.
    <section aria-busy={result.loading ? 'true' : undefined}>
      <h1 tabIndex={-1}>Datasets</h1>
      <form
        class="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          set({ q: search.trim() });
        }}
      >
        <div class="field grow">
          <label for="search">Search datasets</label>
          <input
            id="search"
            type="search"
            value={search}
            placeholder="id, name, keyword, description"
            onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button type="submit">Search</button>
        {q ? (
          <button type="button" class="secondary" onClick={() => set({ q: '' })}>
            Clear search
          </button>
        ) : null}
      </form>
      {!q ? (
        <div class="toolbar">
          <div class="field">
            <label for="sort">Sort by</label>
            <select
              id="sort"
              value={sortBy}
              onChange={(e) => set({ sortBy: (e.currentTarget as HTMLSelectElement).value })}
            >
              {SORTS.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="order">Order</label>
            <select
              id="order"
              value={order}
              onChange={(e) =>
                set({ order: (e.currentTarget as HTMLSelectElement).value === 'asc' ? 'asc' : '' })
              }
            >
              <option value="desc">Newest / Z first</option>
              <option value="asc">Oldest / A first</option>
            </select>
          </div>
          <div class="field">
            <label for="status">Release status</label>
            <select
              id="status"
              value={status}
              onChange={(e) => set({ status: (e.currentTarget as HTMLSelectElement).value })}
            >
              {STATUSES.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </div>
        </div>
      ) : (
        <p class="muted">Search results for “{q}”, best match first.</p>
      )}

      <ErrorMessage error={result.error} />
      {result.loading && !result.data ? <Loading what="datasets" /> : null}
      {result.data ? (
        result.data.items.length === 0 ? (
          <p class="empty">
            {q
              ? 'No dataset matches this search.'
              : status
                ? 'No dataset has this release status.'
                : pageNumber > 1
                  ? 'No more datasets.'
                  : signedIn
                    ? 'No datasets here yet.'
                    : 'No public datasets here yet. Sign in to see the datasets shared with you.'}
          </p>
        ) : (
          <DatasetTable items={result.data.items} />
        )
      ) : null}
      {result.data?.more ? (
        <p class="muted" id="search-more">
          The {result.data.items.length} best matches are shown.{' '}
          {limit < SEARCH_MAX ? (
            <button
              type="button"
              class="secondary small"
              onClick={() => set({ q, limit: String(limit + SEARCH_STEP) })}
            >
              Show more matches
            </button>
          ) : (
            'Add words to narrow the search.'
          )}
        </p>
      ) : null}
      {result.data && !result.data.search ? (
        <Pager
          listing={filterKey}
          pageNumber={pageNumber}
          next={result.data.next}
          loading={result.loading}
          go={set}
        />
      ) : null}
    </section>
  );
}

/** A column a page adds after the standard ones (the review queue's request and decision). */
export interface ExtraColumn {
  title: string;
  cell: (d: DatasetRecord) => ComponentChildren;
}

export function DatasetTable({
  items,
  extra = [],
  status = true,
}: {
  items: DatasetRecord[];
  extra?: ExtraColumn[];
  /** Whether to show the release status column (the review queue holds only pending datasets). */
  status?: boolean;
}) {
  return (
    <table class="datasets">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Id</th>
          <th scope="col">Owner</th>
          {status ? <th scope="col">Release status</th> : null}
          <th scope="col">Updated</th>
          {extra.map((c) => (
            <th key={c.title} scope="col">
              {c.title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {items.map((d) => (
          <tr key={d.id} data-id={d.id}>
            <td data-label="Name">
              <a href={datasetHref(d.id)}>{d.metadata.datasetInfo.name}</a>
            </td>
            <td data-label="Id">
              <code>{d.id}</code>
            </td>
            <td data-label="Owner">{d.owner}</td>
            {status ? (
              <td data-label="Release status">
                <StatusBadge status={d.release.status} />
              </td>
            ) : null}
            <td data-label="Updated">
              <time dateTime={d.updatedAt}>{formatTime(d.updatedAt)}</time>
            </td>
            {extra.map((c) => (
              <td key={c.title} data-label={c.title}>
                {c.cell(d)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
