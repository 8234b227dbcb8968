/**
 * The typed client example (examples/token-page.ts on examples/client.ts, urql
 * with its defaults) run against a real server on both engines: each step of
 * a token page does what it says, the server agrees afterwards, urql sends its
 * queries as GET and its mutations as POST with no header but Authorization,
 * its cache does not serve a token it was told changed, and as a program it
 * prints no secret and exits non-zero on failure.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runTokenPage, type TokenPageRun } from '../../examples/token-page.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { historyEntries, lookup, mint, type Minted } from '../support/operations.ts';

const REPOSITORY = resolve(fileURLToPath(import.meta.url), '../../..');
const PAGE_SIZE = 3;
const DAY_MS = 86_400_000;

interface SentRequest {
  method: string;
  operationName: string | null;
  headers: Record<string, string>;
}

/** What urql handed to fetch: the method, the operation it named (in the URL for GET, in the body for POST) and the headers. */
function describeRequest(input: string | URL | Request, init: RequestInit | undefined): SentRequest {
  const method = init?.method ?? 'GET';
  const url = new URL(input instanceof Request ? input.url : input);
  const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { operationName?: string }) : {};
  const headers = Object.fromEntries(new Headers(init?.headers).entries());
  return { method, operationName: method === 'GET' ? url.searchParams.get('operationName') : (body.operationName ?? null), headers };
}

