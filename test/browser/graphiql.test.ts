/**
 * GraphiQL as a new user meets it, in a real Chromium: the page loads with no
 * token and from Tessera alone (no CDN, no font host), a token typed into its
 * Headers tab authenticates the query, and the schema can then be fetched
 * for the documentation explorer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chromiumPath, launchChromium } from '../support/browser.ts';
import { BOOTSTRAP_TOKEN, startServer, type TestServer } from '../support/harness.ts';
import { mint } from '../support/operations.ts';

const executablePath = chromiumPath();

describe.skipIf(executablePath === null)('GraphiQL in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let secret: string;
  /** Every request the page made, and those to anywhere but Tessera (refused). */
  const requests: { method: string; url: string; status?: number }[] = [];
  const foreign: string[] = [];

  /** The results pane as text (the editor renders spaces as no-break spaces). */
  const responseText = async () => (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' ');

  beforeAll(async () => {
    server = await startServer('sqlite');
    secret = (await mint(server, BOOTSTRAP_TOKEN, { username: 'grace', name: 'graphiql', scopes: ['user:token', 'read:all'] })).secret;
    browser = await launchChromium(executablePath as string);
    page = await browser.newPage();
    const origin = new URL(server.url).origin;
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    page.on('response', (response) => requests.push({ method: response.request().method(), url: response.url(), status: response.status() }));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads without a token, from Tessera only, and says that a token is needed', async () => {
    await page.goto(server.url, { waitUntil: 'networkidle' });
    await page.locator('.graphiql-execute-button').waitFor();
    expect(foreign).toEqual([]);
    expect(requests[0]).toMatchObject({ method: 'GET', url: server.url, status: 200 });
    // Its first schema request has no token yet: refused, and the refusal is shown.
    expect(requests.filter((request) => request.method === 'POST').map((request) => request.status)).toContain(401);
    await expect.poll(responseText).toContain('"code": "UNAUTHENTICATED"');
  });

  it('runs the query with the token typed into the Headers tab', async () => {
    await page.getByText('Headers', { exact: true }).click();
    await page.locator('.graphiql-editor-tool .graphiql-editor').last().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    // insertText, not type: the editor would close the braces and quotes itself.
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${secret}` }));
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(responseText).toContain('"username": "grace"');
    expect(await responseText()).toContain('"isAdmin": false');
  });

  it('fetches the schema with that token for the documentation explorer', async () => {
    const before = requests.length;
    await page.getByRole('button', { name: /re-fetch graphql schema/i }).click();
    await expect.poll(() => requests.slice(before).some((request) => request.method === 'POST' && request.status === 200)).toBe(true);
    await page.getByRole('button', { name: /documentation explorer/i }).click();
    await page.getByText('Query', { exact: true }).first().click();
    await expect.poll(() => page.locator('.graphiql-doc-explorer').innerText()).toContain('tokenHistory');
    expect(foreign).toEqual([]);
  });
});
