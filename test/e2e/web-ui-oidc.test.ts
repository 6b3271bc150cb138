import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDatastoreConfig } from '../../src/app/datastore-config.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { CLI, wharf } from '../support/run-cli.js';
import { startServeProcess, stopServeProcess, type ServeProcess } from '../support/serve-process.js';
import { testPgUrl } from '../support/test-services.js';

/**
 * Web UI sign-in through an identity provider (issue 6): the built `wharf serve` with the OIDC browser
 * settings, a fake IdP in this process (node:http: /authorize, /token with CORS, /jwks.json; ID tokens signed
 * here with jose), and Debian's Chromium driven by playwright-core. The authorization code flow with PKCE
 * runs for real: the IdP checks the S256 challenge against the verifier the browser sends.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-output', 'screenshots');
const ADMIN_TOKEN = 'web-ui-oidc-test-admin-token-0123456789';
const CLIENT_ID = 'wharf-web';
const STEP_MS = 60_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** What the next /authorize does: sign in, deny, answer with a forged state, or issue a token for another audience. */
type Mode = 'ok' | 'deny' | 'wrong-state' | 'wrong-audience';

interface Idp {
  url: string;
  server: Server;
  mode: Mode;
  /** Requests the IdP refused (a wrong parameter from the UI); the tests expect none. */
  problems: string[];
  authorizeParams: URLSearchParams[];
  tokenRequests: number;
}

let idp: Idp;
let keys: { privateKey: CryptoKey; publicKey: CryptoKey };
let db: ScratchDatabase;
let dir: string;
let served: Served | undefined;
let browser: Browser | undefined;

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });

async function startIdp(): Promise<Idp> {
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
  const codes = new Map<
    string,
    { challenge: string; redirectUri: string; nonce: string; clientId: string; audience: string }
  >();
  const state: Idp = {
    url: '',
    server: undefined as unknown as Server,
    mode: 'ok',
    problems: [],
    authorizeParams: [],
    tokenRequests: 0,
  };
  const cors = { 'access-control-allow-origin': '*' };
  state.server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', state.url);
      const refuse = (status: number, problem: string, headers: Record<string, string> = {}) => {
        state.problems.push(problem);
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify({ error: 'invalid_request', error_description: problem }));
      };
      if (url.pathname === '/jwks.json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys: [jwk] }));
      } else if (url.pathname === '/authorize' && request.method === 'GET') {
        const q = url.searchParams;
        state.authorizeParams.push(q);
        const redirectUri = q.get('redirect_uri') ?? '';
        if (q.get('response_type') !== 'code') return refuse(400, `response_type ${q.get('response_type')}`);
        if (q.get('client_id') !== CLIENT_ID) return refuse(400, `client_id ${q.get('client_id')}`);
        if (redirectUri !== `${served?.url}/`) return refuse(400, `redirect_uri ${redirectUri}`);
        if (q.get('code_challenge_method') !== 'S256')
          return refuse(400, `code_challenge_method ${q.get('code_challenge_method')}`);
        if (!/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? ''))
          return refuse(400, `code_challenge ${q.get('code_challenge')}`);
        if (!q.get('state') || !q.get('nonce')) return refuse(400, 'no state or nonce');
        const back = new URL(redirectUri);
        if (state.mode === 'deny') {
          back.searchParams.set('error', 'access_denied');
          back.searchParams.set('error_description', 'The user cancelled the sign-in');
          back.searchParams.set('state', q.get('state')!);
        } else {
          const code = randomBytes(16).toString('hex');
          codes.set(code, {
            challenge: q.get('code_challenge')!,
            redirectUri,
            nonce: q.get('nonce')!,
            clientId: CLIENT_ID,
            audience: state.mode === 'wrong-audience' ? 'some-other-app' : CLIENT_ID,
          });
          back.searchParams.set('code', code);
          back.searchParams.set('state', state.mode === 'wrong-state' ? 'forged-state' : q.get('state')!);
        }
        response.writeHead(302, { location: back.toString() });
        response.end();
      } else if (url.pathname === '/token' && request.method === 'OPTIONS') {
        response.writeHead(204, {
          ...cors,
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': 'content-type, accept',
        });
        response.end();
      } else if (url.pathname === '/token' && request.method === 'POST') {
        state.tokenRequests++;
        const form = new URLSearchParams(await readBody(request));
        const code = form.get('code') ?? '';
        const grant = codes.get(code);
        codes.delete(code); // single use
        if (!(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
          return refuse(400, `content-type ${request.headers['content-type']}`, cors);
        if (form.get('grant_type') !== 'authorization_code')
          return refuse(400, `grant_type ${form.get('grant_type')}`, cors);
        if (!grant) return refuse(400, 'unknown or used code', cors);
        if (form.get('client_id') !== grant.clientId)
          return refuse(400, `client_id ${form.get('client_id')}`, cors);
        if (form.get('redirect_uri') !== grant.redirectUri)
          return refuse(400, `redirect_uri ${form.get('redirect_uri')}`, cors);
        const verifier = form.get('code_verifier') ?? '';
        if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge)
          return refuse(400, 'code_verifier does not match the code_challenge', cors);
        const idToken = await new SignJWT({
          preferred_username: 'olivia',
          groups: ['oceans', 'staff'],
          nonce: grant.nonce,
        })
          .setProtectedHeader({ alg: 'RS256', kid: 'idp-key-1', typ: 'JWT' })
          .setIssuer(state.url)
          .setAudience(grant.audience)
          .setSubject('olivia-subject-id')
          .setIssuedAt()
          .setExpirationTime('10m')
          .sign(keys.privateKey);
        response.writeHead(200, { 'content-type': 'application/json', ...cors });
        response.end(
          JSON.stringify({
            id_token: idToken,
            access_token: 'opaque-access-token',
            token_type: 'Bearer',
            expires_in: 600,
          }),
        );
      } else {
        response.writeHead(404).end();
      }
    })().catch((error: unknown) => {
      state.problems.push(String(error));
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

type Served = ServeProcess;

const serve = (args: string[]): Promise<Served> =>
  startServeProcess(args, { WHARF_ADMIN_TOKEN: ADMIN_TOKEN });

async function call(
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${served!.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'web', 'app.js')) || !existsSync(CLI)) {
    throw new Error('the web UI or the CLI is not built: run npm run build first');
  }
  await mkdir(SHOTS, { recursive: true });
  keys = await generateKeyPair('RS256', { extractable: true });
  idp = await startIdp();
  db = await createScratchDatabase(testPgUrl(), 'weboidc');
  dir = await mkdtemp(join(tmpdir(), 'wharf-web-oidc-'));
  served = await serve([
    '--database',
    db.url,
    '--store',
    join(dir, 'store'),
    '--oidc-jwks-url',
    `${idp.url}/jwks.json`,
    '--oidc-issuer',
    idp.url,
    '--oidc-audience',
    CLIENT_ID,
    '--oidc-client-id',
    CLIENT_ID,
    '--oidc-authorization-url',
    `${idp.url}/authorize`,
    '--oidc-token-url',
    `${idp.url}/token`,
  ]);
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await stopServeProcess(served);
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
  await new Promise((resolve) => idp?.server.close(resolve));
}, 120_000);

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const sessionToken = (page: Page) => page.evaluate<string | null>("sessionStorage.getItem('wharf.token')");

