import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import type { Logger } from '../logger.ts';
import { SECURITY_HEADERS } from './security-headers.ts';
import { GRAPHQL_PATH } from './yoga.ts';

/** Where `npm run build:web` (Vite) writes the console: index.html and content-hashed files under assets/. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/**
 * The console runs only its own bundled script and styles, and talks only to
 * this origin's /graphql. No 'unsafe-inline', no 'unsafe-eval': the build
 * emits nothing inline (Vite links its entry script and stylesheet).
 */
const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The console's client-side routes: each is answered with index.html, and the app routes on the path. */
const CLIENT_ROUTE = /^\/(?:tokens(?:\/[^/]+)?|history)?$/;
const ASSETS_PREFIX = '/assets/';
/** Asked for by browsers on their own: answered 404 when the build has none, not 401 by GraphQL's authentication. */
const FAVICON = '/favicon.ico';

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Cached, but checked with the server (ETag) before each use: a new release is seen at once. */
const REVALIDATE = 'no-cache';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/** Formats that are already compressed (images, woff2) gain nothing from a second pass. */
const COMPRESSIBLE = /^(?:text\/|application\/(?:json|manifest\+json|wasm)|image\/(?:svg\+xml|x-icon))/;

type Encoding = 'br' | 'gzip' | 'identity';

/**
 * How hard to compress. The console's files are compressed once per process,
 * at startup, in the background on libuv's thread pool (the server listens at
 * once; a request that comes first waits for its body), not at build time
 * (the build would have to keep .br/.gz files in step with every file):
 * brotli's best quality is affordable there, paid once for bodies sent to every
 * visitor (measured on the built console: 111 KB of script, 26.8 KB at quality
 * 11 in 0.15 s, 28.7 KB at 9 in 27 ms, 29.9 KB gzipped at level 9 in 6 ms).
 * The GraphiQL page, 9 MB, would take 21 s at quality 11: it is compressed when
 * first asked for, at quality 5 (1.95 MB in 0.5 s; quality 4: 2.08 MB in
 * 0.4 s), and gzipped at level 6 (2.44 MB in 0.17 s; level 9 saves 10 KB more
 * in twice the time).
 */
type Effort = 'best' | 'quick';

const BROTLI_QUALITY: Record<Effort, number> = { best: zlibConstants.BROTLI_MAX_QUALITY, quick: 5 };
const GZIP_LEVEL: Record<Effort, number> = { best: 9, quick: 6 };

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** By content hash, encoding and effort: several servers in one process (tests, a restart) compress a body once. */
const compressions = new Map<string, Promise<Buffer>>();

