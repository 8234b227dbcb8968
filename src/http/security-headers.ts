import type { Plugin } from 'graphql-yoga';

/**
 * The usual defensive headers on every response (what helmet sets for
 * Express, which yoga does not use): no MIME sniffing, no framing, no
 * referrer. API answers carry tokens' details and must not be cached; the
 * GraphiQL page holds no data and may be.
 */
export const securityHeadersPlugin: Plugin = {
  onResponse({ response }) {
    response.headers.set('x-content-type-options', 'nosniff');
    response.headers.set('x-frame-options', 'DENY');
    response.headers.set('referrer-policy', 'no-referrer');
    if (!(response.headers.get('content-type') ?? '').startsWith('text/html')) response.headers.set('cache-control', 'no-store');
  },
};
