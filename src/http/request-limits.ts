import type { Plugin } from 'graphql-yoga';
import { refusal } from './refusal.ts';

/**
 * The largest request body Tessera reads: room for the largest valid
 * mutation (a policy, metadata and token_info of 16 KiB each, a filter of
 * 1,000 keys) several times over. Node's HTTP parser reads exactly
 * Content-Length bytes, so checking the header bounds what is read; a body
 * without one (chunked) is refused rather than read to find out.
 */
const MAX_BODY_BYTES = 256 * 1024;

export const requestLimitsPlugin: Plugin = {
  onRequest({ request, endResponse }) {
    if (request.method !== 'POST') return;
    const length = request.headers.get('content-length');
    if (length === null) {
      endResponse(refusal(request, { status: 411, code: 'LENGTH_REQUIRED', message: 'A request body needs a Content-Length header' }));
    } else if (!/^\d+$/.test(length) || Number(length) > MAX_BODY_BYTES) {
      endResponse(refusal(request, { status: 413, code: 'PAYLOAD_TOO_LARGE', message: `A request body may be at most ${MAX_BODY_BYTES} bytes` }));
    }
  },
};
