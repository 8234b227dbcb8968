/**
 * SPEC "Health, metrics and notifications", Webhooks: signed deliveries
 * (verified here with `standardwebhooks`, as a receiver verifies them),
 * retries under one webhook-id, delivery after the receiver was down and the
 * server restarted, token.expiring once per token and threshold, refusal of
 * private destinations, and two processes on one database delivering each
 * event once. A real server over HTTP and a real receiver on 127.0.0.1 (so
 * TESSERA_WEBHOOK_ALLOW_PRIVATE=1, except where the refusal is tested).
 */
import { print } from 'graphql';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTessera } from '../../src/app.ts';
import { BOOTSTRAP_TOKEN, engines, post, startServer, type TestServer } from '../support/harness.ts';
import { daysFromNow, editToken, expectNoErrors, expectTypename, GENERATE, mint, pause, revoke } from '../support/operations.ts';
import { startPeerProcess, type PeerProcess } from '../support/peer-process.ts';
import { CREATE_WEBHOOK, createWebhook, DELETE_WEBHOOK, deliveriesOf, Receiver, WEBHOOKS } from '../support/webhooks.ts';

const ALLOW_PRIVATE = { TESSERA_WEBHOOK_ALLOW_PRIVATE: '1', TESSERA_WEBHOOK_RETRY_SECONDS: '0.3' };

