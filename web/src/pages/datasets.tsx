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

/** Dataset list: search, sort, release-status filter, paging with the API's pagination keys. */
export function DatasetsPage({ route }: { route: Route }) {
  const q = route.query.get('q') ?? '';
  const sortBy = route.query.get('sortBy') ?? 'created';
  const order = route.query.get('order') === 'asc' ? 'asc' : 'desc';
  const status = route.query.get('status') ?? '';
  const [search, setSearch] = useState(q);
  // Keys of the pages before the current one (for "Previous"), and the current page's key.
  const [keys, setKeys] = useState<{ stack: (string | undefined)[]; current: string | undefined }>({
    stack: [],
    current: undefined,
  });
  const filterKey = `${q}|${sortBy}|${order}|${status}`;
  const [lastFilter, setLastFilter] = useState(filterKey);
  if (lastFilter !== filterKey) {
    setLastFilter(filterKey);
    setKeys({ stack: [], current: undefined });
    setSearch(q);
  }

  const result = useLoad<{ items: DatasetRecord[]; next?: string; search: boolean }>(async () => {
    if (q) {
      const found = await api<SearchResults>('/datasets/search', { query: { query: q, limit: 50 } });
      return { items: found.items.map((h) => h.dataset), search: true };
    }
    const page = await api<DatasetPage>('/datasets', {
      query: {
        sortBy,
        ascending: order === 'asc',
        pageSize: 20,
        releaseStatus: status || undefined,
        paginationKey: keys.current,
      },
    });
    return { items: page.items, next: page.paginationKey, search: false };
  }, [filterKey, keys.current]);

  const set = (change: Record<string, string>) =>
    navigate(listHash({ q, sortBy, order: order === 'asc' ? 'asc' : '', status, ...change }));

  return (
    <section>
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
          <p class="empty">{q ? 'No dataset matches this search.' : 'No datasets here yet.'}</p>
        ) : (
          <DatasetTable items={result.data.items} />
        )
      ) : null}
      {result.data && !result.data.search ? (
        <nav class="pager" aria-label="Pages">
          <button
            type="button"
            class="secondary"
            disabled={keys.stack.length === 0}
            onClick={() =>
              setKeys((k) => ({ stack: k.stack.slice(0, -1), current: k.stack[k.stack.length - 1] }))
            }
          >
            Previous page
          </button>
          <span class="muted">Page {keys.stack.length + 1}</span>
          <button
            type="button"
            class="secondary"
            disabled={!result.data.next}
            onClick={() => setKeys((k) => ({ stack: [...k.stack, k.current], current: result.data?.next }))}
          >
            Next page
          </button>
        </nav>
      ) : null}
    </section>
  );
}

export function DatasetTable({
  items,
  extra,
}: {
  items: DatasetRecord[];
  extra?: (d: DatasetRecord) => ComponentChildren;
}) {
  return (
    <table class="datasets">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Id</th>
          <th scope="col">Owner</th>
          <th scope="col">Release status</th>
          <th scope="col">Updated</th>
          {extra ? <th scope="col">Actions</th> : null}
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
            <td data-label="Release status">
              <StatusBadge status={d.release.status} />
            </td>
            <td data-label="Updated">
              <time dateTime={d.updatedAt}>{formatTime(d.updatedAt)}</time>
            </td>
            {extra ? <td data-label="Actions">{extra(d)}</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
