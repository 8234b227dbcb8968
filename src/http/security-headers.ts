import type { Plugin } from 'graphql-yoga';

/**
 * The usual defensive headers on every response (what helmet sets for
 * Express, which yoga does not use): no MIME sniffing, no framing, no
 * referrer. The OAuth endpoints, which yoga does not serve, send the same set.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const SECURITY_HEADER_ENTRIES = Object.entries(SECURITY_HEADERS);

/** API answers carry tokens' details and must not be cached; the GraphiQL page holds no data and may be. */
export const securityHeadersPlugin: Plugin = {
  onResponse({ response }) {
    for (const [name, value] of SECURITY_HEADER_ENTRIES) response.headers.set(name, value);
    if (!(response.headers.get('content-type') ?? '').startsWith('text/html')) response.headers.set('cache-control', 'no-store');
  },
};