/** Waits (real time) until `check` resolves true. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) expect.fail(`timed out waiting for ${what}`);
    await pause(100);
  }
}

describe.each(engines())('webhooks on %s', (engine) => {
  let server: TestServer;
  let receiver: Receiver;
  let hookIds: string[] = [];

  beforeAll(async () => {
    server = await startServer(engine, { env: ALLOW_PRIVATE });
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver?.stop();
    await server?.close();
  });
  afterEach(async () => {
    // Each test's webhook goes, so that the next test's receiver hears only its own.
    for (const id of hookIds) await server.request(DELETE_WEBHOOK, { input: { id } }, { token: BOOTSTRAP_TOKEN });
    hookIds = [];
    receiver.received.length = 0;
    receiver.respond = () => ({ status: 204 });
  });

  async function hook(events: Parameters<typeof createWebhook>[2], url = receiver.url) {
    const created = await createWebhook(server, url, events);
    hookIds.push(created.id);
    receiver.secret = created.secret;
    return created;
  }

  it('signs each delivery as Standard Webhooks specify, carries the entry and the token’s public fields, and never a secret', async () => {
    const { id, secret } = await hook(['TOKEN_CREATED', 'TOKEN_EDITED', 'TOKEN_REVOKED']);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const minted = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'hooked', scopes: ['read:all'] });
    await editToken(server, BOOTSTRAP_TOKEN, { key: minted.token.key, note: 'edited' });
    await revoke(server, BOOTSTRAP_TOKEN, minted.token.key);
    await receiver.waitFor((r) => r.delivered.length === 3);

    // Each verified (waitFor checks that none failed verification); in commit order here, one writer after another.
    const types = receiver.delivered.map((item) => item.event.type).sort();
    expect(types).toEqual(['token.created', 'token.edited', 'token.revoked']);
    const created = receiver.delivered.find((item) => item.event.type === 'token.created');
    expect(created?.headers['content-type']).toBe('application/json');
    expect(created?.headers['webhook-id']).toMatch(/^msg_/);
    expect(created?.event.data).toMatchObject({
      entry: {
        token: minted.token.key,
        username: 'alice',
        action: 'create',
        actor: '<bootstrap>',
        token_type: 'user',
        token_name: 'hooked',
        scopes: ['read:all'],
      },
      token: { key: minted.token.key, username: 'alice', token_type: 'user', name: 'hooked', scopes: ['read:all'] },
    });
    expect(Date.parse(created?.event.timestamp ?? '')).toBeGreaterThan(0);
    for (const item of receiver.delivered) {
      expect(item.body).not.toContain(minted.secret);
      expect(item.body).not.toMatch(/secret/i);
    }
    // A body changed on the way, or the wrong secret, does not verify.
    const sample = receiver.delivered[0]!;
    const headers = sample.headers as Record<string, string>;
    expect(() => new Webhook(secret).verify(sample.body.replace('alice', 'mallory'), headers)).toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(sample.body, headers)).toThrow();

    // The webhook lists its deliveries with their outcome; its secret is shown nowhere.
    const deliveries = await deliveriesOf(server, id);
    expect(deliveries).toHaveLength(3);
    for (const delivery of deliveries)
      expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 204, lastError: null, failedAt: null, nextAttemptAt: null });
    expect(deliveries.map((delivery) => delivery.eventType).sort()).toEqual(['TOKEN_CREATED', 'TOKEN_EDITED', 'TOKEN_REVOKED']);
    expect(JSON.stringify(expectNoErrors(await server.request(WEBHOOKS, {}, { token: BOOTSTRAP_TOKEN })))).not.toContain(secret);
  });

  it('sends only the events a webhook asked for', async () => {
    await hook(['TOKEN_REVOKED']);
    const minted = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'only-revoked', scopes: ['read:all'] });
    await revoke(server, BOOTSTRAP_TOKEN, minted.token.key);
    await receiver.waitFor((r) => r.delivered.length >= 1);
    await pause(1200);
    expect(receiver.received.map((item) => item.event.type)).toEqual(['token.revoked']);
  });

  /** tessera_webhook_deliveries_total by outcome, as GET /metrics shows it. */
  async function deliveryCounts(): Promise<Record<string, number>> {
    const response = await fetch(server.url.replace(/\/graphql$/, '/metrics'), { headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}` } });
    const text = await response.text();
    const counts: Record<string, number> = {};
    for (const match of text.matchAll(/^tessera_webhook_deliveries_total\{outcome="(\w+)"\} (\d+)$/gm)) counts[match[1]!] = Number(match[2]);
    return counts;
  }

  it('retries a failed attempt with growing delays under one webhook-id; a redirect is a failure and is not followed', async () => {
    const { id } = await hook(['TOKEN_CREATED']);
    const before = await deliveryCounts();
    receiver.respond = ({ attempt }) =>
      attempt === 1
        ? { status: 302, headers: { location: `http://127.0.0.1:${receiver.portNumber}/elsewhere` } }
        : attempt === 2
          ? { status: 500 }
          : { status: 200 };
    await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'retried', scopes: ['read:all'] });
    await receiver.waitFor((r) => r.delivered.length === 1);
    const attempts = receiver.received;
    expect(attempts.map((item) => item.status)).toEqual([302, 500, 200]);
    expect(new Set(attempts.map((item) => item.id)).size).toBe(1);
    expect(attempts.every((item) => item.path === '/hooks')).toBe(true);
    // The first delay is 0.3 s and doubles (plus jitter): the second wait is longer than the first delay doubled.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(280);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(580);
    // Each attempt was signed afresh, and each signature verified (waitFor).
    expect(new Set(attempts.map((item) => item.headers['webhook-signature'])).size).toBeGreaterThanOrEqual(1);
    await until(async () => (await deliveriesOf(server, id))[0]?.status === 'DELIVERED', 'the delivery to be recorded');
    expect((await deliveriesOf(server, id))[0]).toMatchObject({ attempts: 3, lastStatusCode: 200, lastError: null });
    const after = await deliveryCounts();
    expect((after.retrying ?? 0) - (before.retrying ?? 0)).toBe(2);
    expect((after.delivered ?? 0) - (before.delivered ?? 0)).toBe(1);
  });

  it('gives up a day after the event, and records it', async () => {
    const { id } = await hook(['TOKEN_CREATED']);
    receiver.respond = () => ({ status: 503 });
    await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'given-up', scopes: ['read:all'] });
    await receiver.waitFor((r) => r.received.length >= 1);
    await until(async () => (await deliveriesOf(server, id))[0]?.lastStatusCode === 503, 'the failure to be recorded');
    server.clock.advance(25 * 3600_000);
    await until(async () => (await deliveriesOf(server, id))[0]?.status === 'FAILED', 'the delivery to be given up');
    const [delivery] = await deliveriesOf(server, id);
    expect(delivery).toMatchObject({ status: 'FAILED', lastStatusCode: 503, lastError: 'HTTP 503', nextAttemptAt: null, deliveredAt: null });
    const attempts = receiver.received.length;
    await pause(1200);
    expect(receiver.received.length).toBe(attempts);
    // Finished deliveries are kept as long as the history, then the sweep deletes them.
    await server.tessera.tokens.runMaintenance();
    expect(await deliveriesOf(server, id)).toHaveLength(1);
    server.clock.advance(366 * 86_400_000);
    await server.tessera.tokens.runMaintenance();
    expect(await deliveriesOf(server, id)).toEqual([]);
  });

  it('warns of an expiry once per token and threshold; a token inside both thresholds gets one warning', async () => {
    await hook(['TOKEN_EXPIRING']);
    const far = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'far', scopes: ['read:all'], expires: daysFromNow(10, server.clock) });
    const near = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'near', scopes: ['read:all'], expires: daysFromNow(0.5, server.clock) });
    const warnings = () => receiver.delivered.map((item) => [(item.event.data.token as { key: string }).key, item.event.data.threshold_days]);

    await server.tessera.tokens.runMaintenance();
    await receiver.waitFor((r) => r.delivered.length >= 1);
    server.clock.advance(4 * 86_400_000);
    await server.tessera.tokens.runMaintenance();
    await server.tessera.tokens.runMaintenance();
    await receiver.waitFor((r) => r.delivered.length >= 2);
    server.clock.advance(5.6 * 86_400_000);
    await server.tessera.tokens.runMaintenance();
    await receiver.waitFor((r) => r.delivered.length >= 3);
    await server.tessera.tokens.runMaintenance();
    await pause(1200);
    expect(warnings()).toEqual([
      [near.token.key, 1],
      [far.token.key, 7],
      [far.token.key, 1],
    ]);
    expect(receiver.delivered.every((item) => item.event.type === 'token.expiring')).toBe(true);
    expect(new Set(receiver.delivered.map((item) => item.id)).size).toBe(3);
    // The warnings of a token that has expired are no longer needed: the sweep deletes them.
    expect(await server.tessera.db.expiryWarning.count({ where: { tokenKey: near.token.key } })).toBe(0);
    expect(await server.tessera.db.expiryWarning.count({ where: { tokenKey: far.token.key } })).toBe(2);
  });

  it('validates the input and who asks; deleting a webhook stops its deliveries', async () => {
    const admin = await mint(server, BOOTSTRAP_TOKEN, { username: 'root', name: 'admin', scopes: ['admin:token'] });
    const alice = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'user', scopes: ['user:token'] });
    const create = (url: string, events: ('TOKEN_CREATED' | 'TOKEN_REVOKED')[], token = admin.secret) =>
      server.request(CREATE_WEBHOOK, { input: { url, events } }, { token }).then((response) => expectNoErrors(response).createWebhook);
    expect(await create('ftp://example.com/hook', ['TOKEN_CREATED'])).toMatchObject({ __typename: 'InvalidInputError', field: 'url' });
    expect(await create('not a url', ['TOKEN_CREATED'])).toMatchObject({ __typename: 'InvalidInputError', field: 'url' });
    expect(await create(receiver.url, [])).toMatchObject({ __typename: 'InvalidInputError', field: 'events' });
    expect(await create(receiver.url, ['TOKEN_CREATED'], alice.secret)).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
    expect((await server.request(WEBHOOKS, {}, { token: alice.secret })).errors?.map((error) => error.extensions?.code)).toEqual(['PERMISSION_DENIED']);

    const made = expectTypename(await create(receiver.url, ['TOKEN_CREATED']), 'CreateWebhookPayload');
    expect(made.webhook).toMatchObject({ url: receiver.url, events: ['TOKEN_CREATED'], createdBy: 'root' });
    receiver.secret = made.secret;
    const denied = expectNoErrors(await server.request(DELETE_WEBHOOK, { input: { id: made.webhook.id } }, { token: alice.secret })).deleteWebhook;
    expect(denied).toMatchObject({ __typename: 'PermissionDeniedError' });
    const deleted = expectNoErrors(await server.request(DELETE_WEBHOOK, { input: { id: made.webhook.id } }, { token: admin.secret })).deleteWebhook;
    expect(deleted).toEqual({ __typename: 'DeleteWebhookPayload', id: made.webhook.id });
    const again = expectNoErrors(await server.request(DELETE_WEBHOOK, { input: { id: made.webhook.id } }, { token: admin.secret })).deleteWebhook;
    expect(again).toMatchObject({ __typename: 'WebhookNotFoundError', code: 'WEBHOOK_NOT_FOUND', id: made.webhook.id });
    await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'after-delete', scopes: ['read:all'] });
    await pause(1200);
    expect(receiver.received).toEqual([]);
  });
});

