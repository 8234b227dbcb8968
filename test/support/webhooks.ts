/**
 * The webhook side of the tests: the GraphQL documents for webhooks, and a
 * receiver (node:http on 127.0.0.1) that verifies every delivery's Standard
 * Webhooks signature with the `standardwebhooks` package, as a real receiver
 * would, and answers with the statuses a test scripts.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import type { WebhookEvent } from '../generated/graphql.ts';
import { BOOTSTRAP_TOKEN, type TestServer } from './harness.ts';
import { expectNoErrors, expectTypename, pause } from './operations.ts';

export const CREATE_WEBHOOK = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      __typename
      ... on CreateWebhookPayload { secret webhook { id url events description createdBy createdAt } }
      ... on Error { code message }
      ... on InvalidInputError { field }
    }
  }
`);

export const DELETE_WEBHOOK = graphql(`
  mutation DeleteWebhook($input: DeleteWebhookInput!) {
    deleteWebhook(input: $input) {
      __typename
      ... on DeleteWebhookPayload { id }
      ... on Error { code message }
      ... on WebhookNotFoundError { id }
    }
  }
`);

export const WEBHOOKS = graphql(`
  query Webhooks($first: Int) {
    webhooks {
      id url events description createdBy
      deliveries(first: $first) {
        id eventId eventType status attempts lastStatusCode lastError createdAt lastAttemptAt nextAttemptAt deliveredAt failedAt
      }
    }
  }
`);

/** Creates a webhook as the bootstrap secret; returns its id and its secret. */
export async function createWebhook(
  server: Pick<TestServer, 'request'>,
  url: string,
  events: WebhookEvent[],
  description = 'test',
): Promise<{ id: string; secret: string }> {
  const result = expectNoErrors(await server.request(CREATE_WEBHOOK, { input: { url, events, description } }, { token: BOOTSTRAP_TOKEN })).createWebhook;
  const payload = expectTypename(result, 'CreateWebhookPayload');
  return { id: payload.webhook.id, secret: payload.secret };
}

/** The deliveries of one webhook, newest first, as an admin sees them. */
export async function deliveriesOf(server: Pick<TestServer, 'request'>, webhookId: string) {
  const { webhooks } = expectNoErrors(await server.request(WEBHOOKS, { first: 50 }, { token: BOOTSTRAP_TOKEN }));
  return webhooks.find((webhook) => webhook.id === webhookId)?.deliveries ?? [];
}

export interface Received {
  /** The webhook-id header. */
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body as the verification returned it: it passed. */
  event: { type: string; timestamp: string; data: Record<string, unknown> };
  path: string;
  /** When it arrived (real time, ms). */
  at: number;
  /** The status it was answered with. */
  status: number;
}

/**
 * A webhook receiver. Every request's signature is checked against `secret`
 * (set once the webhook exists); one that does not verify fails the test.
 * `respond` decides each answer (default 204).
 */
export class Receiver {
  readonly received: Received[] = [];
  secret: string | null = null;
  respond: (request: { id: string; attempt: number }) => { status: number; headers?: Record<string, string>; delayMs?: number } = () => ({ status: 204 });
  readonly unverified: string[] = [];
  private server: Server | null = null;
  private port = 0;

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await receiver.listen();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  get portNumber(): number {
    return this.port;
  }

  /** Listens (again, on the same port after a stop). */
  async listen(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(request.headers['webhook-id'] ?? '');
        let event: Received['event'];
        try {
          if (this.secret === null) throw new Error('no secret yet');
          event = new Webhook(this.secret).verify(body, request.headers as Record<string, string>) as Received['event'];
        } catch (error) {
          this.unverified.push(`${id}: ${(error as Error).message}`);
          response.writeHead(400).end();
          return;
        }
        const attempt = this.received.filter((item) => item.id === id).length + 1;
        const answer = this.respond({ id, attempt });
        this.received.push({ id, headers: request.headers, body, event, path: request.url ?? '', at: Date.now(), status: answer.status });
        if (answer.delayMs) await pause(answer.delayMs);
        response.writeHead(answer.status, answer.headers).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening: deliveries meet a refused connection until listen() again. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The deliveries answered with a 2xx status. */
  get delivered(): Received[] {
    return this.received.filter((item) => item.status >= 200 && item.status < 300);
  }

  /** Waits (real time) until `check` holds, or fails the test with what arrived. */
  async waitFor(check: (receiver: Receiver) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this)) {
      if (Date.now() > deadline) {
        expect.fail(
          `the receiver did not get what was awaited in ${timeoutMs} ms; got ${JSON.stringify(this.received.map(({ id, event, status }) => ({ id, type: event.type, status })))}`,
        );
      }
      await pause(50);
    }
    expect(this.unverified).toEqual([]);
  }
}
