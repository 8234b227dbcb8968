import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.ts';
import { chooseEncoding, isFresh, Representations } from './representations.ts';
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