function compress(bytes: Buffer, hash: string, encoding: 'br' | 'gzip', effort: Effort): Promise<Buffer> {
  const key = `${hash}:${encoding}:${effort}`;
  let compressed = compressions.get(key);
  if (!compressed) {
    compressed =
      encoding === 'br'
        ? brotliAsync(bytes, {
            params: {
              [zlibConstants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY[effort],
              [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
              [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
            },
          })
        : gzipAsync(bytes, { level: GZIP_LEVEL[effort] });
    compressions.set(key, compressed);
  }
  return compressed;
}

interface Body {
  encoding: Encoding;
  bytes: Buffer;
  etag: string;
}

/**
 * One resource's bytes and its compressed forms, each with its own strong
 * ETag (a cache must not take a gzip body for a brotli one). A compressed
 * form no smaller than the original is not used.
 */
class Representations {
  readonly hash: string;
  readonly identity: Body;
  private readonly encoded = new Map<'br' | 'gzip', Promise<Body>>();

  constructor(
    bytes: Buffer,
    private readonly compressible: boolean,
    private readonly effort: Effort,
    private readonly logger: Logger,
  ) {
    this.hash = createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
    this.identity = { encoding: 'identity', bytes, etag: `"${this.hash}"` };
  }

  /** Every ETag this resource has been sent with: a revalidation with any of them is answered 304. */
  get etags(): string[] {
    return [this.identity.etag, `"${this.hash}-br"`, `"${this.hash}-gz"`];
  }

  body(encoding: Encoding): Promise<Body> {
    if (encoding === 'identity' || !this.compressible) return Promise.resolve(this.identity);
    let body = this.encoded.get(encoding);
    if (!body) {
      body = compress(this.identity.bytes, this.hash, encoding, this.effort).then(
        (bytes): Body =>
          bytes.length < this.identity.bytes.length ? { encoding, bytes, etag: `"${this.hash}-${encoding === 'br' ? 'br' : 'gz'}"` } : this.identity,
        (error: unknown) => {
          this.logger.error({ err: error, encoding }, 'compression failed: serving the body uncompressed');
          return this.identity;
        },
      );
      this.encoded.set(encoding, body);
    }
    return body;
  }
}

interface ConsoleFile {
  contentType: string;
  cacheControl: string;
  body: Representations;
}

/** Reads every file of the built console into memory, keyed by its URL path; null when the console was not built. */
function readConsole(directory: string, logger: Logger): Map<string, ConsoleFile> | null {
  if (!existsSync(join(directory, 'index.html'))) return null;
  const files = new Map<string, ConsoleFile>();
  for (const relative of readdirSync(directory, { recursive: true, encoding: 'utf8' })) {
    const path = join(directory, relative);
    if (!statSync(path).isFile()) continue;
    const urlPath = `/${relative.split(sep).join('/')}`;
    const contentType = CONTENT_TYPES[extname(relative).toLowerCase()] ?? 'application/octet-stream';
    // Vite names everything under assets/ by its content hash: a changed file is a new URL.
    const cacheControl = urlPath.startsWith(ASSETS_PREFIX) ? IMMUTABLE : REVALIDATE;
    const body = new Representations(readFileSync(path), COMPRESSIBLE.test(contentType), 'best', logger);
    // Started now, awaited by the first request that wants them.
    void body.body('br');
    void body.body('gzip');
    files.set(urlPath, { contentType, cacheControl, body });
  }
  return files;
}

/** br, then gzip, else identity, by the request's Accept-Encoding (q=0 refuses a coding; `*` stands for the unnamed). */
function chooseEncoding(acceptEncoding: string | undefined): Encoding {
  if (!acceptEncoding) return 'identity';
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...parameters] = part.trim().toLowerCase().split(';');
    const quality = parameters.map((parameter) => parameter.trim()).find((parameter) => parameter.startsWith('q='));
    weights.set(name.trim(), quality === undefined ? 1 : Number(quality.slice(2)));
  }
  const accepts = (coding: string) => (weights.get(coding) ?? weights.get('*') ?? 0) > 0;
  if (accepts('br')) return 'br';
  if (accepts('gzip') || (weights.get('x-gzip') ?? 0) > 0) return 'gzip';
  return 'identity';
}

/** If-None-Match names one of the resource's ETags (compared weakly, as RFC 9110 says for this header), or `*`. */
function isFresh(ifNoneMatch: string | undefined, etags: readonly string[]): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || etags.includes(trimmed.replace(/^W\//, ''));
  });
}

/** What renders the GraphiQL page: yoga, asked as a browser asks. */
interface GraphiQLSource {
  fetch(url: string, init: { headers: Record<string, string> }): Response | Promise<Response>;
}

interface ConsoleOptions {
  /** The built console (`web/dist`); DEFAULT_CONSOLE_DIR when omitted. */
  directory?: string;
  logger: Logger;
  graphiql: GraphiQLSource;
}

interface ConsoleHandler {
  /** Whether this request is the console's (its page, routes and files) or a browser's request for GraphiQL. */
  serves(request: IncomingMessage): boolean;
  handle(request: IncomingMessage, response: ServerResponse): void;
}

/** Headers of the one rendering that must not be repeated on every answer. */
const PER_RESPONSE_HEADERS = new Set(['content-length', 'date', 'x-request-id', 'set-cookie']);

interface GraphiQLPage {
  headers: Record<string, string>;
  body: Representations;
}

/**
 * Serves the web console from memory, compressed and cacheable, with a strict
 * CSP, and the GraphiQL page compressed (yoga renders it uncompressed, 9 MB).
 */