describe('GET /auth/config and the serve options', () => {
  it('advertises the browser sign-in settings, publicly, and is in /openapi.json', async () => {
    const r = await call(undefined, 'GET', '/auth/config');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      oidc: {
        clientId: CLIENT_ID,
        authorizationUrl: `${idp.url}/authorize`,
        tokenUrl: `${idp.url}/token`,
        scopes: 'openid profile',
      },
    });
    const doc = await call(undefined, 'GET', '/openapi.json');
    expect(doc.body.paths['/auth/config'].get.operationId).toBe('getAuthConfig');
  });

  it('validates the browser settings together, naming what is missing', async () => {
    const jwks = { oidcJwksUrl: 'https://idp.example.org/certs' };
    const all = {
      ...jwks,
      oidcClientId: 'wharf-web',
      oidcAuthorizationUrl: 'https://idp.example.org/auth',
      oidcTokenUrl: 'https://idp.example.org/token',
    };
    expect(resolveDatastoreConfig(jwks, {}).oidc?.browser).toBeUndefined();
    expect(resolveDatastoreConfig(all, {}).oidc?.browser).toEqual({
      clientId: 'wharf-web',
      authorizationUrl: 'https://idp.example.org/auth',
      tokenUrl: 'https://idp.example.org/token',
      scopes: 'openid profile',
    });
    expect(resolveDatastoreConfig({ ...all, oidcScopes: ' openid  email ' }, {}).oidc?.browser?.scopes).toBe(
      'openid email',
    );
    // The environment works like the flags.
    expect(
      resolveDatastoreConfig(jwks, {
        WHARF_OIDC_CLIENT_ID: 'env-client',
        WHARF_OIDC_AUTHORIZATION_URL: 'https://idp.example.org/auth',
        WHARF_OIDC_TOKEN_URL: 'https://idp.example.org/token',
        WHARF_OIDC_SCOPES: 'openid groups',
      }).oidc?.browser,
    ).toMatchObject({ clientId: 'env-client', scopes: 'openid groups' });
    expect(() => resolveDatastoreConfig({ ...jwks, oidcClientId: 'wharf-web' }, {})).toThrow(
      /also needs --oidc-authorization-url \/ WHARF_OIDC_AUTHORIZATION_URL and --oidc-token-url/,
    );
    expect(() => resolveDatastoreConfig({ ...all, oidcClientId: undefined }, {})).toThrow(
      /also needs --oidc-client-id/,
    );
    expect(() => resolveDatastoreConfig({ ...all, oidcJwksUrl: undefined }, {})).toThrow(
      /needs --oidc-jwks-url/,
    );
    expect(() => resolveDatastoreConfig({ ...all, oidcTokenUrl: 'token' }, {})).toThrow(/--oidc-token-url/);
    expect(() => resolveDatastoreConfig({ ...all, oidcScopes: 'openid "x"' }, {})).toThrow(/--oidc-scopes/);

    const cli = await wharf(['serve', '--data-dir', join(dir, 'unused'), '--oidc-client-id', 'wharf-web'], {
      env: { ...process.env, WHARF_OIDC_JWKS_URL: 'https://idp.example.org/certs' },
    });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/--oidc-authorization-url/);
  });
});