describe.each(engines())('webhooks across a restart on %s', (engine) => {
  let server: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    server = await startServer(engine, { env: ALLOW_PRIVATE });
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver?.stop();
    // Closes the restarted server and drops the database.
    await server?.close();
  });

  it('delivers an event recorded while the receiver was down, after the server restarted', async () => {
    const { id, secret } = await createWebhook(server, receiver.url, ['TOKEN_CREATED']);
    receiver.secret = secret;
    await receiver.stop();
    const minted = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'while-down', scopes: ['read:all'] });
    await until(async () => ((await deliveriesOf(server, id))[0]?.attempts ?? 0) >= 1, 'a failed attempt');
    expect((await deliveriesOf(server, id))[0]).toMatchObject({ status: 'PENDING', lastStatusCode: null });
    expect((await deliveriesOf(server, id))[0]?.lastError).toMatch(/ECONNREFUSED/);

    // The server goes away and comes back on the same database; then the receiver does.
    await server.tessera.close();
    const restarted = await createTessera({ config: server.tessera.config, now: () => server.clock.now() });
    server.tessera = restarted;
    const url = await restarted.listen();
    await receiver.listen();
    await receiver.waitFor((r) => r.delivered.length === 1);
    expect(receiver.delivered[0]?.event.data).toMatchObject({ token: { key: minted.token.key } });
    const response = await post(url, print(WEBHOOKS), {}, { token: BOOTSTRAP_TOKEN });
    expect(response.status).toBe(200);
  });
});