interface ProgramRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node --import tsx examples/token-page.ts`, as a developer runs it, with only the given environment. */
function runProgram(env: Record<string, string>): Promise<ProgramRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/token-page.ts'], {
      cwd: REPOSITORY,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** No run of 40 token characters: a secret (255 or 40 characters, or gt-…) never appears whole; keys have 22. */
const LONG_SECRET_LIKE = /[0-9A-Za-z_.-]{40,}/;

describe.each(engines())('the example token page (urql client) on %s', (engine) => {
  let server: TestServer;
  /** Mira's tokens before the page runs, oldest first; the page runs with `main`. */
  let mira: Minted[];
  let run: TokenPageRun;
  let printed: string[];
  let sent: SentRequest[];
  let startedAt: number;
  let finishedAt: number;

  const ids = (pages: { id: string }[][]) => pages.flat().map((entry) => entry.id);

  beforeAll(async () => {
    server = await startServer(engine);
    const as = (name: string, scopes: string[]) => mint(server, BOOTSTRAP_TOKEN, { username: 'mira', name, scopes });
    mira = [
      await as('main', ['user:token', 'read:all', 'write:all']),
      await as('reader', ['read:all']),
      await as('writer', ['write:all']),
      await as('ci', ['read:all']),
    ];
    // Someone else's token: not on Mira's page, nor in her history.
    await mint(server, BOOTSTRAP_TOKEN, { username: 'bob', name: 'main', scopes: ['user:token', 'read:all'] });

    printed = [];
    sent = [];
    const realFetch = globalThis.fetch;
    const recorder = vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      sent.push(describeRequest(input, init));
      return realFetch(input, init);
    });
    startedAt = Date.now();
    try {
      run = await runTokenPage({ url: server.url, token: mira[0]!.secret, print: (line) => printed.push(line), pageSize: PAGE_SIZE });
    } finally {
      recorder.mockRestore();
    }
    finishedAt = Date.now();
  });
  afterAll(async () => server?.close());

  it('sends every query as GET and every mutation as POST, with no header but Authorization', () => {
    expect(sent.map(({ method, operationName }) => `${method} ${operationName}`)).toEqual([
      'GET Viewer',
      'GET MyTokens',
      'GET MyTokens',
      'POST CreateToken',
      'GET MyTokens',
      'POST EditToken',
      'POST RotateToken',
      'GET TokenWithHistory',
      ...Array(run.history.forward.length).fill('GET HistoryPage'),
      ...Array(run.history.backward.length).fill('GET HistoryPage'),
      'GET Refetch',
      'POST RevokeToken',
      // Asked again, not served from urql's cache: the revocation returned that Token.
      'GET Refetch',
    ]);
    for (const request of sent) {
      const expected = request.method === 'POST' ? ['accept', 'authorization', 'content-type'] : ['accept', 'authorization'];
      expect(Object.keys(request.headers).sort()).toEqual(expected);
      expect(request.headers.authorization).toBe(`Bearer ${mira[0]!.secret}`);
    }
  });

  it("lists only the caller's tokens, by name, page by page", () => {
    expect(run.username).toBe('mira');
    expect(run.viewerTokenKey).toBe(mira[0]!.token.key);
    expect(run.myTokens.totalCount).toBe(4);
    expect(run.myTokens.pages.map((page) => page.map((token) => token.name))).toEqual([['ci', 'main', 'reader'], ['writer']]);
    expect(run.myTokens.pages[0]!.map((token) => token.__typename)).toEqual(['Token', 'Token', 'Token']);
  });

  it('creates a token without the token-managing scopes, then edits its note and expiry', () => {
    expect(run.created).toMatchObject({ tokenType: 'USER', scopes: ['read:all', 'write:all'], note: 'made by examples/token-page.ts', valid: true });
    expect(run.created.name).toMatch(/^token-page-/);
    expect(run.created.status).toBe('ACTIVE');
    expect(run.found.map((token) => token.key)).toEqual([run.created.key]);
    const createdExpiry = Date.parse(run.created.expiresAt ?? '');
    expect(createdExpiry).toBeGreaterThanOrEqual(startedAt + 30 * DAY_MS - 1000);
    expect(createdExpiry).toBeLessThanOrEqual(finishedAt + 30 * DAY_MS);

    expect(run.edited).toMatchObject({ id: run.created.id, key: run.created.key, name: run.created.name, note: 'for the nightly export', valid: true });
    const editedExpiry = Date.parse(run.edited.expiresAt ?? '');
    expect(editedExpiry).toBeGreaterThanOrEqual(startedAt + 7 * DAY_MS - 1000);
    expect(editedExpiry).toBeLessThanOrEqual(finishedAt + 7 * DAY_MS);
  });

  it('rotates it: the new token takes its name, scopes and expiry, the old one is revoked', async () => {
    const { token, replaced } = run.rotated;
    expect(token.key).not.toBe(run.created.key);
    expect(token).toMatchObject({ name: run.created.name, scopes: run.edited.scopes, expiresAt: run.edited.expiresAt, note: run.edited.note, valid: true });
    expect(replaced).toMatchObject({ key: run.created.key, status: 'REVOKED', valid: false, invalidReason: 'rotated' });
    expect(await lookup(server, run.created.key)).toMatchObject({ valid: false, invalidReason: 'rotated' });
  });

  it('shows the rotated-out token with its link to the new one and its history, newest first', async () => {
    const shown = run.replacedWithHistory;
    expect(shown.token).toMatchObject({ key: run.created.key, valid: false });
    expect(shown.replacedByKey).toBe(run.rotated.token.key);
    expect(shown.entries.map((entry) => entry.action)).toEqual(['REVOKE', 'EDIT', 'CREATE']);
    expect(shown.totalCount).toBe(3);
    const edit = shown.entries[1]!;
    expect(edit).toMatchObject({ actor: 'mira', expires: run.edited.expiresAt, oldExpires: run.created.expiresAt });
    expect(edit.tokenRecord?.id).toBe(run.created.id);
    expect(shown.entries.map((entry) => entry.id)).toEqual((await historyEntries(server, { key: run.created.key })).map((entry) => entry.id));
  });

  it('pages the history both ways: the same entries, in the same order, as the server holds', async () => {
    const { forward, backward, totalCount } = run.history;
    // Four tokens made beforehand, then CREATE, EDIT, REVOKE (rotated) and the new token's CREATE: three pages of three.
    expect(totalCount).toBe(8);
    expect(forward.map((page) => page.length)).toEqual([3, 3, 2]);
    expect(backward.map((page) => page.length)).toEqual([3, 3, 2]);
    expect(ids(forward)).toEqual(ids([...backward].reverse()));
    // The server's view now has one more entry, the final revocation, at the top.
    const [revocation, ...before] = await historyEntries(server, { username: 'mira' });
    expect(revocation).toMatchObject({ action: 'REVOKE', token: run.rotated.token.key });
    expect(ids(forward)).toEqual(before.map((entry) => entry.id));
    expect(backward[0]!.at(-1)?.id).toBe(before.at(-1)?.id);
  });

  it('refetches the new token by its node id, revokes it, and the refetch then shows it revoked', async () => {
    expect(run.refetched).toMatchObject({ id: run.rotated.token.id, key: run.rotated.token.key, valid: true });
    expect(run.revoked.count).toBe(1);
    expect(run.revoked.tokens).toEqual([expect.objectContaining({ key: run.rotated.token.key, valid: false, invalidReason: 'example finished' })]);
    expect(run.refetchedAfterRevoke).toMatchObject({ id: run.rotated.token.id, status: 'REVOKED', valid: false, invalidReason: 'example finished' });
    expect(await lookup(server, run.rotated.token.key)).toMatchObject({ valid: false, invalidReason: 'example finished' });
  });

  it('prints a line per step and no secret but the first 8 characters of the new ones', () => {
    const output = printed.join('\n');
    expect(printed.length).toBeGreaterThanOrEqual(11);
    expect(output).not.toMatch(LONG_SECRET_LIKE);
    expect(output).not.toContain(mira[0]!.secret);
    const hints = [...output.matchAll(/starts (\S+)…/g)].map((match) => match[1]);
    expect(hints).toHaveLength(2);
    for (const hint of hints) expect(hint).toHaveLength(8);
  });

  it('runs as a program: exit 0 with a line per step; non-zero, saying why, when the token is refused', async () => {
    const good = await runProgram({ TESSERA_URL: server.url, TESSERA_TOKEN: mira[0]!.secret });
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^signed in as mira /);
    expect(good.stdout).toMatch(/revoked 1 token/);
    expect(good.stdout).not.toMatch(LONG_SECRET_LIKE);

    const refused = await runProgram({ TESSERA_URL: server.url, TESSERA_TOKEN: 'not-a-token' });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^token page failed: /);
  });
});