export function consoleHandler(options: ConsoleOptions): ConsoleHandler {
  const { logger } = options;
  const directory = options.directory ?? DEFAULT_CONSOLE_DIR;
  const files = readConsole(directory, logger);
  if (files === null) logger.warn({ directory }, 'the web console is not built: GET / answers 503 until `npm run build:web` has run');
  let graphiql: Promise<GraphiQLPage> | null = null;

  const pathOf = (request: IncomingMessage) => (request.url ?? '/').split('?', 1)[0] ?? '/';
  const isConsolePath = (path: string) => CLIENT_ROUTE.test(path) || path.startsWith(ASSETS_PREFIX) || path === FAVICON || (files?.has(path) ?? false);
  // Yoga renders GraphiQL for any GET to /graphql accepting HTML; one with an Origin (a cross-origin fetch) is left to yoga and its CORS.
  const isGraphiQLRequest = (request: IncomingMessage, path: string) =>
    request.method === 'GET' &&
    (path === GRAPHQL_PATH || path === `${GRAPHQL_PATH}/`) &&
    (request.headers.accept?.includes('text/html') ?? false) &&
    request.headers.origin === undefined;

  /** Rendered by yoga once, with the headers yoga gives it (its security headers): what it serves today, compressed. */
  const renderGraphiQL = async (): Promise<GraphiQLPage> => {
    const rendered = await options.graphiql.fetch(`http://tessera.invalid${GRAPHQL_PATH}`, { headers: { accept: 'text/html' } });
    if (rendered.status !== 200) throw new Error(`GraphiQL rendered with status ${rendered.status}`);
    const headers: Record<string, string> = {};
    rendered.headers.forEach((value, name) => {
      if (!PER_RESPONSE_HEADERS.has(name)) headers[name] = value;
    });
    return { headers, body: new Representations(Buffer.from(await rendered.arrayBuffer()), true, 'quick', logger) };
  };

  async function serveGraphiQL(request: IncomingMessage, response: ServerResponse): Promise<void> {
    graphiql ??= renderGraphiQL();
    let page: GraphiQLPage;
    try {
      page = await graphiql;
    } catch (error) {
      graphiql = null;
      throw error;
    }
    // The same URL answers JSON to other clients: caches keep the two apart by Accept.
    await send(request, response, page.body, { ...page.headers, 'cache-control': REVALIDATE, vary: 'Accept, Accept-Encoding' });
  }

  async function send(request: IncomingMessage, response: ServerResponse, resource: Representations, headers: Record<string, string>): Promise<void> {
    const body = await resource.body(chooseEncoding(request.headers['accept-encoding']));
    if (isFresh(request.headers['if-none-match'], resource.etags)) {
      const { 'content-type': _type, ...unchanged } = headers;
      response.writeHead(304, { ...unchanged, etag: body.etag });
      response.end();
      return;
    }
    response.writeHead(200, {
      ...headers,
      etag: body.etag,
      'content-length': body.bytes.length,
      ...(body.encoding === 'identity' ? {} : { 'content-encoding': body.encoding }),
    });
    response.end(request.method === 'HEAD' ? undefined : body.bytes);
  }

  function plain(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    response.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': CONSOLE_CSP,
      ...SECURITY_HEADERS,
      ...headers,
    });
    response.end(text);
  }

  async function serveConsole(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      plain(response, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const file = files?.get(CLIENT_ROUTE.test(path) ? '/index.html' : path);
    if (!file) {
      if (files === null && CLIENT_ROUTE.test(path)) {
        plain(response, 503, 'The web console has not been built. Run `npm run build:web`, then restart Tessera.\n');
      } else plain(response, 404, 'Not Found\n');
      return;
    }
    await send(request, response, file.body, {
      'content-type': file.contentType,
      'cache-control': file.cacheControl,
      vary: 'Accept-Encoding',
      'content-security-policy': CONSOLE_CSP,
      ...SECURITY_HEADERS,
    });
  }

  return {
    serves(request) {
      const path = pathOf(request);
      return isConsolePath(path) || isGraphiQLRequest(request, path);
    },
    handle(request, response) {
      const path = pathOf(request);
      const served = isConsolePath(path) ? serveConsole(request, response, path) : serveGraphiQL(request, response);
      served.catch((error: unknown) => {
        logger.error({ err: error, path }, 'could not serve the page');
        if (!response.headersSent) plain(response, 500, 'Internal Server Error\n');
        else response.destroy();
      });
    },
  };
}
