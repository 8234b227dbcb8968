/**
 * Another Tessera process on a test server's database (`tessera serve` in a
 * child process), for the tests of what must hold across processes: each
 * process has its own connections, hot path and caches, and only the
 * database is shared.
 */
import { spawn } from 'node:child_process';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { TESSERA_BIN } from './cli.ts';
import { BOOTSTRAP_TOKEN, post, TEST_SCOPES, type GraphQLResponse, type RequestArguments, type TestServer } from './harness.ts';

export interface PeerProcess {
  url: string;
  request<Data, Variables>(document: TypedDocumentNode<Data, Variables>, ...args: RequestArguments<Variables>): Promise<GraphQLResponse<Data>>;
  close(): Promise<void>;
}

/** Starts `tessera serve` on `server`'s database, with the test server's settings, and waits until it listens. */
export function startPeerProcess(server: TestServer, env: Record<string, string> = {}): Promise<PeerProcess> {
  const child = spawn(process.execPath, [TESSERA_BIN, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: server.databaseUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      TESSERA_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
      TESSERA_SCOPES: TEST_SCOPES,
      TESSERA_AUTH_FAILURES_PER_MINUTE: '1000',
      TESSERA_SWEEP_INTERVAL_SECONDS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`tessera serve did not start in 30 s: ${output}`)), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exitedEarly = (code: number | null) => fail(new Error(`tessera serve exited with ${code}: ${output}`));
    child.once('exit', exitedEarly);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const url = /https?:\/\/\S+\/graphql/.exec(output)?.[0];
      if (!url) return;
      clearTimeout(timer);
      child.off('exit', exitedEarly);
      resolve({
        url,
        async request<Data, Variables>(document: TypedDocumentNode<Data, Variables>, ...[variables, options]: RequestArguments<Variables>) {
          // The peer answers the same typed documents as the test server.
          return (await post(url, print(document), variables, options)) as GraphQLResponse<Data>;
        },
        async close() {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
