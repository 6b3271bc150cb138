import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  api,
  datasetPath,
  errorText,
  hasRole,
  type DatasetAccess,
  type DatasetRecord,
  type FileList,
  type HistoryEntry,
  type Json,
  type Me,
  type Metadata,
  type RegistryEntry,
  type ReleaseState,
} from '../api.js';
import { humanize } from '../schema-form.js';
import {
  datasetHref,
  ErrorMessage,
  formatBytes,
  formatTime,
  Loading,
  navigate,
  Notice,
  StatusBadge,
  useAction,
  useLoad,
} from '../ui.js';

interface Loaded {
  record: DatasetRecord;
  access: DatasetAccess;
}

/** Everything about one dataset: metadata, files, versions, history, release. */
export function DatasetPage({ id, me }: { id: string; me: Me | null }) {
  const base = datasetPath(id);
  const main = useLoad<Loaded>(async () => {
    const [record, access] = await Promise.all([
      api<DatasetRecord>(base),
      api<DatasetAccess>(`${base}/access`),
    ]);
    return { record, access };
  }, [id, me?.username]);
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => setMessage(null), [id]);
  // Names of the organisations and people the metadata refers to (ids alone are not readable).
  const names = useLoad(async () => {
    const lists = await Promise.all(
      ['/organisations', '/people'].map((p) =>
        api<{ items: RegistryEntry[] }>(p).catch(() => ({ items: [] as RegistryEntry[] })),
      ),
    );
    return new Map(lists.flatMap((l) => l.items.map((e): [string, string] => [e.id, e.displayName])));
  }, [me?.username]);

  if (main.error) {
    return (
      <section>
        <h1 tabIndex={-1}>Dataset {id}</h1>
        <ErrorMessage error={main.error} />
        <p>
          <a href="#/datasets">Back to the datasets</a>
        </p>
      </section>
    );
  }
  if (!main.data) return <Loading what={`dataset ${id}`} />;
  const { record, access } = main.data;
  const role = access.yourRole;
  const writable = record.release.status === 'NOT_RELEASED';
  const changed = (text: string) => {
    setMessage(text);
    main.reload();
  };

  return (
    <article class="dataset">
      <header class="dataset-head">
        <h1 tabIndex={-1}>{record.metadata.datasetInfo.name}</h1>
        <p class="meta-line">
          <code>{record.id}</code> <StatusBadge status={record.release.status} />{' '}
          <span>version {record.versioning.version}</span> <span>owner {record.owner}</span>{' '}
          <span>updated {formatTime(record.updatedAt)}</span> <span class="muted">your role: {role}</span>
        </p>
        <div class="actions">
          {hasRole(role, 'metadata-write') && writable ? (
            <a class="button" href={`${datasetHref(id)}/edit`}>
              Edit metadata
            </a>
          ) : null}
        </div>
        {!writable ? (
          <p class="muted" id="frozen-note">
            {record.release.status === 'RELEASED' ? 'Released' : 'Pending approval'}: metadata and files are
            frozen. Create a new version to change them.
          </p>
        ) : null}
        {message ? <Notice>{message}</Notice> : null}
      </header>

      <Section title="Metadata" id="metadata">
        <MetadataView value={record.metadata} names={names.data ?? new Map<string, string>()} />
      </Section>

      <FilesSection id={id} record={record} role={role} onChanged={changed} />
      <VersionsSection record={record} role={role} onCreated={(newId) => navigate(datasetHref(newId))} />
      <HistorySection record={record} role={role} writable={writable} onChanged={changed} />
      <ReleaseSection record={record} role={role} me={me} onChanged={changed} />
    </article>
  );
}

