/**
 * The web console as people use it, in a real Chromium, on both engines: found
 * by roles and labels (the names SPEC's "Web console" makes a contract), served
 * by Tessera itself under its strict Content-Security-Policy, talking to
 * nothing but its own origin. Every flow: sign-in and sign-out, the tokens
 * table, New token (by keyboard only) and its one-time secret, typed errors,
 * Edit, Rotate, Revoke, a token's page, the history with its filters, paging
 * and live updates, an admin's view, axe-core's check on every page, and a
 * 360 px wide screen. It also takes the README's two screenshots.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { chromiumPath, launchChromium } from '../support/browser.ts';
import { ensureConsoleBuilt, seriousViolations } from '../support/console.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { EDIT, TOKENS, VIEWER, daysFromNow, expectNoErrors, lookup, mint, revoke, type Minted } from '../support/operations.ts';

const executablePath = chromiumPath();
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

let browser: Browser;

beforeAll(async () => {
  if (executablePath === null) return;
  ensureConsoleBuilt();
  browser = await launchChromium(executablePath);
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

/** The row of a table whose row header (the token's name) is exactly `name`. */
const rowOf = (page: Page, name: string): Locator => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });

/** The text of the elements a control names in aria-describedby: where its typed error is shown. */
const descriptionOf = (control: Locator): Promise<string> =>
  control.evaluate((element) =>
    (element.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' '),
  );

const isFocused = (control: Locator): Promise<boolean> => control.evaluate((element) => element === document.activeElement);

/** What the focused element is called, as far as these tests need: a button's text, or a control's label. */
const focusedName = (page: Page): Promise<string> =>
  page.evaluate(() => {
    const element = document.activeElement;
    if (!(element instanceof HTMLElement)) return '';
    if (element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement) {
      return (element.labels?.[0]?.textContent ?? '').trim();
    }
    return (element.textContent ?? '').trim();
  });

