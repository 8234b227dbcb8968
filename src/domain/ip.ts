import ipaddr from 'ipaddr.js';
import { BadQueryInputError, quote } from './errors.ts';

/**
 * History stores each address twice: as people write it (`ipAddress`) and as
 * 32 hex digits of its IPv6 form, IPv4 as IPv4-mapped (`ipKey`). With the
 * second, an address or a CIDR block is a plain range comparison, the same SQL
 * on SQLite (which has no address type) and PostgreSQL.
 */

/**
 * Dotted-quad decimal IPv4 without leading zeros. ipaddr.js also takes the
 * old inet_aton spellings (octal 0306.…, hex 0xc6.…, 3325256711, 198.51.7),
 * which name a different address than a reader sees; Python's ipaddress,
 * which Gafaelfawr uses, refuses them too.
 */
const DOTTED_QUAD = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (text.includes(':')) return ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text) : null;
  return DOTTED_QUAD.test(text) ? ipaddr.IPv4.parse(text) : null;
}

/** The canonical text form: IPv4-mapped IPv6 addresses are shown as IPv4, IPv6 compressed. */
export function normalizeIp(address: string): string | null {
  const parsed = parseAddress(address);
  if (!parsed) return null;
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address().toString() : parsed.toString();
}

function toIpv6(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv6 {
  return address.kind() === 'ipv4' ? (address as ipaddr.IPv4).toIPv4MappedAddress() : (address as ipaddr.IPv6);
}

function hex(bytes: number[]): string {
  return bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Every change records its actor's address, and a client sends many requests
 * from one: each address is parsed once (ipaddr.js's parse was 2 % of a
 * generateToken), a bounded few at a time.
 */
const ipKeys = new Map<string, string | null>();
const MAX_REMEMBERED_ADDRESSES = 1024;

export function ipKey(address: string): string | null {
  const remembered = ipKeys.get(address);
  if (remembered !== undefined) return remembered;
  const parsed = parseAddress(address);
  const key = parsed ? hex(toIpv6(parsed).toByteArray()) : null;
  if (ipKeys.size >= MAX_REMEMBERED_ADDRESSES) ipKeys.clear();
  ipKeys.set(address, key);
  return key;
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
    if (key === null) throw new BadQueryInputError('BAD_IP_FILTER', `${quote(filter)} is not an IPv4 or IPv6 address or CIDR block`);
    return { low: key, high: key };
  }
  const [address = '', prefixText = ''] = text.split('/');
  const network = parseAddress(address);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!network || !(prefix <= (network.kind() === 'ipv4' ? 32 : 128))) {
    throw new BadQueryInputError('BAD_IP_FILTER', `${quote(filter)} is not an IPv4 or IPv6 address or CIDR block`);
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
