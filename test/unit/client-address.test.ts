import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../src/http/client-address.ts';

const peer = (remoteAddress: string) => ({ socket: { remoteAddress } }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  it('uses the connection when no proxy is trusted, whatever X-Forwarded-For claims', () => {
    expect(clientAddress(peer('::ffff:192.0.2.1'), '203.0.113.9', 0)).toBe('192.0.2.1');
  });

  it('takes the entry the trusted proxy appended, not one the client wrote before it', () => {
    expect(clientAddress(peer('10.0.0.2'), '10.9.9.9, 203.0.113.9', 1)).toBe('203.0.113.9');
    expect(clientAddress(peer('10.0.0.2'), '10.9.9.9, 203.0.113.9, 10.0.0.1', 2)).toBe('203.0.113.9');
  });

  it('falls back to the connection when the header is missing or not an address', () => {
    expect(clientAddress(peer('192.0.2.7'), null, 1)).toBe('192.0.2.7');
    expect(clientAddress(peer('192.0.2.7'), 'garbage', 1)).toBe('192.0.2.7');
  });

  it('normalizes IPv6 and IPv4-mapped addresses', () => {
    expect(clientAddress(peer('10.0.0.2'), '2001:DB8:0:0::5', 1)).toBe('2001:db8::5');
    expect(clientAddress(peer('10.0.0.2'), '::ffff:198.51.100.8', 1)).toBe('198.51.100.8');
  });
});