/** Presses Tab until the focused element is called `name` (keyboard-only use: no clicks). */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let presses = 0; presses < 40; presses += 1) {
    if ((await focusedName(page)) === name) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached "${name}"`);
}

/**
 * The README's pictures, at 1280×800 with data that reads the same on every run
 * (names, relative expiries, no use yet, a fixed expiry date in the dialog).
 */
async function takeScreenshots(page: Page): Promise<void> {
  mkdirSync(DOCS, { recursive: true });
  await page.screenshot({ path: `${DOCS}console-tokens.png` });
  await page.getByRole('button', { name: 'New token' }).click();
  const dialog = page.getByRole('dialog', { name: 'New token' });
  await dialog.getByRole('textbox', { name: 'Name' }).fill('deploy key');
  await dialog.getByRole('checkbox', { name: 'read:all' }).check();
  await dialog.getByRole('combobox', { name: 'Expires' }).selectOption({ label: 'On a date…' });
  await dialog.getByLabel('Expiry date').fill('2030-01-31');
  await dialog.getByRole('textbox', { name: 'Note' }).fill('Used by the deploy job');
  await dialog.getByRole('button', { name: 'Create' }).focus();
  await page.screenshot({ path: `${DOCS}console-new-token.png` });
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
}

const yesterday = (): string => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

describe.skipIf(executablePath === null).each(executablePath === null ? [] : engines())('the web console on %s', (engine) => {
  let server: TestServer;
  let origin: string;
  let context: BrowserContext;
  let page: Page;
  let alice: Minted;
  let admin: Minted;
  let ci: Minted;
  let laptop: Minted;
  const foreign: string[] = [];
  const refusals: string[] = [];
  /** When the page's tokenChanges stream was answered (its headers arrived). */
  let streamsOpened = 0;

  beforeAll(async () => {
    server = await startServer(engine);
    origin = new URL(server.url).origin;
    alice = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'main', scopes: ['user:token', 'read:all', 'exec:notebook'] });
    admin = await mint(server, BOOTSTRAP_TOKEN, { username: 'admin', name: 'admin', scopes: ['admin:token', 'user:token', 'read:all'] });
    ci = await mint(server, alice.secret, { name: 'ci deploys', scopes: ['read:all'], expires: daysFromNow(3, server.clock) });
    laptop = await mint(server, alice.secret, { name: 'laptop', scopes: ['read:all', 'exec:notebook'], expires: daysFromNow(30, server.clock) });
    // A fixed locale, time zone and size: the relative times and the screenshots read the same on every run.
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'UTC', colorScheme: 'light' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    page = await context.newPage();
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin !== origin && url.protocol !== 'data:') foreign.push(request.url());
    });
    page.on('response', (response) => {
      const request = response.request();
      if (request.method() === 'POST' && (request.postData() ?? '').includes('tokenChanges')) streamsOpened += 1;
    });
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) refusals.push(message.text());
    });
    page.on('pageerror', (error) => refusals.push(String(error)));
  });
  afterAll(async () => {
    await context?.close();
    await server?.close();
  });

  it('serves the sign-in page under a strict CSP; a bad token shows an alert and stays signed out', async () => {
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(response?.headers()['content-security-policy']).not.toContain('unsafe-inline');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('textbox', { name: 'Token' }).fill('tsr_not-a-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not accepted');
    expect(await page.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('signs in with a token kept in sessionStorage only, and shows the username and the navigation', async () => {
    await page.getByRole('textbox', { name: 'Token' }).fill(alice.secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tokens', level: 1 }).waitFor();
    expect(await page.getByRole('banner').textContent()).toContain('alice');
    await page.getByRole('link', { name: 'Tokens' }).waitFor();
    await page.getByRole('link', { name: 'History' }).waitFor();
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([alice.secret]);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await context.cookies()).toEqual([]);
  });

  it('lists the tokens with type, scopes, status, relative expiry with its absolute time, and last use', async () => {
    const ciRow = rowOf(page, 'ci deploys');
    await ciRow.waitFor();
    const ciText = await ciRow.textContent();
    for (const part of ['User', 'read:all', 'Active', 'in 3 days', 'Never used']) expect(ciText).toContain(part);
    const expiry = ciRow.locator('time');
    expect(await expiry.getAttribute('datetime')).toBe(ci.token.expiresAt);
    expect(await expiry.getAttribute('title')).toMatch(/\d{4}/);
    expect(await rowOf(page, 'laptop').textContent()).toContain('in 30 days');
    expect(await rowOf(page, 'main').textContent()).toContain('Never');
    for (const button of ['Edit', 'Rotate', 'Revoke']) await ciRow.getByRole('button', { name: button }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    if (engine === 'sqlite') await takeScreenshots(page);

    // A use is shown with its address once recorded.
    await server.tessera.flushUsage();
    await page.reload();
    await expect.poll(() => rowOf(page, 'main').textContent()).toMatch(/(now|seconds? ago|minute ago).*from 127\.0\.0\.1/);
  });

  it('opens New token as a modal dialog with Name, one checkbox per scope of the viewer, Expires and Note', async () => {
    await page.getByRole('button', { name: 'New token' }).click();
    const dialog = page.getByRole('dialog', { name: 'New token' });
    await dialog.waitFor();
    expect(await isFocused(dialog.getByRole('textbox', { name: 'Name' }))).toBe(true);
    const scopes = await dialog
      .getByRole('group', { name: 'Scopes' })
      .getByRole('checkbox')
      .evaluateAll((boxes) => boxes.map((box) => (box as HTMLInputElement).labels?.[0]?.textContent));
    expect(scopes.sort()).toEqual(['exec:notebook', 'read:all', 'user:token']);
    await dialog.getByRole('combobox', { name: 'Expires' }).waitFor();
    await dialog.getByRole('textbox', { name: 'Note' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // Focus goes back to what opened the dialog.
    expect(await isFocused(page.getByRole('button', { name: 'New token' }))).toBe(true);
  });

  it('creates a token by keyboard only, shows its secret once with Copy, and forgets it after Done', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Tokens', level: 1 }).waitFor();
    await tabTo(page, 'New token');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New token' });
    await dialog.waitFor();
    await page.keyboard.type('deploy key');
    await tabTo(page, 'read:all');
    await page.keyboard.press('Space');
    await tabTo(page, 'Note');
    await page.keyboard.type('Used by the deploy job');
    await tabTo(page, 'Create');
    await page.keyboard.press('Enter');

    const secretDialog = page.getByRole('dialog', { name: 'Copy your new token' });
    await secretDialog.waitFor();
    const field = secretDialog.getByRole('textbox', { name: 'Secret' });
    expect(await field.getAttribute('readonly')).not.toBeNull();
    const secret = await field.inputValue();
    expect(secret).toMatch(/^tsr_[0-9A-Za-z]{251}$/);
    expect(await isFocused(field)).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await tabTo(page, 'Copy');
    await page.keyboard.press('Enter');
    await expect.poll(() => secretDialog.getByRole('status').textContent()).toContain('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await tabTo(page, 'Done');
    await page.keyboard.press('Space');
    await secretDialog.waitFor({ state: 'detached' });

    // Gone from the page, not just hidden; focus is back where the flow started.
    expect(await page.content()).not.toContain(secret);
    expect(await page.evaluate((value) => [...document.querySelectorAll('input')].some((input) => input.value === value), secret)).toBe(false);
    expect(await isFocused(page.getByRole('button', { name: 'New token' }))).toBe(true);
    await rowOf(page, 'deploy key').waitFor();

    // What the API now holds: the token as asked (30 days by default), and the secret works.
    const viewer = expectNoErrors(await server.request(VIEWER, {}, { token: secret })).viewer;
    expect(viewer).toMatchObject({ username: 'alice', scopes: ['read:all'] });
    const created = expectNoErrors(await server.request(TOKENS, { filter: { nameContains: 'deploy key' } }, { token: alice.secret })).tokens.edges[0]?.node;
    expect(created).toMatchObject({ name: 'deploy key', scopes: ['read:all'], note: 'Used by the deploy job' });
    expect(Math.abs(Date.parse(created?.expiresAt ?? '') - (Date.now() + 30 * 86_400_000))).toBeLessThan(120_000);
  });

  it('shows typed errors next to the field they name, and creates nothing', async () => {
    const before = await server.tessera.db.token.count();
    await page.getByRole('button', { name: 'New token' }).click();
    const dialog = page.getByRole('dialog', { name: 'New token' });
    const name = dialog.getByRole('textbox', { name: 'Name' });
    await name.fill('ci deploys');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => name.getAttribute('aria-invalid')).toBe('true');
    expect(await descriptionOf(name)).toContain('ci deploys');

    await name.fill('next year');
    const expires = dialog.getByRole('combobox', { name: 'Expires' });
    await expires.selectOption({ label: 'On a date…' });
    await dialog.getByLabel('Expiry date').fill(yesterday());
    await dialog.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => expires.getAttribute('aria-invalid')).toBe('true');
    expect(await descriptionOf(expires)).toMatch(/minutes|future/i);
    expect(await name.getAttribute('aria-invalid')).toBeNull();
    expect(await seriousViolations(page)).toEqual([]);

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await server.tessera.db.token.count()).toBe(before);
  });

  it('edits a token: name, scopes, expiry and note', async () => {
    await rowOf(page, 'laptop').getByRole('button', { name: 'Edit' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit laptop' });
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('textbox', { name: 'Name' }).fill('old laptop');
    await dialog.getByRole('checkbox', { name: 'exec:notebook' }).uncheck();
    await dialog.getByRole('combobox', { name: 'Expires' }).selectOption({ label: 'In 7 days' });
    await dialog.getByRole('textbox', { name: 'Note' }).fill('to be replaced');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => rowOf(page, 'old laptop').textContent()).toContain('in 7 days');
    const edited = await lookup(server, laptop.token.key);
    expect(edited).toMatchObject({ name: 'old laptop', scopes: ['read:all'], note: 'to be replaced' });
  });

  it('rotates a token with a grace period and shows the new secret once', async () => {
    await rowOf(page, 'old laptop').getByRole('button', { name: 'Rotate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate old laptop' });
    await dialog.getByRole('combobox', { name: 'Grace period' }).selectOption({ label: '1 hour' });
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'Copy your new token' });
    const secret = await secretDialog.getByRole('textbox', { name: 'Secret' }).inputValue();
    await secretDialog.getByRole('button', { name: 'Done' }).click();
    await secretDialog.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secret);

    expect(expectNoErrors(await server.request(VIEWER, {}, { token: secret })).viewer.username).toBe('alice');
    const old = await lookup(server, laptop.token.key);
    expect(old?.valid).toBe(true);
    expect(Date.parse(old?.expiresAt ?? '')).toBeLessThanOrEqual(Date.now() + 3_600_000 + 5_000);
    // Both show: the new token, and the old one, marked replaced, for its grace period (only Revoke is left to do to it).
    await expect.poll(() => rowOf(page, 'old laptop').count()).toBe(2);
    const replaced = rowOf(page, 'old laptop').filter({ hasText: 'replaced' });
    expect(await replaced.count()).toBe(1);
    expect(await replaced.getByRole('button').allTextContents()).toEqual(['Revoke']);
  });

  it('revokes a token only after confirmation', async () => {
    await rowOf(page, 'ci deploys').getByRole('button', { name: 'Revoke' }).click();
    let dialog = page.getByRole('dialog', { name: 'Revoke ci deploys?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await lookup(server, ci.token.key))?.valid).toBe(true);

    await rowOf(page, 'ci deploys').getByRole('button', { name: 'Revoke' }).click();
    dialog = page.getByRole('dialog', { name: 'Revoke ci deploys?' });
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => rowOf(page, 'ci deploys').count()).toBe(0);
    expect((await lookup(server, ci.token.key))?.valid).toBe(false);
  });

  it("shows a token's page with its details, its derived tokens and its history, also when loaded directly", async () => {
    await mint(server, alice.secret, { tokenType: 'NOTEBOOK', parent: alice.token.key, scopes: ['read:all'] });
    await rowOf(page, 'main').getByRole('link', { name: 'main' }).click();
    await page.getByRole('heading', { name: 'main', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/tokens/${alice.token.key}`);
    expect(await page.locator('dl.details').textContent()).toContain(alice.token.key);
    await expect.poll(() => page.getByRole('table', { name: /derived from this one/ }).textContent()).toContain('Notebook');
    expect(await page.getByRole('table', { name: /Changes to this token/ }).textContent()).toContain('Created');
    expect(await seriousViolations(page)).toEqual([]);

    await page.reload();
    await page.getByRole('heading', { name: 'main', level: 1 }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Tokens', level: 1 }).waitFor();
  });

  it('pages the history with Older and Newer, newest first, and filters it', async () => {
    // 30 edits of one token: more than a page of 25.
    for (let edit = 1; edit <= 30; edit += 1) {
      expectNoErrors(await server.request(EDIT, { input: { key: alice.token.key, note: `edit ${edit}` } }, { token: alice.secret }));
    }
    await page.getByRole('link', { name: 'History' }).click();
    await page.getByRole('heading', { name: 'History', level: 1 }).waitFor();
    const table = page.getByRole('table', { name: 'Change history' });
    const rows = table.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(25);
    const times = await table.locator('tbody time').evaluateAll((elements) => elements.map((element) => element.getAttribute('datetime') ?? ''));
    expect(times).toEqual([...times].sort().reverse());
    expect(await seriousViolations(page)).toEqual([]);

    const newer = page.getByRole('button', { name: 'Newer' });
    const older = page.getByRole('button', { name: 'Older' });
    expect(await newer.isDisabled()).toBe(true);
    // Entries are told apart by their times (the relative text changes as the test runs).
    const pageTimes = () =>
      table.locator('tbody tr td:first-child time').evaluateAll((elements) => elements.map((element) => element.getAttribute('datetime')));
    const pageOne = await pageTimes();
    await older.click();
    await expect.poll(() => newer.isDisabled()).toBe(false);
    await expect.poll(async () => (await pageTimes())[0]).not.toBe(pageOne[0]);
    const pageTwo = await pageTimes();
    expect(pageTwo.length).toBeGreaterThan(0);
    expect(pageTwo.every((time) => (time ?? '') <= (pageOne.at(-1) ?? ''))).toBe(true);
    await newer.click();
    await expect.poll(pageTimes).toEqual(pageOne);

    await page.getByRole('combobox', { name: 'Action' }).selectOption({ label: 'Revoked' });
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('ci deploys');
    await page.getByRole('combobox', { name: 'Action' }).selectOption({ label: 'Any' });
    await page.getByRole('textbox', { name: 'Token key' }).fill(ci.token.key);
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => rows.count()).toBe(2);
  });

  it('shows an entry recorded elsewhere at the top within 2 seconds, without a reload', async () => {
    // Counted before the reload: the reloaded page's stream may be answered before its rows are counted.
    const opened = streamsOpened;
    await page.reload();
    const rows = page.getByRole('table', { name: 'Change history' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(25);
    await expect.poll(() => streamsOpened, { timeout: 10_000 }).toBeGreaterThan(opened);
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));

    await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'from the api', scopes: [] });
    const recorded = Date.now();
    await expect.poll(() => rows.first().textContent(), { timeout: 2_000, interval: 50 }).toContain('from the api');
    expect(Date.now() - recorded).toBeLessThan(2_000);
    expect(navigations).toEqual([]);

    // On an older page, new entries are counted instead, until the reader goes back to the top.
    await page.getByRole('button', { name: 'Older' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Newer' }).isDisabled()).toBe(false);
    await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'while away', scopes: [] });
    const notice = page.getByRole('button', { name: /1 new entry/ });
    await notice.waitFor({ timeout: 2_000 });
    await notice.click();
    await expect.poll(() => rows.first().textContent()).toContain('while away');
  });

  it('fits a 360 px wide screen: the page never scrolls sideways, tables scroll inside their region', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    try {
      for (const [path, heading] of [
        ['/tokens', 'Tokens'],
        ['/history', 'History'],
        [`/tokens/${alice.token.key}`, 'main'],
      ] as const) {
        await page.goto(`${origin}${path}`);
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
        await page.locator('table').first().waitFor();
        expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), path).toBeLessThanOrEqual(0);
        const region = page.locator('.table-wrap').first();
        expect(await region.evaluate((element) => element.scrollWidth > element.clientWidth), path).toBe(true);
      }
      await page.goto(`${origin}/tokens`);
      await page.getByRole('button', { name: 'New token' }).click();
      await page.getByRole('dialog', { name: 'New token' }).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
      expect(await seriousViolations(page)).toEqual([]);
      await page.keyboard.press('Escape');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('signs out, forgetting the token; an admin looks at another user’s tokens and filters history by address', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('textbox', { name: 'Token' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();

    await page.getByRole('textbox', { name: 'Token' }).fill(admin.secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const user = page.getByRole('textbox', { name: 'User' });
    await user.waitFor();
    expect(await user.inputValue()).toBe('admin');
    await user.fill('alice');
    await page.getByRole('button', { name: 'Search' }).click();
    await rowOf(page, 'deploy key').waitFor();
    expect(await page.getByRole('table', { name: /Tokens of alice/ }).count()).toBe(1);
    expect(await rowOf(page, 'admin').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('link', { name: 'History' }).click();
    const address = page.getByRole('textbox', { name: 'IP address or CIDR' });
    await page.getByRole('textbox', { name: 'Username' }).waitFor();
    await page.getByRole('textbox', { name: 'Actor' }).waitFor();
    await address.fill('not-an-address');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => address.getAttribute('aria-invalid')).toBe('true');
    expect(await descriptionOf(address)).not.toBe('');
    await address.fill('127.0.0.0/8');
    await page.getByRole('textbox', { name: 'Actor' }).fill('alice');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => address.getAttribute('aria-invalid')).toBeNull();
    const rows = page.getByRole('table', { name: 'Change history' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    for (const text of await rows.allTextContents()) expect(text).toContain('127.0.0.1');
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('ends the session when its token is revoked elsewhere', async () => {
    await revoke(server, BOOTSTRAP_TOKEN, admin.token.key);
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('status').textContent()).toContain('no longer accepted');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('asked nothing of any other origin, and the CSP refused nothing', () => {
    expect(foreign).toEqual([]);
    expect(refusals).toEqual([]);
  });
});
