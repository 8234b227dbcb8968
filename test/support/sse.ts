/**
 * A client of the live change feed as a browser or curl sees it: GraphQL over
 * Server-Sent Events (POST /graphql with `Accept: text/event-stream`), parsing
 * `event: next` / `event: complete` frames by hand, so that the tests hold the
 * wire format, not a library's reading of it.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

interface SseError {
  message: string;
  extensions?: { code?: string };
}

/** One `event: next` payload. */
export interface SseResult<Data> {
  data?: Data | null;
  errors?: SseError[];
}

export interface SseStream<Data> {
  status: number;
  contentType: string | null;
  /** Every `next` payload so far, in arrival order, with the time it arrived (Date.now()). */
  results: { result: SseResult<Data>; at: number }[];
  /** Whether `event: complete` arrived (or the connection ended). */
  readonly ended: boolean;
  /** How many comment lines (keep-alives) arrived. */
  readonly comments: number;
  /** Resolves once `count` results arrived (or the stream ended); rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<SseResult<Data>[]>;
  /** Resolves once the stream ended; rejects after `timeoutMs`. */
  waitForEnd(timeoutMs?: number): Promise<void>;
  /** Stops reading and drops the connection. */
  close(): void;
}

export async function subscribeSse<Data, Variables>(
  url: string,
  document: TypedDocumentNode<Data, Variables>,
  variables: Variables,
  token: string,
): Promise<SseStream<Data>> {
  const abort = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
    signal: abort.signal,
  });
  const results: SseStream<Data>['results'] = [];
  let ended = false;
  let comments = 0;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  const finish = () => {
    ended = true;
    notify();
  };

  const pump = async () => {
    if (!response.body) return finish();
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let boundary = buffer.indexOf('\n\n');
        while (boundary >= 0) {
          const frame = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          boundary = buffer.indexOf('\n\n');
          const lines = frame.split('\n');
          if (lines.every((line) => line.startsWith(':'))) {
            comments += 1;
            continue;
          }
          const event = lines
            .find((line) => line.startsWith('event:'))
            ?.slice(6)
            .trim();
          const data = lines
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n');
          if (event === 'complete') return finish();
          if (event === 'next' && data) {
            results.push({ result: JSON.parse(data) as SseResult<Data>, at: Date.now() });
            notify();
          }
        }
      }
    } catch {
      // aborted by close()
    }
    finish();
  };
  void pump();

  const until = (done: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (done()) return resolve();
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${what} did not happen within ${timeoutMs} ms (${results.length} results: ${JSON.stringify(results.slice(-3))})`));
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
    });

  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    results,
    get ended() {
      return ended;
    },
    get comments() {
      return comments;
    },
    async waitFor(count, timeoutMs = 5000) {
      await until(() => results.length >= count || ended, timeoutMs, `${count} results`);
      return results.map((item) => item.result);
    },
    waitForEnd: (timeoutMs = 5000) => until(() => ended, timeoutMs, 'the end of the stream'),
    close: () => abort.abort(),
  };
}