describe('single sign-on in Chromium', () => {
  it('signs in through the identity provider (code + PKCE), acts as olivia, signs out; readable failures', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));

    // ---- the sign-in page offers single sign-on next to the API token
    idp.mode = 'ok';
    await page.goto(`${served!.url}/`);
    const sso = page.getByRole('button', { name: 'Sign in with single sign-on' });
    await sso.waitFor();
    await expect(page.getByLabel('API token').count()).resolves.toBe(1);
    await shot(page, 'signin-oidc');

    // ---- the flow: IdP, back to /?code=…&state=…, token exchange, /me
    await sso.click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await expect(page.locator('header .user').textContent()).resolves.toBe('olivia');
    expect(page.url()).toBe(`${served!.url}/#/datasets`); // the code is gone from the address
    expect(idp.problems).toEqual([]);
    expect(idp.tokenRequests).toBe(1);
    const authorize = idp.authorizeParams.at(-1)!;
    expect(authorize.get('scope')).toBe('openid profile');
    expect(authorize.get('redirect_uri')).toBe(`${served!.url}/`);
    const token = (await sessionToken(page))!;
    expect(token.split('.')).toHaveLength(3); // the ID token, not the opaque access token
    const me = await call(token, 'GET', '/me');
    expect(me.body).toMatchObject({ username: 'olivia' });
    expect(me.body.groups).toEqual(expect.arrayContaining(['oceans', 'staff']));

    // ---- the bearer works as olivia: mint through the API, see her dataset in the list
    const org = await call(token, 'POST', '/organisations', { name: 'Ocean Institute' });
    expect(org.status).toBe(201);
    const minted = await call(
      token,
      'POST',
      '/datasets',
      sampleMetadata('Olivia kelp survey', { organisationId: org.body.id as string }),
    );
    expect(minted.status).toBe(201);
    expect(minted.body.owner).toBe('olivia');
    await page.reload();
    const row = page.locator('tr', { hasText: 'Olivia kelp survey' });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('olivia');
    // …and in the UI: her dataset page with the edit link of an owner.
    await row.getByRole('link', { name: 'Olivia kelp survey' }).click();
    await page.getByRole('link', { name: 'Edit metadata' }).waitFor();
    await shot(page, 'signin-oidc-dataset');

    // ---- sign out forgets the token
    await page.getByRole('button', { name: 'Sign out' }).click();
    await sso.waitFor();
    await expect(sessionToken(page)).resolves.toBeNull();

    // ---- the IdP denies: a readable message on the sign-in page
    idp.mode = 'deny';
    await sso.click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toMatch(/access was denied or the sign-in was cancelled/);
    await expect(alert.textContent()).resolves.toContain('The user cancelled the sign-in');
    expect(page.url()).not.toContain('error=');
    await shot(page, 'signin-oidc-denied');

    // ---- a forged state: refused before any token exchange
    idp.mode = 'wrong-state';
    const before = idp.tokenRequests;
    await sso.click();
    await expect.poll(() => alert.textContent()).toMatch(/state mismatch/);
    expect(idp.tokenRequests).toBe(before);

    // ---- a token the service refuses (another audience): its reason, readable
    idp.mode = 'wrong-audience';
    await sso.click();
    await expect
      .poll(() => alert.textContent())
      .toMatch(/does not accept the identity provider's token: .*audience does not include wharf-web/);
    await expect(sessionToken(page)).resolves.toBeNull();
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);

    // ---- and a working sign-in still works after the failures
    idp.mode = 'ok';
    await sso.click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await expect(page.locator('header .user').textContent()).resolves.toBe('olivia');

    expect(idp.problems).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 240_000);
});
