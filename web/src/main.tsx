import './app.css';
import { render, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText, getToken, onUnauthenticated, setToken, type Me } from './api.js';
import { AdminPage } from './pages/admin.js';
import { DatasetPage } from './pages/dataset.js';
import { DatasetsPage } from './pages/datasets.js';
import { MetadataFormPage } from './pages/metadata-form.js';
import { ReviewPage } from './pages/review.js';
import { completeSignIn, fetchOidcConfig, isSignInAnswer, startSignIn, type OidcConfig } from './oidc.js';
import { datasetHref, ErrorMessage, Loading, navigate, useAction, useRoute, type Route } from './ui.js';

function SignIn({
  onSignedIn,
  reason,
  oidc,
  ssoError,
}: {
  onSignedIn: (me: Me) => void;
  reason: string | null;
  oidc: OidcConfig | null;
  ssoError: unknown;
}) {
  const [token, setValue] = useState('');
  const action = useAction();
  const sso = useAction();
  return (
    <section class="signin">
      <h1 tabIndex={-1}>Sign in</h1>
      {oidc ? (
        <div class="stack-form sso">
          <p>Sign in with your organisation's account (single sign-on).</p>
          <button type="button" disabled={sso.busy} onClick={() => void sso.run(() => startSignIn(oidc))}>
            Sign in with single sign-on
          </button>
          <ErrorMessage error={sso.error ?? ssoError} />
        </div>
      ) : (
        <ErrorMessage error={ssoError} />
      )}
      <p>
        {oidc ? 'Or sign in ' : 'Sign in '}
        with a Wharf API token (<code>wharf token create</code>, or the admin token <code>wharf serve</code>{' '}
        printed at its first start). The token stays in this browser tab only.
      </p>
      {reason ? <div class="notice">{reason}</div> : null}
      <form
        class="stack-form"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const value = token.trim();
            if (!value) throw new Error('Paste an API token first.');
            try {
              // Tried before it is kept: a refused token is a sign-in error, not a session that ended.
              const me = await api<Me>('/me', {
                anonymous: true,
                headers: { authorization: `Bearer ${value}` },
              });
              setToken(value);
              setValue('');
              onSignedIn(me);
            } catch (error) {
              if (error instanceof ApiError && error.status === 401) {
                throw new Error('The service does not accept this token (unknown, revoked or expired).');
              }
              throw error;
            }
          });
        }}
      >
        <div class="field">
          <label for="token">API token</label>
          <input
            id="token"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={token}
            placeholder="wharf_…"
            onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button type="submit" disabled={action.busy}>
          Sign in
        </button>
        <ErrorMessage error={action.error} />
      </form>
      <p class="muted">
        Without signing in you can <a href="#/datasets">browse public datasets</a>. The API is documented at{' '}
        <a href="/docs">/docs</a>.
      </p>
    </section>
  );
}

/** A dataset id as the API mints them: `PREFIX/N` (the server's HANDLE_ID; the bundle imports no server code). */
const DATASET_ID = /^[A-Za-z0-9._-]+\/[0-9]+$/;

/** "There is no such page", with the address that was asked for and a way back to the list. */
function NotFound({ route, title, why }: { route: Route; title: string; why?: ComponentChildren }) {
  return (
    <section class="not-found">
      <h1 tabIndex={-1}>{title}</h1>
      <p>
        There is no page <code>#/{route.path.join('/')}</code>.{why ? <> {why}</> : null}
      </p>
      <p>
        <a href="#/datasets">Go to the dataset list</a>
      </p>
    </section>
  );
}

