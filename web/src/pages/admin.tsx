import { useState } from 'preact/hooks';
import { api, type Me, type TokenInfo } from '../api.js';
import { ErrorMessage, formatTime, Loading, Notice, useAction, useLoad } from '../ui.js';

/** Reviewer pool (sys-admins change it) and API tokens (yours; sys-admins: everyone's). */
export function AdminPage({ me }: { me: Me }) {
  const sysAdmin = me.systemRoles.includes('sys-admin');
  return (
    <section>
      <h1 tabIndex={-1}>Admin</h1>
      {!sysAdmin ? (
        <p class="muted">You are not a sys-admin: you see the reviewer pool and manage your own tokens.</p>
      ) : null}
      <Reviewers sysAdmin={sysAdmin} />
      <Tokens me={me} sysAdmin={sysAdmin} />
    </section>
  );
}

function Reviewers({ sysAdmin }: { sysAdmin: boolean }) {
  const pool = useLoad(() => api<{ items: string[] }>('/reviewers'), []);
  const [name, setName] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const action = useAction();
  const change = (method: 'PUT' | 'DELETE', user: string) =>
    action.run(async () => {
      await api(`/reviewers/${encodeURIComponent(user)}`, { method });
      setMessage(method === 'PUT' ? `${user} is a reviewer.` : `${user} is no longer a reviewer.`);
      setName('');
      pool.reload();
    });
  return (
    <section class="panel" aria-labelledby="reviewers-title" id="reviewers">
      <h2 id="reviewers-title">Reviewer pool</h2>
      <ErrorMessage error={pool.error} />
      {!pool.data && !pool.error ? <Loading what="reviewers" /> : null}
      {pool.data ? (
        pool.data.items.length === 0 ? (
          <p class="empty">No reviewers yet.</p>
        ) : (
          <ul class="plain-list">
            {pool.data.items.map((r) => (
              <li key={r} data-reviewer={r}>
                <span>{r}</span>
                {sysAdmin ? (
                  <button
                    type="button"
                    class="secondary small"
                    disabled={action.busy}
                    onClick={() => void change('DELETE', r)}
                  >
                    Remove<span class="visually-hidden"> {r}</span>
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )
      ) : null}
      {sysAdmin ? (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) void change('PUT', name.trim());
          }}
        >
          <div class="field grow">
            <label for="reviewer-name">User name</label>
            <input
              id="reviewer-name"
              type="text"
              value={name}
              onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
          <button type="submit" disabled={action.busy}>
            Add reviewer
          </button>
        </form>
      ) : null}
      {message ? <Notice>{message}</Notice> : null}
      <ErrorMessage error={action.error} />
    </section>
  );
}

function Tokens({ me, sysAdmin }: { me: Me; sysAdmin: boolean }) {
  const tokens = useLoad(() => api<{ items: TokenInfo[] }>('/tokens'), []);
  const [name, setName] = useState('');
  const [user, setUser] = useState('');
  const [days, setDays] = useState('');
  const [created, setCreated] = useState<{ token: string; username: string; name: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const action = useAction();

  return (
    <section class="panel" aria-labelledby="tokens-title" id="tokens">
      <h2 id="tokens-title">API tokens</h2>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const expires = days.trim() ? Number(days.trim()) : undefined;
            if (expires !== undefined && !Number.isInteger(expires))
              throw new Error('Expires in days must be a whole number.');
            const t = await api<{ token: string; username: string; name: string }>('/tokens', {
              method: 'POST',
              body: {
                name: name.trim(),
                ...(user.trim() ? { username: user.trim() } : {}),
                ...(expires !== undefined ? { expiresInDays: expires } : {}),
              },
            });
            setCreated(t);
            setMessage(null);
            setName('');
            setUser('');
            setDays('');
            tokens.reload();
          });
        }}
      >
        <div class="field grow">
          <label for="token-name">Token name</label>
          <input
            id="token-name"
            type="text"
            value={name}
            placeholder="laptop, ci, …"
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        {sysAdmin ? (
          <div class="field">
            <label for="token-user">For user</label>
            <input
              id="token-user"
              type="text"
              value={user}
              placeholder={me.username}
              onInput={(e) => setUser((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
        ) : null}
        <div class="field">
          <label for="token-days">Expires in days</label>
          <input
            id="token-days"
            type="text"
            inputMode="numeric"
            value={days}
            placeholder="never"
            onInput={(e) => setDays((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button type="submit" disabled={action.busy}>
          Create token
        </button>
      </form>
      {created ? (
        <div class="notice" role="status">
          <p>
            New token “{created.name}” for <strong>{created.username}</strong>. Copy it now: it is not shown
            again.
          </p>
          <label for="new-token">Token</label>
          <input
            id="new-token"
            type="text"
            readOnly
            value={created.token}
            onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
          />
        </div>
      ) : null}
      {message ? <Notice>{message}</Notice> : null}
      <ErrorMessage error={action.error} />
      <ErrorMessage error={tokens.error} />
      {tokens.data ? (
        <table class="tokens">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">User</th>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.items.map((t) => (
              <tr key={t.tokenId} data-token={t.tokenId}>
                <td data-label="Id">
                  <code>{t.tokenId}</code>
                </td>
                <td data-label="User">{t.username}</td>
                <td data-label="Name">{t.name}</td>
                <td data-label="Created">{formatTime(t.createdAt)}</td>
                <td data-label="Expires">{t.expiresAt ? formatTime(t.expiresAt) : 'never'}</td>
                <td data-label="Last used">{formatTime(t.lastUsedAt)}</td>
                <td data-label="State">
                  {t.revokedAt ? (
                    `revoked ${formatTime(t.revokedAt)}`
                  ) : t.tokenId === me.tokenId ? (
                    'this session'
                  ) : (
                    <button
                      type="button"
                      class="danger small"
                      disabled={action.busy}
                      onClick={() =>
                        void action.run(async () => {
                          await api(`/tokens/${encodeURIComponent(t.tokenId)}`, { method: 'DELETE' });
                          setMessage(`Token ${t.tokenId} (${t.name}) is revoked.`);
                          tokens.reload();
                        })
                      }
                    >
                      Revoke<span class="visually-hidden"> token {t.name}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
