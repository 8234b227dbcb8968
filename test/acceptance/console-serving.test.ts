/**
 * The web console as Tessera serves it (src/http/console.ts), from a fixture
 * shaped like Vite's web/dist: index.html for `/` and every client-side route,
 * content-hashed files under /assets/, compressed by Accept-Encoding, cacheable
 * by ETag, with a strict Content-Security-Policy, and none of it needing a
 * token. And the GraphiQL page, 9 MB as yoga renders it, sent compressed.
 * Serving reads no database: SQLite is enough.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONSOLE_DIR } from '../../src/http/console.ts';
import { BOOTSTRAP_TOKEN, startServer, type TestServer } from '../support/harness.ts';
import { VIEWER } from '../support/operations.ts';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <title>Tessera</title>
    <script type="module" crossorigin src="/assets/index-B7xq2LkP.js"></script>
    <link rel="stylesheet" crossorigin href="/assets/index-Cq9vT0aZ.css">
  </head>
  <body><div id="app"></div></body>
</html>
`;
/** Enough repetitive script that compression has something to win. */
const SCRIPT = Array.from({ length: 400 }, (_, i) => `export function render${i}(node){return node.textContent=${JSON.stringify(`row ${i}`)};}`).join('\n');
const STYLES = Array.from({ length: 200 }, (_, i) => `.row-${i}{padding:${i % 7}px;color:#333}`).join('\n');
/** A PNG signature and noise: already compressed, sent as it is. */
const IMAGE = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919) % 256)),
]);

function buildFixture(): string {
  const directory = mkdtempSync(join(tmpdir(), 'tessera-console-'));
  mkdirSync(join(directory, 'assets'));
  writeFileSync(join(directory, 'index.html'), INDEX_HTML);
  writeFileSync(join(directory, 'assets', 'index-B7xq2LkP.js'), SCRIPT);
  writeFileSync(join(directory, 'assets', 'index-Cq9vT0aZ.css'), STYLES);
  writeFileSync(join(directory, 'assets', 'logo-D3k9Xw1m.png'), IMAGE);
  writeFileSync(join(directory, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>');
  return directory;
}

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The bytes on the wire, not decoded. */
  body: Buffer;
}

/**
 * One request through node:http, which sends only the headers given and decodes nothing: the test sees the encoding
 * it asked for. The path goes as written (a URL would resolve its dot segments).
 */
function send(url: string, { method = 'GET', headers = {} }: { method?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  const { origin, hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ hostname, port, path: url.slice(origin.length), method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject);
    request.end();
  });
}

function decode(answer: RawAnswer): Buffer {
  const encoding = answer.headers['content-encoding'];
  if (encoding === 'br') return brotliDecompressSync(answer.body);
  if (encoding === 'gzip') return gunzipSync(answer.body);
  expect(encoding).toBeUndefined();
  return answer.body;
}

function expectSecurityHeaders(headers: IncomingHttpHeaders) {
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('no-referrer');
}