function page(route: Route, me: Me | null): { key: string; view: ComponentChildren } {
  const [first, ...rest] = route.path;
  const missing = (title = 'Page not found', why?: ComponentChildren) => ({
    key: 'missing',
    view: <NotFound route={route} title={title} why={why} />,
  });
  // Every route takes exactly its own segments: a truncated or over-long address is "not found", never
  // silently another page (the list for `#/datasets/10378.1`, the dataset for `#/datasets/a/1/b/c`).
  if (first === undefined)
    return { key: 'list', view: <DatasetsPage route={route} signedIn={me !== null} /> };
  if (first === 'datasets') {
    if (rest.length === 0)
      return { key: 'list', view: <DatasetsPage route={route} signedIn={me !== null} /> };
    if (rest.length === 1 && rest[0] === 'new')
      return { key: 'mint', view: me ? <MetadataFormPage /> : null };
    const id = rest.slice(0, 2).join('/');
    if (rest.length === 1 || !DATASET_ID.test(id)) {
      return missing(
        'Not a dataset id',
        <>
          <code>{id}</code> is not a dataset id: an id has two parts, <code>PREFIX/N</code> (for example{' '}
          <code>10378.1/5</code>).
        </>,
      );
    }
    if (rest.length === 2) return { key: `dataset ${id}`, view: <DatasetPage id={id} me={me} /> };
    if (rest.length === 3 && rest[2] === 'edit')
      return { key: `edit ${id}`, view: me ? <MetadataFormPage id={id} /> : null };
    return missing(
      'Page not found',
      <>
        The dataset <a href={datasetHref(id)}>{id}</a> has no such page.
      </>,
    );
  }
  if (rest.length > 0) return missing();
  if (first === 'review') return { key: 'review', view: me ? <ReviewPage me={me} route={route} /> : null };
  if (first === 'admin') return { key: 'admin', view: me ? <AdminPage me={me} /> : null };
  if (first === 'signin') return { key: 'signin', view: null };
  return missing();
}

