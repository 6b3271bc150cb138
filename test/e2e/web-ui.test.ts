import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebUi } from '../../src/server/routes/web-ui.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { CLI } from '../support/run-cli.js';
import { startServeProcess, stopServeProcess, type ServeProcess } from '../support/serve-process.js';

/**
 * The datastore web UI (issue 6) in real Chromium (Debian's /usr/bin/chromium, installed by
 * scripts/test-services; playwright-core never downloads a browser), against the built `wharf serve` on the
 * embedded defaults (local store + embedded PostgreSQL) in a temporary data folder. Screenshots of each page
 * go to test-output/screenshots/.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-output', 'screenshots');
const ADMIN_TOKEN = 'web-ui-test-admin-token-0123456789';
const STEP_MS = 60_000;

type Served = ServeProcess;

const serve = (dataDir: string): Promise<Served> =>
  startServeProcess(['--data-dir', dataDir], { WHARF_ADMIN_TOKEN: ADMIN_TOKEN });

let dir: string;
let served: Served | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'web', 'app.js')) || !existsSync(CLI)) {
    throw new Error('the web UI or the CLI is not built: run npm run build first');
  }
  await mkdir(SHOTS, { recursive: true });
  dir = await mkdtemp(join(tmpdir(), 'wharf-web-ui-'));
  await chmod(dir, 0o755); // as root the embedded PostgreSQL runs as "postgres" and must enter it
  served = await serve(join(dir, 'data'));
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await stopServeProcess(served);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${served!.url}/#/signin`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function noHorizontalOverflow(page: Page): Promise<{ scroll: number; client: number }> {
  // Evaluated in the page (a string: the test's own TypeScript has no DOM types).
  return page.evaluate<{ scroll: number; client: number }>(
    '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
  );
}

describe('web UI static files', () => {
  it('serves index.html and the hashed assets with their content types and cache headers', async () => {
    const index = await fetch(`${served!.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await index.text();
    const js = /src="(\/ui\/app\.js\?v=[0-9a-f]+)"/.exec(html)?.[1];
    const css = /href="(\/ui\/app\.css\?v=[0-9a-f]+)"/.exec(html)?.[1];
    expect(js && css, html).toBeTruthy();
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN

    const script = await fetch(`${served!.url}${js!}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = script.headers.get('etag')!;
    await script.arrayBuffer();
    const again = await fetch(`${served!.url}${js!}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const style = await fetch(`${served!.url}${css!}`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    await style.arrayBuffer();

    // The UI's icon also answers /favicon.ico, for the pages that have no icon link of their own.
    const icon = await fetch(`${served!.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(icon.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(Buffer.from(await icon.arrayBuffer())).toEqual(await readFile(join(ROOT, 'web', 'favicon.svg')));
    const iconAgain = await fetch(`${served!.url}/favicon.ico`, {
      headers: { 'if-none-match': icon.headers.get('etag')! },
    });
    expect(iconAgain.status).toBe(304);

    const missing = await fetch(`${served!.url}/ui/other.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    // The API keeps its own 404 for unknown paths.
    expect((await fetch(`${served!.url}/no-such-route`)).status).toBe(404);
  });

  it('answers / with a plain message to run npm run build when dist/web is missing', async () => {
    const app = Fastify();
    registerWebUi(app, { dir: join(dir, 'no-web-here/') });
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(503);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.body).toContain('npm run build');
    const icon = await app.inject({ method: 'GET', url: '/favicon.ico' });
    expect([icon.statusCode, icon.json<{ error: { hint: string } }>().error.hint]).toEqual([
      404,
      'run `npm run build` to build the web UI',
    ]);
    await app.close();
  });
});

describe('web UI in Chromium', () => {
  it('admin page, mint with a corrected validation error, upload, request approval, approve as the reviewer, released, search, download', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(String(e)));

    // ---- sign in: a bad token gives a readable message, the admin token works
    await page.goto(`${served!.url}/`);
    await page.getByLabel('API token').fill('wharf_000000000000_not-a-real-token-at-all-xxxxxxxxxxxxxxxxxxx');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/does not accept this token/);
    // A token tried at sign-in is not a session that ended: no "sign in again" notice beside the error.
    expect(await page.locator('.notice').count()).toBe(0);
    await shot(page, 'signin');
    await signIn(page, ADMIN_TOKEN);
    await expect.poll(() => page.locator('.who .user').textContent()).toBe('admin');

    // ---- admin page: a token for the reviewer "rita", and rita in the reviewer pool
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByLabel('Token name').fill('rita laptop');
    await page.getByLabel('For user').fill('rita');
    await page.getByRole('button', { name: 'Create token' }).click();
    const ritaToken = await page.locator('#new-token').inputValue();
    expect(ritaToken).toMatch(/^wharf_[0-9a-f]{12}_/);
    await page.getByLabel('User name', { exact: true }).fill('rita');
    await page.getByRole('button', { name: 'Add reviewer' }).click();
    await page.locator('li[data-reviewer="rita"]').waitFor();
    await page.getByLabel('User name', { exact: true }).fill('admin');
    await page.getByRole('button', { name: 'Add reviewer' }).click();
    await page.locator('li[data-reviewer="admin"]').waitFor();
    await page.locator('tr', { hasText: 'rita laptop' }).waitFor();
    await shot(page, 'admin');

    // ---- mint through the form: register an organisation, then a licence that is not a URL
    await page.getByRole('link', { name: 'Register dataset' }).click();
    await page.getByText('Register an organisation or person').click();
    await page.getByLabel('Organisation name').fill('CSIRO');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    const registered = await page.locator('.quick-add .notice').textContent();
    const orgId = /as (\S+?)\.$/.exec(registered ?? '')?.[1];
    expect(orgId, registered ?? '').toMatch(/^10378\.1\/\d+$/);
    const name = `Kelp forest survey ${Date.now()}`;
    await page.locator('#f-associations-organisationId').selectOption(orgId!);
    await page.locator('#f-datasetInfo-publisherId').selectOption(orgId!);
    expect(await page.locator('label[for="f-datasetInfo-name"]').textContent()).toMatch(/^Name/);
    await page.locator('#f-datasetInfo-name').fill(name);
    await page
      .locator('#f-datasetInfo-description')
      .fill('Kelp cover along the Tasmanian coast, 2019 to 2023.');
    await page.getByLabel('Keywords').fill('kelp, ocean');
    await page.locator('#f-datasetInfo-license').fill('not a licence url');
    await page.getByRole('button', { name: 'Register dataset' }).click();
    const licenseError = page.locator('#f-datasetInfo-license-error');
    await licenseError.waitFor();
    expect(await licenseError.textContent()).toMatch(/URL/i);
    expect(await page.locator('#f-datasetInfo-license').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#f-datasetInfo-license').getAttribute('aria-describedby')).toContain(
      'f-datasetInfo-license-error',
    );
    // The error sits in the licence field's own block, beside its input.
    expect(
      await page
        .locator('.field', { has: page.locator('#f-datasetInfo-license') })
        .locator('.field-error')
        .count(),
    ).toBe(1);
    await shot(page, 'mint-validation-error');
    await page.locator('#f-datasetInfo-license').fill('https://creativecommons.org/licenses/by/4.0/');
    await page.getByRole('button', { name: 'Register dataset' }).click();
    await page.waitForURL(/#\/datasets\/10378\.1\/\d+$/);
    const datasetId = /#\/datasets\/(10378\.1\/\d+)$/.exec(page.url())![1]!;
    await page.getByRole('heading', { level: 1, name }).waitFor();

    // ---- upload a file with the upload control (presigned PUT)
    const bytes = Buffer.from(`site,cover\nA,0.42\nB,0.17\n${'x'.repeat(3000)}\n`);
    await page
      .locator('#upload-files')
      .setInputFiles({ name: 'obs.csv', mimeType: 'text/csv', buffer: bytes });
    const fileRow = page.locator('tr[data-path="obs.csv"]');
    await fileRow.waitFor();
    expect(await fileRow.locator('td[data-size]').getAttribute('data-size')).toBe(String(bytes.length));
    expect(await fileRow.locator('a.download').getAttribute('href')).toBeTruthy();

    // ---- a .wharf folder (Wharf's local state, refused by every download) is refused before any upload
    await page.locator('#upload-folder').fill('raw/.wharf');
    await page
      .locator('#upload-files')
      .setInputFiles({ name: 'index.json', mimeType: 'application/json', buffer: Buffer.from('{}') });
    await expect
      .poll(() => page.locator('#upload').getByRole('alert').textContent())
      .toMatch(/\.wharf is reserved/);
    await page.locator('#upload-folder').fill('');

    // ---- edit the metadata through the form, see the change in the history diff, revert it
    await page.getByRole('link', { name: 'Edit metadata' }).click();
    await page.locator('#f-datasetInfo-keywords').waitFor();
    expect(await page.locator('#f-datasetInfo-keywords').inputValue()).toBe('kelp, ocean');
    await page.getByLabel('Reason for the change').fill('add a keyword');
    await page.locator('#f-datasetInfo-keywords').fill('kelp, ocean, tasmania');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#metadata').getByText('kelp, ocean, tasmania').waitFor();
    const diff = page.locator('table.diff');
    await diff.waitFor();
    expect(await diff.textContent()).toContain('datasetInfo.keywords');
    expect(await diff.locator('td.added').textContent()).toContain('tasmania');
    await shot(page, 'dataset-history-diff');
    await page.getByLabel('Reason for reverting to entry #1').fill('keep the keywords as minted');
    await page.getByRole('button', { name: 'Revert to #1' }).click();
    await page.getByText('Reverted to history entry #1.').waitFor();
    await page.locator('#history table.history tbody tr').nth(2).waitFor();
    await expect.poll(() => page.locator('#metadata').textContent()).not.toContain('tasmania');

    // ---- request approval naming rita (the admin, a reviewer too, is not offered: no one approves their own request)
    await page.locator('#approver option', { hasText: 'rita' }).waitFor({ state: 'attached' });
    expect(await page.locator('#approver option').allTextContents()).toEqual([
      '— choose a reviewer —',
      'rita',
    ]);
    await page.locator('#approver').selectOption('rita');
    await page.getByLabel('Notes for the reviewer').fill('please review the 2023 survey');
    await page.getByRole('button', { name: 'Request approval' }).click();
    await page.locator('.dataset-head [data-status="PENDING"]').waitFor();
    expect(await page.locator('#upload-files').count()).toBe(0); // frozen while pending
    await shot(page, 'dataset-pending');

    // ---- sign out, sign in as rita, approve in the queue
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    expect(await page.evaluate<string | null>("sessionStorage.getItem('wharf.token')")).toBeNull();
    await signIn(page, ritaToken);
    await page.getByRole('link', { name: 'Review queue' }).click();
    const queued = page.locator(`tr[data-id="${datasetId}"]`);
    await queued.waitFor();
    await shot(page, 'review-queue');
    await queued.getByLabel('Review notes').fill('looks good');
    await queued.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`${datasetId}: Approved`).waitFor();
    await page.getByText('Nothing waits for your review.').waitFor();

    // ---- the dataset is RELEASED and the upload controls are gone
    await page.goto(`${served!.url}/#/datasets/${datasetId}`);
    await page.locator('.dataset-head [data-status="RELEASED"]').waitFor();
    await page.locator('#release').getByText('looks good').waitFor();
    expect(await page.locator('#upload').count()).toBe(0);
    expect(await page.locator('#upload-files').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Edit metadata' }).count()).toBe(0);

    await shot(page, 'dataset-released-reviewer');

    // ---- keyboard only: Tab from the top of the list page to the search box, type, Enter
    await page.goto(`${served!.url}/#/datasets`);
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate<boolean>("document.activeElement?.id === 'search'");
    }
    expect(reached).toBe(true);
    await page.keyboard.type('kelp survey');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=kelp/);
    await page.locator(`tr[data-id="${datasetId}"]`).waitFor();
    expect(await page.locator(`tr[data-id="${datasetId}"] [data-status="RELEASED"]`).count()).toBe(1);
    await shot(page, 'datasets-search');

    // ---- back as the admin (a writer): RELEASED, no upload controls, the download link gives the exact bytes
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${served!.url}/#/datasets/${datasetId}`);
    await page.locator('.dataset-head [data-status="RELEASED"]').waitFor();
    const link = page.locator('tr[data-path="obs.csv"] a.download');
    await link.waitFor();
    expect(await page.locator('#upload').count()).toBe(0);
    expect(await page.locator('#upload-files').count()).toBe(0);
    const href = await link.getAttribute('href');
    const download = await fetch(new URL(href!, served!.url));
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    await shot(page, 'dataset-released');

    // ---- 375 px wide: no horizontal overflow on the list and the dataset page
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${served!.url}/#/datasets`);
    await page.locator(`tr[data-id="${datasetId}"]`).waitFor();
    const list = await noHorizontalOverflow(page);
    expect(list.scroll, JSON.stringify(list)).toBeLessThanOrEqual(list.client);
    await shot(page, 'datasets-375');
    await page.goto(`${served!.url}/#/datasets/${datasetId}`);
    await page.locator('tr[data-path="obs.csv"]').waitFor();
    await page.locator('#history table.diff').waitFor();
    const detail = await noHorizontalOverflow(page);
    expect(detail.scroll, JSON.stringify(detail)).toBeLessThanOrEqual(detail.client);
    await shot(page, 'dataset-375');

    // ---- an API error is a readable message, not JSON or a blank page
    await page.goto(`${served!.url}/#/datasets/10378.1/999999`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).not.toMatch(/[{}]/);
    expect(await alert.textContent()).toMatch(/999999/);

    // ---- a token revoked mid-session: the page you are on says so (a banner), not only the sign-in form
    const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const vera = (await (
      await fetch(`${served!.url}/tokens`, {
        method: 'POST',
        headers: asAdmin,
        body: JSON.stringify({ name: 'revoked soon', username: 'vera' }),
      })
    ).json()) as { token: string; tokenId: string };
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, vera.token);
    await page.goto(`${served!.url}/#/datasets`);
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    const revoked = await fetch(`${served!.url}/tokens/${vera.tokenId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(revoked.status).toBe(204);
    await page.goto(`${served!.url}/#/datasets/${datasetId}`);
    const banner = page.locator('.session-ended');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/no longer accepts your token \(revoked or expired\)/);
    await page.locator('.who').getByRole('link', { name: 'Sign in' }).waitFor();
    const pageError = page.locator('.error[role="alert"]');
    await pageError.waitFor();
    expect(await pageError.textContent()).not.toMatch(/Authorization|Bearer/);
    await shot(page, 'session-ended');

    expect(consoleErrors).toEqual([]);
    await context.close();
  }, 600_000);
});

/** The API as the admin (or `token`): JSON in, JSON out, the status checked. */
async function asUser<T>(method: string, path: string, body?: unknown, token = ADMIN_TOKEN): Promise<T> {
  const r = await fetch(`${served!.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

describe('web UI in Chromium: what users ran into', () => {
  let orgId: string;
  let olga: string;
  const mint = async (name: string, keywords = ['audit'], token = olga): Promise<string> =>
    (
      await asUser<{ id: string }>(
        'POST',
        '/datasets',
        sampleMetadata(name, { organisationId: orgId, keywords }),
        token,
      )
    ).id;
  const newPage = async (
    width = 1280,
  ): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> => {
    const context = await browser!.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    return { page, errors, close: () => context.close() };
  };

  beforeAll(async () => {
    orgId = (await asUser<{ id: string }>('POST', '/organisations', { name: 'Audit Org' })).id;
    olga = (await asUser<{ token: string }>('POST', '/tokens', { name: 'audit', username: 'olga' })).token;
  }, 120_000);

  it('the edit form puts a missing reason and a bad user-metadata key beside their own fields', async () => {
    const id = await mint('Form placement audit');
    const { page, errors, close } = await newPage();
    await signIn(page, olga);
    await page.goto(`${served!.url}/#/datasets/${id}/edit`);
    await page.locator('#f-datasetInfo-userMetadata').waitFor();
    // No reason: the API's `reason: required` marks the reason input and takes the focus.
    await page.getByRole('button', { name: 'Save changes' }).click();
    const reasonError = page.locator('#edit-reason-error');
    await reasonError.waitFor();
    expect(await reasonError.textContent()).toBe('required');
    const reason = page.locator('#edit-reason');
    expect(await reason.getAttribute('aria-invalid')).toBe('true');
    expect(await reason.getAttribute('aria-describedby')).toBe('edit-reason-error');
    await expect
      .poll(() => page.evaluate<string | undefined>('document.activeElement?.id'))
      .toBe('edit-reason');
    expect(await page.locator('#form-problems').textContent()).not.toContain('reason');

    // A key that is not a plain name (`datasetInfo.userMetadata["my key"]`) and an empty key: the user
    // metadata textarea, not the whole "Information" fieldset.
    await reason.fill('annotate');
    await page.locator('#f-datasetInfo-userMetadata').fill('my key =\n = orphan value\nsite = A');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const metaError = page.locator('#f-datasetInfo-userMetadata-error');
    await metaError.waitFor();
    expect(await metaError.locator('li').allTextContents()).toEqual([
      'key must not be empty or blank',
      'must not be empty or blank (my key)',
    ]);
    expect(await page.locator('#f-datasetInfo-userMetadata').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('fieldset[data-path="datasetInfo"]').getAttribute('class')).toBeNull();
    expect(await page.locator('#edit-reason-error').count()).toBe(0);
    await expect
      .poll(() => page.evaluate<string | undefined>('document.activeElement?.id'))
      .toBe('f-datasetInfo-userMetadata');
    await shot(page, 'edit-reason-and-user-metadata');

    await page.locator('#f-datasetInfo-userMetadata').fill('my key = kelp\nsite = A');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(new RegExp(`#/datasets/${id.replace('.', '\\.')}$`));
    await page.locator('#metadata').getByText('kelp').waitFor();
    expect(errors).toEqual([]);
    await close();
  }, 300_000);

  it('a page that loads first (a dataset, the edit form) moves the focus to its heading once it is there', async () => {
    const name = `Focus audit ${Date.now()}`;
    const id = await mint(name);
    const { page, errors, close } = await newPage();
    await signIn(page, olga);
    await page.goto(`${served!.url}/#/datasets?q=${encodeURIComponent(name)}`);
    const link = page.locator(`tr[data-id="${id}"] a`);
    await link.waitFor();
    await link.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name }).waitFor();
    await expect
      .poll(() => page.evaluate<string | undefined>("document.activeElement?.closest('h1')?.textContent"))
      .toBe(name);
    await page.getByRole('link', { name: 'Edit metadata' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: `Edit metadata of ${id}` }).waitFor();
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.tagName')).toBe('H1');
    // From the heading, Tab goes on into the page (the first control of the edit form).
    await page.keyboard.press('Tab');
    expect(
      await page.evaluate<string | undefined>("document.activeElement?.closest('main') ? 'main' : 'outside'"),
    ).toBe('main');
    expect(errors).toEqual([]);
    await close();
  }, 300_000);

  it('a session that ends while editing keeps the form: signing in again, the typed changes are still there and save', async () => {
    const id = await mint('Session audit');
    const short = await asUser<{ token: string; tokenId: string }>('POST', '/tokens', {
      name: 'short',
      username: 'olga',
    });
    const { page, errors, close } = await newPage();
    await signIn(page, short.token);
    await page.goto(`${served!.url}/#/datasets/${id}/edit`);
    await page.locator('#f-datasetInfo-purpose').waitFor();
    await page.getByLabel('Reason for the change').fill('explain the purpose');
    await page.locator('#f-datasetInfo-purpose').fill('A purpose written with care before the token went');
    await asUser('DELETE', `/tokens/${short.tokenId}`);
    await page.getByRole('button', { name: 'Save changes' }).click();
    // The service refuses the token: the sign-in form says why.
    await page.getByText('no longer accepts your token').waitFor();
    await shot(page, 'session-ended-edit');
    await page.getByLabel('API token').fill(olga);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: `Edit metadata of ${id}` }).waitFor();
    expect(await page.locator('#f-datasetInfo-purpose').inputValue()).toBe(
      'A purpose written with care before the token went',
    );
    expect(await page.getByLabel('Reason for the change').inputValue()).toBe('explain the purpose');
    // No leftover "sign in" error under the form now that you are signed in.
    expect(await page.locator('form.metadata-form .error').count()).toBe(0);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(new RegExp(`#/datasets/${id.replace('.', '\\.')}$`));
    await page.locator('#metadata').getByText('A purpose written with care').waitFor();

    // Someone else signing in after a session ended gets the page afresh, not the first user's typing.
    const short2 = await asUser<{ token: string; tokenId: string }>('POST', '/tokens', {
      name: 'short2',
      username: 'olga',
    });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, short2.token);
    await page.goto(`${served!.url}/#/datasets/${id}/edit`);
    await page.getByLabel('Reason for the change').waitFor();
    await page.getByLabel('Reason for the change').fill('typed by olga');
    await asUser('DELETE', `/tokens/${short2.tokenId}`);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('no longer accepts your token').waitFor();
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: `Edit metadata of ${id}` }).waitFor();
    await page.getByLabel('Reason for the change').waitFor();
    expect(await page.getByLabel('Reason for the change').inputValue()).toBe('');
    expect(errors).toEqual([]);
    await close();
  }, 300_000);

  it('the list keeps its page in the address (back from a dataset, reload, previous) and search says when there are more matches', async () => {
    for (let n = 0; n < 55; n++) await mint(`Audit paging ${String(n).padStart(2, '0')}`, ['auditpaging']);
    const { page, errors, close } = await newPage();
    await signIn(page, olga);
    // The row shown first once the page has loaded (the previous page stays shown meanwhile, aria-busy).
    const firstRow = async () => {
      await expect.poll(() => page.locator('main section[aria-busy]').count()).toBe(0);
      return page.locator('table.datasets tbody tr').first().getAttribute('data-id');
    };
    const pageLabel = () => page.locator('.pager .muted').textContent();
    await page.goto(`${served!.url}/#/datasets?sortBy=displayName&order=asc`);
    await page.locator('table.datasets').waitFor();
    const first = await firstRow();

    // While the next page loads, the pager waits: a second click would have paired page 3 with page 2's key.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/datasets\?.*paginationKey=/, async (route) => {
      await held;
      await route.continue();
    });
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(pageLabel).toBe('Page 2');
    await page.locator('main section[aria-busy="true"]').waitFor();
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);
    release();
    await expect.poll(() => page.url()).toMatch(/page=2/);
    const second = await firstRow();
    await page.unroute(/\/datasets\?.*paginationKey=/);
    expect(second).not.toBe(first);
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(pageLabel).toBe('Page 3');
    const third = await firstRow();
    expect(third).not.toBe(second);

    // Into a dataset and back: still page 3, not page 1.
    await page.locator('table.datasets tbody tr a').first().click();
    await page.locator('#history').waitFor();
    await page.goBack();
    await page.locator('table.datasets').waitFor();
    await expect.poll(pageLabel).toBe('Page 3');
    expect(await firstRow()).toBe(third);
    // A reload stays there too, and "Previous page" still knows page 2.
    await page.reload();
    await page.locator('table.datasets').waitFor();
    await expect.poll(pageLabel).toBe('Page 3');
    expect(await firstRow()).toBe(third);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(pageLabel).toBe('Page 2');
    expect(await firstRow()).toBe(second);
    // Browser back returns to page 3, forward to page 2.
    await page.goBack();
    await expect.poll(pageLabel).toBe('Page 3');
    await page.goForward();
    await expect.poll(pageLabel).toBe('Page 2');
    // A new sort starts again at page 1.
    await page.locator('#order').selectOption('desc');
    await expect.poll(pageLabel).toBe('Page 1');
    expect(page.url()).not.toMatch(/after=/);

    // 55 matches: the 50 best, saying so, and a way to see the rest.
    await page.goto(`${served!.url}/#/datasets?q=auditpaging`);
    const more = page.locator('#search-more');
    await more.waitFor();
    expect(await page.locator('table.datasets tbody tr').count()).toBe(50);
    expect(await more.textContent()).toContain('The 50 best matches are shown.');
    await page.getByRole('button', { name: 'Show more matches' }).click();
    await expect.poll(() => page.locator('table.datasets tbody tr').count()).toBe(55);
    expect(await more.count()).toBe(0);
    await shot(page, 'datasets-search-more');
    expect(errors).toEqual([]);
    await close();
  }, 300_000);

  it('an empty list says why: no public datasets for a visitor, none with the chosen release status', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(`${served!.url}/#/datasets`);
    const empty = page.locator('p.empty');
    await empty.waitFor();
    expect(await empty.textContent()).toBe(
      'No public datasets here yet. Sign in to see the datasets shared with you.',
    );
    await signIn(page, olga);
    await page.goto(`${served!.url}/#/datasets?status=PENDING`);
    await page.getByText('No dataset has this release status.').waitFor();
    expect(errors).toEqual([]);
    await close();
  }, 300_000);

  it('a service that cannot be reached: the edit form keeps its text and says to try again (not to reload); a failed part of a page does not stay "Loading…"', async () => {
    const id = await mint('Network audit');
    const { page, errors, close } = await newPage();
    await signIn(page, olga);
    await page.goto(`${served!.url}/#/datasets/${id}/edit`);
    await page.locator('#f-datasetInfo-purpose').waitFor();
    await page.getByLabel('Reason for the change').fill('offline edit');
    await page.locator('#f-datasetInfo-purpose').fill('Typed while the network was down');
    await page.context().setOffline(true);
    await page.getByRole('button', { name: 'Save changes' }).click();
    const alert = page.locator('form.metadata-form .error[role="alert"]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^Cannot reach the Wharf service .* then try again$/);
    expect(await alert.textContent()).not.toMatch(/reload/i);
    await page.context().setOffline(false);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(new RegExp(`#/datasets/${id.replace('.', '\\.')}$`));
    await page.locator('#metadata').getByText('Typed while the network was down').waitFor();

    // The history request fails (the rest of the page loaded): its error, not a "Loading history…" forever.
    await page.route(/\/history$/, (route) => route.abort('connectionrefused'));
    await page.reload();
    await page.locator('#history [role="alert"]').waitFor();
    expect(await page.locator('#history').textContent()).not.toContain('Loading history');
    expect(errors).toEqual([]);
    await close();
  }, 300_000);

  it('the review queue shows who requested the release, when, and their notes (as text; long ones shortened, all on request)', async () => {
    const rex = (
      await asUser<{ token: string }>('POST', '/tokens', { name: 'review audit', username: 'rex' })
    ).token;
    await asUser('PUT', '/reviewers/rex');
    const longId = await mint('Review notes audit long');
    const emptyId = await mint('Review notes audit empty');
    const notes =
      '<b>not bold</b> & <img src=x onerror="window.__xss=1">\n' +
      'Please check the 2023 survey. '.repeat(20) +
      'END-OF-NOTES-MARKER';
    await asUser('POST', `/datasets/${longId}/release/request`, { approver: 'rex', notes }, olga);
    await asUser('POST', `/datasets/${emptyId}/release/request`, { approver: 'rex' }, olga);
    // More than a page (20): the two above are the oldest requests, so on page 1; the last two on page 2.
    const later: string[] = [];
    for (let n = 0; n < 20; n++) {
      const id = await mint(`Review paging ${String(n).padStart(2, '0')}`);
      await asUser('POST', `/datasets/${id}/release/request`, { approver: 'rex', notes: `batch ${n}` }, olga);
      later.push(id);
    }
    const { page, errors, close } = await newPage();
    // Signing in lands on the dataset list; its GET /datasets must not be taken for one of the queue's calls.
    const listed = page.waitForResponse((r) => new URL(r.url()).pathname === '/datasets');
    await signIn(page, rex);
    await listed;
    // The API calls the queue makes (not one per row: the requests come with the datasets).
    const apiCalls: string[] = [];
    page.on('request', (r) => {
      const { pathname } = new URL(r.url());
      if (pathname !== '/' && !pathname.startsWith('/ui/')) apiCalls.push(`${r.method()} ${pathname}`);
    });
    await page.goto(`${served!.url}/#/review`);

    const row = page.locator(`tr[data-id="${longId}"]`);
    const request = row.locator('td[data-label="Request"]');
    await request.locator('.notes-text').waitFor();
    expect(await request.locator('.request-by').textContent()).toMatch(/^Requested by olga on .+/);
    expect(await request.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Text, not HTML: the tags are shown as typed and nothing of them runs.
    const shown = (await request.locator('.notes-text').textContent())!;
    expect(shown.startsWith('<b>not bold</b> & <img src=x onerror="window.__xss=1">\nPlease check')).toBe(
      true,
    );
    expect(await request.locator('b, img').count()).toBe(0);
    expect(await page.evaluate<unknown>('window.__xss')).toBeUndefined();
    // Long: the start, then "Show all notes" for the rest.
    expect(shown).not.toContain('END-OF-NOTES-MARKER');
    expect(shown.endsWith('…')).toBe(true);
    const more = request.getByRole('button', { name: 'Show all notes' });
    expect(await more.getAttribute('aria-expanded')).toBe('false');
    await more.click();
    expect(await request.locator('.notes-text').textContent()).toBe(notes);
    expect(await request.getByRole('button', { name: 'Show less' }).getAttribute('aria-expanded')).toBe(
      'true',
    );
    await shot(page, 'review-queue-notes');
    expect(apiCalls.filter((c) => /review-queue|datasets/.test(c))).toEqual(['GET /review-queue']);

    const empty = page.locator(`tr[data-id="${emptyId}"] td[data-label="Request"]`);
    await empty.getByText('No notes.').waitFor();
    expect(await empty.getByRole('button').count()).toBe(0);

    // The rest of the queue: "Next page" shows the requests after the first 20, in one request too.
    const rowIds = async () => {
      await expect.poll(() => page.locator('main section[aria-busy]').count()).toBe(0);
      return page
        .locator('table.datasets tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    };
    const pageLabel = () => page.locator('.pager .muted').textContent();
    expect(await rowIds()).toEqual([longId, emptyId, ...later.slice(0, 18)]);
    expect(await pageLabel()).toBe('Page 1');
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(pageLabel).toBe('Page 2');
    expect(await rowIds()).toEqual(later.slice(18));
    expect(page.url()).toMatch(/#\/review\?page=2&after=/);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    const lastRequest = page.locator(`tr[data-id="${later[19]}"] td[data-label="Request"]`);
    expect(await lastRequest.locator('.notes-text').textContent()).toBe('batch 19');
    expect(apiCalls.filter((c) => /review-queue|datasets/.test(c))).toEqual([
      'GET /review-queue',
      'GET /review-queue',
    ]);
    await shot(page, 'review-queue-page-2');
    // A reload stays on page 2; "Previous page" goes back to the first.
    await page.reload();
    await expect.poll(pageLabel).toBe('Page 2');
    expect(await rowIds()).toEqual(later.slice(18));
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(pageLabel).toBe('Page 1');
    expect((await rowIds())[0]).toBe(longId);

    // At 375 px the notes wrap inside their card.
    await page.setViewportSize({ width: 375, height: 800 });
    const narrow = await noHorizontalOverflow(page);
    expect(narrow.scroll, JSON.stringify(narrow)).toBeLessThanOrEqual(narrow.client);
    await close();
    expect(errors).toEqual([]);
  }, 300_000);

  it('a truncated or over-long dataset address says it is not a page, with a link back to the list', async () => {
    const id = await mint('Route audit');
    const { page, errors, close } = await newPage();
    await signIn(page, olga);
    const heading = () => page.locator('main h1').textContent();
    await page.goto(`${served!.url}/#/datasets/10378.1`);
    await expect.poll(heading).toBe('Not a dataset id');
    expect(await page.locator('main').textContent()).toContain('10378.1 is not a dataset id');
    expect(await page.locator('table.datasets').count()).toBe(0);
    await page.getByRole('link', { name: 'Go to the dataset list' }).click();
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    expect(page.url()).toMatch(/#\/datasets$/);

    for (const [hash, title] of [
      ['#/datasets/a/b/c/d', 'Not a dataset id'],
      [`#/datasets/${id}/files/x`, 'Page not found'],
      [`#/datasets/${id}/edit/x`, 'Page not found'],
      ['#/datasets/new/x', 'Not a dataset id'],
      ['#/review/x', 'Page not found'],
      ['#/nowhere', 'Page not found'],
    ] as const) {
      await page.goto(`${served!.url}/${hash}`);
      await expect.poll(heading, { message: hash }).toBe(title);
      expect(await page.locator('main').textContent(), hash).toContain(`There is no page ${hash}.`);
      expect(await page.getByRole('link', { name: 'Go to the dataset list' }).count(), hash).toBe(1);
    }
    // A dataset's unknown sub-page links to the dataset itself.
    await page.goto(`${served!.url}/#/datasets/${id}/files/x`);
    await page.getByRole('link', { name: id }).click();
    await page.getByRole('heading', { level: 1, name: 'Route audit' }).waitFor();
    await close();
    expect(errors).toEqual([]);
  }, 300_000);

  it('the page has its own icon: the browser does not ask for /favicon.ico (no 404 in the console)', async () => {
    const { page, errors, close } = await newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(`${served!.url}/#/datasets`);
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    await page.locator('table.datasets, p.empty').first().waitFor(); // signed out: maybe no public dataset
    // The icon is asked for once the page has loaded; give it the time to fail, as it did.
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(1000);
    expect(consoleErrors).toEqual([]);
    expect(
      await page.evaluate<string | null>(
        "document.querySelector('link[rel=icon]')?.href.slice(0, 26) ?? null",
      ),
    ).toBe('data:image/svg+xml;base64,');
    await close();
    expect(errors).toEqual([]);
    // The icon is in the page itself (the CSP allows data: images), an SVG.
    const html = await (await fetch(`${served!.url}/`)).text();
    const icon =
      /<link rel="icon" type="image\/svg\+xml" href="data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)"/.exec(
        html,
      );
    expect(icon, html).toBeTruthy();
    expect(Buffer.from(icon![1]!, 'base64').toString('utf8')).toMatch(
      /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/,
    );
  }, 300_000);

  it('the service pages outside the UI (/docs, JSON opened directly) get the icon at /favicon.ico: no 404', async () => {
    const { page, errors, close } = await newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
    });
    // A JSON answer has no icon link: the browser asks for /favicon.ico (a 404 in the console before).
    await page.goto(`${served!.url}/openapi.json`);
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(1000);
    await page.goto(`${served!.url}/docs`);
    await page.locator('.swagger-ui .info').waitFor();
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(1000);
    expect(consoleErrors).toEqual([]);
    // /docs names the same icon; it loads as an image.
    expect(await page.evaluate<string | null>("document.querySelector('link[rel=icon]')?.href ?? null")).toBe(
      `${served!.url}/favicon.ico`,
    );
    expect(
      await page.evaluate<number>(
        "new Promise((resolve) => { const i = new Image(); i.onload = () => resolve(i.naturalWidth); i.onerror = () => resolve(-1); i.src = '/favicon.ico'; })",
      ),
    ).toBeGreaterThan(0);
    await close();
    expect(errors).toEqual([]);
  }, 300_000);

  it('short text fields are one-line inputs, descriptions and other prose are textareas', async () => {
    const { page, errors, close } = await newPage();
    await signIn(page, olga);
    await page.goto(`${served!.url}/#/datasets/new`);
    await page.locator('#f-datasetInfo-name').waitFor();
    const tag = (path: string) =>
      page.evaluate<string | null>(
        `document.getElementById(${JSON.stringify(`f-${path.replace(/\./g, '-')}`)})?.tagName ?? null`,
      );
    for (const path of [
      'associations.pointOfContact',
      'datasetInfo.name',
      'datasetInfo.rightsHolder',
      'datasetInfo.spatialInfo.resolution',
      'datasetInfo.temporalInfo.resolution',
    ]) {
      expect(await tag(path), path).toBe('INPUT');
    }
    for (const path of [
      'datasetInfo.description',
      'datasetInfo.purpose',
      'datasetInfo.usageLimitations',
      'datasetInfo.preferredCitation',
      'datasetInfo.accessInfo.description',
      'datasetInfo.spatialInfo.coverage',
      'datasetInfo.spatialInfo.extent',
      'datasetInfo.userMetadata',
    ]) {
      expect(await tag(path), path).toBe('TEXTAREA');
    }
    // A one-line input sets no limit of its own: the API's (100,000 characters) still decides.
    const contact = page.locator('#f-associations-pointOfContact');
    expect(await contact.getAttribute('maxlength')).toBeNull();
    await contact.fill('x'.repeat(2000));
    expect((await contact.inputValue()).length).toBe(2000);
    await shot(page, 'mint-short-fields');
    await close();
    expect(errors).toEqual([]);
  }, 300_000);
});
