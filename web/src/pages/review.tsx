import { useState } from 'preact/hooks';
import { api, datasetPath, type Me, type ReviewQueueItem, type ReviewQueuePage } from '../api.js';
import { pageFromRoute, Pager } from '../pager.js';
import { ErrorMessage, formatTime, Loading, navigate, Notice, useLoad, type Route } from '../ui.js';
import { Decide } from './dataset.js';
import { DatasetTable } from './datasets.js';

/** Requests per page, as the dataset list. */
const PAGE_SIZE = 20;

/**
 * Pending datasets whose named approver is the signed-in user: the request (who, when, notes), approve /
 * reject. One request (`GET /review-queue`) per page brings the datasets and their requests together; the
 * pages as the dataset list's (the page's key in the address).
 */
export function ReviewPage({ me, route }: { me: Me; route: Route }) {
  const [done, setDone] = useState<string | null>(null);
  const { after, pageNumber } = pageFromRoute(route);
  const queue = useLoad(
    () =>
      api<ReviewQueuePage>('/review-queue', {
        query: { approver: me.username, pageSize: PAGE_SIZE, paginationKey: after || undefined },
      }),
    [me.username, after],
  );
  const requests = new Map((queue.data?.items ?? []).map((item) => [item.dataset.id, item.request]));
  const go = (change: Record<string, string>) => {
    const q = new URLSearchParams(change).toString();
    navigate(`#/review${q ? `?${q}` : ''}`);
  };
  return (
    // Busy while a page loads (the shown one stays until then), as the dataset list.
    <section aria-busy={queue.loading ? 'true' : undefined}>
      <h1 tabIndex={-1}>Review queue</h1>
      <p class="muted">Datasets waiting for your approval ({me.username}), oldest request first.</p>
      {done ? <Notice>{done}</Notice> : null}
      <ErrorMessage error={queue.error} />
      {!queue.data && !queue.error ? <Loading what="the review queue" /> : null}
      {queue.data ? (
        queue.data.items.length === 0 ? (
          <p class="empty">
            {pageNumber > 1 ? 'No more requests on this page.' : 'Nothing waits for your review.'}
          </p>
        ) : (
          <DatasetTable
            items={queue.data.items.map((item) => item.dataset)}
            status={false}
            extra={[
              {
                title: 'Request',
                cell: (d) => <RequestInfo dataset={d} request={requests.get(d.id) ?? null} />,
              },
              {
                title: 'Actions',
                cell: (d) => (
                  <Decide
                    base={datasetPath(d.id)}
                    idSuffix={`-${d.id.replace(/[^A-Za-z0-9]/g, '-')}`}
                    onDone={(message) => {
                      setDone(`${d.id}: ${message}`);
                      queue.reload();
                    }}
                  />
                ),
              },
            ]}
          />
        )
      ) : null}
      {/* Also on a later page that failed (a key from another queue): "First page" leads back. */}
      {pageNumber > 1 || queue.data?.paginationKey ? (
        <Pager
          listing={`review|${me.username}`}
          pageNumber={pageNumber}
          next={queue.data?.paginationKey}
          loading={queue.loading}
          go={go}
        />
      ) : null}
    </section>
  );
}

/** Who asked for the release, when, and the notes they wrote for the reviewer (the latest request). */
function RequestInfo({ dataset, request }: ReviewQueueItem) {
  const requester = request?.actor ?? dataset.release.requester;
  const when = request?.timestamp ?? dataset.release.timestamp;
  return (
    <div class="request">
      <p class="request-by">
        Requested by <strong>{requester ?? 'unknown'}</strong>
        {when ? (
          <>
            {' '}
            on <time dateTime={when}>{formatTime(when)}</time>
          </>
        ) : null}
      </p>
      {request?.notes ? (
        <ShortenedText
          text={request.notes}
          id={`request-notes-${dataset.id.replace(/[^A-Za-z0-9]/g, '-')}`}
        />
      ) : (
        <p class="muted request-notes">No notes.</p>
      )}
    </div>
  );
}

const SHORT_CHARS = 280;
const SHORT_LINES = 4;

/** The text's start when it is long (more than SHORT_CHARS characters or SHORT_LINES lines), else null. */
function shorten(text: string): string | null {
  const lines = text.split('\n');
  let cut = lines.length > SHORT_LINES ? lines.slice(0, SHORT_LINES).join('\n') : text;
  if (cut.length > SHORT_CHARS) {
    cut = cut.slice(0, SHORT_CHARS);
    const space = cut.lastIndexOf(' ');
    if (space > SHORT_CHARS / 2) cut = cut.slice(0, space);
  }
  return cut === text ? null : `${cut.trimEnd()}…`;
}

/** Plain text (never HTML), line breaks kept; a long text shows its start with "Show all notes". */
function ShortenedText({ text, id }: { text: string; id: string }) {
  const [open, setOpen] = useState(false);
  const short = shorten(text);
  return (
    <div class="request-notes">
      <p class="notes-text" id={id}>
        {open || short === null ? text : short}
      </p>
      {short !== null ? (
        <button
          type="button"
          class="secondary small"
          aria-expanded={open}
          aria-controls={id}
          onClick={() => setOpen(!open)}
        >
          {open ? 'Show less' : 'Show all notes'}
        </button>
      ) : null}
    </div>
  );
}
