import { useState } from 'preact/hooks';
import { api, datasetPath, type DatasetPage, type Me } from '../api.js';
import { ErrorMessage, Loading, Notice, useLoad } from '../ui.js';
import { Decide } from './dataset.js';
import { DatasetTable } from './datasets.js';

/** Pending datasets whose named approver is the signed-in user, with approve / reject and notes. */
export function ReviewPage({ me }: { me: Me }) {
  const [done, setDone] = useState<string | null>(null);
  const queue = useLoad(
    () =>
      api<DatasetPage>('/datasets', {
        query: {
          releaseStatus: 'PENDING',
          approver: me.username,
          sortBy: 'updated',
          ascending: true,
          pageSize: 100,
        },
      }),
    [me.username],
  );
  return (
    <section>
      <h1 tabIndex={-1}>Review queue</h1>
      <p class="muted">Datasets waiting for your approval ({me.username}), oldest request first.</p>
      {done ? <Notice>{done}</Notice> : null}
      <ErrorMessage error={queue.error} />
      {!queue.data && !queue.error ? <Loading what="the review queue" /> : null}
      {queue.data ? (
        queue.data.items.length === 0 ? (
          <p class="empty">Nothing waits for your review.</p>
        ) : (
          <DatasetTable
            items={queue.data.items}
            extra={(d) => (
              <Decide
                base={datasetPath(d.id)}
                idSuffix={`-${d.id.replace(/[^A-Za-z0-9]/g, '-')}`}
                onDone={(message) => {
                  setDone(`${d.id}: ${message}`);
                  queue.reload();
                }}
              />
            )}
          />
        )
      ) : null}
    </section>
  );
}