function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | null>(null);
  // Whether this page load is the identity provider's answer (read before the address is cleaned up).
  const [returning] = useState(isSignInAnswer);
  const [checking, setChecking] = useState(() => getToken() !== null || returning);
  const [startError, setStartError] = useState<unknown>(null);
  const [signedOutReason, setSignedOutReason] = useState<string | null>(null);
  // The service refused the token (revoked or expired): said on every page, not only on the sign-in form.
  const [sessionEnded, setSessionEnded] = useState(false);
  const [oidc, setOidc] = useState<OidcConfig | null>(null);
  const [ssoError, setSsoError] = useState<unknown>(null);
  const main = useRef<HTMLElement>(null);

  useEffect(() => {
    // Without the endpoint (an older server) or when it fails, the page offers API tokens only.
    fetchOidcConfig().then(setOidc, () => setOidc(null));
  }, []);

  useEffect(() => {
    if (!returning) return;
    // Back from the identity provider: exchange the code, then check the token with the service.
    void (async () => {
      let returnTo = '#/datasets';
      try {
        const done = await completeSignIn();
        returnTo = done.returnTo;
        setToken(done.token);
      } catch (error) {
        setToken(null);
        setSsoError(error);
        setChecking(false);
        navigate('#/signin');
        return;
      }
      try {
        const who = await api<Me>('/me');
        setMe(who);
        setSignedOutReason(null);
        navigate(returnTo);
      } catch (error) {
        setToken(null);
        setSignedOutReason(null);
        setSsoError(
          error instanceof ApiError && error.status === 401
            ? new Error(
                `Single sign-on failed: the service does not accept the identity provider's token: ${errorText(error)}`,
              )
            : error,
        );
        navigate('#/signin');
      }
      setChecking(false);
    })();
  }, []);

  useEffect(() => {
    if (getToken() === null || returning) return;
    api<Me>('/me').then(
      (who) => {
        setMe(who);
        setChecking(false);
      },
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 401) {
          setToken(null);
          setSignedOutReason('Your token is no longer accepted; sign in again.');
          setSessionEnded(true);
        } else setStartError(error);
        setChecking(false);
      },
    );
  }, []);

  // The page open when the session ended, with who was signed in: a page that needs a session stays mounted
  // (hidden) under the sign-in form, so what was typed into it (a metadata edit) survives signing in again.
  const [held, setHeld] = useState<{ key: string; me: Me } | null>(null);
  const current = useRef<{ key: string; me: Me | null }>({ key: '', me: null });

  useEffect(
    () =>
      onUnauthenticated(() => {
        const { key: openKey, me: was } = current.current;
        if (was) setHeld({ key: openKey, me: was });
        setToken(null);
        setMe(null);
        setSignedOutReason('The service no longer accepts your token (revoked or expired); sign in again.');
        setSessionEnded(true);
      }),
    [],
  );

  const { key, view } = page(route, me);
  current.current = { key, me };
  const keptMe = !me && held !== null && held.key === key ? held.me : null;
  const kept = keptMe ? page(route, keptMe).view : null;
  useEffect(() => {
    if (held && held.key !== key) setHeld(null); // left that page: nothing to keep any more
  }, [key]);
  // Move focus to the new page's heading, so keyboard and screen-reader users start there. Pages that load
  // first show "Loading…" without one: their heading is focused when it appears.
  useEffect(() => {
    const root = main.current;
    if (!root) return;
    const focusHeading = (): boolean => {
      const h1 = root.querySelector('h1');
      if (!h1) return false;
      if (document.activeElement === document.body || !root.contains(document.activeElement)) h1.focus();
      return true;
    };
    if (focusHeading()) return;
    const watch = new MutationObserver(() => {
      if (focusHeading()) watch.disconnect();
    });
    watch.observe(root, { childList: true, subtree: true });
    return () => watch.disconnect();
  }, [key, me?.username, checking]);

  const signOut = () => {
    setToken(null);
    setMe(null);
    setHeld(null);
    setSsoError(null);
    setSessionEnded(false);
    setSignedOutReason('You are signed out.');
    navigate('#/signin');
  };

  const showSignIn = !checking && !me && (view === null || key === 'signin' || route.path.length === 0);
  const nav = (href: string, label: string, active: boolean) => (
    <a href={href} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  );

  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          main.current?.querySelector('h1')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/datasets">
          Wharf datastore
        </a>
        <nav aria-label="Main">
          {nav('#/datasets', 'Datasets', key === 'list')}
          {me ? nav('#/datasets/new', 'Register dataset', key === 'mint') : null}
          {me ? nav('#/review', 'Review queue', key === 'review') : null}
          {me ? nav('#/admin', 'Admin', key === 'admin') : null}
        </nav>
        <div class="who">
          {me ? (
            <>
              <span class="user" title={me.systemRoles.join(', ')}>
                {me.username}
              </span>
              <button type="button" class="secondary small" onClick={signOut}>
                Sign out
              </button>
            </>
          ) : !checking ? (
            <a href="#/signin">Sign in</a>
          ) : null}
        </div>
      </header>
      <main id="main" ref={main}>
        {sessionEnded && signedOutReason && !me && !showSignIn ? (
          <div class="notice session-ended" role="status">
            {signedOutReason} <a href="#/signin">Sign in</a>
          </div>
        ) : null}
        {startError ? (
          <section>
            <h1 tabIndex={-1}>The service cannot be reached</h1>
            <ErrorMessage error={startError} />
            <p>{errorText(startError).includes('reach') ? 'Reload the page when it is back.' : null}</p>
          </section>
        ) : checking ? (
          <Loading what="your session" />
        ) : (
          <>
            {showSignIn ? (
              <SignIn
                reason={signedOutReason}
                oidc={oidc}
                ssoError={ssoError}
                onSignedIn={(who) => {
                  setMe(who);
                  setSignedOutReason(null);
                  setSessionEnded(false);
                  setSsoError(null);
                  if (key === 'signin') navigate('#/datasets');
                }}
              />
            ) : null}
            {/* Keyed by the user too: someone else signing in gets the page afresh. */}
            <div key={`${key}|${(me ?? keptMe)?.username ?? ''}`} hidden={showSignIn}>
              {showSignIn ? kept : view}
            </div>
          </>
        )}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
