import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkDestination, RefusedDestinationError, type CheckedAddress } from './address-guard.ts';

/** How long one attempt may take, from resolution to the response's status. */
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** Of a receiver's answer, only its status matters: the body is read up to this and dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface Attempt {
  ok: boolean;
  /** The HTTP status, when the receiver answered. */
  status: number | null;
  /** Why it failed, for the delivery's lastError; null when it succeeded. */
  error: string | null;
}

export interface SendOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  allowPrivate: boolean;
  /** Aborts the attempt (the server is shutting down). */
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * One delivery attempt: a JSON POST to the webhook's URL, connected to the
 * address the guard checked. A 2xx answer is success; anything else fails,
 * redirects included (they are never followed: a redirect could lead to an
 * address the guard would refuse).
 */
export async function sendDelivery(options: SendOptions): Promise<Attempt> {
  const timeoutMs = options.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const url = new URL(options.url);
  try {
    const destination = await checkDestination(url.hostname, options.allowPrivate);
    signal.throwIfAborted();
    const status = await post(url, destination, options, signal);
    return status >= 200 && status < 300 ? { ok: true, status, error: null } : { ok: false, status, error: `HTTP ${status}` };
  } catch (error) {
    if (deadline.aborted) return { ok: false, status: null, error: `no answer within ${timeoutMs / 1000} s` };
    if (error instanceof RefusedDestinationError) return { ok: false, status: null, error: `refused: ${error.message}` };
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, status: null, error: code ? `${code}: ${(error as Error).message}` : String((error as Error).message ?? error) };
  }
}

function post(url: URL, destination: CheckedAddress, options: SendOptions, signal: AbortSignal): Promise<number> {
  // The checked address, whatever the name resolves to now; TLS still verifies the certificate for the name.
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [destination]);
    else callback(null, destination.address, destination.family);
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Tessera-Webhooks/1',
        ...options.headers,
        'content-length': Buffer.byteLength(options.body),
      },
      lookup: pinned,
      // No pooled connections: each attempt connects to the address just checked.
      agent: false,
      signal,
    });
    outgoing.once('error', reject);
    outgoing.once('response', (response: IncomingMessage) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) response.destroy();
      });
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('close', () => resolve(response.statusCode ?? 0));
      response.once('error', () => resolve(response.statusCode ?? 0));
    });
    outgoing.end(options.body);
  });
}