describe.each(engines())('webhook destinations on %s (private addresses refused)', (engine) => {
  let server: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    server = await startServer(engine, { env: { TESSERA_WEBHOOK_RETRY_SECONDS: '0.3' } });
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver?.stop();
    await server?.close();
  });

  it.each([
    'http://127.0.0.1:9/hook',
    'http://[::1]/hook',
    'http://169.254.169.254/latest/meta-data',
    'https://10.1.2.3/',
    'http://0x7f000001/',
    'http://[::ffff:127.0.0.1]/',
  ])('refuses an address literal in a private range at creation: %s', async (url) => {
    const result = expectNoErrors(
      await server.request(CREATE_WEBHOOK, { input: { url, events: ['TOKEN_CREATED'] } }, { token: BOOTSTRAP_TOKEN }),
    ).createWebhook;
    expect(result).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'url' });
    expect(expectNoErrors(await server.request(WEBHOOKS, {}, { token: BOOTSTRAP_TOKEN })).webhooks).toEqual([]);
  });

  it('refuses, on every delivery, a name that resolves to a loopback address, and never connects to it', async () => {
    const { id, secret } = await createWebhook(server, `http://localhost:${receiver.portNumber}/hooks`, ['TOKEN_CREATED']);
    receiver.secret = secret;
    await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'refused', scopes: ['read:all'] });
    await until(async () => ((await deliveriesOf(server, id))[0]?.attempts ?? 0) >= 2, 'two refused attempts');
    const [delivery] = await deliveriesOf(server, id);
    expect(delivery).toMatchObject({ status: 'PENDING', lastStatusCode: null });
    expect(delivery?.lastError).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1) \(loopback\)/);
    expect(receiver.received).toEqual([]);
  });
});

describe.each(engines())('two processes on one %s database', (engine) => {
  let server: TestServer;
  let peer: PeerProcess;
  let receiver: Receiver;

  beforeAll(async () => {
    server = await startServer(engine, { env: ALLOW_PRIVATE });
    peer = await startPeerProcess(server, ALLOW_PRIVATE);
    receiver = await Receiver.start();
  }, 60_000);
  afterAll(async () => {
    await peer?.close();
    await receiver?.stop();
    await server?.close();
  });

  it('deliver each event once, whichever process recorded it', async () => {
    const { id, secret } = await createWebhook(server, receiver.url, ['TOKEN_CREATED']);
    receiver.secret = secret;
    // Slow answers keep sends in flight in both processes at once.
    receiver.respond = () => ({ status: 200, delayMs: 30 });
    const count = 40;
    const keys = await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const target = index % 2 === 0 ? server : peer;
        const response = await target.request(
          GENERATE,
          { input: { username: 'alice', name: `twice-${index}`, scopes: ['read:all'] } },
          { token: BOOTSTRAP_TOKEN },
        );
        return expectTypename(expectNoErrors(response).generateToken, 'GenerateTokenPayload').token.key;
      }),
    );
    await receiver.waitFor((r) => r.delivered.length >= count, 20_000);
    await pause(2000);
    expect(receiver.received).toHaveLength(count);
    expect(new Set(receiver.received.map((item) => item.id)).size).toBe(count);
    expect(new Set(receiver.received.map((item) => (item.event.data.token as { key: string }).key))).toEqual(new Set(keys));
    const deliveries = await deliveriesOf(server, id);
    expect(deliveries).toHaveLength(count);
    expect(deliveries.every((delivery) => delivery.status === 'DELIVERED' && delivery.attempts === 1)).toBe(true);
  });
});
