import type { IncomingMessage } from 'node:http';

/** The client closed the connection before its request was read whole: there is no one to answer. */
export class ClientGone extends Error {}

/** Reads a request's whole body as text; its length has been bounded by its Content-Length (request-limits.ts). */
export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString() : Buffer.concat(chunks).toString()));
    // A request emits an error only when its connection failed.
    const gone = () => reject(new ClientGone('the client closed the request before its body was read'));
    request.once('error', gone);
    request.once('close', () => {
      if (!request.complete) gone();
    });
  });
}
