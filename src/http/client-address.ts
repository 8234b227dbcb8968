import type { IncomingMessage } from 'node:http';
import { normalizeIp } from '../domain/ip.ts';

/**
 * The caller's address as history and the login rate limit see it: the
 * connection's peer, or, behind `trustedProxies` proxies, the X-Forwarded-For
 * entry the outermost trusted proxy appended. Proxies append, so entries to
 * the left of that one were written by the client and prove nothing; taking
 * the first entry would let anyone put any address in the audit trail.
 */
export function clientAddress(request: IncomingMessage | undefined, forwardedFor: string | null, trustedProxies: number): string | null {
  if (trustedProxies > 0 && forwardedFor) {
    const hops = forwardedFor.split(',').map((entry) => entry.trim());
    const appendedByOutermostProxy = hops[Math.max(0, hops.length - trustedProxies)];
    const normalized = appendedByOutermostProxy ? normalizeIp(appendedByOutermostProxy) : null;
    if (normalized) return normalized;
  }
  const socket = request?.socket;
  if (!socket) return null;
  // A keep-alive connection carries many requests from one peer: normalize its address once.
  if (!peerAddresses.has(socket)) peerAddresses.set(socket, socket.remoteAddress ? normalizeIp(socket.remoteAddress) : null);
  return peerAddresses.get(socket) ?? null;
}

const peerAddresses = new WeakMap<object, string | null>();
