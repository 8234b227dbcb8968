/**
 * The feed cases' subscribers: a process of its own (as load-worker.ts is for
 * autocannon), so that reading a thousand streams never shares an event loop
 * with the server or with the writer. It opens `tokenChanges` streams over
 * Server-Sent Events (POST /graphql, `Accept: text/event-stream`) with
 * node:http, one socket each, and stamps every event with the time its bytes
 * arrived (nowMs(): wall clock, comparable with the other processes on this
 * machine and with the server's eventTime).
 *
 * Driven over IPC by feed.ts: {type: 'open'} opens the streams and answers
 * once every one has its 200 and headers; {type: 'collect'} answers once every
 * stream holds `count` events (or at the deadline) with what each received;
 * {type: 'close'} drops them all.
 */
import http from 'node:http';
import { nowMs } from './stats.ts';

export interface OpenRequest {
  type: 'open';
  url: string;
  /** One bearer token per stream (several streams may share one). */
  tokens: string[];
  query: string;
  /** Streams being opened at once. */
  concurrency: number;
}
export type FeedParentMessage = OpenRequest | { type: 'collect'; count: number; timeoutMs: number } | { type: 'close' };

/** What one entry is, by its history id (from the cursor): token key, action, eventTime (epoch ms). */
export type EntryInfo = [token: string, action: string, eventTimeMs: number];

export interface StreamEvents {
  /** [history id, received at (epoch ms)] of each entry, in arrival order. */
  received: [number, number][];
  /** The first error or unexpected end, if any. */
  problem: string | null;
}

export type FeedWorkerMessage =
  | { type: 'opened'; openMs: number; failures: string[] }
  | { type: 'collected'; streams: StreamEvents[]; entries: Record<number, EntryInfo> }
  | { type: 'closed' }
  | { type: 'error'; message: string };

interface Change {
  cursor: string;
  node: { token: string; action: string; eventTime: string };
}

/** The history id a cursor names ([epochMs, id], base64url JSON). */
const cursorId = (cursor: string): number => (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, number])[1];

// One socket per stream, however many.
const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

class Stream {
  readonly events: StreamEvents = { received: [], problem: null };
  private request: http.ClientRequest | null = null;
  private buffer = '';
  private closing = false;

  constructor(private readonly onEvent: () => void) {}

  open(url: string, token: string, query: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const body = JSON.stringify({ query });
      const request = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            authorization: `Bearer ${token}`,
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          if (response.statusCode !== 200 || !String(response.headers['content-type']).includes('text/event-stream')) {
            let text = '';
            response.on('data', (chunk: Buffer) => (text += chunk.toString()));
            response.on('end', () => reject(new Error(`${response.statusCode} ${text.slice(0, 300)}`)));
            return;
          }
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => this.read(chunk, nowMs()));
          response.on('end', () => this.fail('the stream ended'));
          response.on('error', (error) => this.fail(error.message));
          resolve();
        },
      );
      request.on('error', (error) => {
        this.fail(error.message);
        reject(error);
      });
      request.end(body);
      this.request = request;
    });
  }

  close(): void {
    this.closing = true;
    this.request?.destroy();
  }

  private fail(problem: string): void {
    if (!this.closing) this.events.problem ??= problem;
  }

  /** Frames end with a blank line; comments (keep-alives) start with ':'. */
  private read(chunk: string, at: number): void {
    this.buffer += chunk;
    let boundary = this.buffer.indexOf('\n\n');
    while (boundary >= 0) {
      const frame = this.buffer.slice(0, boundary);
      this.buffer = this.buffer.slice(boundary + 2);
      boundary = this.buffer.indexOf('\n\n');
      if (frame.startsWith(':')) continue;
      if (frame.startsWith('event: complete')) {
        this.fail('the server completed the stream');
        continue;
      }
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (!data) continue;
      const result = JSON.parse(data) as { data?: { tokenChanges?: Change } | null; errors?: { message: string; extensions?: { code?: string } }[] };
      const change = result.data?.tokenChanges;
      if (result.errors || !change) {
        this.fail(`error event: ${JSON.stringify(result.errors ?? result).slice(0, 300)}`);
        continue;
      }
      const id = cursorId(change.cursor);
      this.events.received.push([id, at]);
      seen[id] ??= [change.node.token, change.node.action, Date.parse(change.node.eventTime)];
      this.onEvent();
    }
  }
}

let streams: Stream[] = [];
let seen: Record<number, EntryInfo> = {};
let waiting: { count: number; resolve: () => void } | null = null;

const onEvent = () => {
  if (waiting && streams.every((stream) => stream.events.received.length >= waiting!.count || stream.events.problem !== null)) waiting.resolve();
};

async function open(request: OpenRequest): Promise<FeedWorkerMessage> {
  const started = performance.now();
  const failures: string[] = [];
  let next = 0;
  const opener = async () => {
    while (next < request.tokens.length) {
      const token = request.tokens[next]!;
      next += 1;
      const stream = new Stream(onEvent);
      streams.push(stream);
      try {
        await stream.open(request.url, token, request.query);
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, request.concurrency) }, opener));
  return { type: 'opened', openMs: performance.now() - started, failures };
}

async function collect(count: number, timeoutMs: number): Promise<FeedWorkerMessage> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    waiting = {
      count,
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
    };
    onEvent();
  });
  waiting = null;
  return { type: 'collected', streams: streams.map((stream) => stream.events), entries: seen };
}

function closeAll(): FeedWorkerMessage {
  for (const stream of streams) stream.close();
  streams = [];
  seen = {};
  return { type: 'closed' };
}

const send = (message: FeedWorkerMessage) => process.send!(message);

process.on('message', (message: FeedParentMessage) => {
  const answer = message.type === 'open' ? open(message) : message.type === 'collect' ? collect(message.count, message.timeoutMs) : Promise.resolve(closeAll());
  answer.then(send, (error: unknown) => send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});
// The benchmark went away: so do its subscribers.
process.on('disconnect', () => process.exit(0));
