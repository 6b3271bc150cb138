/**
 * Browser sign-in through the identity provider (OIDC authorization code flow with PKCE S256, a public
 * client): `startSignIn` redirects to the provider; the provider redirects back to `/?code=…&state=…`, where
 * `completeSignIn` (run once at start) checks the state, exchanges the code at the token endpoint and returns
 * the ID token (or the access token) the UI then sends as its bearer token.
 */
import { api } from './api.js';

export interface OidcConfig {
  clientId: string;
  authorizationUrl: string;
  tokenUrl: string;
  scopes: string;
}

/** What `startSignIn` keeps (sessionStorage, this tab) for the return trip. */
interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  clientId: string;
  tokenUrl: string;
  /** The page (hash) to return to after signing in. */
  returnTo: string;
}

const PENDING_KEY = 'wharf.oidc.pending';

/** `GET /auth/config` (anonymous): the provider's settings, or null when only API tokens are offered. */
export async function fetchOidcConfig(): Promise<OidcConfig | null> {
  const answer = await api<{ oidc: OidcConfig | null }>('/auth/config', { anonymous: true });
  return answer.oidc ?? null;
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The address the provider sends the browser back to (register it with the provider). */
export function redirectUri(): string {
  return `${location.origin}/`;
}

/** Whether this page load is the provider's answer (`?code=` or `?error=`). */
export function isSignInAnswer(): boolean {
  const params = new URLSearchParams(location.search);
  return params.has('code') || params.has('error');
}

/** Leaves for the provider's sign-in page; resolves only if the redirect fails to happen. */
export async function startSignIn(config: OidcConfig): Promise<void> {
  if (!globalThis.crypto?.subtle) {
    throw new Error(
      'This browser cannot sign in with single sign-on here: Web Crypto needs a secure context (https or localhost).',
    );
  }
  const pending: Pending = {
    state: randomString(),
    nonce: randomString(),
    verifier: randomString(48),
    redirectUri: redirectUri(),
    clientId: config.clientId,
    tokenUrl: config.tokenUrl,
    returnTo: location.hash && location.hash !== '#/signin' ? location.hash : '#/datasets',
  };
  let url: URL;
  try {
    url = new URL(config.authorizationUrl);
  } catch {
    throw new Error(`The configured authorization URL ${config.authorizationUrl} is not a URL.`);
  }
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', pending.redirectUri);
  url.searchParams.set('scope', config.scopes);
  url.searchParams.set('state', pending.state);
  url.searchParams.set('nonce', pending.nonce);
  url.searchParams.set('code_challenge', await s256(pending.verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  location.assign(url.toString());
}

function claims(jwt: string): Record<string, unknown> | null {
  const part = jwt.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * Finishes a sign-in the provider answered (see `isSignInAnswer`): removes the query from the address (the
 * code is used once), checks the state, exchanges the code. Returns the bearer token and the page to show;
 * throws an Error with a readable message otherwise.
 */
export async function completeSignIn(): Promise<{ token: string; returnTo: string }> {
  const params = new URLSearchParams(location.search);
  history.replaceState(history.state, '', `${location.pathname}${location.hash}`);
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const error = params.get('error');
  if (error) {
    const description = params.get('error_description');
    const meaning =
      error === 'access_denied' ? 'access was denied or the sign-in was cancelled' : `error "${error}"`;
    throw new Error(
      `Single sign-on failed: the identity provider answered that ${meaning}${description ? ` (${description})` : ''}. Try again, or sign in with an API token.`,
    );
  }
  let pending: Pending | null = null;
  try {
    pending = raw ? (JSON.parse(raw) as Pending) : null;
  } catch {
    pending = null;
  }
  if (!pending) {
    throw new Error(
      'Single sign-on failed: this sign-in was not started in this browser tab (or its answer was already used). Start it again.',
    );
  }
  if (params.get('state') !== pending.state) {
    throw new Error(
      'Single sign-on failed: the answer from the identity provider does not match the request made here (state mismatch). Start it again.',
    );
  }
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: params.get('code') ?? '',
    redirect_uri: pending.redirectUri,
    client_id: pending.clientId,
    code_verifier: pending.verifier,
  });
  let response: Response;
  try {
    response = await fetch(pending.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
    });
  } catch (err) {
    throw new Error(
      `Single sign-on failed: cannot reach the identity provider's token endpoint ${pending.tokenUrl} (${err instanceof Error ? err.message : String(err)}). It must be reachable from this browser and allow CORS from ${location.origin}.`,
    );
  }
  let json: Record<string, unknown> = {};
  try {
    json = (await response.json()) as Record<string, unknown>;
  } catch {
    json = {};
  }
  if (!response.ok) {
    const code = typeof json.error === 'string' ? json.error : `HTTP ${response.status}`;
    const description = typeof json.error_description === 'string' ? ` (${json.error_description})` : '';
    throw new Error(
      `Single sign-on failed: the identity provider did not issue a token: ${code}${description}. Start it again.`,
    );
  }
  const idToken = typeof json.id_token === 'string' ? json.id_token : undefined;
  const accessToken = typeof json.access_token === 'string' ? json.access_token : undefined;
  const token = idToken ?? accessToken;
  if (!token) {
    throw new Error(
      'Single sign-on failed: the identity provider answered without an id_token or access_token.',
    );
  }
  if (idToken && claims(idToken)?.nonce !== pending.nonce) {
    throw new Error(
      'Single sign-on failed: the ID token was not issued for this sign-in (nonce mismatch). Start it again.',
    );
  }
  return { token, returnTo: pending.returnTo };
}