describe('the web console, served', () => {
  let server: TestServer;
  let origin: string;
  let fixture: string;

  beforeAll(async () => {
    fixture = buildFixture();
    server = await startServer('sqlite', { consoleDir: fixture });
    origin = new URL(server.url).origin;
    // Served from memory: the files may go once the server has read them.
    rmSync(fixture, { recursive: true, force: true });
  });
  afterAll(async () => server?.close());

  it('answers index.html at / and at each client-side route, without a token, with the strict CSP and no-cache', async () => {
    for (const path of ['/', '/tokens', '/tokens/k7Hq2xYz01', '/history', '/history?action=REVOKE']) {
      const answer = await send(`${origin}${path}`);
      expect(answer.status, path).toBe(200);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers['content-security-policy']).toBe(CSP);
      expect(answer.headers['cache-control']).toBe('no-cache');
      expect(answer.headers.etag).toMatch(/^"[\w-]+"$/);
      expect(answer.headers.vary).toBe('Accept-Encoding');
      expectSecurityHeaders(answer.headers);
      expect(decode(answer).toString('utf8')).toBe(INDEX_HTML);
    }
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await send(`${origin}/tokens`);
    const head = await send(`${origin}/tokens`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(String(get.body.length));
    expect(head.headers.etag).toBe(get.headers.etag);
    expect(head.headers['content-security-policy']).toBe(CSP);
  });

  it('serves hashed assets with their type, immutable for a year, and 304 to a revalidation by ETag', async () => {
    const expected: [string, string, Buffer][] = [
      ['/assets/index-B7xq2LkP.js', 'text/javascript; charset=utf-8', Buffer.from(SCRIPT)],
      ['/assets/index-Cq9vT0aZ.css', 'text/css; charset=utf-8', Buffer.from(STYLES)],
      ['/assets/logo-D3k9Xw1m.png', 'image/png', IMAGE],
    ];
    for (const [path, type, bytes] of expected) {
      const answer = await send(`${origin}${path}`);
      expect(answer.status, path).toBe(200);
      expect(answer.headers['content-type']).toBe(type);
      expect(answer.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(answer.headers['content-security-policy']).toBe(CSP);
      expectSecurityHeaders(answer.headers);
      expect(decode(answer).equals(bytes)).toBe(true);
      const etag = answer.headers.etag as string;
      expect(etag).toMatch(/^"[\w-]+"$/);

      const again = await send(`${origin}${path}`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers.etag).toBe(etag);
      expect(again.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      // A weak form of the same tag, as some proxies send it, is the same version too.
      expect((await send(`${origin}${path}`, { headers: { 'if-none-match': `"other", W/${etag}` } })).status).toBe(304);
      expect((await send(`${origin}${path}`, { headers: { 'if-none-match': '"some-other-version"' } })).status).toBe(200);
    }
  });

  it('compresses by Accept-Encoding (br, then gzip, else identity), and every encoding decodes to the same bytes', async () => {
    const script = `${origin}/assets/index-B7xq2LkP.js`;
    const identity = await send(script);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body.equals(Buffer.from(SCRIPT))).toBe(true);

    const cases: [string, string | undefined][] = [
      ['gzip, deflate, br', 'br'],
      ['br', 'br'],
      ['gzip', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['*', 'br'],
      ['deflate', undefined],
      ['identity', undefined],
    ];
    const etags = new Set<string>();
    for (const [acceptEncoding, encoding] of cases) {
      const answer = await send(script, { headers: { 'accept-encoding': acceptEncoding } });
      expect(answer.headers['content-encoding'], acceptEncoding).toBe(encoding);
      expect(answer.headers.vary).toBe('Accept-Encoding');
      expect(decode(answer).equals(identity.body)).toBe(true);
      if (encoding !== undefined) expect(answer.body.length).toBeLessThan(identity.body.length / 4);
      expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
      etags.add(answer.headers.etag as string);
    }
    // A cache must never take one encoding's body for another's: each has its own tag.
    expect(etags.size).toBe(3);

    // An image is already compressed: sent as it is whatever the client accepts.
    const image = await send(`${origin}/assets/logo-D3k9Xw1m.png`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(image.headers['content-encoding']).toBeUndefined();
    expect(image.body.equals(IMAGE)).toBe(true);
  });

  it('serves the other files of the build at their own path, revalidated', async () => {
    const favicon = await send(`${origin}/favicon.svg`, { headers: { 'accept-encoding': 'gzip' } });
    expect(favicon.status).toBe(200);
    expect(favicon.headers['content-type']).toBe('image/svg+xml');
    expect(favicon.headers['cache-control']).toBe('no-cache');
    expect(decode(favicon).toString('utf8')).toContain('<svg');
  });

  it('answers 404 for an asset it does not have, and does not step out of the build', async () => {
    // A browser asks for /favicon.ico by itself: not found, rather than GraphQL's 401.
    for (const path of [
      '/assets/index-XXXXXXXX.js',
      '/assets/',
      '/assets/../index.html',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/index-B7xq2LkP.js.map',
      '/favicon.ico',
    ]) {
      const answer = await send(`${origin}${path}`);
      expect(answer.status, path).toBe(404);
      expect(answer.headers['content-security-policy']).toBe(CSP);
      expectSecurityHeaders(answer.headers);
    }
  });

  it('answers 405 to any method but GET and HEAD', async () => {
    for (const [method, path] of [
      ['POST', '/'],
      ['PUT', '/tokens'],
      ['DELETE', '/assets/index-B7xq2LkP.js'],
      ['OPTIONS', '/history'],
    ] as const) {
      const answer = await send(`${origin}${path}`, { method });
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.headers.allow).toBe('GET, HEAD');
      expectSecurityHeaders(answer.headers);
    }
  });

  it('leaves every other path to GraphQL as before', async () => {
    const unknown = await send(`${origin}/tokensx`, { headers: { accept: 'text/html' } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-security-policy']).toBeUndefined();
    const viewer = await server.request(VIEWER, {}, { token: BOOTSTRAP_TOKEN });
    expect(viewer.status).toBe(200);
    expect(viewer.data?.viewer).toBeTruthy();
  });

  it('serves the GraphiQL page compressed, the same page, with its headers as before', async () => {
    const page = { accept: 'text/html,application/xhtml+xml' };
    const identity = await send(server.url, { headers: { ...page, 'accept-encoding': 'identity' } });
    expect(identity.status).toBe(200);
    expect(identity.headers['content-type']).toContain('text/html');
    expect(identity.headers['content-encoding']).toBeUndefined();
    const html = identity.body.toString('utf8');
    expect(html).toMatch(/<title>Tessera<\/title>/);
    expect(html).toContain('graphiql');
    // GraphiQL keeps its own page: the console's policy would block its inline script.
    expect(identity.headers['content-security-policy']).toBeUndefined();
    expectSecurityHeaders(identity.headers);

    for (const [acceptEncoding, encoding] of [
      ['gzip, deflate', 'gzip'],
      ['gzip, deflate, br', 'br'],
    ] as const) {
      const answer = await send(server.url, { headers: { ...page, 'accept-encoding': acceptEncoding } });
      expect(answer.status).toBe(200);
      expect(answer.headers['content-encoding']).toBe(encoding);
      expect(answer.headers.vary).toBe('Accept, Accept-Encoding');
      expect(answer.headers['cache-control']).toBe('no-cache');
      expectSecurityHeaders(answer.headers);
      // 9 MB as rendered; 2.4 MB gzipped, 1.9 MB in brotli.
      expect(identity.body.length).toBeGreaterThan(3.5 * answer.body.length);
      expect(decode(answer).equals(identity.body)).toBe(true);
      const revalidated = await send(server.url, { headers: { ...page, 'accept-encoding': acceptEncoding, 'if-none-match': answer.headers.etag as string } });
      expect(revalidated.status).toBe(304);
      expect(revalidated.body.length).toBe(0);
    }

    // What fetch (undici) sends over http: gzip, decoded transparently, still the page.
    const fetched = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(fetched.headers.get('content-encoding')).toBe('gzip');
    expect(await fetched.text()).toBe(html);
  });

  it('still answers JSON, not the page, to a GraphQL client at /graphql', async () => {
    const answer = await send(server.url, { headers: { accept: 'application/json', 'accept-encoding': 'br' } });
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toContain('application/json');
  });
});

describe('a checkout whose console was not built', () => {
  let server: TestServer;
  let origin: string;
  const lines: { level: number; msg: string; directory?: string }[] = [];
  const missing = join(tmpdir(), 'tessera-console-never-built');

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    server = await startServer('sqlite', { consoleDir: missing, logger: pino({ level: 'info' }, sink) });
    origin = new URL(server.url).origin;
  });
  afterAll(async () => server?.close());

  it('still starts, says so once in its log, and answers / with 503 and how to build it', async () => {
    const warnings = lines.filter((line) => line.msg.includes('npm run build:web'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.directory).toBe(missing);

    for (const path of ['/', '/tokens', '/history']) {
      const answer = await send(`${origin}${path}`);
      expect(answer.status, path).toBe(503);
      expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(answer.body.toString('utf8')).toContain('npm run build:web');
      expectSecurityHeaders(answer.headers);
    }
    expect((await send(`${origin}/assets/index-B7xq2LkP.js`)).status).toBe(404);
    expect(lines.filter((line) => line.msg.includes('npm run build:web'))).toHaveLength(1);

    // GraphQL is unaffected.
    const viewer = await server.request(VIEWER, {}, { token: BOOTSTRAP_TOKEN });
    expect(viewer.status).toBe(200);
  });
});

it('looks for the console beside the code, not in the working directory', () => {
  expect(DEFAULT_CONSOLE_DIR).toBe(fileURLToPath(new URL('../../web/dist', import.meta.url)));
});
