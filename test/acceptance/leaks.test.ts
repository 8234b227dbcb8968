/**
 * POST /leaks, GitHub's secret scanning partner format: no credential, rate
 * limited per address; every presented string that is an active Tessera
 * token is revoked with its descendants (actor <leak-report>, reason
 * `leaked: <url>`), and the answer labels each string, in order:
 * true_positive for one Tessera issued, false_positive otherwise. Bad input
 * is a 400 that changes nothing, and no log line ever holds a token string.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vendorChecksum } from '../../src/domain/generators/vendor-checksum.ts';
import { engines, startServer, type TestServer } from '../support/harness.ts';
import { cast, historyEntries, lookup, mint, revoke, rowCounts, VIEWER, type Cast, type Minted } from '../support/operations.ts';

const REPORTS_PER_MINUTE = 5;

interface LeakAnswer {
  status: number;
  headers: Headers;
  text: string;
}

let addressSerial = 0;
/** An address of its own for a test (the server trusts one proxy), so that each test starts with the whole rate limit. */
const freshAddress = () => `203.0.113.${(addressSerial += 1)}`;

/** POSTs `body` (JSON-encoded unless a string) to /leaks with no credential, from `address`. */
async function postLeaks(server: TestServer, body: unknown, address: string, headers: Record<string, string> = {}): Promise<LeakAnswer> {
  const response = await fetch(new URL('/leaks', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A report as GitHub sends it. */
const report = (token: string, url = 'https://github.com/octo/demo/blob/main/.env') => ({ token, type: 'tessera_token', url, source: 'content' });

/** A vendor_checksum string with a valid checksum that Tessera never issued. */
function unissuedVendorToken(): string {
  const entropy = 'Zq'.repeat(200).slice(0, 255 - 'tsr_'.length - 6);
  return `tsr_${entropy}${vendorChecksum(entropy)}`;
}

describe.each(engines())('POST /leaks on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  const logLines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    server = await startServer(engine, { env: { TESSERA_LEAK_REPORTS_PER_MINUTE: String(REPORTS_PER_MINUTE) }, logger: pino({ level: 'trace' }, sink) });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  async function authenticates(secret: string): Promise<boolean> {
    const { status } = await server.request(VIEWER, {}, { token: secret });
    expect([200, 401]).toContain(status);
    return status === 200;
  }

  /** A USER token of alice's with a NOTEBOOK child and an INTERNAL grandchild. */
  async function family(name: string): Promise<Minted[]> {
    const parent = await mint(server, people.alice, { name, scopes: ['read:all'] });
    const child = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
    const grandchild = await mint(server, people.alice, { tokenType: 'INTERNAL', parent: child.token.key, service: 'portal', scopes: ['read:all'] });
    return [parent, child, grandchild];
  }

  it('labels each string in order and revokes the active ones with their descendants, as <leak-report> with reason leaked: <url>', async () => {
    const [parent, child, grandchild] = await family('leaked-parent');
    const gafaelfawr = await mint(server, people.alice, { name: 'leaked-gt', scopes: ['read:all'], tokenGeneratorId: 'gafaelfawr' });
    const untouched = await mint(server, people.alice, { name: 'not-leaked', scopes: ['read:all'] });
    const earlier = await mint(server, people.alice, { name: 'revoked-earlier', scopes: ['read:all'] });
    await revoke(server, people.alice, earlier.token.key);
    const unissued = unissuedVendorToken();
    const address = freshAddress();
    const url = 'https://github.com/octo/demo/blob/0123abc/config/.env#L3';
    const strings = [parent?.secret ?? '', unissued, gafaelfawr.secret, earlier.secret, 'not-a-token-at-all', 'f'.repeat(40)];

    // No Authorization header at all, or a bad one: neither matters.
    const answer = await postLeaks(
      server,
      strings.map((token) => report(token, url)),
      address,
      { authorization: 'Bearer nonsense' },
    );

    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(JSON.parse(answer.text)).toEqual(
      strings.map((token, index) => ({ token_raw: token, token_type: 'tessera_token', label: [0, 2, 3].includes(index) ? 'true_positive' : 'false_positive' })),
    );

    const revokedNow = [parent, child, grandchild, gafaelfawr].map((token) => token?.token.key ?? '');
    for (const minted of [parent, child, grandchild, gafaelfawr]) expect(await authenticates(minted?.secret ?? '')).toBe(false);
    expect(await authenticates(untouched.secret)).toBe(true);
    for (const key of revokedNow) {
      expect(await lookup(server, key)).toMatchObject({ valid: false, invalidReason: `leaked: ${url}` });
      const entries = (await historyEntries(server, { key, action: 'REVOKE' })).filter((entry) => entry.token === key);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ actor: '<leak-report>', ipAddress: address });
    }
    // Revoked before the report: left as it was, with its own reason and its one entry.
    expect((await lookup(server, earlier.token.key))?.invalidReason).not.toMatch(/^leaked/);
    expect((await historyEntries(server, { key: earlier.token.key, action: 'REVOKE' })).map((entry) => entry.actor)).toEqual(['alice']);
  });

  it('revokes a leaked child and what is below it, not its parent', async () => {
    const [parent, child, grandchild] = await family('leaked-child');
    const answer = await postLeaks(server, [report(child?.secret ?? '')], freshAddress());
    expect(JSON.parse(answer.text)).toEqual([expect.objectContaining({ label: 'true_positive' })]);
    expect(await authenticates(parent?.secret ?? '')).toBe(true);
    expect(await authenticates(child?.secret ?? '')).toBe(false);
    expect(await authenticates(grandchild?.secret ?? '')).toBe(false);
  });

  it('fits a long or odd url into the reason limit (1,000 characters), without control characters', async () => {
    const leaked = await mint(server, people.alice, { name: 'long-url', scopes: ['read:all'] });
    const url = `https://example.com/\u0001${'x'.repeat(990)}`;
    const answer = await postLeaks(server, [report(leaked.secret, url)], freshAddress());
    expect(answer.status, answer.text).toBe(200);
    const reason = (await lookup(server, leaked.token.key))?.invalidReason ?? '';
    expect([...reason]).toHaveLength(1000);
    expect(reason.startsWith('leaked: https://example.com/\uFFFDxxx')).toBe(true);
    expect(reason.endsWith('…')).toBe(true);
  });

  it('answers 429 with Retry-After past the limit of one address, and still serves another address', async () => {
    const address = freshAddress();
    for (let request = 1; request <= REPORTS_PER_MINUTE; request += 1) expect((await postLeaks(server, [], address)).status).toBe(200);
    const leaked = await mint(server, people.alice, { name: 'rate-limited', scopes: ['read:all'] });
    const limited = await postLeaks(server, [report(leaked.secret)], address);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Refused before it was read: the token is still live.
    expect(await authenticates(leaked.secret)).toBe(true);
    expect((await postLeaks(server, [], freshAddress())).status).toBe(200);
  });

  it('refuses bad input with a 4xx that names the problem, never echoes a token, and changes nothing', async () => {
    const leaked = await mint(server, people.alice, { name: 'bad-input', scopes: ['read:all'] });
    const before = await rowCounts(server);
    const cases: [string, unknown, number, RegExp][] = [
      ['not JSON', `[{"token": "${leaked.secret}"`, 400, /not JSON/],
      ['an object, not an array', report(leaked.secret), 400, /array/],
      ['a report without a url', [{ token: leaked.secret, type: 'tessera_token', source: 'content' }], 400, /\[0\]\.url/],
      ['a token that is not a string', [{ ...report(leaked.secret), token: 42 }], 400, /\[0\]\.token/],
      ['a token longer than any token', [report(leaked.secret), report('x'.repeat(513))], 400, /\[1\]\.token: must be at most 512/],
      [
        'a url longer than 2048 characters',
        [{ ...report(leaked.secret), url: `https://example.com/${'y'.repeat(2048)}` }],
        400,
        /\[0\]\.url: must be at most 2048/,
      ],
      ['a type too long', [{ ...report(leaked.secret), type: 't'.repeat(65) }], 400, /\[0\]\.type/],
    ];
    for (const [what, body, status, message] of cases) {
      const answer = await postLeaks(server, body, freshAddress());
      expect(answer.status, what).toBe(status);
      expect(JSON.parse(answer.text), what).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(message) });
      expect(answer.text, what).not.toContain(leaked.secret);
    }
    const wrongType = await postLeaks(server, JSON.stringify([report(leaked.secret)]), freshAddress(), { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    const get = await fetch(new URL('/leaks', server.url), { headers: { 'x-forwarded-for': freshAddress() } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');

    expect(await rowCounts(server)).toEqual(before);
    expect(await authenticates(leaked.secret)).toBe(true);
  });

  it('writes no token string to any log line', async () => {
    const leaked = await mint(server, people.alice, { name: 'logged', scopes: ['read:all'] });
    const unissued = unissuedVendorToken();
    const answer = await postLeaks(server, [report(leaked.secret), report(unissued)], freshAddress());
    expect(answer.status).toBe(200);
    await postLeaks(server, `[{"token": "${leaked.secret}"`, freshAddress());
    const reportLines = logLines.filter((line) => line.includes('leak'));
    expect(reportLines.length).toBeGreaterThan(0);
    // The revocation is logged by key, which is public.
    expect(reportLines.some((line) => line.includes(leaked.token.key))).toBe(true);
    for (const line of logLines) {
      expect(line).not.toContain(leaked.secret);
      expect(line).not.toContain(unissued);
      // Not even a long piece of one.
      expect(line).not.toContain(leaked.secret.slice(4, 60));
    }
  });
});
