import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { refusedRange } from '../domain/webhooks/destinations.ts';

/** A destination that must not be connected to; its message says which address and why. */
export class RefusedDestinationError extends Error {}

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves a webhook's host, every address it has, and refuses the lot when
 * any is loopback, private, link-local or otherwise not public (unless
 * `allowPrivate`). The caller connects to the address returned, never
 * resolving again, so a name that changes its answer between the check and
 * the connection (DNS rebinding) gains nothing. Run on every delivery.
 */
export async function checkDestination(hostname: string, allowPrivate: boolean): Promise<CheckedAddress> {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const literal = isIP(host);
  const addresses =
    literal === 0
      ? await lookup(host, { all: true, verbatim: true }).catch((error: NodeJS.ErrnoException) => {
          throw new RefusedDestinationError(`${host} could not be resolved (${error.code ?? error.message})`);
        })
      : [{ address: host, family: literal }];
  const first = addresses[0];
  if (!first) throw new RefusedDestinationError(`${host} resolves to no address`);
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const range = refusedRange(address);
      if (range !== null)
        throw new RefusedDestinationError(`${host} resolves to ${address} (${range}): loopback, private and link-local destinations are refused`);
    }
  }
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
