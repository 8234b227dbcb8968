import type { IncomingMessage } from 'node:http';
import { normalizeIp } from '../domain/ip.ts';

/**
 * The caller's address as history records it: the connection's peer, or the
 * first X-Forwarded-For hop when a trusted proxy stands in front (otherwise
 * anyone could write any address into the audit trail).
 */
export function clientAddress(request: IncomingMessage | undefined, forwardedFor: string | null, trustProxy: boolean): string | null {
  if (trustProxy && forwardedFor) {
    const first = forwardedFor.split(',')[0]?.trim();
    const normalized = first ? normalizeIp(first) : null;
    if (normalized) return normalized;
  }
  const peer = request?.socket.remoteAddress;
  return peer ? normalizeIp(peer) : null;
}
