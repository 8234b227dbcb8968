/**
 * The webhook address guard and one delivery attempt (notifications/): every
 * address a host resolves to is checked before any connection, the attempt
 * connects to the checked address, 3xx answers are failures and nothing hangs
 * past its timeout. Only loopback servers are ever connected to here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDestination, RefusedDestinationError } from '../../src/notifications/address-guard.ts';
import { sendDelivery } from '../../src/notifications/send.ts';

const REFUSED = [
  ['127.0.0.1', 'loopback'],
  ['127.8.9.10', 'loopback'],
  ['[::1]', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'linkLocal'],
  ['fe80::1', 'linkLocal'],
  ['fd00::1', 'uniqueLocal'],
  ['0.0.0.0', 'unspecified'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['192.0.2.1', 'reserved'],
  ['224.0.0.1', 'multicast'],
  ['64:ff9b::a01:203', 'rfc6052'],
] as const;

describe('checkDestination', () => {
  it.each(REFUSED)('refuses %s (%s)', async (host, range) => {
    await expect(checkDestination(host, false)).rejects.toThrow(RefusedDestinationError);
    await expect(checkDestination(host, false)).rejects.toThrow(`(${range})`);
  });

  it('refuses a name by what it resolves to: localhost', async () => {
    await expect(checkDestination('localhost', false)).rejects.toThrow(/^localhost resolves to (127\.0\.0\.1|::1) \(loopback\)/);
  });

  it('accepts a public address, and anything when private destinations are allowed', async () => {
    expect(await checkDestination('93.184.215.14', false)).toEqual({ address: '93.184.215.14', family: 4 });
    expect(await checkDestination('[2606:4700::1111]', false)).toEqual({ address: '2606:4700::1111', family: 6 });
    expect(await checkDestination('127.0.0.1', true)).toEqual({ address: '127.0.0.1', family: 4 });
  });

  it('refuses a name that does not resolve', async () => {
    await expect(checkDestination('no-such-host.invalid', false)).rejects.toThrow(/could not be resolved/);
  });
});

describe('sendDelivery', () => {
  let server: Server | null = null;
  let connections = 0;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = null;
    connections = 0;
  });

  async function listen(handler: Parameters<typeof createServer>[1]): Promise<number> {
    server = createServer(handler);
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    return (server.address() as AddressInfo).port;
  }

  const attempt = (url: string, allowPrivate: boolean, timeoutMs?: number) =>
    sendDelivery({ url, body: '{"type":"token.created"}', headers: { 'webhook-id': 'msg_test' }, allowPrivate, timeoutMs });

  it('never connects to a refused address', async () => {
    const port = await listen((_request, response) => response.writeHead(204).end());
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]']) {
      const result = await attempt(`http://${host}:${port}/hook`, false);
      expect(result).toMatchObject({ ok: false, status: null });
      expect(result.error).toMatch(/^refused: /);
    }
    expect(connections).toBe(0);
    // Nor to one it could not reach anyway: refused before any packet is sent.
    expect((await attempt('http://10.255.255.1/hook', false)).error).toMatch(/^refused: 10\.255\.255\.1 resolves to 10\.255\.255\.1 \(private\)/);
  });

  it('posts the body with its headers, and reports the status', async () => {
    let seen: { method?: string; headers?: Record<string, unknown>; body?: string } = {};
    const port = await listen((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen = { method: request.method, headers: request.headers, body };
        response.writeHead(200).end('thanks');
      });
    });
    expect(await attempt(`http://localhost:${port}/hook`, true)).toEqual({ ok: true, status: 200, error: null });
    expect(seen).toMatchObject({
      method: 'POST',
      body: '{"type":"token.created"}',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_test', host: `localhost:${port}` },
    });
  });

  it('counts a redirect as a failure and does not follow it', async () => {
    const paths: string[] = [];
    const port = await listen((request, response) => {
      paths.push(request.url ?? '');
      response.writeHead(307, { location: '/elsewhere' }).end();
    });
    expect(await attempt(`http://127.0.0.1:${port}/hook`, true)).toEqual({ ok: false, status: 307, error: 'HTTP 307' });
    expect(paths).toEqual(['/hook']);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const port = await listen(() => undefined);
    const started = Date.now();
    expect(await attempt(`http://127.0.0.1:${port}/hook`, true, 300)).toEqual({ ok: false, status: null, error: 'no answer within 0.3 s' });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
