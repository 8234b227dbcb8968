import ipaddr from 'ipaddr.js';

/**
 * Which addresses a webhook may be delivered to: public unicast ones only.
 * Everything ipaddr.js names as special is refused: loopback, private,
 * link-local, unique-local, unspecified, carrier-grade NAT, multicast,
 * broadcast, reserved and documentation ranges, and the IPv6 ranges that
 * embed an IPv4 address (IPv4-mapped ones are checked as the IPv4 address
 * they carry; NAT64, 6to4 and Teredo are refused outright).
 */
export function refusedRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const range = ipaddr.process(address).range();
  return range === 'unicast' ? null : range;
}

/** A URL host that is an IP address literal in a refused range: the address, for the message; null for names and public addresses. */
export function refusedLiteral(hostname: string): string | null {
  const address = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (!ipaddr.isValid(address)) return null;
  return refusedRange(address) === null ? null : address;
}
