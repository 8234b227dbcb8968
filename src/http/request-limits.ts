import type { Plugin } from 'graphql-yoga';
import { refusal, type Refusal } from './refusal.ts';

/**
 * The largest request body Tessera reads: room for the largest valid
 * mutation (a policy, metadata and token_info of 16 KiB each, a filter of
 * 1,000 keys) several times over. Node's HTTP parser reads exactly
 * Content-Length bytes, so checking the header bounds what is read; a body
 * without one (chunked) is refused rather than read to find out.
 */
const MAX_BODY_BYTES = 256 * 1024;

const LENGTH_REQUIRED: Refusal = { status: 411, code: 'LENGTH_REQUIRED', message: 'A request body needs a Content-Length header' };
const TOO_LARGE: Refusal = { status: 413, code: 'PAYLOAD_TOO_LARGE', message: `A request body may be at most ${MAX_BODY_BYTES} bytes` };

/** The refusal of a POST whose Content-Length is missing, not a number, or too large; null when its body may be read. */
export function bodyLengthRefusal(contentLength: string | null | undefined): Refusal | null {
  if (contentLength == null) return LENGTH_REQUIRED;
  if (!/^\d+$/.test(contentLength) || Number(contentLength) > MAX_BODY_BYTES) return TOO_LARGE;
  return null;
}

/** Every POST to yoga is bounded before its body is read (the OAuth endpoints apply the same bound, oauth.ts). */
export const requestLimitsPlugin: Plugin = {
  onRequest({ request, endResponse }) {
    if (request.method !== 'POST') return;
    const refused = bodyLengthRefusal(request.headers.get('content-length'));
    if (refused) endResponse(refusal(refused));
  },
};
