import ipaddr from 'ipaddr.js';
import { BadQueryInputError } from './errors.ts';

/**
 * History stores each address twice: as people write it (`ipAddress`) and as
 * 32 hex digits of its IPv6 form, IPv4 as IPv4-mapped (`ipKey`). With the
 * second, an address or a CIDR block is a plain range comparison, the same SQL
 * on SQLite (which has no address type) and PostgreSQL.
 */

/** The canonical text form: IPv4-mapped IPv6 addresses are shown as IPv4, IPv6 compressed. */
export function normalizeIp(address: string): string | null {
  if (!ipaddr.isValid(address)) return null;
  const parsed = ipaddr.process(address);
  return parsed.toString();
}

function toIpv6(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv6 {
  return address.kind() === 'ipv4' ? (address as ipaddr.IPv4).toIPv4MappedAddress() : (address as ipaddr.IPv6);
}

function hex(bytes: number[]): string {
  return bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function ipKey(address: string): string | null {
  if (!ipaddr.isValid(address)) return null;
  return hex(toIpv6(ipaddr.parse(address)).toByteArray());
}

export interface IpRange {
  low: string;
  high: string;
}

/** The inclusive ipKey range of an exact address or a CIDR block; a bad value is a typed error. */
export function ipRange(filter: string): IpRange {
  const text = filter.trim();
  if (!text.includes('/')) {
    const key = ipKey(text);
    if (key === null) throw new BadQueryInputError('BAD_IP_FILTER', `"${filter}" is not an IPv4 or IPv6 address or CIDR block`);
    return { low: key, high: key };
  }
  let network: ipaddr.IPv4 | ipaddr.IPv6;
  let prefix: number;
  try {
    [network, prefix] = ipaddr.parseCIDR(text);
  } catch {
    throw new BadQueryInputError('BAD_IP_FILTER', `"${filter}" is not an IPv4 or IPv6 address or CIDR block`);
  }
  const mappedPrefix = network.kind() === 'ipv4' ? prefix + 96 : prefix;
  const bytes = toIpv6(network).toByteArray();
  const low: number[] = [];
  const high: number[] = [];
  bytes.forEach((byte, index) => {
    const bitsKept = Math.max(0, Math.min(8, mappedPrefix - index * 8));
    const mask = (0xff << (8 - bitsKept)) & 0xff;
    low.push(byte & mask);
    high.push((byte & mask) | (~mask & 0xff));
  });
  return { low: hex(low), high: hex(high) };
}