function Section({ title, id, children }: { title: string; id: string; children: ComponentChildren }) {
  return (
    <section class="panel" aria-labelledby={`${id}-title`} id={id}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}

// ------------------------------------------------------------------ metadata, readably

/** Keys in the order people read them (as the schema lists them); unknown keys keep their place after. */
const ORDER = [
  'datasetInfo',
  'associations',
  'approvals',
  'name',
  'description',
  'keywords',
  'formats',
  'license',
  'publisherId',
  'accessInfo',
  'createdDate',
  'publishedDate',
  'purpose',
  'rightsHolder',
  'usageLimitations',
  'preferredCitation',
  'spatialInfo',
  'temporalInfo',
  'userMetadata',
  'organisationId',
  'dataCustodianId',
  'pointOfContact',
  'ethicsRegistration',
  'ethicsAccess',
  'indigenousKnowledge',
  'exportControls',
  'relevant',
  'obtained',
  'reposited',
  'uri',
  'duration',
  'beginDate',
  'endDate',
];
const rank = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
const REGISTRY_KEYS = new Set(['organisationId', 'publisherId', 'dataCustodianId']);

/** `{ relevant, obtained }` and `{ relevant, value }` as one phrase; null when the object is something else. */
function phrase(v: { [key: string]: Json }): string | null {
  const keys = Object.keys(v).sort().join(',');
  if (keys === 'obtained,relevant') {
    return v.relevant ? (v.obtained ? 'Applies — obtained' : 'Applies — not obtained') : 'Does not apply';
  }
  if (keys === 'relevant' || keys === 'relevant,value')
    return v.relevant ? String(v.value ?? '—') : 'Not given';
  if (keys === 'reposited') return v.reposited ? 'Stored in this data store' : 'Hosted elsewhere';
  return null;
}

/** Metadata as nested definition lists, registry ids with their names. */
export function MetadataView({
  value,
  names,
  name,
}: {
  value: Json;
  names: Map<string, string>;
  name?: string;
}) {
  if (name && REGISTRY_KEYS.has(name) && typeof value === 'string') {
    const label = names.get(value);
    return (
      <>
        {label ?? value}
        {label ? <span class="muted"> ({value})</span> : null}
      </>
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return <>{scalar(value)}</>;
  const short = phrase(value);
  if (short !== null) return <>{short}</>;
  const entries = Object.entries(value).sort(([a], [b]) => rank(a) - rank(b));
  if (entries.length === 0) return <span class="muted">none</span>;
  return (
    <dl class="metadata">
      {entries.map(([k, v]) => {
        const nested =
          v !== null &&
          typeof v === 'object' &&
          !Array.isArray(v) &&
          phrase(v) === null &&
          Object.keys(v).length > 0;
        return (
          <div key={k} class={nested ? 'group' : 'row'}>
            <dt>{humanize(k)}</dt>
            <dd>
              <MetadataView value={v} names={names} name={k} />
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

function scalar(v: Json): ComponentChildren {
  if (v === true) return 'Yes';
  if (v === false) return 'No';
  if (v === null || v === '') return <span class="muted">—</span>;
  if (Array.isArray(v))
    return v.length === 0 ? (
      <span class="muted">none</span>
    ) : (
      v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')
    );
  const s = String(v);
  if (/^https?:\/\/\S+$/.test(s)) {
    return (
      <a href={s} rel="noopener noreferrer" target="_blank">
        {s}
      </a>
    );
  }
  return s;
}

// ------------------------------------------------------------------ files

interface FileRow {
  path: string;
  size: number;
  lastModified: string;
  url?: string;
  urlError?: string;
}

function FilesSection(props: {
  id: string;
  record: DatasetRecord;
  role: DatasetAccess['yourRole'];
  onChanged: (m: string) => void;
}) {
  const { id, record, role } = props;
  const base = datasetPath(id);
  const canRead = hasRole(role, 'data-read');
  const canUpload = hasRole(role, 'data-write') && record.release.status === 'NOT_RELEASED';
  const [pageKey, setPageKey] = useState<string | undefined>(undefined);
  const files = useLoad<{ rows: FileRow[]; next: string | null } | null>(async () => {
    if (!canRead) return null;
    const list = await api<FileList>(`${base}/files`, { query: { pageSize: 100, paginationKey: pageKey } });
    // A presigned GET URL per file, so each link downloads without a token.
    const rows = await Promise.all(
      list.files.map(async (f): Promise<FileRow> => {
        try {
          const p = await api<{ url: string }>(`${base}/presign`, {
            method: 'POST',
            body: { path: f.path, method: 'GET' },
          });
          return { ...f, url: p.url };
        } catch (e) {
          return { ...f, urlError: errorText(e) };
        }
      }),
    );
    return { rows, next: list.nextPaginationKey };
  }, [id, pageKey, record.revision, role]);

  return (
    <Section title="Files" id="files">
      {!canRead ? (
        <p class="muted">
          You may read the metadata of this dataset but not its files (that needs the data-read role).
        </p>
      ) : (
        <>
          <ErrorMessage error={files.error} />
          {files.loading && !files.data ? <Loading what="files" /> : null}
          {files.data ? (
            files.data.rows.length === 0 ? (
              <p class="empty">No files yet.</p>
            ) : (
              <table class="files">
                <thead>
                  <tr>
                    <th scope="col">File</th>
                    <th scope="col">Size</th>
                    <th scope="col">Modified</th>
                  </tr>
                </thead>
                <tbody>
                  {files.data.rows.map((f) => (
                    <tr key={f.path} data-path={f.path}>
                      <td data-label="File">
                        {f.url ? (
                          <a href={f.url} download={f.path.split('/').pop()} class="download">
                            {f.path}
                          </a>
                        ) : (
                          <>
                            {f.path} <span class="error-inline">{f.urlError}</span>
                          </>
                        )}
                      </td>
                      <td data-label="Size" class="num" data-size={f.size}>
                        {formatBytes(f.size)}
                      </td>
                      <td data-label="Modified">{formatTime(f.lastModified)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          ) : null}
          {files.data?.next || pageKey ? (
            <nav class="pager" aria-label="File pages">
              <button
                type="button"
                class="secondary"
                disabled={!pageKey}
                onClick={() => setPageKey(undefined)}
              >
                First files
              </button>
              <button
                type="button"
                class="secondary"
                disabled={!files.data?.next}
                onClick={() => setPageKey(files.data?.next ?? undefined)}
              >
                More files
              </button>
            </nav>
          ) : null}
          {canUpload ? (
            <Uploader
              base={base}
              onDone={(n) => {
                files.reload();
                props.onChanged(`Uploaded ${n} file${n === 1 ? '' : 's'}.`);
              }}
            />
          ) : null}
        </>
      )}
    </Section>
  );
}

/** Drag-and-drop (or pick) files; each goes up with a presigned PUT URL. */
function Uploader({ base, onDone }: { base: string; onDone: (count: number) => void }) {
  const [folder, setFolder] = useState('');
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState<{ name: string; state: string }[]>([]);
  const action = useAction();
  const input = useRef<HTMLInputElement>(null);

  const upload = (list: File[]) =>
    action.run(async () => {
      if (list.length === 0) return;
      const prefix = folder.trim().replace(/^\/+|\/+$/g, '');
      // The server refuses these too (every Wharf download refuses them): say so before any file goes.
      if (prefix.split('/').includes('.wharf')) {
        throw new Error(
          "The folder .wharf is reserved for Wharf's local state (downloads refuse it): choose another folder.",
        );
      }
      setProgress(list.map((f) => ({ name: f.name, state: 'waiting' })));
      let done = 0;
      const failures: string[] = [];
      for (const [i, file] of list.entries()) {
        const path = prefix ? `${prefix}/${file.name}` : file.name;
        const mark = (state: string) => setProgress((p) => p.map((x, j) => (j === i ? { ...x, state } : x)));
        mark('uploading');
        try {
          const signed = await api<{ url: string }>(`${base}/presign`, {
            method: 'POST',
            body: { path, method: 'PUT' },
          });
          const res = await fetch(signed.url, { method: 'PUT', body: file });
          if (!res.ok) {
            let detail = `${res.status}`;
            try {
              const body = (await res.json()) as { error?: { message?: string } };
              if (body.error?.message) detail = body.error.message;
            } catch {
              // not JSON (S3 answers XML)
            }
            throw new Error(`the upload was refused (${detail})`);
          }
          done++;
          mark('done');
        } catch (e) {
          failures.push(`${path}: ${errorText(e)}`);
          mark(`failed: ${errorText(e)}`);
        }
      }
      if (input.current) input.current.value = '';
      if (done > 0) onDone(done);
      if (failures.length > 0) throw new Error(`Some files were not uploaded — ${failures.join('; ')}`);
    });

  return (
    <div class="uploader" id="upload">
      <h3>Upload files</h3>
      <div class="field">
        <label for="upload-folder">Into folder (optional)</label>
        <input
          id="upload-folder"
          type="text"
          value={folder}
          placeholder="e.g. raw"
          onInput={(e) => setFolder((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      <div
        class={`dropzone${over ? ' over' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void upload(Array.from(e.dataTransfer?.files ?? []));
        }}
      >
        <p>Drop files here, or</p>
        <label class="button secondary" for="upload-files">
          Choose files…
        </label>
        <input
          ref={input}
          id="upload-files"
          class="visually-hidden"
          type="file"
          multiple
          disabled={action.busy}
          onChange={(e) => void upload(Array.from((e.currentTarget as HTMLInputElement).files ?? []))}
        />
      </div>
      {progress.length > 0 ? (
        <ul class="progress" aria-live="polite">
          {progress.map((p, i) => (
            <li key={i}>
              {p.name}: {p.state}
            </li>
          ))}
        </ul>
      ) : null}
      <ErrorMessage error={action.error} />
    </div>
  );
}

// ------------------------------------------------------------------ versions

function VersionsSection(props: {
  record: DatasetRecord;
  role: DatasetAccess['yourRole'];
  onCreated: (id: string) => void;
}) {
  const { record } = props;
  const chain = useLoad<{ id: string; version: number | null; name: string | null }[]>(async () => {
    const before: { id: string; version: number | null; name: string | null }[] = [];
    const after: typeof before = [];
    const follow = async (
      start: string | null,
      dir: 'previousVersion' | 'nextVersion',
      into: typeof before,
    ) => {
      let next = start;
      for (let i = 0; next && i < 50; i++) {
        const at: string = next;
        try {
          const r = await api<DatasetRecord>(datasetPath(at));
          into.push({ id: r.id, version: r.versioning.version, name: r.metadata.datasetInfo.name });
          next = r.versioning[dir];
        } catch {
          into.push({ id: at, version: null, name: null }); // not readable by the caller
          break;
        }
      }
    };
    await Promise.all([
      follow(record.versioning.previousVersion, 'previousVersion', before),
      follow(record.versioning.nextVersion, 'nextVersion', after),
    ]);
    return [
      ...before.reverse(),
      { id: record.id, version: record.versioning.version, name: record.metadata.datasetInfo.name },
      ...after,
    ];
  }, [record.id, record.revision]);
  const [reason, setReason] = useState('');
  const [copyFiles, setCopyFiles] = useState(true);
  const action = useAction();
  const latest = record.versioning.nextVersion === null;

  return (
    <Section title="Versions" id="versions">
      <ErrorMessage error={chain.error} />
      {chain.data ? (
        <ol class="versions">
          {chain.data.map((v) => (
            <li key={v.id} aria-current={v.id === record.id ? 'page' : undefined}>
              {v.id === record.id ? (
                <strong>
                  v{v.version} <code>{v.id}</code> (this one)
                </strong>
              ) : (
                <a href={datasetHref(v.id)}>
                  {v.version !== null ? `v${v.version} ` : ''}
                  <code>{v.id}</code>
                  {v.name ? ` — ${v.name}` : ' (no access)'}
                </a>
              )}
            </li>
          ))}
        </ol>
      ) : (
        <Loading what="versions" />
      )}
      {record.versioning.reason ? (
        <p class="muted">Reason for this version: {record.versioning.reason}</p>
      ) : null}
      {hasRole(props.role, 'admin') && latest ? (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              const r = await api<{ newVersionId: string }>(`${datasetPath(record.id)}/versions`, {
                method: 'POST',
                body: { reason: reason.trim(), copyFiles },
              });
              props.onCreated(r.newVersionId);
            });
          }}
        >
          <div class="field grow">
            <label for="version-reason">Reason for a new version</label>
            <input
              id="version-reason"
              type="text"
              value={reason}
              onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
          <div class="field checkbox">
            <input
              id="version-copy"
              type="checkbox"
              checked={copyFiles}
              onChange={(e) => setCopyFiles((e.currentTarget as HTMLInputElement).checked)}
            />
            <label for="version-copy">Copy the files</label>
          </div>
          <button type="submit" disabled={action.busy}>
            Create new version
          </button>
          <ErrorMessage error={action.error} />
        </form>
      ) : null}
    </Section>
  );
}

// ------------------------------------------------------------------ history with diff and revert

function flatten(value: Json | undefined, base = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, base ? `${base}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(
      base,
      Array.isArray(value)
        ? value.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')
        : String(value),
    );
  }
  return out;
}

export function diffSnapshots(
  from: Metadata,
  to: Metadata,
): { path: string; before?: string; after?: string }[] {
  const a = flatten(from);
  const b = flatten(to);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths
    .filter((p) => a.get(p) !== b.get(p))
    .map((p) => ({
      path: p,
      ...(a.has(p) ? { before: a.get(p) } : {}),
      ...(b.has(p) ? { after: b.get(p) } : {}),
    }));
}

function HistorySection(props: {
  record: DatasetRecord;
  role: DatasetAccess['yourRole'];
  writable: boolean;
  onChanged: (m: string) => void;
}) {
  const { record } = props;
  const base = datasetPath(record.id);
  const history = useLoad(
    () => api<{ items: HistoryEntry[] }>(`${base}/history`),
    [record.id, record.revision],
  );
  const items = history.data?.items ?? [];
  const last = items[items.length - 1];
  const [fromId, setFromId] = useState<number | null>(null);
  const [toId, setToId] = useState<number | null>(null);
  const [reason, setReason] = useState('');
  const action = useAction();
  const to = items.find((h) => h.id === toId) ?? last;
  const from = items.find((h) => h.id === fromId) ?? items[items.indexOf(to!) - 1] ?? to;
  const canRevert = hasRole(props.role, 'metadata-write') && props.writable;

  return (
    <Section title="History" id="history">
      <ErrorMessage error={history.error} />
      {!history.data ? (
        history.error ? null : (
          <Loading what="history" />
        )
      ) : (
        <>
          <table class="history">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {items.map((h) => (
                <tr key={h.id}>
                  <td data-label="#">{h.id}</td>
                  <td data-label="When">{formatTime(h.timestamp)}</td>
                  <td data-label="Who">{h.username}</td>
                  <td data-label="Reason">{h.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {items.length > 1 && from && to ? (
            <div class="diff-box">
              <div class="toolbar">
                <EntryPicker
                  id="diff-from"
                  label="Compare entry"
                  items={items}
                  value={from.id}
                  onPick={setFromId}
                />
                <EntryPicker id="diff-to" label="with entry" items={items} value={to.id} onPick={setToId} />
              </div>
              <Diff rows={diffSnapshots(from.snapshot, to.snapshot)} />
            </div>
          ) : null}
          {canRevert && items.length > 1 ? (
            <form
              class="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                const target = fromId ?? from?.id;
                void action.run(async () => {
                  await api(`${base}/revert`, {
                    method: 'POST',
                    body: { historyId: target, reason: reason.trim(), expectedRevision: record.revision },
                  });
                  setReason('');
                  setFromId(null);
                  setToId(null);
                  props.onChanged(`Reverted to history entry #${target}.`);
                });
              }}
            >
              <div class="field grow">
                <label for="revert-reason">Reason for reverting to entry #{from?.id}</label>
                <input
                  id="revert-reason"
                  type="text"
                  value={reason}
                  onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)}
                />
              </div>
              <button type="submit" disabled={action.busy}>
                Revert to #{from?.id}
              </button>
              <ErrorMessage error={action.error} />
            </form>
          ) : null}
        </>
      )}
    </Section>
  );
}

function EntryPicker(props: {
  id: string;
  label: string;
  items: HistoryEntry[];
  value: number;
  onPick: (id: number) => void;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={String(props.value)}
        onChange={(e) => props.onPick(Number((e.currentTarget as HTMLSelectElement).value))}
      >
        {props.items.map((h) => (
          <option key={h.id} value={String(h.id)}>
            #{h.id} {h.reason}
          </option>
        ))}
      </select>
    </div>
  );
}

function Diff({ rows }: { rows: { path: string; before?: string; after?: string }[] }) {
  if (rows.length === 0) return <p class="muted">No differences.</p>;
  return (
    <table class="diff">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.path}>
            <td data-label="Field">
              <code>{r.path}</code>
            </td>
            <td data-label="Before" class="removed">
              {r.before ?? <span class="muted">(absent)</span>}
            </td>
            <td data-label="After" class="added">
              {r.after ?? <span class="muted">(absent)</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// ------------------------------------------------------------------ release

function ReleaseSection(props: {
  record: DatasetRecord;
  role: DatasetAccess['yourRole'];
  me: Me | null;
  onChanged: (m: string) => void;
}) {
  const { record, me } = props;
  const base = datasetPath(record.id);
  const release = useLoad(() => api<ReleaseState>(`${base}/release`), [record.id, record.revision]);
  const isAdmin = hasRole(props.role, 'admin');
  const status = record.release.status;
  const isApprover = status === 'PENDING' && me !== null && record.release.approver === me.username;

  return (
    <Section title="Release" id="release">
      <p>
        Status: <StatusBadge status={status} />
        {record.release.approver ? <> — approver {record.release.approver}</> : null}
        {record.release.requester ? <>, requested by {record.release.requester}</> : null}
        {record.release.timestamp ? <> ({formatTime(record.release.timestamp)})</> : null}
      </p>
      <ErrorMessage error={release.error} />
      {release.data && release.data.history.length > 0 ? (
        <table class="release-history">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">By</th>
              <th scope="col">Approver</th>
              <th scope="col">Notes</th>
            </tr>
          </thead>
          <tbody>
            {release.data.history.map((h) => (
              <tr key={h.id}>
                <td data-label="When">{formatTime(h.timestamp)}</td>
                <td data-label="Action">{h.action.toLowerCase()}</td>
                <td data-label="By">{h.actor}</td>
                <td data-label="Approver">{h.approver}</td>
                <td data-label="Notes">{h.notes || <span class="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : release.data ? (
        <p class="muted">No release actions yet.</p>
      ) : null}
      {isAdmin && status === 'NOT_RELEASED' ? (
        <RequestApproval base={base} me={me} onDone={props.onChanged} />
      ) : null}
      {isApprover ? <Decide base={base} onDone={props.onChanged} /> : null}
    </Section>
  );
}

function RequestApproval({ base, me, onDone }: { base: string; me: Me | null; onDone: (m: string) => void }) {
  const reviewers = useLoad(() => api<{ items: string[] }>('/reviewers'), []);
  // A release takes two people: the requester cannot approve it.
  const others = (reviewers.data?.items ?? []).filter((r) => r !== me?.username);
  const [approver, setApprover] = useState('');
  const [notes, setNotes] = useState('');
  const action = useAction();
  return (
    <form
      class="stack-form"
      id="request-approval"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => {
          if (!approver) throw new Error('Choose a reviewer first.');
          await api(`${base}/release/request`, { method: 'POST', body: { approver, notes } });
          onDone(`Approval requested from ${approver}.`);
        });
      }}
    >
      <h3>Request approval</h3>
      <ErrorMessage error={reviewers.error} />
      {reviewers.data && others.length === 0 ? (
        <p class="muted">
          No other reviewer is in the pool (you cannot approve your own request): a sys-admin adds reviewers
          on the Admin page.
        </p>
      ) : null}
      <div class="field">
        <label for="approver">Reviewer</label>
        <select
          id="approver"
          value={approver}
          onChange={(e) => setApprover((e.currentTarget as HTMLSelectElement).value)}
        >
          <option value="">— choose a reviewer —</option>
          {others.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="request-notes">Notes for the reviewer</label>
        <textarea
          id="request-notes"
          rows={3}
          value={notes}
          onInput={(e) => setNotes((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </div>
      <button type="submit" disabled={action.busy}>
        Request approval
      </button>
      <ErrorMessage error={action.error} />
    </form>
  );
}

/** Approve or reject, with notes (the named approver only). */
export function Decide({
  base,
  onDone,
  idSuffix = '',
}: {
  base: string;
  onDone: (m: string) => void;
  idSuffix?: string;
}) {
  const [notes, setNotes] = useState('');
  const action = useAction();
  const act = (decision: 'approve' | 'reject') =>
    action.run(async () => {
      await api(`${base}/release/${decision}`, { method: 'POST', body: { notes } });
      onDone(
        decision === 'approve'
          ? 'Approved: the dataset is released.'
          : 'Rejected: the dataset is back to not released.',
      );
    });
  const notesId = `decision-notes${idSuffix}`;
  return (
    <form class="stack-form decide" onSubmit={(e) => e.preventDefault()}>
      <div class="field">
        <label for={notesId}>Review notes</label>
        <textarea
          id={notesId}
          rows={2}
          value={notes}
          onInput={(e) => setNotes((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </div>
      <div class="actions">
        <button type="button" disabled={action.busy} onClick={() => void act('approve')}>
          Approve
        </button>
        <button type="button" class="danger" disabled={action.busy} onClick={() => void act('reject')}>
          Reject
        </button>
      </div>
      <ErrorMessage error={action.error} />
    </form>
  );
}
